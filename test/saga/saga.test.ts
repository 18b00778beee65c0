import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../host/host';
import type { SagaStatus } from '../../lib/saga';
import { getStatus, startOrchestration, waitFor } from '../support/durable';

let host: RunningHost;
const journal = (): string[] => (globalThis as { __sagaJournal?: string[] }).__sagaJournal ?? [];

beforeAll(async () => {
  host = await startHost({
    appDir: 'test/apps/saga',
    port: 0,
    memory: true,
    quiet: true,
    virtualTime: 'auto',
  });
});
afterAll(async () => host?.close());
beforeEach(() => {
  journal().splice(0);
});

async function runSaga(run: string, steps: Record<string, unknown>[]) {
  const id = await startOrchestration(host, 'sagaFlow', { run, steps });
  const status = await waitFor(host, id);
  return {
    status,
    saga: status.customStatus as SagaStatus,
    ran: journal().filter((l) => l.startsWith(`${run}:`)),
  };
}

describe('the saga kit', () => {
  it('runs every step and publishes a completed saga', async () => {
    const { status, saga, ran } = await runSaga('ok', [{ name: 'a' }, { name: 'b' }]);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['a-done', 'b-done']);
    expect(saga.phase).toBe('completed');
    // A completed saga runs no compensation by itself: each is left available (to its rollback point).
    expect(saga.steps.map((s) => [s.name, s.state, s.compensation?.state])).toEqual([
      ['a', 'completed', 'available'],
      ['b', 'completed', 'available'],
    ]);
    expect(ran).toEqual(['ok: do a (attempt 1)', 'ok: do b (attempt 1)']);
  });

  it('compensates completed steps newest first when a step fails, then fails with both stories', async () => {
    const { status, saga, ran } = await runSaga('fail3', [
      { name: 'a' },
      { name: 'b' },
      { name: 'c', fail: true },
    ]);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(
      "[SAGA_COMPENSATED] Saga 'sagaFlow' failed at step 'c': c broke. Compensated: b, a.",
    );
    expect(ran).toEqual([
      'fail3: do a (attempt 1)',
      'fail3: do b (attempt 1)',
      'fail3: do c (attempt 1)',
      'fail3: undo b with b-done (attempt 1)',
      'fail3: undo a with a-done (attempt 1)',
    ]);
    expect(saga.phase).toBe('compensated');
    expect(saga.failure).toEqual({ step: 'c', error: { message: 'c broke', type: 'Error' } });
    expect(saga.steps.map((s) => [s.name, s.state, s.compensation?.state])).toEqual([
      ['a', 'compensated', 'completed'],
      ['b', 'compensated', 'completed'],
      ['c', 'failed', undefined],
    ]);
  });

  it('retries a compensation per its policy', async () => {
    const { saga, ran } = await runSaga('retry-undo', [
      { name: 'a', undoFailTimes: 1 },
      { name: 'b', fail: true },
    ]);
    expect(saga.phase).toBe('compensated');
    expect(ran.filter((l) => l.includes('undo a'))).toEqual([
      'retry-undo: undo a with a-done (attempt 1)',
      'retry-undo: undo a with a-done (attempt 2)',
    ]);
  });

  it('leaves a visible compensation-failed state when a compensation keeps failing, and still undoes the rest', async () => {
    const { status, saga, ran } = await runSaga('stuck', [
      { name: 'a' },
      { name: 'b', undoFails: true },
      { name: 'c', fail: true },
    ]);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[SAGA_COMPENSATION_FAILED]');
    expect(String(status.output)).toContain('Compensation failed for: b (undo of b broke)');
    expect(saga.phase).toBe('compensation-failed');
    expect(saga.steps.map((s) => [s.name, s.state])).toEqual([
      ['a', 'compensated'],
      ['b', 'compensation-failed'],
      ['c', 'failed'],
    ]);
    expect(ran.filter((l) => l.includes('undo b'))).toHaveLength(3);
    expect(ran.at(-1)).toBe('stuck: undo a with a-done (attempt 1)');
  });

  it('never compensates steps before a completed pivot', async () => {
    const { saga, ran } = await runSaga('pivot', [
      { name: 'a' },
      { name: 'send mail', pivot: true },
      { name: 'b' },
      { name: 'c', fail: true },
    ]);
    expect(ran.filter((l) => l.includes('undo'))).toEqual(['pivot: undo b with b-done (attempt 1)']);
    expect(saga.steps.map((s) => [s.name, s.state, s.compensable])).toEqual([
      ['a', 'completed', false],
      ['send mail', 'completed', false],
      ['b', 'compensated', true],
      ['c', 'failed', false],
    ]);
  });

  it('retries a step per its policy before giving up on it', async () => {
    const { status, ran } = await runSaga('retry-step', [{ name: 'a', retry: true, failTimes: 2 }]);
    expect(status.runtimeStatus).toBe('Completed');
    expect(ran).toEqual([
      'retry-step: do a (attempt 1)',
      'retry-step: do a (attempt 2)',
      'retry-step: do a (attempt 3)',
    ]);
  });

  it('compensates when orchestrator code throws between steps', async () => {
    const { status, saga, ran } = await runSaga('throws', [{ name: 'a' }, { name: 'b', throwAfter: true }]);
    expect(status.runtimeStatus).toBe('Failed');
    expect(saga.failure?.step).toBe('(orchestrator)');
    expect(ran.slice(-2)).toEqual([
      'throws: undo b with b-done (attempt 1)',
      'throws: undo a with a-done (attempt 1)',
    ]);
  });

  it('runs a sub-orchestration as a step under its instance id, and undoes it with a retried sub-orchestration', async () => {
    const { status, saga, ran } = await runSaga('nested', [
      { name: 'a', sub: true, undoFailTimes: 1 },
      { name: 'b', fail: true },
    ]);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("[SAGA_COMPENSATED] Saga 'sagaFlow' failed at step 'b'");
    expect(ran).toEqual([
      'nested: do a (attempt 1)',
      'nested: do b (attempt 1)',
      'nested: undo a with a-done (attempt 1)',
      'nested: undo a with a-done (attempt 2)',
    ]);
    expect(saga.steps.map((s) => [s.name, s.activity, s.state, s.compensation?.activity])).toEqual([
      ['a', 'sagaChild', 'compensated', 'sagaUndoChild'],
      ['b', 'doStep', 'failed', undefined],
    ]);
    const child = await getStatus(host, `${status.instanceId}:a`);
    expect([child.name, child.runtimeStatus, child.output]).toEqual([
      'sagaChild',
      'Completed',
      { step: 'a', token: 'a-done' },
    ]);
  });

  it('fails a step whose sub-orchestration fails, and compensates the steps before it', async () => {
    const { status, saga, ran } = await runSaga('nested-fail', [
      { name: 'a' },
      { name: 'b', sub: true, fail: true },
    ]);
    expect(status.runtimeStatus).toBe('Failed');
    expect(saga.failure?.step).toBe('b');
    expect(saga.failure?.error.message).toContain('b broke');
    expect(ran.at(-1)).toBe('nested-fail: undo a with a-done (attempt 1)');
  });

  it('undoes only the steps whose compensation, asked with the result, names an undo', async () => {
    const { saga, ran } = await runSaga('choose', [
      { name: 'a', undoIf: false },
      { name: 'b' },
      { name: 'c', fail: true },
    ]);
    expect(ran.filter((l) => l.includes('undo'))).toEqual(['choose: undo b with b-done (attempt 1)']);
    expect(saga.steps.map((s) => [s.name, s.state, s.compensable])).toEqual([
      ['a', 'completed', false],
      ['b', 'compensated', true],
      ['c', 'failed', false],
    ]);
  });

  it('waits out a transient failure of an activity step and goes on, without compensating', async () => {
    const { status, saga, ran } = await runSaga('busy', [{ name: 'a' }, { name: 'b', busyTimes: 2 }]);
    expect(status.runtimeStatus).toBe('Completed');
    expect(saga.steps.map((s) => [s.name, s.state, s.waiting])).toEqual([
      ['a', 'completed', undefined],
      ['b', 'completed', undefined],
    ]);
    expect(ran).toEqual([
      'busy: do a (attempt 1)',
      'busy: do b (attempt 1)',
      'busy: do b (attempt 2)',
      'busy: do b (attempt 3)',
    ]);
  });

  it('compensates at once for a transient failure of a step that must not wait, or of a sub-orchestration', async () => {
    for (const step of [
      { name: 'b', busyTimes: 1, noWait: true },
      { name: 'b', busyTimes: 1, sub: true },
    ]) {
      const run = `nowait-${step.sub ? 'sub' : 'activity'}`;
      const { status, saga, ran } = await runSaga(run, [{ name: 'a' }, step]);
      expect(status.runtimeStatus).toBe('Failed');
      expect(saga.phase).toBe('compensated');
      expect(String(status.output)).toContain('[SERVICE_UNAVAILABLE] Dataverse is unavailable: b: busy');
      expect(ran).toEqual([
        `${run}: do a (attempt 1)`,
        `${run}: do b (attempt 1)`,
        `${run}: undo a with a-done (attempt 1)`,
      ]);
    }
  });
});
