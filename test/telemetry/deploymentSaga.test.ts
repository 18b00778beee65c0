/**
 * The deployment saga reports through the saga kit like every other saga: each step, the failure,
 * each rollback (a compensation) and the outcome arrive as Saga* events with the deployment's
 * instance id, once each however often the orchestration replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeploymentsApp, uniqueVersion, type DeploymentsApp } from '../deployments/support';
import { waitFor } from '../support/durable';
import { guardNetwork, ofKind, propertiesOf, startCapture, trustOnLoopback, type Capture } from './support';

const network = guardNetwork();
let capture: Capture;
let untrust: () => void;
let app: DeploymentsApp;
const ids = { succeeded: '', rolledBack: '' };

async function deploy(body: Record<string, unknown>): Promise<string> {
  const res = await app.api('POST', 'deployments', body);
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitFor(app.host, id, undefined, 30_000);
  return id;
}

beforeAll(async () => {
  capture = await startCapture();
  untrust = trustOnLoopback(capture.caPem);
  process.env.APPLICATIONINSIGHTS_CONNECTION_STRING = capture.connectionString;
  app = await startDeploymentsApp('auto');
  ids.succeeded = await deploy({ version: uniqueVersion('events-ok'), config: { patch: { eventsTest: 1 } } });
  // Nothing else in a deployment calls WhoAmI: the fault fails the health check, after the change.
  app.sim.faults.add({ method: 'GET', path: '/WhoAmI$', kind: 'status', status: 500 });
  ids.rolledBack = await deploy({
    version: uniqueVersion('events-rollback'),
    config: { patch: { eventsTest: 2 } },
  });
  app.sim.faults.clear();
  // Stopping the host flushes what is queued.
  await app.close();
}, 120_000);

afterAll(async () => {
  delete process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  untrust?.();
  await capture?.close();
  network.restore();
});

function events(name: string, instanceId: string): Record<string, string>[] {
  return ofKind(capture.envelopes(), 'Event')
    .filter((e) => e.data.baseData.name === name && propertiesOf(e).instanceId === instanceId)
    .map((e) => propertiesOf(e));
}

describe('deployment saga telemetry', () => {
  it('records each step of a succeeded deployment once, and its completion', () => {
    const steps = events('SagaStepCompleted', ids.succeeded).map((p) => [
      p.orchestration,
      p.step,
      p.activity,
    ]);
    expect(steps).toEqual([
      ['deployment', 'record deployment', 'deployment_begin'],
      ['deployment', 'apply configuration', 'configChange'],
      ['deployment', 'health check', 'deployment_healthCheck'],
    ]);
    expect(events('SagaCompleted', ids.succeeded)).toHaveLength(1);
    expect(events('SagaStepFailed', ids.succeeded)).toEqual([]);
  });

  it('records the failed health check, the configuration rollback and the compensated saga', () => {
    expect(events('SagaStepFailed', ids.rolledBack).map((p) => p.step)).toEqual(['health check']);
    expect(events('SagaStepCompensated', ids.rolledBack).map((p) => [p.step, p.activity])).toEqual([
      ['apply configuration', 'rollback'],
    ]);
    const [compensated, ...more] = events('SagaCompensated', ids.rolledBack);
    expect(more).toEqual([]);
    expect(compensated).toMatchObject({
      orchestration: 'deployment',
      failedStep: 'health check',
      outcome: 'compensated',
    });
    expect(events('SagaCompleted', ids.rolledBack)).toEqual([]);
    expect(network.refused()).toEqual([]);
  });
});
