/**
 * Structural checks of infra/ — the Bicep is NOT compiled here (no Bicep compiler on these machines).
 * What can be checked without one: the parameter files against main.bicep's declarations, the app
 * settings against what the app reads, the role assignments against the built-in role ids and the
 * least privilege the app needs, the security settings of storage and Key Vault, and that no secret
 * is written into any file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { delimiterProblem, readParamFile, readParams, readVarObject, stripComments } from './bicepSource';
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
    const assignments = [
      ...code.matchAll(
        /resource \w+ 'Microsoft\.Authorization\/roleAssignments@[^']+' = (\[[\s\S]*?\n\]|\{[\s\S]*?\n\})/g,
      ),
    ].map((m) => m[1]);
    expect(assignments).toHaveLength(2);
    expect(assignments[0]).toMatch(/for roleId in storageRoles/);
    expect(assignments[0]).toMatch(/scope: storage\n/);
    expect(assignments[1]).toMatch(/scope: vault\n/);
    expect(assignments[1]).toMatch(/roles\.keyVaultSecretsUser/);
    for (const a of assignments) {
      expect(a).toMatch(/principalId: identity\.properties\.principalId/);
      expect(a).toMatch(/principalType: 'ServicePrincipal'/);
    }
    expect(readVarObject(MAIN, 'roles').size).toBe(4);
    expect(code).toMatch(
      /var storageRoles = \[roles\.storageBlobDataOwner, roles\.storageQueueDataContributor, roles\.storageTableDataContributor\]/,
    );
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
