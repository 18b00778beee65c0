import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { getStatus, post, startOrchestration, startPatternsHost, waitFor } from '../support/durable';

let host: RunningHost;
beforeAll(async () => {
  host = await startPatternsHost({ virtualTime: 'auto' });
});
afterAll(async () => host?.close());

describe('durable patterns on the local host', () => {
  it('chains activities and returns their results in order', async () => {
    const id = await startOrchestration(host, 'chaining');
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('fans out to 100 activities and fans in their results', async () => {
    const id = await startOrchestration(host, 'fanOutFanIn', 100);
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe((100 * 101 * 201) / 6);
  });

  it('runs a monitor loop on durable timers and reports progress in custom status', async () => {
    const id = await startOrchestration(host, 'monitor', { doneAfter: 4, intervalMs: 60 * 60 * 1000 });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { checks: number; finishedAt: string };
    expect(output.checks).toBe(4);
    expect(status.customStatus).toEqual({ checks: 4 });
    // Three hour-long timers passed between the four checks, on the virtual clock.
    const created = Date.parse(status.createdTime);
    expect(Date.parse(output.finishedAt) - created).toBeGreaterThanOrEqual(3 * 3600 * 1000 - 1000);
  });

  it('runs an eternal orchestration through continue-as-new until it stops', async () => {
    const id = await startOrchestration(host, 'eternalCounter', { value: 0, stopAt: 5, generations: 0 });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ value: 5, generations: 5 });
    // Each generation starts a fresh history: only the last one is kept.
    const withHistory = await getStatus(host, id, 'showHistory=true');
    const started = withHistory.historyEvents?.filter((e) => e.EventType === 'ExecutionStarted') ?? [];
    expect(started).toHaveLength(1);
  });

  it('retries failing sub-orchestrations until they succeed', async () => {
    const id = await startOrchestration(host, 'parentWithRetry', {
      key: 'sub',
      children: 3,
      succeedOnAttempt: 3,
    });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual([
      { key: 'sub-0', attempts: 3 },
      { key: 'sub-1', attempts: 3 },
      { key: 'sub-2', attempts: 3 },
    ]);
  });

  it('retries an activity with exponential back-off that is visible in history', async () => {
    const id = await startOrchestration(host, 'activityRetry', {
      key: 'backoff',
      succeedOnAttempt: 4,
      maxAttempts: 5,
    });
    const status = await waitFor(host, id, undefined, 20_000, 'showHistory=true&showHistoryOutput=true');
    expect(status.output).toEqual({ key: 'backoff', attempts: 4 });
    const events = status.historyEvents ?? [];
    const failures = events.filter((e) => e.EventType === 'TaskFailed');
    expect(failures).toHaveLength(3);
    const timers = events.filter((e) => e.EventType === 'TimerCreated');
    expect(timers).toHaveLength(3);
    // Waits of 1 s, 2 s and 4 s (first interval 1 s, coefficient 2) between the attempts.
    const gaps = timers.map(
      (t, i) => Date.parse(String(t.FireAt)) - Date.parse(String(failures[i].Timestamp)),
    );
    expect(gaps.map((g) => Math.round(g / 1000))).toEqual([1, 2, 4]);
  });

  it('surfaces the final activity failure to the orchestrator as a TaskFailedError', async () => {
    const id = await startOrchestration(host, 'activityRetry', {
      key: 'exhausted',
      succeedOnAttempt: 10,
      maxAttempts: 2,
    });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ failed: true, message: 'Error: attempt 2 failed' });
  });
});

describe('entities', () => {
  it('signals, calls and reads a counter entity', async () => {
    const id = await startOrchestration(host, 'counterUser', { key: 'c1' });
    const status = await waitFor(host, id);
    expect(status.output).toEqual({ before: 5, after: 15 });
    const state = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/counter/c1?code=${host.systemKey}`,
    );
    expect(state.status).toBe(200);
    expect(await state.json()).toBe(15);
  });

  it('accepts signals over HTTP and reports unknown entities as 404', async () => {
    const base = `${host.url}/runtime/webhooks/durabletask/entities/counter/http1`;
    const sent = await fetch(`${base}?op=add&code=${host.systemKey}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '7',
    });
    expect(sent.status).toBe(202);
    let value: unknown;
    for (let i = 0; i < 200 && value !== 7; i++) {
      const r = await fetch(`${base}?code=${host.systemKey}`);
      if (r.status === 200) value = await r.json();
      else await new Promise((r2) => setTimeout(r2, 10));
    }
    expect(value).toBe(7);
    const missing = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/counter/nobody?code=${host.systemKey}`,
    );
    expect(missing.status).toBe(404);
  });

  it('refuses a signal to an entity type the app does not define (400, as the extension answers)', async () => {
    const res = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/nosuchentity/k1?op=add&code=${host.systemKey}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '1' },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/nosuchentity.*not an entity function/);
    // The type is matched case-insensitively, as Azure matches function names.
    const cased = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/Counter/k1?op=add&code=${host.systemKey}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '1' },
    );
    expect(cased.status).toBe(202);
  });

  it('holds locks on two entities in a critical section', async () => {
    const seed = await startOrchestration(host, 'counterUser', { key: 'acct-a' });
    await waitFor(host, seed); // acct-a = 15
    const id = await startOrchestration(host, 'lockedTransfer', { from: 'acct-a', to: 'acct-b', amount: 6 });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ held: ['counter@acct-a', 'counter@acct-b'], balanceBefore: 15 });
    const a = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/counter/acct-a?code=${host.systemKey}`,
    );
    const b = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/counter/acct-b?code=${host.systemKey}`,
    );
    expect(await a.json()).toBe(9);
    expect(await b.json()).toBe(6);
  });
});

describe('sub-orchestrations without retry', () => {
  it('returns a child result and surfaces a child failure to the parent', async () => {
    const id = await startOrchestration(host, 'parentPlain', 'in');
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { greeting: string[]; childFailed: boolean; message: string };
    expect(output.greeting).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
    expect(output.childFailed).toBe(true);
    expect(output.message).toContain('orchestrator gave up');
    const child = await getStatus(host, `${id}-child`);
    expect(child.runtimeStatus).toBe('Failed');
  });
});

describe('durable HTTP', () => {
  it('polls a 202 + Location answer until the work is done', async () => {
    const calls: string[] = [];
    let polls = 0;
    const server = http.createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      if (req.url === '/start') {
        res.writeHead(202, { Location: `http://127.0.0.1:${port}/status`, 'Retry-After': '30' }).end();
      } else if (polls++ < 2) {
        res.writeHead(202, { Location: `http://127.0.0.1:${port}/status`, 'Retry-After': '30' }).end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ done: true }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const id = await startOrchestration(host, 'httpPoll', { url: `http://127.0.0.1:${port}/start` });
      const status = await waitFor(host, id);
      expect(status.output).toEqual({ statusCode: 200, content: { done: true } });
      expect(calls).toEqual(['POST /start', 'GET /status', 'GET /status', 'GET /status']);
    } finally {
      server.close();
    }
  });
});

describe('sequence ids under mixed completions', () => {
  it('keeps retries and plain activities apart when they complete in the same episode', async () => {
    const ids = await Promise.all(
      [0, 1, 2].map((i) => startOrchestration(host, 'mixedRetry', { key: `mix${i}` })),
    );
    for (const [i, id] of ids.entries()) {
      const status = await waitFor(host, id);
      expect(status.runtimeStatus).toBe('Completed');
      const output = status.output as { results: unknown[]; after: string };
      expect(output.after).toBe('Hello after!');
      expect(output.results).toEqual(
        [0, 1, 2, 3].flatMap((n) => [{ key: `mix${i}-${n}`, attempts: 2 }, `Hello n${n}!`]),
      );
    }
  });
});

describe('durable HTTP with a managed identity token source', () => {
  it('sends the token from the managed-identity endpoint, and fails clearly without one', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/msi')) {
        const ok = req.headers['x-identity-header'] === 'secret-header' && req.url.includes('resource=');
        res
          .writeHead(ok ? 200 : 400, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ access_token: 'tok-123' }));
        return;
      }
      seen.push(req.headers.authorization);
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const withoutIdentity = await startOrchestration(host, 'httpWithIdentity', {
        url: `http://127.0.0.1:${port}/api`,
      });
      const failed = await waitFor(host, withoutIdentity);
      expect((failed.output as { failed: string }).failed).toMatch(/no managed identity is available here/);
      expect(seen).toEqual([]);

      process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${port}/msi`;
      process.env.IDENTITY_HEADER = 'secret-header';
      const withIdentity = await startOrchestration(host, 'httpWithIdentity', {
        url: `http://127.0.0.1:${port}/api`,
      });
      const status = await waitFor(host, withIdentity);
      expect(status.output).toEqual({ statusCode: 200, content: 'ok' });
      expect(seen).toEqual(['Bearer tok-123']);
    } finally {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
      server.close();
    }
  });
});

describe('rewind limits', () => {
  it('refuses to rewind an instance whose failed task had retries, with a clear reason', async () => {
    const id = await startOrchestration(host, 'parentWithRetry', {
      key: 'norewind',
      children: 1,
      succeedOnAttempt: 99,
    });
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Failed');
    const res = await post(host, `instances/${id}/rewind?reason=try`);
    expect(res.status).toBe(412);
    expect(((await res.json()) as { message: string }).message).toMatch(/failed in a task with retries/);
  });
});

describe('timer triggers with a durable client', () => {
  it('gives a timer trigger a working durable client (runOnStartup started an orchestration)', async () => {
    const status = await waitFor(host, 'started-by-timer');
    expect(status.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });
});

describe('listing entities', () => {
  it('lists the existing entities of a name with their state', async () => {
    await waitFor(host, await startOrchestration(host, 'counterUser', { key: 'listed-1' }));
    const res = await fetch(
      `${host.url}/runtime/webhooks/durabletask/entities/counter?code=${host.systemKey}`,
    );
    expect(res.status).toBe(200);
    const list = (await res.json()) as { entityId: { name: string; key: string }; state: unknown }[];
    expect(list).toContainEqual({ entityId: { name: 'counter', key: 'listed-1' }, state: 15 });
    expect(list.every((e) => e.entityId.name === 'counter')).toBe(true);
  });
});
