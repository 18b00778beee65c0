import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { apiOf, type Api, type Answer } from './client';

/** A storage connection string the app cannot use: its services cannot be built from it. */
const MISCONFIGURED = 'misconfigured-storage-xyzzy';
const CACHE_SECONDS = 2;

let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  app = await startAppWithDataverse({
    graph: true,
    env: { HEALTH_CACHE_SECONDS: String(CACHE_SECONDS), AzureWebJobsStorage: MISCONFIGURED },
  });
  api = apiOf(app);
});
afterAll(async () => app?.close());

const health = (): Promise<Answer> => api.call('GET', 'health', { key: null });

/** Counts the WhoAmI calls the simulator receives from now on (a zero-latency fault rule). */
function countWhoAmI(): () => number {
  const rule = app.sim.faults.add({
    method: 'GET',
    path: 'WhoAmI',
    kind: 'latency',
    latencyMs: 0,
    count: 10_000,
  });
  return () => 10_000 - (app.sim.faults.list().find((r) => r.id === rule.id)?.remaining ?? 10_000);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('GET /api/health (anonymous)', () => {
  // First, while a setting is wrong: the app builds its services from the settings on first use.
  it('answers 503 for settings it cannot use, without their error text', async () => {
    let res: Answer;
    try {
      res = await health();
    } finally {
      process.env.AzureWebJobsStorage = String(process.env.AZURE_STORAGE_CONNECTION_STRING);
    }
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'unhealthy', checks: { settings: { state: 'down' } } });
    // What the storage client said about the setting ('Invalid URL'), and the setting itself.
    for (const leak of [MISCONFIGURED, 'Invalid URL', 'INVALID_SETTINGS', 'message'])
      expect(res.text).not.toContain(leak);
  });

  it('answers with the status and each dependency up or down, nothing else', async () => {
    await sleep(CACHE_SECONDS * 1000 + 100);
    const res = await health();
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      status: 'ok',
      checks: {
        graph: { state: 'up' },
        dataverse: { state: 'up' },
        storage: { state: 'up' },
        durable: { state: 'up' },
      },
    });
  });

  it('makes at most two WhoAmI calls for fifty calls in a burst', async () => {
    await sleep(CACHE_SECONDS * 1000 + 100);
    const whoAmI = countWhoAmI();
    const answers = await Promise.all(Array.from({ length: 25 }, () => health()));
    for (let i = 0; i < 25; i++) answers.push(await health());
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(whoAmI()).toBeGreaterThanOrEqual(1);
    expect(whoAmI()).toBeLessThanOrEqual(2);
  });

  it('checks again once the cache time is over; a dependency that is down shows as down, without its code', async () => {
    await sleep(CACHE_SECONDS * 1000 + 100);
    app.sim.faults.clear();
    // Fails the next two WhoAmI calls: what is left of it says how many calls Dataverse got.
    const fault = app.sim.faults.add({
      method: 'GET',
      path: 'WhoAmI',
      kind: 'status',
      status: 500,
      count: 2,
    });
    const left = (): number => app.sim.faults.list().find((r) => r.id === fault.id)?.remaining ?? 0;
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.json).toEqual({
      status: 'unhealthy',
      checks: {
        graph: { state: 'up' },
        dataverse: { state: 'down' },
        storage: { state: 'up' },
        durable: { state: 'up' },
      },
    });
    expect(down.text).not.toContain(new URL(app.sim.url).host);
    expect(left()).toBe(1);
    // Within the cache time: the same answer, and Dataverse is not asked again.
    expect((await health()).status).toBe(503);
    expect(left()).toBe(1);
    // After it: asked again.
    await sleep(CACHE_SECONDS * 1000 + 100);
    expect((await health()).status).toBe(503);
    expect(left()).toBe(0);
  });
});
