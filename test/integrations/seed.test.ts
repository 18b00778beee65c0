import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER_IDS } from '../../sim/graph';
import { startAppWithDataverse, GRAPH_SIM_TOKEN, SIM_TOKEN, type AppUnderTest } from '../support/appHost';

let app: AppUnderTest;
beforeAll(async () => {
  // Health checks uncached: the health tests below change what Dataverse answers between two calls.
  app = await startAppWithDataverse({ graph: true, env: { HEALTH_CACHE_SECONDS: '0' } });
});
afterAll(async () => app?.close());

interface Answer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- assertions read the answers field by field
  text: string;
}

async function get(
  path: string,
  key: string | null = String(app.host.keys.functionKeys.default),
): Promise<Answer> {
  const res = await fetch(`${app.host.url}/api/${path}`, { headers: key ? { 'x-functions-key': key } : {} });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

describe('GET /api/health', () => {
  it('reports Graph, Dataverse, Blob storage and the durable store, each up', async () => {
    const res = await get('health', null);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ok');
    for (const name of ['graph', 'dataverse', 'storage', 'durable'])
      expect(res.json.checks[name], name).toEqual({ state: 'up' });
  });

  it('answers 503 naming the dependency that is down, without revealing where it is', async () => {
    app.sim.faults.add({ method: 'GET', path: 'WhoAmI', kind: 'status', status: 500, count: 1 });
    const res = await get('health', null);
    expect(res.status).toBe(503);
    expect(res.json.status).toBe('unhealthy');
    expect(res.json.checks.dataverse).toEqual({ state: 'down' });
    expect(res.json.checks.graph.state).toBe('up');
    expect(res.json.checks.storage.state).toBe('up');
    expect(res.text).not.toContain(new URL(app.sim.url).host);
    expect((await get('health', null)).status).toBe(200);
  });
});

describe('seed functions', () => {
  it('GET /api/auth/test says as whom the app reaches Dataverse and that it gets Graph tokens', async () => {
    expect((await get('auth/test', null)).status).toBe(401);
    const res = await get('auth/test');
    expect(res.status).toBe(200);
    expect(res.json.dataverse).toMatchObject({ state: 'ok', userId: app.sim.identity.userId });
    expect(res.json.graph.state).toBe('ok');
    expect(Date.parse(res.json.graph.tokenExpiresOn)).toBeGreaterThan(Date.now());
    expect(res.text).not.toContain(SIM_TOKEN);
    expect(res.text).not.toContain(GRAPH_SIM_TOKEN);
  });

  it('GET /api/graph/users lists the tenant, up to ?top=', async () => {
    expect((await get('graph/users', null)).status).toBe(401);
    const all = await get('graph/users');
    expect(all.status).toBe(200);
    expect(all.json.value.map((u: { id: string }) => u.id)).toContain(DEMO_USER_IDS.owner);
    expect(all.json.more).toBe(false);
    const two = await get('graph/users?top=2');
    expect(two.json.value).toHaveLength(2);
    expect(two.json.more).toBe(true);
    expect(Object.keys(two.json.value[0]).sort()).toEqual([
      'displayName',
      'id',
      'jobTitle',
      'mail',
      'userPrincipalName',
    ]);
    expect((await get('graph/users?top=0')).status).toBe(400);
  });

  it('GET /api/dataverse/tables lists the environment tables', async () => {
    expect((await get('dataverse/tables', null)).status).toBe(401);
    const res = await get('dataverse/tables');
    expect(res.status).toBe(200);
    expect(res.json.value).toContainEqual({
      logicalName: 'lc_session',
      entitySetName: 'lc_sessions',
      primaryIdAttribute: 'lc_sessionid',
      primaryNameAttribute: 'lc_name',
      isCustom: true,
    });
    expect(res.json.value.map((t: { logicalName: string }) => t.logicalName)).toContain('contact');
  });
});
