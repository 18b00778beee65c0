import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRetryOptions } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
});
afterAll(async () => app?.close());

describe('retry policies', () => {
  it('keep every declared field when converted to durable retry options', () => {
    const options = toRetryOptions({
      firstRetryIntervalMs: 2_000,
      maxAttempts: 4,
      backoffCoefficient: 3,
      maxRetryIntervalMs: 30_000,
    });
    expect(options.firstRetryIntervalInMilliseconds).toBe(2_000);
    expect(options.maxNumberOfAttempts).toBe(4);
    expect(options.backoffCoefficient).toBe(3);
    expect(options.maxRetryIntervalInMilliseconds).toBe(30_000);
  });

  it('back off between the onboarding’s attempts to read the new client (2 s, 4 s, 8 s)', async () => {
    const created = await app.dataverse.create('contacts', {
      firstname: 'Retta',
      lastname: 'Retry',
      emailaddress1: 'retta@mail.example',
    });
    const id = String(created.id);
    // Dataverse answers the first three reads with 500 (not retried by the client itself).
    app.sim.faults.add({ method: 'GET', path: `contacts\\(${id}\\)`, kind: 'status', status: 500, count: 3 });
    const instanceId = await startOrchestration(app.host, 'clientOnboarding', {
      event: { message: 'Create', table: 'contact', id },
      timeZone: 'Europe/Berlin',
    });
    const done = await waitFor(app.host, instanceId, undefined, 30_000);
    app.sim.faults.clear();
    expect(done.runtimeStatus).toBe('Completed');
    const history = (await getStatus(app.host, instanceId, 'showHistory=true')).historyEvents as {
      EventType: string;
      Timestamp: string;
      FireAt?: string;
    }[];
    // Each retry waits on a durable timer created when the attempt failed.
    const waits = history
      .filter((e) => e.EventType === 'TimerCreated' && e.FireAt)
      .map((e) => Date.parse(String(e.FireAt)) - Date.parse(e.Timestamp));
    expect(waits.slice(0, 3).map((ms) => Math.round(ms / 1000))).toEqual([2, 4, 8]);
  });
});
