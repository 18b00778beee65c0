import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaStatus, StepStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration } from '../support/durable';
import { driveToEnd, type Driven } from '../support/virtualTime';

/**
 * A Dataverse outage in the middle of a change, on the host's virtual clock: the simulator measures
 * the outage on that clock too, so "two minutes" is two minutes of the host's time. The client
 * retries once inside an activity (DATAVERSE_RETRIES=1) to keep the test quick; the rest is the saga.
 */
let app: AppUnderTest;
beforeAll(async () => {
  // Unpaced: the app's request budget runs on the wall clock, which the virtual clock here outruns.
  app = await startAppWithDataverse({
    virtualTime: 'manual',
    env: { DATAVERSE_RETRIES: '1', DATAVERSE_REQUESTS_PER_5_MIN: '0' },
  });
  app.sim.faults.useClock(() => app.host.clock.now());
});
afterAll(async () => app?.close());

const TWO_MINUTES = 120_000;
type Waiting = NonNullable<StepStatus['waiting']>;

async function newContact(firstname: string, lastname: string): Promise<string> {
  const res = await app.dataverse.create('contacts', { firstname, lastname });
  return String(res.id);
}

async function count(table: string, filter: string): Promise<number> {
  const rows: unknown[] = [];
  for await (const row of app.dataverse.query(table, { filter })) rows.push(row);
  return rows.length;
}

/** Two minutes of 503s from the whole service, from the first request that matches on. */
function outageFrom(method: string, path: string): void {
  app.sim.faults.add({ method, path, kind: 'status', status: 503, forMs: TWO_MINUTES, wholeService: true });
}

/**
 * Counts the calls of a method on a path that the simulator served (a latency rule of 0 ms lets each
 * through and counts it); queued after any outage rule, so a call the outage refused is not counted.
 */
function countServed(method: string, path: string): () => number {
  const rule = app.sim.faults.add({ method, path, kind: 'latency', latencyMs: 0, count: 10_000 });
  return () => 10_000 - (app.sim.faults.list().find((r) => r.id === rule.id)?.remaining ?? 10_000);
}

/** Every waiting state the saga published, in order, with the step (or undo) it was for. */
function waitingStates(driven: Driven): (Waiting & { step: string; state: string })[] {
  const out: (Waiting & { step: string; state: string })[] = [];
  for (const pause of driven.pauses) {
    const saga = pause.customStatus as SagaStatus | null;
    for (const step of saga?.steps ?? [])
      if (step.waiting) out.push({ ...step.waiting, step: step.name, state: step.state });
  }
  return out;
}

async function history(instanceId: string) {
  return (await getStatus(app.host, instanceId, 'showHistory=true')).historyEvents as {
    EventType: string;
    Name?: string;
  }[];
}

const scheduled = (events: { EventType: string; Name?: string }[], name: string): number =>
  events.filter((e) => e.EventType === 'TaskScheduled' && e.Name === name).length;

describe('a transient Dataverse outage during a change', () => {
  it('pauses the change for two minutes of 503s without Retry-After, then applies all five operations once', async () => {
    const x = await newContact('Xena', 'Before');
    const y = await newContact('Yuri', 'Before');
    // The third operation's create starts a two-minute outage of the whole service.
    outageFrom('POST', '/contacts$');
    const posts = countServed('POST', '/(accounts|contacts)$');
    const patches = countServed('PATCH', '/contacts\\(');
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      description: 'five operations through an outage',
      // Per operation: the outage starts at the third operation's own request.
      atomic: false,
      operations: [
        { op: 'create', table: 'accounts', data: { name: 'Outage Physio One' } },
        { op: 'update', table: 'contacts', id: x, data: { lastname: 'After' } },
        { op: 'create', table: 'contacts', data: { firstname: 'Mid', lastname: 'Outage' } },
        { op: 'create', table: 'accounts', data: { name: 'Outage Physio Two' } },
        { op: 'update', table: 'contacts', id: y, data: { lastname: 'After' } },
      ],
    });
    const driven = await driveToEnd(app.host, instanceId);
    const served = { posts: posts(), patches: patches() };
    app.sim.faults.clear();

    expect(driven.final.runtimeStatus).toBe('Completed');
    const saga = driven.final.customStatus as SagaStatus;
    expect(saga.phase).toBe('completed');
    const results = (driven.final.output as { results: { index: number; action: string }[] }).results;
    expect(results.map((r) => [r.index, r.action])).toEqual([
      [0, 'created'],
      [1, 'updated'],
      [2, 'created'],
      [3, 'created'],
      [4, 'updated'],
    ]);
    // Applied exactly once: one record per create, and the simulator served one write per operation.
    expect(await count('accounts', "name eq 'Outage Physio One'")).toBe(1);
    expect(await count('accounts', "name eq 'Outage Physio Two'")).toBe(1);
    expect(await count('contacts', "lastname eq 'Outage'")).toBe(1);
    expect((await app.dataverse.retrieve('contacts', x)).lastname).toBe('After');
    expect((await app.dataverse.retrieve('contacts', y)).lastname).toBe('After');
    expect(served).toEqual({ posts: 3, patches: 2 });
    // Nothing was compensated.
    expect(scheduled(await history(instanceId), 'undo_action')).toBe(0);
    expect(saga.steps.every((s) => s.state === 'completed' && s.waiting === undefined)).toBe(true);

    // While Dataverse was down, the third operation's step said so: retry n, and when.
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(waits.map((w) => w.step))).toEqual(new Set(['create contacts #3']));
    expect(waits.map((w) => w.attempt)).toEqual(waits.map((_, i) => i + 1));
    for (const w of waits) {
      expect(w).toMatchObject({ service: 'Dataverse', state: 'running' });
      expect(w.error).toMatch(/failed with 503/);
      expect(Number.isNaN(Date.parse(w.nextAttemptAt))).toBe(false);
    }
    // Backoff without Retry-After: 5 s, then doubling; the attempt after the outage goes through.
    const gaps = waits
      .slice(1)
      .map((w, i) => Date.parse(w.nextAttemptAt) - Date.parse(waits[i].nextAttemptAt));
    expect(gaps.slice(0, 3)).toEqual([10_000, 20_000, 40_000]);
    const outageStart = Date.parse(waits[0].nextAttemptAt) - 5_000;
    expect(Date.parse(waits.at(-1)?.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(outageStart + TWO_MINUTES);
  });

  it('finishes a compensation that an outage interrupts once Dataverse is back', async () => {
    const a = await newContact('Ann', 'Original');
    const b = await newContact('Bob', 'Original');
    const before = {
      a: (await app.dataverse.retrieve('contacts', a)).lastname,
      b: (await app.dataverse.retrieve('contacts', b)).lastname,
    };
    // The fourth operation is refused (permanent); the compensation's first delete starts an outage.
    app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${b}\\)`,
      kind: 'status',
      status: 400,
      count: 1,
    });
    outageFrom('DELETE', '/contacts\\(');
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      // Per operation: three applied writes to undo one by one while Dataverse is down.
      atomic: false,
      operations: [
        { op: 'create', table: 'contacts', data: { firstname: 'Comp', lastname: 'One' } },
        { op: 'update', table: 'contacts', id: a, data: { lastname: 'Changed' } },
        { op: 'create', table: 'contacts', data: { firstname: 'Comp', lastname: 'Three' } },
        { op: 'update', table: 'contacts', id: b, data: { lastname: 'Refused' } },
      ],
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();

    expect(driven.final.runtimeStatus).toBe('Failed');
    expect(String(driven.final.output)).toContain('SAGA_COMPENSATED');
    const saga = driven.final.customStatus as SagaStatus;
    expect(saga.phase).toBe('compensated');
    expect(saga.failure?.step).toBe('update contacts #4');
    // Nothing left behind.
    expect(await count('contacts', "firstname eq 'Comp'")).toBe(0);
    expect((await app.dataverse.retrieve('contacts', a)).lastname).toBe(before.a);
    expect((await app.dataverse.retrieve('contacts', b)).lastname).toBe(before.b);
    // The undo of the third operation waited for Dataverse while it was compensating.
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w.step === 'create contacts #3' && w.state === 'compensating')).toBe(true);
    expect(waits[0]).toMatchObject({ service: 'Dataverse', attempt: 1 });
    const undone = saga.steps.filter((s) => s.compensation?.state === 'completed').map((s) => s.name);
    expect(undone).toEqual(['create contacts #1', 'update contacts #2', 'create contacts #3']);
  });

  it('pauses an atomic change while its changeset meets two minutes of 503s, then applies it once', async () => {
    const x = await newContact('Atom', 'Before');
    // The plan's $batch goes through; the changeset's starts the outage.
    app.sim.faults.add({
      method: 'POST',
      path: '/\\$batch$',
      kind: 'status',
      status: 503,
      skip: 1,
      forMs: TWO_MINUTES,
    });
    const served = countServed('POST', '/\\$batch$');
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      operations: [
        { op: 'create', table: 'accounts', data: { name: 'Atomic Outage BV' } },
        { op: 'update', table: 'contacts', id: x, data: { lastname: 'After' } },
      ],
    });
    const driven = await driveToEnd(app.host, instanceId);
    const batches = served();
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect(await count('accounts', "name eq 'Atomic Outage BV'")).toBe(1);
    expect((await app.dataverse.retrieve('contacts', x)).lastname).toBe('After');
    // The plan's batch and the changeset that got through: nothing applied twice, nothing undone.
    expect(batches).toBe(2);
    expect(scheduled(await history(instanceId), 'dataverseChange_undoChangeset')).toBe(0);
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(waits.map((w) => w.step))).toEqual(new Set(['apply 2 operations (one changeset)']));
    for (const w of waits) expect(w).toMatchObject({ service: 'Dataverse', state: 'running' });
  });

  it('waits out two minutes of 503s while planning, shown on the plan step, then applies the change once', async () => {
    const x = await newContact('Planned', 'Before');
    // The plan's own $batch of reads starts the outage.
    outageFrom('POST', '/\\$batch$');
    const served = countServed('POST', '/\\$batch$');
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      operations: [{ op: 'update', table: 'contacts', id: x, data: { lastname: 'After' } }],
    });
    const driven = await driveToEnd(app.host, instanceId);
    const batches = served();
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', x)).lastname).toBe('After');
    // The plan's batch and the changeset, once each, once Dataverse was back.
    expect(batches).toBe(2);
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(waits.map((w) => w.step))).toEqual(new Set(['plan 1 operation']));
    for (const w of waits) expect(w).toMatchObject({ service: 'Dataverse', state: 'running' });
    const saga = driven.final.customStatus as SagaStatus;
    expect(saga.steps.map((s) => [s.name, s.state])).toEqual([
      ['plan 1 operation', 'completed'],
      ['apply 1 operation (one changeset)', 'completed'],
      ['record rollback point', 'completed'],
    ]);
  });

  it('waits out an outage while a rollback is planned, then rolls back', async () => {
    const x = await newContact('Rolled', 'Before');
    const changed = await startOrchestration(app.host, 'dataverseChange', {
      operations: [{ op: 'update', table: 'contacts', id: x, data: { lastname: 'After' } }],
    });
    const change = await driveToEnd(app.host, changed);
    expect(change.final.runtimeStatus).toBe('Completed');
    const pointId = (change.final.output as { rollbackPointId: string }).rollbackPointId;
    // The plan's read of the record (is it as the change left it?) starts the outage.
    outageFrom('GET', `contacts\\(${x}\\)`);
    const instanceId = await startOrchestration(app.host, 'rollback', { pointId });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', x)).lastname).toBe('Before');
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(waits.map((w) => w.step))).toEqual(new Set([`plan the rollback of ${pointId}`]));
  });

  it("waits out an outage while a webhook's orchestration loads its record, then does its work", async () => {
    // No email address: the onboarding only creates its follow-up task (no mail service here).
    const client = await newContact('Onboarded', 'Through Outage');
    outageFrom('GET', `contacts\\(${client}\\)`);
    const instanceId = await startOrchestration(app.host, 'clientOnboarding', {
      timeZone: 'Europe/Amsterdam',
      event: {
        message: 'Create',
        table: 'contact',
        id: client,
        operationId: 'op-onboarding-outage',
        correlationId: 'corr-onboarding-outage',
        userId: client,
        initiatingUserId: client,
        depth: 1,
        target: {},
      },
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect(await count('tasks', `_regardingobjectid_value eq ${client}`)).toBe(1);
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(new Set(waits.map((w) => w.step))).toEqual(new Set(['load the client']));
  });

  it("waits out Dataverse's 429 with a long Retry-After on a durable timer instead of sleeping in the activity", async () => {
    const y = await newContact('Throttled', 'Before');
    app.sim.faults.add({
      method: 'POST',
      path: '/\\$batch$',
      kind: 'throttle',
      retryAfterSeconds: 30,
      skip: 1,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      operations: [{ op: 'update', table: 'contacts', id: y, data: { lastname: 'After' } }],
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', y)).lastname).toBe('After');
    // One retry inside the call (DATAVERSE_RETRIES=1) would have gone through: it was not made.
    const waits = waitingStates(driven);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({
      step: 'apply 1 operation (one changeset)',
      service: 'Dataverse',
      attempt: 1,
    });
    expect(waits[0].error).toMatch(/429/);
    const pause = driven.pauses.find((p) =>
      (p.customStatus as SagaStatus).steps.some((s) => s.waiting !== undefined),
    );
    expect(Date.parse(waits[0].nextAttemptAt) - (pause?.at ?? 0)).toBe(30_000);
  });

  it('waits out a 429 that comes back inside the changeset (one part throttled) like a throttled call', async () => {
    const z = await newContact('PartThrottled', 'Before');
    // The $batch call itself answers 200: only the changeset's write is throttled, in its part.
    app.sim.faults.add({
      method: 'PATCH',
      path: `/contacts\\(${z}\\)$`,
      kind: 'throttle',
      retryAfterSeconds: 30,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      operations: [{ op: 'update', table: 'contacts', id: z, data: { lastname: 'After' } }],
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', z)).lastname).toBe('After');
    const waits = waitingStates(driven);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({ step: 'apply 1 operation (one changeset)', service: 'Dataverse' });
    expect(waits[0].error).toMatch(/429/);
    const pause = driven.pauses.find((p) =>
      (p.customStatus as SagaStatus).steps.some((s) => s.waiting !== undefined),
    );
    expect(Date.parse(waits[0].nextAttemptAt) - (pause?.at ?? 0)).toBe(30_000);
  });

  it('compensates at once for a permanent failure, without waiting', async () => {
    const c = await newContact('Cleo', 'Original');
    app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${c}\\)`,
      kind: 'status',
      status: 412,
      count: 1,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      operations: [
        { op: 'create', table: 'contacts', data: { firstname: 'Perm', lastname: 'Anent' } },
        { op: 'update', table: 'contacts', id: c, data: { lastname: 'Changed' } },
      ],
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();
    expect(driven.final.runtimeStatus).toBe('Failed');
    expect((driven.final.customStatus as SagaStatus).phase).toBe('compensated');
    expect(waitingStates(driven)).toEqual([]);
    // No durable timer at all: neither a wait for an outage nor a retry.
    expect((await history(instanceId)).filter((e) => e.EventType === 'TimerCreated')).toEqual([]);
    expect(await count('contacts', "firstname eq 'Perm'")).toBe(0);
  });
});
