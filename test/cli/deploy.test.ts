/**
 * `blc deploy` against the real app: a manifest that needs approval is started, approved by
 * `--approve` once it waits, and followed by `--wait` until it succeeds; a version already used for
 * another manifest is the app's 409, exit 1. The app here has no Graph settings, so `auth test` fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { runBlc, type BlcRun } from '../support/blc';

let app: AppUnderTest;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-deploy-'));

beforeAll(async () => {
  // A manual clock: the approval deadline must not pass by itself while blc waits to approve.
  app = await startAppWithDataverse({ virtualTime: 'manual' });
}, 60_000);
afterAll(async () => {
  await app?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function blc(...args: string[]): Promise<BlcRun> {
  return runBlc([...args, '--url', app.host.url, '--key', String(app.host.keys.functionKeys.default)]);
}

function manifestFile(name: string, manifest: Record<string, unknown>): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe('blc deploy', () => {
  it('starts a deployment, approves it when it waits, and follows it until it succeeds', async () => {
    const file = manifestFile('approve.json', {
      version: 'cli-1',
      description: 'from blc',
      config: { patch: { greeting: 'hello' } },
      requireApproval: true,
    });
    const res = await blc('deploy', file, '--approve', '--by', 'Ada', '--wait');
    expect(res.code, res.err + res.out).toBe(0);
    expect(res.out).toMatch(/^Requested deployment deploy-cli-1$/m);
    expect(res.out).toMatch(/^state awaiting-approval$/m);
    expect(res.out).toMatch(/^approved deploy-cli-1$/m);
    expect(res.out).toMatch(/^state succeeded$/m);
    expect(res.err).toBe('');
    const again = await blc('deploy', file, '--json');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ id: 'deploy-cli-1', existing: true });
  });

  it('exits 1 with the app code when the version was used for another manifest', async () => {
    const file = manifestFile('other.json', { version: 'cli-1', config: { patch: { greeting: 'other' } } });
    const res = await blc('deploy', file);
    expect(res.code).toBe(1);
    expect(res.err.trim()).toMatch(/^blc: DEPLOYMENT_EXISTS: /);
  });
});

describe('blc auth test without Graph settings', () => {
  it('shows which service failed and exits 1 with one line naming it', async () => {
    const res = await blc('auth', 'test');
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^dataverse\s+ok\s+/m);
    expect(res.out).toMatch(/^graph\s+failed\s+/m);
    expect(res.err.trim()).toMatch(/^blc: AUTH_FAILED: graph: [A-Z_]+: .+$/);
    expect(res.err.trim().split('\n')).toHaveLength(1);
  });
});
