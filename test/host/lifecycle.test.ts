import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import {
  getStatus,
  post,
  startOrchestration,
  startPatternsHost,
  waitFor,
  waitUntil,
  webhook,
} from '../support/durable';

let host: RunningHost;
let functionKey: string;
beforeAll(async () => {
  host = await startPatternsHost();
  functionKey = String(host.keys.functionKeys.default);
});
afterAll(async () => host?.close());

/** Calls the fixture's clientOps function, which uses the real DurableClient against the host. */
async function client(
  op: string,
  id: string | undefined,
  body: unknown = {},
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${host.url}/api/client/${op}${id ? `/${encodeURIComponent(id)}` : ''}`, {
    method: 'POST',
    headers: { 'x-functions-key': functionKey },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('instance lifecycle through the DurableClient', () => {
  it('starts with a chosen id, raises events and reads status with history', async () => {
    const started = await client('start', 'waiter-1', { name: 'waiter' });
    expect(started).toEqual({ status: 200, json: { id: 'waiter-1' } });
    await waitFor(host, 'waiter-1', ['Running']);
    expect((await client('raise', 'waiter-1', { event: 'next', data: 'one' })).status).toBe(202);
    await waitUntil(
      host,
      'waiter-1',
      (s) => (s.customStatus as { received?: number } | null)?.received === 1,
    );
    expect((await client('raise', 'waiter-1', { event: 'next', data: 'stop' })).status).toBe(202);
    await waitFor(host, 'waiter-1');
    const status = await client('status', 'waiter-1', { showHistory: true });
    expect(status.json).toMatchObject({
      name: 'waiter',
      instanceId: 'waiter-1',
      runtimeStatus: 'Completed',
      output: ['one'],
    });
    const withHistory = await getStatus(
      host,
      'waiter-1',
      'showHistory=true&showHistoryOutput=true&showInput=true',
    );
    const raised = withHistory.historyEvents?.filter((e) => e.EventType === 'EventRaised') ?? [];
    expect(raised.map((e) => [e.Name, e.Input])).toEqual([
      ['next', 'one'],
      ['next', 'stop'],
    ]);
  });

  it('refuses to start an instance id that is still running, and never starts a second run', async () => {
    await startOrchestration(host, 'waiter', undefined, 'dup-1');
    await waitFor(host, 'dup-1', ['Running']);
    const again = await post(host, 'orchestrators/waiter/dup-1');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'CONFLICT' });
    const viaClient = await client('start', 'dup-1', { name: 'waiter' });
    expect(viaClient.status).toBe(500);
    const status = await getStatus(host, 'dup-1', 'showHistory=true');
    expect(status.historyEvents?.filter((e) => e.EventType === 'ExecutionStarted')).toHaveLength(1);
  });

  it('replaces a finished instance when the same id is started again', async () => {
    await startOrchestration(host, 'chaining', undefined, 'again-1');
    const first = await waitFor(host, 'again-1');
    await new Promise((r) => setTimeout(r, 1100));
    await startOrchestration(host, 'chaining', undefined, 'again-1');
    const second = await waitFor(host, 'again-1');
    expect(second.runtimeStatus).toBe('Completed');
    expect(Date.parse(second.createdTime)).toBeGreaterThan(Date.parse(first.createdTime));
  });

  it('terminates a running instance with a reason', async () => {
    await startOrchestration(host, 'waiter', undefined, 'term-1');
    await waitFor(host, 'term-1', ['Running']);
    expect((await client('terminate', 'term-1', { reason: 'no longer needed' })).status).toBe(202);
    const status = await waitFor(host, 'term-1');
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('no longer needed');
    const late = await post(host, 'instances/term-1/raiseEvent/next', 'x');
    expect(late.status).toBe(410);
  });

  it('suspends an instance, holds its events, and resumes it', async () => {
    await startOrchestration(host, 'waiter', undefined, 'susp-1');
    await waitFor(host, 'susp-1', ['Running']);
    expect((await client('suspend', 'susp-1', { reason: 'pause' })).status).toBe(202);
    await waitFor(host, 'susp-1', ['Suspended']);
    await client('raise', 'susp-1', { event: 'next', data: 'held' });
    // The event's episode has run (and held it) once the engine has nothing left to do.
    await host.engine.whenIdle();
    const whileSuspended = await getStatus(host, 'susp-1');
    expect(whileSuspended.runtimeStatus).toBe('Suspended');
    expect(whileSuspended.customStatus).toBeNull();
    const doubleSuspend = await post(host, 'instances/susp-1/suspend?reason=again');
    expect(doubleSuspend.status).toBe(409);
    expect((await client('resume', 'susp-1', { reason: 'go on' })).status).toBe(202);
    await waitUntil(host, 'susp-1', (s) => (s.customStatus as { received?: number } | null)?.received === 1);
    await client('raise', 'susp-1', { event: 'next', data: 'stop' });
    expect((await waitFor(host, 'susp-1')).output).toEqual(['held']);
  });

  it('rewinds a failed instance so the failed activity runs again', async () => {
    const id = await startOrchestration(host, 'rewindable');
    const failed = await waitFor(host, id);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(String(failed.output)).toContain(`first run of ${id} fails`);
    expect((await client('rewind', id, { reason: 'fixed the cause' })).status).toBe(202);
    const done = await waitFor(host, id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual(['a', `${id} ok`]);
  });

  it('refuses to rewind an instance that did not fail', async () => {
    await startOrchestration(host, 'waiter', undefined, 'rewind-running');
    await waitFor(host, 'rewind-running', ['Running']);
    expect((await post(host, 'instances/rewind-running/rewind?reason=x')).status).toBe(412);
  });

  it('reports an orchestrator that throws as Failed with its message', async () => {
    const id = await startOrchestration(host, 'failing');
    const status = await waitFor(host, id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toBe("Orchestrator function 'failing' failed: orchestrator gave up");
  });

  it('purges a finished instance and refuses to purge a running one', async () => {
    const id = await startOrchestration(host, 'chaining');
    await waitFor(host, id);
    expect((await client('purge', id)).json).toEqual({ instancesDeleted: 1 });
    const gone = await fetch(webhook(host, `instances/${id}`));
    expect(gone.status).toBe(404);
    await startOrchestration(host, 'waiter', undefined, 'purge-running');
    await waitFor(host, 'purge-running', ['Running']);
    const refused = await fetch(webhook(host, 'instances/purge-running'), { method: 'DELETE' });
    expect(refused.status).toBe(409);
  });

  it('purges by filter only what matches', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const a = await startOrchestration(host, 'chaining');
    await waitFor(host, a);
    const res = await fetch(webhook(host, `instances/?createdTimeFrom=${from}&runtimeStatus=Completed`), {
      method: 'DELETE',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { instancesDeleted: number }).instancesDeleted).toBeGreaterThanOrEqual(1);
    expect((await fetch(webhook(host, `instances/${a}`))).status).toBe(404);
    const noFilter = await fetch(webhook(host, 'instances/'), { method: 'DELETE' });
    expect(noFilter.status).toBe(400);
  });

  it('lists instances by status and pages with a continuation token', async () => {
    for (let i = 0; i < 5; i++) await startOrchestration(host, 'waiter', undefined, `page-${i}`);
    for (let i = 0; i < 5; i++) await waitFor(host, `page-${i}`, ['Running']);
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Response = await fetch(
        webhook(host, `instances/?runtimeStatus=Running&instanceIdPrefix=page-&top=2`),
        {
          headers: token ? { 'x-ms-continuation-token': token } : {},
        },
      );
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as { instanceId: string }[]).map((s) => s.instanceId));
      token = res.headers.get('x-ms-continuation-token');
      pages++;
    } while (token && pages < 10);
    expect(seen.sort()).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(pages).toBe(3);
    const viaClient = await client('list', undefined, { runtimeStatus: ['Running'] });
    const ids = (viaClient.json as { instanceId: string }[]).map((s) => s.instanceId);
    expect(ids).toEqual(expect.arrayContaining(['page-0', 'page-4']));
    for (let i = 0; i < 5; i++) await post(host, `instances/page-${i}/terminate?reason=cleanup`);
  });

  it("shows each listed instance's input unless showInput=false, as the extension does", async () => {
    await startOrchestration(host, 'waiter', { note: 'listed input' }, 'list-input-1');
    await waitFor(host, 'list-input-1', ['Running']);
    const listed = async (query: string): Promise<unknown> => {
      const res = await fetch(webhook(host, `instances/?instanceIdPrefix=list-input-${query}`));
      expect(res.status).toBe(200);
      return ((await res.json()) as { input: unknown }[])[0]?.input;
    };
    expect(await listed('')).toEqual({ note: 'listed input' });
    expect(await listed('&showInput=true')).toEqual({ note: 'listed input' });
    expect(await listed('&showInput=false')).toBeNull();
    await post(host, 'instances/list-input-1/terminate?reason=cleanup');
  });

  it('signals an entity and reads its state through the client', async () => {
    expect(
      (await client('signal', undefined, { entity: 'counter', key: 'cl', operation: 'add', input: 3 }))
        .status,
    ).toBe(202);
    let state: unknown;
    for (let i = 0; i < 200; i++) {
      state = (await client('entity', undefined, { entity: 'counter', key: 'cl' })).json;
      if ((state as { exists: boolean }).exists) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(state).toEqual({ exists: true, state: 3 });
    expect((await client('entity', undefined, { entity: 'counter', key: 'none' })).json).toEqual({
      exists: false,
    });
  });
});

describe('non-determinism', () => {
  it('fails an instance whose code no longer reproduces its history, naming the mismatch', async () => {
    const g = globalThis as { __lifeCockpitVersion?: number };
    g.__lifeCockpitVersion = 1;
    const id = await startOrchestration(host, 'versioned');
    await waitUntil(host, id, (s) => s.runtimeStatus === 'Running');
    try {
      await post(host, `instances/${id}/raiseEvent/go`, null);
      await waitUntil(host, id, (s) => s.customStatus === 'second done');
      // "Deploy" code that takes a different branch where history already recorded 'echo'. A
      // deployment restarts the host, which keeps no live orchestration: so does this one.
      g.__lifeCockpitVersion = 2;
      host.engine.liveSessions.clear();
      await post(host, `instances/${id}/raiseEvent/finish`, null);
      const status = await waitFor(host, id);
      expect(status.runtimeStatus).toBe('Failed');
      expect(String(status.output)).toMatch(
        /Non-deterministic orchestration detected: action #3 in the recorded history is activity 'echo', but replaying the current code produces activity 'sayHello'/,
      );
      // Azure's wording of the same fact follows ours, for people who search for it.
      expect(String(status.output)).toMatch(/Non-Deterministic workflow detected: .*action #3/);
    } finally {
      g.__lifeCockpitVersion = 1;
    }
  });
});

describe('functionTimeout', () => {
  it('fails an activity that runs longer than host.json allows, and lets a quick one finish', async () => {
    const slow = await startOrchestration(host, 'timeoutCaller', 1500);
    const quick = await startOrchestration(host, 'timeoutCaller', 10);
    expect((await waitFor(host, quick)).output).toBe('woke');
    expect((await waitFor(host, slow)).output).toEqual({
      failed: "FunctionTimeoutError: Timeout value of 00:00:01 was exceeded by function 'Functions.sleepy'.",
    });
  });
});

describe('edge cases found in review', () => {
  it('keeps an event that arrives in the same batch as a suspend, and runs it after resume', async () => {
    await startOrchestration(host, 'waiter', undefined, 'batch-susp');
    await waitFor(host, 'batch-susp', ['Running']);
    // Both land in the inbox before the engine looks: one batch.
    host.engine.raiseEvent('batch-susp', 'next', JSON.stringify('kept'));
    host.engine.suspend('batch-susp', 'pause');
    await waitFor(host, 'batch-susp', ['Suspended']);
    host.engine.resume('batch-susp', 'go');
    await waitUntil(
      host,
      'batch-susp',
      (s) => (s.customStatus as { received?: number } | null)?.received === 1,
    );
    await post(host, 'instances/batch-susp/raiseEvent/next', 'stop');
    expect((await waitFor(host, 'batch-susp')).output).toEqual(['kept']);
  });

  it('releases entity locks when the orchestration holding them fails', async () => {
    const id = await startOrchestration(host, 'lockThenThrow', { key: 'released' });
    expect((await waitFor(host, id)).runtimeStatus).toBe('Failed');
    expect(
      (await client('signal', undefined, { entity: 'counter', key: 'released', operation: 'add', input: 10 }))
        .status,
    ).toBe(202);
    let state: unknown;
    for (let i = 0; i < 200; i++) {
      state = (await client('entity', undefined, { entity: 'counter', key: 'released' })).json;
      if ((state as { state?: number }).state === 11) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(state).toEqual({ exists: true, state: 11 });
  });

  it('answers 400 for a continuation token it did not issue', async () => {
    const res = await fetch(webhook(host, 'instances/'), {
      headers: { 'x-ms-continuation-token': 'garbage' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'INVALID_CONTINUATION_TOKEN' });
  });
});
