/**
 * The GitHub Actions workflows: each validated against the workflow schema (@action-validator/core),
 * then checked for what matters here — CI on Node 20 and 22 with lint, typecheck and coverage, CodeQL
 * for JavaScript/TypeScript, the package built by `npm run package`, staging only from develop,
 * production only from main behind the `production` environment, OIDC sign-in without a stored
 * secret, a health smoke check, and a rollback that redeploys an earlier run's package.
 */
import { validateWorkflow } from '@action-validator/core';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_OUT } from '../../cli/package/build';
import { ROOT } from './support';

const DIR = path.join(ROOT, '.github', 'workflows');
const FILES = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const scripts = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
  permissions?: Record<string, string>;
  environment?: string | { name: string; url?: string };
  strategy?: { matrix?: Record<string, unknown[]> };
  container?: string;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

function workflow(file: string): Workflow {
  return parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Workflow;
}
const allSteps = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const runs = (wf: Workflow): string =>
  allSteps(wf)
    .map((s) => s.run ?? '')
    .join('\n');

describe('.github/workflows', () => {
  it('holds the CI, CodeQL and deployment workflows', () => {
    expect(FILES.sort()).toEqual(['ci.yml', 'codeql.yml', 'deploy-environment.yml', 'deploy.yml']);
  });

  it.each(FILES)('%s is a valid workflow', (file) => {
    const { errors } = validateWorkflow(fs.readFileSync(path.join(DIR, file), 'utf8'));
    expect(errors).toEqual([]);
  });

  it.each(FILES)('%s runs only npm scripts that exist, and pins every action to a version', (file) => {
    const wf = workflow(file);
    for (const m of runs(wf).matchAll(/npm run ([\w:-]+)/g)) expect(scripts, m[1]).toHaveProperty(m[1]);
    for (const step of allSteps(wf).filter((s) => s.uses && !s.uses.startsWith('./')))
      expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@v\d+$/);
  });

  it.each(FILES)(
    '%s keeps untrusted and computed values out of shell scripts (passed through env)',
    (file) => {
      const expressions = [...runs(workflow(file)).matchAll(/\$\{\{([^}]*)\}\}/g)].map((m) => m[1].trim());
      expect(expressions.filter((e) => !/^matrix\.\w+$/.test(e))).toEqual([]);
    },
  );

  it.each(FILES)('%s grants no more than read access to the repository by default', (file) => {
    const wf = workflow(file);
    expect(wf.permissions?.contents).toBe('read');
    expect(Object.values(wf.permissions ?? {}).filter((p) => p === 'write-all' || p === 'read-all')).toEqual(
      [],
    );
  });
});

describe('ci.yml', () => {
  const wf = workflow('ci.yml');

  it('runs on pushes and pull requests', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
  });

  it('tests every Node.js version the README names, which recommends the one deployments default to', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const stated = /\*\*Node\.js versions: (\d+) is recommended; (\d+) works\.\*\*/.exec(readme);
    expect(stated, 'the README states the supported Node.js versions').not.toBeNull();
    const [recommended, works] = [Number(stated?.[1]), Number(stated?.[2])];
    expect(wf.jobs.test.strategy?.matrix?.node).toEqual(expect.arrayContaining([recommended, works]));
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(/^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1]).toBe(String(recommended));
    const bicep = fs.readFileSync(path.join(ROOT, 'infra', 'main.bicep'), 'utf8');
    expect(/param nodeVersion string = '(\d+)'/.exec(bicep)?.[1]).toBe(String(recommended));
    const engines = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    expect(engines).toBe(`>=${Math.min(recommended, works)}`);
  });

  it('tests on Node.js 20 and 22 with coverage, with Chromium for the browser tests', () => {
    const test = wf.jobs.test;
    expect(test.strategy?.matrix?.node).toEqual([20, 22]);
    expect(test.container).toBe('node:${{ matrix.node }}-bookworm');
    const script = (test.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(script).toMatch(/apt-get install[^\n]*chromium/);
    expect(script).toMatch(/npm ci/);
    expect(script).toMatch(/npm run test:coverage/);
    expect(scripts['test:coverage']).toMatch(/vitest run --coverage/);
    expect(scripts['test:coverage']).toMatch(/--coverage\.reportsDirectory=dist\/coverage/);
    const upload = (test.steps ?? []).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe('dist/coverage');
  });

  it('lints and typechecks', () => {
    const script = (wf.jobs.lint.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(script).toMatch(/npm run lint/);
    expect(script).toMatch(/npm run typecheck/);
  });
});

describe('codeql.yml', () => {
  const wf = workflow('codeql.yml');

  it('analyzes javascript-typescript and may write security events', () => {
    const job = wf.jobs.analyze;
    expect(job.permissions?.['security-events']).toBe('write');
    const init = job.steps?.find((s) => s.uses?.startsWith('github/codeql-action/init@'));
    expect(init?.with?.languages).toBe('javascript-typescript');
    expect(job.steps?.some((s) => s.uses?.startsWith('github/codeql-action/analyze@'))).toBe(true);
  });
});

describe('deploy.yml', () => {
  const wf = workflow('deploy.yml');
  const callers = Object.entries(wf.jobs).filter(([, j]) => j.uses);

  it('builds the package with npm run package and keeps the zip the packager writes', () => {
    const steps = wf.jobs.package.steps ?? [];
    expect(steps.some((s) => s.run === 'npm run package')).toBe(true);
    expect(scripts.package).toMatch(/node dist\/cli\/package\.js/);
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe(DEFAULT_OUT.split(path.sep).join('/'));
    expect(upload?.with?.name).toBe('lifecockpit-package');
    expect(upload?.with?.['if-no-files-found']).toBe('error');
  });

  it('deploys develop to staging and main to production, each after the package is built', () => {
    const { staging, production } = wf.jobs;
    expect(staging.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/develop'");
    expect(staging.with?.environment).toBe('staging');
    expect(production.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(production.with?.environment).toBe('production');
    for (const job of [staging, production]) {
      expect(job.needs).toBe('package');
      expect(job.with?.['package-run-id']).toBe('${{ github.run_id }}');
      expect(job.with?.['deploy-infrastructure']).toBe(true);
    }
  });

  it('has exactly one job that can reach production on a push, and none from another branch', () => {
    const reaching = callers.filter(([, j]) => j.with?.environment === 'production');
    expect(reaching.map(([name]) => name)).toEqual(['production']);
  });

  it('rolls back by hand to an earlier run’s package, production only from main, infrastructure untouched', () => {
    const dispatch = wf.on.workflow_dispatch as {
      inputs: Record<string, { options?: string[]; required?: boolean }>;
    };
    expect(dispatch.inputs.environment.options).toEqual(['staging', 'production']);
    expect(dispatch.inputs['package-run-id'].required).toBe(true);
    const { rollback } = wf.jobs;
    expect(rollback.if).toBe(
      "github.event_name == 'workflow_dispatch' && (inputs.environment == 'staging' || github.ref == 'refs/heads/main')",
    );
    expect(rollback.with?.['package-run-id']).toBe('${{ inputs.package-run-id }}');
    expect(rollback.with?.['deploy-infrastructure']).toBe(false);
  });

  it('calls the environment workflow with the permissions OIDC and artifact download need', () => {
    expect(callers.map(([name]) => name).sort()).toEqual(['production', 'rollback', 'staging']);
    for (const [, job] of callers) {
      expect(job.uses).toBe('./.github/workflows/deploy-environment.yml');
      expect(job.permissions).toEqual({ contents: 'read', actions: 'read', 'id-token': 'write' });
      expect(job.secrets).toBe('inherit');
    }
  });
});

describe('deploy-environment.yml', () => {
  const wf = workflow('deploy-environment.yml');
  const job = wf.jobs.deploy;
  const steps = job.steps ?? [];

  it('deploys inside the GitHub environment it is given, so that environment’s protection applies', () => {
    expect(Object.keys(wf.on)).toEqual(['workflow_call']);
    expect(job.environment).toEqual({
      name: '${{ inputs.environment }}',
      url: '${{ steps.app.outputs.url }}',
    });
  });

  it('signs in with OpenID Connect: client, tenant and subscription ids, no client secret', () => {
    const login = steps.find((s) => s.uses?.startsWith('azure/login@'));
    expect(login?.with).toEqual({
      'client-id': '${{ secrets.AZURE_CLIENT_ID }}',
      'tenant-id': '${{ secrets.AZURE_TENANT_ID }}',
      'subscription-id': '${{ secrets.AZURE_SUBSCRIPTION_ID }}',
    });
    expect(wf.permissions?.['id-token']).toBe('write');
  });

  it('deploys main.bicep with a parameters file that exists for every environment the callers name', () => {
    const infra = steps.find((s) => s.run?.includes('az deployment group create'));
    expect(infra?.if).toBe('inputs.deploy-infrastructure');
    expect(infra?.run).toMatch(/--parameters "infra\/parameters\/\$ENVIRONMENT\.bicepparam"/);
    for (const env of ['staging', 'production'])
      expect(fs.existsSync(path.join(ROOT, 'infra', 'parameters', `${env}.bicepparam`)), env).toBe(true);
    // Every value the parameters files read from the environment is passed from the GitHub environment.
    const wanted = new Set<string>();
    for (const env of ['staging', 'production']) {
      const text = fs.readFileSync(path.join(ROOT, 'infra', 'parameters', `${env}.bicepparam`), 'utf8');
      for (const m of text.matchAll(/readEnvironmentVariable\('(\w+)'/g)) wanted.add(m[1]);
    }
    expect(Object.keys(infra?.env ?? {}).sort()).toEqual([...wanted].sort());
  });

  it('lets the parameters file’s default apply to every optional variable an environment leaves unset', () => {
    const infra = steps.find((s) => s.run?.includes('az deployment group create'));
    const loop = /for name in ([^;]+); do/.exec((infra?.run ?? '').replace(/\\\n/g, ' '));
    const unset = new Set(loop?.[1].trim().split(/\s+/));
    const optional = new Set<string>();
    for (const env of ['staging', 'production']) {
      const text = fs.readFileSync(path.join(ROOT, 'infra', 'parameters', `${env}.bicepparam`), 'utf8');
      for (const m of text.matchAll(/readEnvironmentVariable\('(\w+)', /g)) optional.add(m[1]);
    }
    expect(optional).toContain('DURABLE_BACKEND');
    expect([...optional].filter((name) => !unset.has(name))).toEqual([]);
    expect([...unset].filter((name) => !optional.has(name))).toEqual([]);
  });

  it('downloads the package of the run it is given and deploys that zip to the Function App', () => {
    const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(download?.with).toMatchObject({
      name: 'lifecockpit-package',
      path: 'package',
      'run-id': '${{ inputs.package-run-id }}',
    });
    const deploy = steps.find((s) => s.uses?.startsWith('Azure/functions-action@'));
    expect(deploy?.with).toEqual({
      'app-name': '${{ steps.app.outputs.name }}',
      package: `package/${path.basename(DEFAULT_OUT)}`,
    });
    expect(steps.indexOf(deploy as Step)).toBeGreaterThan(steps.indexOf(download as Step));
  });

  it('fails the deployment unless GET /api/health answers 200 after the package is deployed', () => {
    const deployAt = steps.findIndex((s) => s.uses?.startsWith('Azure/functions-action@'));
    const smokeAt = steps.findIndex((s) => s.run?.includes('/api/health'));
    expect(smokeAt).toBeGreaterThan(deployAt);
    expect(steps[smokeAt].run).toMatch(/if \[ "\$status" = 200 \]; then [^\n]*exit 0; fi/);
    expect(steps[smokeAt].run?.trim().endsWith('exit 1')).toBe(true);
  });
});
