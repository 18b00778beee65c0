import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../host/clock';
import type { RunningHost } from '../../host/host';
import { post, startOrchestration, startPatternsHost, waitFor } from '../support/durable';

// A clock that moves only when the test says so, so the race is decided by the test.
let host: RunningHost;
let clock: VirtualClock;
beforeAll(async () => {
  host = await startPatternsHost({ virtualTime: 'manual' });
  clock = host.clock as VirtualClock;
});
afterAll(async () => host?.close());

describe('human interaction: an external event raced against a timer', () => {
  it('takes the approval when the event arrives before the deadline', async () => {
    const id = await startOrchestration(host, 'approval', { timeoutMs: 24 * 3600 * 1000 });
    await waitFor(host, id, ['Running']);
    clock.advance(23 * 3600 * 1000);
    const res = await post(host, `instances/${id}/raiseEvent/Approval`, { approved: true, by: 'owner' });
    expect(res.status).toBe(202);
    const status = await waitFor(host, id);
    expect(status.output).toEqual({ approved: true, by: 'owner' });
  });

  it('times out when the deadline passes first, and refuses the late event', async () => {
    const id = await startOrchestration(host, 'approval', { timeoutMs: 3 * 24 * 3600 * 1000 });
    await waitFor(host, id, ['Running']);
    clock.advance(3 * 24 * 3600 * 1000 + 1);
    const status = await waitFor(host, id);
    expect(status.output).toEqual({ approved: false, reason: 'timed out' });
    const late = await post(host, `instances/${id}/raiseEvent/Approval`, { approved: true });
    expect(late.status).toBe(410);
  });
});
