import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { apiOf, secretsOf, type Answer, type Api } from './client';

let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  app = await startAppWithDataverse();
  api = apiOf(app);
});
afterAll(async () => app?.close());

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { name: string; version: string };

function expectNoSecrets(res: Answer, what: string): void {
  const seen = `${res.text}\n${JSON.stringify([...res.headers])}`;
  for (const secret of secretsOf(app)) expect(seen, what).not.toContain(secret);
  expect(seen, what).not.toMatch(/AccountKey|DefaultEndpointsProtocol|code=/);
}

describe('GET /api/version', () => {
  it('names the app, its version, Node.js and the Functions libraries', async () => {
    const res = await api.call('GET', 'version');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: pkg.name, version: pkg.version, node: process.version });
    expect(res.json.host).toMatchObject({
      programmingModel: expect.stringMatching(/^@azure\/functions 4\./),
      durableFunctions: expect.stringMatching(/^3\./),
    });
    expectNoSecrets(res, 'version');
  });

  it('needs a function key, by header or code query; the master key works too', async () => {
    expect((await api.call('GET', 'version', { key: null })).status).toBe(401);
    const wrong = await api.call('GET', 'version', { key: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(typeof wrong.json.message).toBe('string');
    const byQuery = await fetch(`${api.url('version')}?code=${encodeURIComponent(api.key)}`);
    expect(byQuery.status).toBe(200);
    expect((await api.call('GET', 'version', { key: app.host.keys.masterKey })).status).toBe(200);
  });
});

describe('security of the whole API', () => {
  it('keeps /api/health anonymous', async () => {
    const res = await api.call('GET', 'health', { key: null });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ok');
  });

  it('needs a function key on every route but health', async () => {
    const routes: [string, string][] = [
      ['POST', 'orchestrators/configChange'],
      ['POST', 'orchestrators/configChange/some-id'],
      ['GET', 'instances'],
      ['GET', 'instances/x'],
      ['DELETE', 'instances/x'],
      ['POST', 'instances/x/terminate'],
      ['POST', 'instances/x/events/e'],
      ['GET', 'rollback-points'],
      ['POST', 'rollback-points'],
      ['GET', 'rollback-points/x'],
      ['POST', 'rollback-points/x/plan'],
      ['POST', 'rollback-points/x/execute'],
      ['GET', 'version'],
    ];
    for (const [method, path] of routes) {
      const res = await api.call(method, path, { key: null, body: method === 'GET' ? undefined : {} });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json.code).toBeDefined();
    }
  });

  it('never answers with a key, token or connection string, and every error has code and message', async () => {
    const id = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Secret',
          lastname: 'Sweep',
          emailaddress1: 's@example.com',
        })
      ).id,
    );
    const started = await api.call('POST', 'orchestrators/dataverseChange', {
      body: { operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Swept' } }] },
    });
    const instanceId = String(started.json.id);
    const done = await api.waitFor(instanceId);
    const pointId = String((done.json.output as { rollbackPointId: string }).rollbackPointId);
    const answers: [string, Answer][] = [
      ['start', started],
      ['status', done],
      ['history', await api.call('GET', `instances/${instanceId}?history=true`)],
      ['list', await api.call('GET', 'instances')],
      ['points', await api.call('GET', 'rollback-points')],
      ['point', await api.call('GET', `rollback-points/${pointId}`)],
      ['plan', await api.call('POST', `rollback-points/${pointId}/plan`)],
      ['version', await api.call('GET', 'version')],
    ];
    const errors: [string, Answer][] = [
      ['unknown name', await api.call('POST', 'orchestrators/secretThing', { body: {} })],
      ['bad json', await api.call('POST', 'orchestrators/configChange', { raw: '{' })],
      ['bad input', await api.call('POST', 'orchestrators/configChange', { body: { patch: 1 } })],
      ['unknown instance', await api.call('GET', 'instances/none')],
      ['finished', await api.call('POST', `instances/${instanceId}/terminate`)],
      ['unknown point', await api.call('GET', 'rollback-points/none')],
      ['no key', await api.call('GET', 'instances', { key: null })],
      ['unknown route', await api.call('GET', 'no/such/route')],
      ['wrong method', await api.call('PUT', 'instances')],
    ];
    for (const [what, res] of [...answers, ...errors]) expectNoSecrets(res, what);
    for (const [what, res] of answers) expect(res.status, what).toBeLessThan(300);
    for (const [what, res] of errors) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(typeof res.json.code, what).toBe('string');
      expect(typeof res.json.message, what).toBe('string');
    }
  });
});
