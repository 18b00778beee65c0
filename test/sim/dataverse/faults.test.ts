import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, startSim, webApi } from './support';

let sim: DataverseSim;

beforeAll(async () => {
  sim = await startSim();
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

async function queue(rule: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(rule),
  });
  return res.status;
}

describe('fault injection through /_sim/faults', () => {
  it('throttles the next N matching calls with 429, Retry-After and the service protection error', async () => {
    expect(
      await queue({ method: 'GET', path: '/contacts$', kind: 'throttle', retryAfterSeconds: 7, count: 2 }),
    ).toBe(201);
    for (let i = 0; i < 2; i++) {
      const res = await call(sim, 'contacts');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.json).toEqual({
        error: {
          code: '0x80072322',
          message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
        },
      });
    }
    expect((await call(sim, 'contacts')).status).toBe(200);
  });

  it('matches by method and path pattern only', async () => {
    await queue({ method: 'POST', path: '/accounts', kind: 'status', status: 503 });
    expect((await call(sim, 'accounts')).status).toBe(200);
    expect((await call(sim, 'contacts', { method: 'POST', body: { lastname: 'Unaffected' } })).status).toBe(
      204,
    );
    const hit = await call(sim, 'accounts', { method: 'POST', body: { name: 'Hit' } });
    expect(hit.status).toBe(503);
    expect(hit.json.error.code).toBe('0x80040216');
    expect((await call(sim, 'accounts', { method: 'POST', body: { name: 'Next' } })).status).toBe(204);
  });

  it('answers 500 with the unexpected-error body', async () => {
    await queue({ path: 'WhoAmI', kind: 'status', status: 500 });
    const res = await call(sim, 'WhoAmI');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: '0x80040216', message: 'An unexpected error occurred.' } });
  });

  it('adds latency and then serves the request normally', async () => {
    await queue({ path: 'WhoAmI', kind: 'latency', latencyMs: 250 });
    const started = Date.now();
    const res = await call(sim, 'WhoAmI');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('drops the connection', async () => {
    await queue({ path: 'contacts', kind: 'drop' });
    await expect(call(sim, 'contacts')).rejects.toThrow();
    expect((await call(sim, 'contacts')).status).toBe(200);
  });

  it('lists and clears queued faults', async () => {
    await queue({ path: 'tasks', kind: 'status', status: 500, count: 3 });
    const listed = (await (await fetch(`${sim.url}/_sim/faults`)).json()) as { value: unknown[] };
    expect(listed.value).toEqual([
      expect.objectContaining({ path: 'tasks', kind: 'status', status: 500, remaining: 3 }),
    ]);
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(sim, 'tasks')).status).toBe(200);
  });

  it('refuses an invalid rule', async () => {
    expect(await queue({ path: 'tasks', kind: 'explode' })).toBe(400);
    expect(await queue({ path: 'tasks', kind: 'status', status: 503, forMs: 1000, count: 2 })).toBe(400);
    expect(await queue({ path: 'tasks', kind: 'status', status: 503, wholeService: true })).toBe(400);
    expect(await queue({ path: 'tasks', kind: 'status', status: 503, skip: -1 })).toBe(400);
  });

  it('takes the whole service down for forMs on its clock, from the call after the skipped ones', async () => {
    let now = Date.parse('2026-12-04T10:00:00Z');
    sim.faults.useClock(() => now);
    try {
      sim.faults.add({
        method: 'POST',
        path: '/accounts$',
        kind: 'status',
        status: 503,
        skip: 1,
        forMs: 120_000,
        wholeService: true,
      });
      expect((await call(sim, 'accounts', { method: 'POST', body: { name: 'Before' } })).status).toBe(204);
      expect((await call(sim, 'contacts')).status).toBe(200);
      // The second create starts the outage: every call fails, with no Retry-After, until 2 minutes pass.
      const start = await call(sim, 'accounts', { method: 'POST', body: { name: 'During' } });
      expect(start.status).toBe(503);
      expect(start.headers.get('retry-after')).toBeNull();
      now += 119_999;
      expect((await call(sim, 'contacts')).status).toBe(503);
      expect((await call(sim, 'WhoAmI')).status).toBe(503);
      now += 1;
      expect((await call(sim, 'contacts')).status).toBe(200);
      expect((await call(sim, 'accounts', { method: 'POST', body: { name: 'After' } })).status).toBe(204);
      expect(sim.faults.list()).toEqual([]);
    } finally {
      sim.faults.useClock(Date.now);
    }
  });

  it('shows up in dynamics-web-api as an error with the status and Retry-After header', async () => {
    sim.faults.add({ path: '/contacts', kind: 'throttle', retryAfterSeconds: 3 });
    await expect(webApi(sim).retrieveMultiple({ collection: 'contacts' })).rejects.toMatchObject({
      status: 429,
      code: '0x80072322',
      headers: expect.objectContaining({ 'retry-after': '3' }),
    });
  });
});
