import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaStatus, StepStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration } from '../support/durable';
import { driveToEnd, type Driven } from '../support/virtualTime';

/**
 * Outages longer than the bound (TRANSIENT_RETRY_MINUTES=1 here), and a Graph outage, on the host's
 * virtual clock; both simulators measure their outages on that clock. One retry inside a Dataverse
 * call and none inside a Graph call keep the test quick: the waiting is the saga's.
 */
let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({
    graph: true,
    virtualTime: 'manual',
    env: { TRANSIENT_RETRY_MINUTES: '1', DATAVERSE_RETRIES: '1', GRAPH_RETRIES: '0' },
  });
  app.sim.faults.useClock(() => app.host.clock.now());
  app.graph?.sim.faults.useClock(() => app.host.clock.now());
});
afterAll(async () => app?.close());

type Waiting = NonNullable<StepStatus['waiting']>;

function waitingStates(driven: Driven): (Waiting & { step: string; state: string; at: number })[] {
  const out: (Waiting & { step: string; state: string; at: number })[] = [];
  for (const pause of driven.pauses) {
    const saga = pause.customStatus as SagaStatus | null;
    for (const step of saga?.steps ?? [])
      if (step.waiting) out.push({ ...step.waiting, step: step.name, state: step.state, at: pause.at });
  }
  return out;
}

async function count(table: string, filter: string): Promise<number> {
  const rows: unknown[] = [];
  for await (const row of app.dataverse.query(table, { filter })) rows.push(row);
  return rows.length;
}

describe('the bound on waiting out an outage', () => {
  it('compensates a step still failing after TRANSIENT_RETRY_MINUTES, and the compensation waits out the rest', async () => {
    const a = await newContact('Bound', 'Original');
    // Three minutes of 503s from the second operation's write on: longer than the one-minute bound.
    app.sim.faults.add({
      method: 'POST',
      path: '/contacts$',
      kind: 'status',
      status: 503,
      forMs: 180_000,
      wholeService: true,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      // Per operation: a step per write, each undone on its own.
      atomic: false,
      operations: [
        { op: 'update', table: 'contacts', id: a, data: { lastname: 'Changed' } },
        { op: 'create', table: 'contacts', data: { firstname: 'Bounded', lastname: 'Outage' } },
      ],
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.sim.faults.clear();

    expect(driven.final.runtimeStatus).toBe('Failed');
    expect(String(driven.final.output)).toContain('SAGA_COMPENSATED');
    const saga = driven.final.customStatus as SagaStatus;
    expect(saga.phase).toBe('compensated');
    expect(saga.failure?.step).toBe('create contacts #2');
    expect(saga.failure?.error.message).toMatch(/^\[SERVICE_UNAVAILABLE\] Dataverse is unavailable: /);
    // The step waited until the bound, its last attempt exactly one minute after its first failure.
    const waits = waitingStates(driven);
    const stepWaits = waits.filter((w) => w.state === 'running');
    expect(stepWaits.every((w) => w.step === 'create contacts #2')).toBe(true);
    const firstFailure = Date.parse(stepWaits[0].nextAttemptAt) - 5_000;
    expect(Date.parse(stepWaits.at(-1)?.nextAttemptAt ?? '')).toBe(firstFailure + 60_000);
    // Then the undo of the first operation hit the same outage and waited past the bound until it ended.
    const undoWaits = waits.filter((w) => w.state === 'compensating');
    expect(undoWaits.length).toBeGreaterThan(0);
    expect(undoWaits.every((w) => w.step === 'update contacts #1')).toBe(true);
    expect(Math.max(...undoWaits.map((w) => Date.parse(w.nextAttemptAt)))).toBeGreaterThanOrEqual(
      firstFailure + 180_000,
    );
    expect(saga.steps.find((s) => s.name === 'update contacts #1')?.compensation?.state).toBe('completed');
    expect((await app.dataverse.retrieve('contacts', a)).lastname).toBe('Original');
    expect(await count('contacts', "firstname eq 'Bounded'")).toBe(0);
  });
});

describe('a transient Graph outage', () => {
  it('makes the onboarding wait to send its welcome mail instead of undoing the follow-up task', async () => {
    const created = await app.dataverse.create('contacts', {
      firstname: 'Gwen',
      lastname: 'Graphless',
      emailaddress1: 'gwen@mail.example',
    });
    const clientId = String(created.id);
    // Graph refuses to send the drafted mail with 503 (no Retry-After) for a minute from the first send on: the
    // step's own retry policy (2, 4, 8, 16 s) runs out within it, then the saga waits.
    app.graph?.sim.faults.add({
      method: 'POST',
      path: '/messages/[^/]+/send$',
      kind: 'status',
      status: 503,
      forMs: 60_000,
    });
    const instanceId = await startOrchestration(app.host, 'clientOnboarding', {
      event: { message: 'Create', table: 'contact', id: clientId },
      timeZone: 'Europe/Berlin',
    });
    const driven = await driveToEnd(app.host, instanceId);
    app.graph?.sim.faults.clear();

    expect(driven.final.runtimeStatus).toBe('Completed');
    const output = driven.final.output as { taskId: string; welcome: { status: string } };
    expect(output.welcome.status).toBe('sent');
    // The follow-up task was kept (no compensation), and the welcome went out once.
    expect(await count('tasks', `activityid eq ${output.taskId}`)).toBe(1);
    const welcomes = (app.graph?.sim.outbox() ?? []).filter((m) =>
      m.message.toRecipients?.some((r) => r.emailAddress.address === 'gwen@mail.example'),
    );
    expect(welcomes).toHaveLength(1);
    const waits = waitingStates(driven);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w.step === 'send welcome mail' && w.service === 'Graph')).toBe(true);
    expect(waits[0].error).toMatch(/503/);
    const history = (await getStatus(app.host, instanceId, 'showHistory=true')).historyEvents as {
      EventType: string;
      Name?: string;
    }[];
    expect(
      history.some((e) => e.EventType === 'TaskScheduled' && e.Name === 'practice_deleteFollowUpTask'),
    ).toBe(false);
  });
});

async function newContact(firstname: string, lastname: string): Promise<string> {
  const res = await app.dataverse.create('contacts', { firstname, lastname });
  return String(res.id);
}
