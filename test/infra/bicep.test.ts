/**
 * Structural checks of infra/ — the Bicep is NOT compiled here (no Bicep compiler on these machines:
 * it is a .NET tool that az and the bicep-node package download from outside the npm registry).
 * What can be checked without one: the parameter files against main.bicep's declarations, the app
 * settings against what the app reads, the role assignments against the built-in role ids and the
 * least privilege the app needs, the security settings of storage and Key Vault, what each durable
 * backend deploys (resources, roles, settings, evaluated for each value of durableBackend), and that
 * no secret is written into any file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHostConfig } from '../../host/settings';
import {
  delimiterProblem,
  evaluateCondition,
  pickBranch,
  readParamFile,
  readParams,
  readResources,
  readVarExpression,
  readVarObject,
  stripComments,
} from './bicepSource';
import { ROOT } from './support';

const INFRA = path.join(ROOT, 'infra');
const MAIN = path.join(INFRA, 'main.bicep');
const PARAM_FILES = ['staging', 'production'].map((env) =>
  path.join(INFRA, 'parameters', `${env}.bicepparam`),
);
const main = fs.readFileSync(MAIN, 'utf8');
const code = stripComments(main);
const params = readParams(MAIN);

/** Built-in Azure role definition ids (the same in every tenant), from Microsoft's built-in roles list. */
const BUILT_IN_ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  '0ad04412-c4d5-4796-b79c-f76d14c8d402': 'Durable Task Data Contributor',
};

/** Every environment variable the app's code reads (settings.ts, and the few trigger options read at load). */
function settingsTheAppReads(): Set<string> {
  const names = new Set<string>();
  const scan = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) scan(file);
      else if (entry.name.endsWith('.ts')) {
        const source = fs.readFileSync(file, 'utf8');
        for (const m of source.matchAll(/process\.env\.(\w+)/g)) names.add(m[1]);
        if (file.endsWith(path.join('config', 'settings.ts')))
          for (const m of source.matchAll(/\benv\.(\w+)/g)) names.add(m[1]);
      }
    }
  };
  for (const dir of ['lib', 'orchestrators', 'activities', 'triggers']) scan(path.join(ROOT, dir));
  return names;
}

/** Settings the Functions host itself reads for an identity-based AzureWebJobsStorage connection. */
const PLATFORM_SETTINGS = ['AzureWebJobsStorage__credential'];
/** App settings the Flex Consumption plan rejects or replaces with functionAppConfig. */
const NOT_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
];

describe('infra/main.bicep (structure; not compiled)', () => {
  it('has balanced delimiters and strings in every Bicep file', () => {
    for (const file of [MAIN, ...PARAM_FILES])
      expect(delimiterProblem(fs.readFileSync(file, 'utf8')), file).toBe(undefined);
  });

  it('uses every parameter it declares', () => {
    const unused = params.filter(
      (p) => !new RegExp(`\\b${p.name}\\b`).test(code.replace(/^param .*$/gm, '')),
    );
    expect(unused.map((p) => p.name)).toEqual([]);
  });

  it('refers only to keys its name and role tables define', () => {
    for (const table of ['names', 'roles']) {
      const keys = readVarObject(MAIN, table);
      const used = [...code.matchAll(new RegExp(`\\b${table}\\.(\\w+)`, 'g'))].map((m) => m[1]);
      expect(used.length).toBeGreaterThan(0);
      expect(used.filter((k) => !keys.has(k))).toEqual([]);
    }
  });

  it('runs the app on the Flex Consumption plan, Linux, with a current Node.js runtime', () => {
    expect(code).toMatch(/sku:\s*\{\s*name:\s*'FC1',\s*tier:\s*'FlexConsumption'\s*\}/);
    expect(code).toMatch(/kind:\s*'functionapp,linux'/);
    expect(code).toMatch(/runtime:\s*\{\s*name:\s*'node',\s*version:\s*nodeVersion\s*\}/);
    const node = params.find((p) => p.name === 'nodeVersion');
    expect(node?.defaultValue).toBe("'22'");
    expect(node?.allowed).toEqual(["'20'", "'22'"]);
  });

  it('sets every app setting the app needs on Azure, and only settings something reads', () => {
    const settings = readVarObject(MAIN, 'appSettings');
    const read = settingsTheAppReads();
    const unknown = [...settings.keys()].filter(
      (name) => !read.has(name) && !PLATFORM_SETTINGS.includes(name),
    );
    expect(unknown).toEqual([]);
    for (const needed of [
      'DATAVERSE_URL',
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__credential',
      'AzureWebJobsStorage__clientId',
      'AZURE_CLIENT_ID',
      'DATAVERSE_WEBHOOK_SECRET',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'MAIL_SENDER',
      'REMINDERS_SCHEDULE',
    ])
      expect(settings.has(needed), needed).toBe(true);
    expect(NOT_ON_FLEX.filter((name) => settings.has(name))).toEqual([]);
    // A connection string with a key, client secrets and simulator tokens have no place on Azure.
    for (const absent of [
      'AzureWebJobsStorage',
      'DATAVERSE_CLIENT_SECRET',
      'GRAPH_CLIENT_SECRET',
      'DATAVERSE_TOKEN',
      'GRAPH_TOKEN',
    ])
      expect(settings.has(absent), absent).toBe(false);
  });

  it('takes the webhook secret from Key Vault through the identity, never from a value in the template', () => {
    const settings = readVarObject(MAIN, 'appSettings');
    expect(settings.get('DATAVERSE_WEBHOOK_SECRET')).toMatch(
      /^'@Microsoft\.KeyVault\(SecretUri=\$\{vault\.properties\.vaultUri\}secrets\/\$\{webhookSecretName\}\/\)'$/,
    );
    expect(code).toMatch(/keyVaultReferenceIdentity:\s*identity\.id/);
    for (const [name, value] of settings)
      if (/SECRET|PASSWORD|TOKEN/.test(name)) expect(value, name).toMatch(/^'@Microsoft\.KeyVault\(/);
  });

  it('grants the identity exactly the built-in roles the app needs, each on its own resource', () => {
    const roles = readVarObject(MAIN, 'roles');
    const ids = [...roles.values()].map((v) => v.replace(/'/g, ''));
    expect(ids.every((id) => id in BUILT_IN_ROLES)).toBe(true);
    expect(ids.map((id) => BUILT_IN_ROLES[id]).sort()).toEqual(
      [
        'Durable Task Data Contributor',
        'Key Vault Secrets User',
        'Storage Blob Data Owner',
        'Storage Queue Data Contributor',
        'Storage Table Data Contributor',
      ].sort(),
    );
    // No other role id is written anywhere in the template (Owner, Contributor, ...).
    const guids = [...code.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map(
      (m) => m[1],
    );
    expect(guids.sort()).toEqual([...ids].sort());
    const assignments = readResources(MAIN)
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
      .map((r) => r.body);
    expect(assignments).toHaveLength(3);
    expect(assignments[0]).toMatch(/for roleId in storageRoles/);
    expect(assignments[0]).toMatch(/scope: storage\n/);
    expect(assignments[1]).toMatch(/scope: vault\n/);
    expect(assignments[1]).toMatch(/roles\.keyVaultSecretsUser/);
    expect(assignments[2]).toMatch(/scope: taskHub\n/);
    expect(assignments[2]).toMatch(/roles\.durableTaskDataContributor\)/);
    for (const a of assignments) {
      expect(a).toMatch(/principalId: identity\.properties\.principalId/);
      expect(a).toMatch(/principalType: 'ServicePrincipal'/);
    }
    expect(readVarObject(MAIN, 'roles').size).toBe(5);
  });

  it('locks storage down: Entra ID only, TLS 1.2, no public blobs; the plan deploys with the identity', () => {
    expect(code).toMatch(/allowSharedKeyAccess: false/);
    expect(code).toMatch(/allowBlobPublicAccess: false/);
    expect(code).toMatch(/minimumTlsVersion: 'TLS1_2'/);
    expect(code).toMatch(/supportsHttpsTrafficOnly: true/);
    expect(code).toMatch(
      /authentication: \{\s*type: 'UserAssignedIdentity'\s*userAssignedIdentityResourceId: identity\.id\s*\}/,
    );
    expect(code).toMatch(/httpsOnly: true/);
    expect(code).toMatch(/minTlsVersion: '1\.2'/);
  });

  it('keeps logs in Log Analytics through a workspace-based Application Insights', () => {
    expect(code).toMatch(/resource workspace 'Microsoft\.OperationalInsights\/workspaces@/);
    expect(code).toMatch(/WorkspaceResourceId: workspace\.id/);
    expect(readVarObject(MAIN, 'appSettings').get('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe(
      'insights.properties.ConnectionString',
    );
  });

  it('authorizes Key Vault with RBAC, with soft delete, and purge protection in production', () => {
    expect(code).toMatch(/enableRbacAuthorization: true/);
    expect(code).toMatch(/enableSoftDelete: true/);
    expect(code).toMatch(/enablePurgeProtection: enablePurgeProtection \? true : null/);
    const production = readParamFile(PARAM_FILES[1]);
    expect(production.values.get('enablePurgeProtection')).toBe('true');
    expect(params.find((p) => p.name === 'enablePurgeProtection')?.defaultValue).toBe(
      "environmentName == 'production'",
    );
  });
});

const HOST_JSON = path.join(ROOT, 'host.json');
const SCHEDULER_RESOURCES = ['scheduler', 'taskHub', 'taskHubDataContributor'];
const resources = readResources(MAIN);
const resource = (symbol: string) => {
  const found = resources.find((r) => r.symbol === symbol);
  if (!found) throw new Error(`main.bicep declares no resource ${symbol}`);
  return found;
};
/** The resources a deployment with these parameter values creates (conditions evaluated). */
const deployedWith = (given: Record<string, string>): string[] =>
  resources
    .filter((r) => r.condition === undefined || evaluateCondition(MAIN, r.condition, given))
    .map((r) => r.symbol);
/** The role ids the storage role assignments loop over, for these parameter values. */
const storageRoleIds = (given: Record<string, string>): string[] => {
  const roles = readVarObject(MAIN, 'roles');
  const list = pickBranch(MAIN, readVarExpression(MAIN, 'storageRoles'), given);
  return [...list.matchAll(/roles\.(\w+)/g)].map((m) => (roles.get(m[1]) ?? m[1]).replace(/'/g, ''));
};
/** The app settings a deployment writes: the site's `union(...)` with its ternary picked. */
const settingsWith = (given: Record<string, string>): Map<string, string> => {
  const m = /items\(union\((\w+), (.+)\)\)/.exec(resource('site').body);
  if (!m) throw new Error('the site does not build its app settings as items(union(base, extra))');
  const extra = pickBranch(MAIN, m[2], given);
  return new Map([...readVarObject(MAIN, m[1]), ...(extra === '{}' ? [] : readVarObject(MAIN, extra))]);
};
const OVERRIDE = 'AzureFunctionsJobHost__';

describe('infra/main.bicep: the durable backend, chosen by durableBackend', () => {
  it('offers Azure Storage (the default) and the Durable Task Scheduler, with the scheduler SKUs Azure has', () => {
    const byName = new Map(params.map((p) => [p.name, p]));
    expect(byName.get('durableBackend')).toMatchObject({
      defaultValue: "'AzureStorage'",
      allowed: ["'AzureStorage'", "'DurableTaskScheduler'"],
    });
    expect(byName.get('schedulerSku')).toMatchObject({
      defaultValue: "'Consumption'",
      allowed: ["'Consumption'", "'Dedicated'"],
    });
    // A Dedicated scheduler takes one to three capacity units.
    expect(main).toMatch(/@minValue\(1\)\n@maxValue\(3\)\nparam schedulerCapacity int = 1\n/);
    expect(readVarExpression(MAIN, 'useScheduler')).toBe("durableBackend == 'DurableTaskScheduler'");
  });

  it('deploys no scheduler, task hub or scheduler role with Azure Storage, and grants blobs, queues and tables', () => {
    const defaultAndExplicit: Record<string, string>[] = [{}, { durableBackend: 'AzureStorage' }];
    for (const given of defaultAndExplicit) {
      const deployed = deployedWith(given);
      expect(SCHEDULER_RESOURCES.filter((r) => deployed.includes(r))).toEqual([]);
      expect(deployed).toEqual(
        expect.arrayContaining(['storage', 'site', 'storageRoleAssignments', 'vaultSecretsUser']),
      );
      expect(storageRoleIds(given).map((id) => BUILT_IN_ROLES[id])).toEqual([
        'Storage Blob Data Owner',
        'Storage Queue Data Contributor',
        'Storage Table Data Contributor',
      ]);
    }
  });

  it('deploys the scheduler, its task hub and the identity’s data role on it with the Durable Task Scheduler', () => {
    const given = { durableBackend: 'DurableTaskScheduler' };
    expect(deployedWith(given)).toEqual(expect.arrayContaining([...SCHEDULER_RESOURCES, 'storage', 'site']));
    expect(resource('scheduler')).toMatchObject({
      type: 'Microsoft.DurableTask/schedulers',
      apiVersion: '2026-02-01',
    });
    expect(resource('taskHub')).toMatchObject({
      type: 'Microsoft.DurableTask/schedulers/taskHubs',
      apiVersion: '2026-02-01',
    });
    expect(resource('taskHub').body).toMatch(/parent: scheduler\n/);
    // An empty allow list refuses every caller; the identity's role is what guards the data.
    expect(resource('scheduler').body).toMatch(/ipAllowlist: \['0\.0\.0\.0\/0'\]/);
    // The storage account keeps blobs only (package, timer leases, the app's containers).
    expect(storageRoleIds(given).map((id) => BUILT_IN_ROLES[id])).toEqual(['Storage Blob Data Owner']);
  });

  it('bills the scheduler per action, or per capacity unit when Dedicated', () => {
    const sku = /sku: (.+)\n/.exec(resource('scheduler').body)?.[1] ?? '';
    expect(pickBranch(MAIN, sku, {})).toBe("{ name: 'Consumption' }");
    expect(pickBranch(MAIN, sku, { schedulerSku: 'Consumption' })).toBe("{ name: 'Consumption' }");
    expect(pickBranch(MAIN, sku, { schedulerSku: 'Dedicated' })).toBe(
      "{ name: 'Dedicated', capacity: schedulerCapacity }",
    );
  });

  it('gives the app’s identity Durable Task Data Contributor on its own task hub, before the app starts', () => {
    const role = resource('taskHubDataContributor');
    expect(role.type).toBe('Microsoft.Authorization/roleAssignments');
    expect(role.condition).toBe('useScheduler');
    expect(role.body).toMatch(/scope: taskHub\n/);
    expect(role.body).toMatch(/name: guid\(taskHub\.id, identity\.id, roles\.durableTaskDataContributor\)/);
    expect(role.body).toMatch(
      /roleDefinitionId: subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', roles\.durableTaskDataContributor\)/,
    );
    const id = readVarObject(MAIN, 'roles').get('durableTaskDataContributor')?.replace(/'/g, '') ?? '';
    expect(BUILT_IN_ROLES[id]).toBe('Durable Task Data Contributor');
    expect(resource('site').body).toMatch(/dependsOn: \[[^\]]*\btaskHubDataContributor\b[^\]]*\]/);
  });

  it('names the task hub after host.json’s hubName, which is valid for both backends', () => {
    expect(resource('taskHub').body).toMatch(/name: taskHubName\n/);
    expect(readVarExpression(MAIN, 'taskHubName')).toBe(
      "loadJsonContent('../host.json').extensions.durableTask.hubName",
    );
    expect(path.resolve(INFRA, '../host.json')).toBe(HOST_JSON);
    const hubName = readHostConfig(ROOT).hubName;
    expect(hubName).toMatch(/^[a-zA-Z0-9-]{3,64}$/); // the task hub resource's name rule
    expect(hubName).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/); // Azure Storage's task hub rule
  });

  it('adds no scheduler setting with Azure Storage', () => {
    const settings = settingsWith({ durableBackend: 'AzureStorage' });
    expect(settings).toEqual(readVarObject(MAIN, 'appSettings'));
    expect([...settings.keys()].filter((k) => k.startsWith(OVERRIDE) || k.startsWith('DURABLE_'))).toEqual(
      [],
    );
  });

  it('points the engine at the scheduler with the identity, by settings that override host.json', () => {
    const settings = settingsWith({ durableBackend: 'DurableTaskScheduler' });
    const base = readVarObject(MAIN, 'appSettings');
    const added = [...settings.keys()].filter((k) => !base.has(k));
    expect(added.sort()).toEqual(
      [
        'DURABLE_TASK_SCHEDULER_CONNECTION_STRING',
        `${OVERRIDE}extensions__durableTask__storageProvider__type`,
        `${OVERRIDE}extensions__durableTask__storageProvider__connectionStringName`,
      ].sort(),
    );
    // Nothing of the base is replaced; the identity the app already uses signs in to the scheduler.
    for (const [key, value] of base) expect(settings.get(key), key).toBe(value);
    expect(settings.get('DURABLE_TASK_SCHEDULER_CONNECTION_STRING')).toBe(
      "'Endpoint=${scheduler.properties.endpoint};Authentication=ManagedIdentity;ClientID=${identity.properties.clientId}'",
    );
    expect(settings.get(`${OVERRIDE}extensions__durableTask__storageProvider__type`)).toBe("'azureManaged'");
    expect(settings.get(`${OVERRIDE}extensions__durableTask__storageProvider__connectionStringName`)).toBe(
      "'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'",
    );
  });

  it('overrides paths host.json has, and the host.json they make still satisfies the local host', () => {
    const hostJson = JSON.parse(fs.readFileSync(HOST_JSON, 'utf8')) as {
      extensions: { durableTask: Record<string, unknown> };
      extensionBundle: { id: string; version: string };
    };
    // host.json itself names no provider: Azure Storage is the engine's default, so one file serves both.
    expect(hostJson.extensions.durableTask.storageProvider).toBeUndefined();
    // The azureManaged provider needs extension bundle 4.32.0 or later (a 4.x bundle; 5 is excluded).
    expect(hostJson.extensionBundle).toEqual({
      id: 'Microsoft.Azure.Functions.ExtensionBundle',
      version: '[4.32.0, 5.0.0)',
    });
    // Apply the overrides as the Functions host does (each __ a level of host.json) and read the result.
    const applied = JSON.parse(JSON.stringify(hostJson)) as Record<string, unknown>;
    const settings = settingsWith({ durableBackend: 'DurableTaskScheduler' });
    for (const [key, value] of settings) {
      if (!key.startsWith(OVERRIDE)) continue;
      const parts = key.slice(OVERRIDE.length).split('__');
      let at = applied;
      // extensions.durableTask must already be there: a misspelt level would configure nothing.
      parts.slice(0, 2).reduce<unknown>((node, part) => {
        const next = (node as Record<string, unknown>)[part];
        expect(next, `${part} of ${key} is in host.json`).toBeTypeOf('object');
        return next;
      }, hostJson);
      for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
      at[parts[parts.length - 1]] = value.replace(/^'|'$/g, '');
    }
    const provider = (applied.extensions as { durableTask: { storageProvider: Record<string, string> } })
      .durableTask.storageProvider;
    expect(provider).toEqual({
      type: 'azureManaged',
      connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING',
    });
    expect(settings.has(provider.connectionStringName)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-json-dts-'));
    try {
      fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(applied));
      expect(readHostConfig(dir)).toEqual(readHostConfig(ROOT));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports which backend it deployed, and the scheduler endpoint for its dashboard', () => {
    expect(code).toMatch(/^output durableBackend string = durableBackend$/m);
    expect(code).toMatch(
      /^output durableTaskSchedulerEndpoint string = useScheduler \? scheduler\.properties\.endpoint : ''$/m,
    );
  });
});

describe.each(PARAM_FILES.map((f) => [path.basename(f), f]))('infra/parameters/%s', (_name, file) => {
  const paramFile = readParamFile(file);

  it('uses main.bicep', () => {
    expect(path.resolve(path.dirname(file), paramFile.using)).toBe(MAIN);
  });

  it('supplies every required parameter and only declared ones, within their allowed values', () => {
    const declared = new Map(params.map((p) => [p.name, p]));
    expect([...paramFile.values.keys()].filter((name) => !declared.has(name))).toEqual([]);
    const required = params.filter((p) => p.defaultValue === undefined).map((p) => p.name);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !paramFile.values.has(name))).toEqual([]);
    for (const [name, value] of paramFile.values) {
      const allowed = declared.get(name)?.allowed;
      if (allowed && !value.startsWith('readEnvironmentVariable(')) expect(allowed, name).toContain(value);
    }
  });

  it('names its environment after the file and takes tenant values from the environment, not the file', () => {
    expect(paramFile.values.get('environmentName')).toBe(`'${path.basename(file, '.bicepparam')}'`);
    expect(paramFile.values.get('dataverseUrl')).toBe("readEnvironmentVariable('DATAVERSE_URL')");
  });
});

describe('no secrets in infra/', () => {
  it('writes no key, connection string, SAS, certificate or password into any file', () => {
    const files = fs.readdirSync(INFRA, { recursive: true }).map((f) => path.join(INFRA, String(f)));
    for (const file of files.filter((f) => fs.statSync(f).isFile())) {
      const text = fs.readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(
        /AccountKey=|SharedAccessKey=|[?&]sig=|InstrumentationKey=|-----BEGIN|password\s*[:=]/i,
      );
    }
    // A @secure() parameter with a default would put its value in the template.
    expect(params.filter((p) => p.secure && p.defaultValue !== undefined)).toEqual([]);
  });
});
