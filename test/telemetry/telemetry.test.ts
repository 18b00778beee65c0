/**
 * Telemetry end to end: the app runs on the local host with APPLICATIONINSIGHTS_CONNECTION_STRING
 * pointing at a local capture endpoint; webhook deliveries start a saga, a Dataverse change fails and
 * compensates, a rollback is executed; the host stops (which flushes), and the envelopes that arrived
 * are checked: requests, dependencies, exceptions, traces and events, with no secret in any byte and
 * no connection attempted to anything but loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRAPH_SIM_TOKEN,
  SIM_TOKEN,
  WEBHOOK_HEADER,
  WEBHOOK_SECRET,
  startAppWithDataverse,
  type AppUnderTest,
} from '../support/appHost';
import { waitFor } from '../support/durable';
import { startReceiver } from '../sim/dataverse/support';
import { apiOf, type Api } from '../api/client';
import {
  eventually,
  instances,
  postWebhook,
  registerWebhook,
  unregisterWebhook,
} from '../integrations/support';
import {
  guardNetwork,
  ofKind,
  propertiesOf,
  startCapture,
  trustOnLoopback,
  type Capture,
  type Envelope,
} from './support';

// Installed before anything else runs in this process, so every connection attempt is seen.
const network = guardNetwork();

let capture: Capture;
let app: AppUnderTest;
let api: Api;
let untrust: () => void;
let secrets: string[];
const seen = {
  onboarding: '',
  onboardingSteps: [] as string[],
  failedChange: '',
  rollback: '',
  configChange: '',
  webhookStatuses: [] as number[],
  errorAnswer: { status: 0, message: '' },
  statusAnswer: '',
  keyInQuery: 0,
  /** What the host wrote to its log (the Functions log), line by line. */
  hostLog: [] as string[],
};

/** The RemoteExecutionContext the simulator sends for a new contact, caught by a local receiver. */
async function contextForNewContact(
  email: string,
): Promise<{ id: string; context: Record<string, unknown> }> {
  const receiver = await startReceiver();
  try {
    const step = await registerWebhook(app, { message: 'Create', entity: 'contact', url: receiver.url });
    const created = await app.dataverse.create('contacts', {
      firstname: 'Tess',
      lastname: 'Telemetry',
      emailaddress1: email,
    });
    const [request] = await receiver.waitFor(1);
    await unregisterWebhook(app, step);
    await app.sim.webhooksIdle();
    return { id: String(created.id), context: request.json as Record<string, unknown> };
  } finally {
    await receiver.close();
  }
}

beforeAll(async () => {
  capture = await startCapture();
  untrust = trustOnLoopback(capture.caPem);
  app = await startAppWithDataverse({
    graph: true,
    env: { APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString },
  });
  api = apiOf(app);
  const write = app.host.core.logSink;
  app.host.core.logSink = (level, category, message) => {
    seen.hostLog.push(message);
    write(level, category, message);
  };
  const account = /AccountKey=([^;]+)/.exec(String(process.env.AzureWebJobsStorage))?.[1];
  secrets = [
    WEBHOOK_SECRET,
    SIM_TOKEN,
    GRAPH_SIM_TOKEN,
    app.host.systemKey,
    app.host.keys.masterKey,
    String(app.host.keys.functionKeys.default),
    ...(account ? [account] : []),
  ];

  // Webhook deliveries: accepted (starts the onboarding saga), duplicate, ignored (with the secret in
  // the logged message name), refused.
  const { id, context } = await contextForNewContact('tess@mail.example');
  const deliveries = [
    await postWebhook(app, context),
    await postWebhook(app, context),
    await postWebhook(app, { ...context, MessageName: `Create ${WEBHOOK_SECRET}`, Depth: 3 }),
    await postWebhook(app, context, { [WEBHOOK_HEADER]: 'not-the-secret' }),
  ];
  seen.webhookStatuses = deliveries.map((d) => d.status);
  const [onboarding] = await eventually(
    'the onboarding starts',
    () => instances(app, `webhook-create-contact-${id}-`),
    (list) => list.length === 1,
  );
  seen.onboarding = onboarding.instanceId;
  const done = await waitFor(app.host, onboarding.instanceId, undefined, 30_000);
  expect(done.runtimeStatus).toBe('Completed');
  const steps = (done.customStatus as { steps: { name: string }[] }).steps;
  seen.onboardingSteps = steps.map((s) => s.name);

  // A Dataverse change that fails on its second write and compensates the first.
  const a = String((await app.dataverse.create('contacts', { firstname: 'Ann', lastname: 'One' })).id);
  const b = String((await app.dataverse.create('contacts', { firstname: 'Bob', lastname: 'Two' })).id);
  app.sim.faults.add({ method: 'PATCH', path: `contacts\\(${b}\\)`, kind: 'status', status: 500, count: 1 });
  const failing = await api.call('POST', 'orchestrators/dataverseChange', {
    body: {
      // Operation by operation: the first write is applied, then compensated.
      atomic: false,
      operations: [
        { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Changed' } },
        { op: 'update', table: 'contacts', id: b, data: { jobtitle: 'Boom' } },
      ],
    },
  });
  seen.failedChange = String(failing.json.id);
  expect((await api.waitFor(seen.failedChange)).json.runtimeStatus).toBe('Failed');

  // A change that succeeds, and the rollback of its point.
  const change = await api.call('POST', 'orchestrators/dataverseChange', {
    body: { operations: [{ op: 'update', table: 'contacts', id: a, data: { jobtitle: 'To undo' } }] },
  });
  const changed = await api.waitFor(String(change.json.id));
  const pointId = (changed.json.output as { rollbackPointId: string }).rollbackPointId;
  const run = await api.call('POST', `rollback-points/${pointId}/execute`, { body: {} });
  seen.rollback = String(run.json.id);
  expect((await api.waitFor(seen.rollback)).json.runtimeStatus).toBe('Completed');

  // Secrets where a careless app would echo them: an error answer, an orchestration's input.
  const missing = await api.call('GET', `instances/${WEBHOOK_SECRET}`);
  seen.errorAnswer = { status: missing.status, message: String(missing.json.message) };
  const config = await api.call('POST', 'orchestrators/configChange', {
    body: { value: { note: `do not show ${WEBHOOK_SECRET}` } },
  });
  seen.configChange = String(config.json.id);
  seen.statusAnswer = (await api.waitFor(seen.configChange)).text;

  // A function key in the query string, as `?code=` callers send it.
  const byQuery = await fetch(`${api.url('instances')}?code=${encodeURIComponent(api.key)}`);
  seen.keyInQuery = byQuery.status;

  // Stopping the host flushes what is queued.
  await app.close();
}, 120_000);

afterAll(async () => {
  untrust?.();
  await capture?.close();
  network.restore();
});

function events(name: string, instanceId?: string): Envelope[] {
  return ofKind(capture.envelopes(), 'Event').filter(
    (e) => e.data.baseData.name === name && (!instanceId || propertiesOf(e).instanceId === instanceId),
  );
}

describe('telemetry to Application Insights', () => {
  it('sends to the configured endpoint only, and nothing anywhere else', () => {
    expect(capture.envelopes().length).toBeGreaterThan(0);
    expect(new Set(capture.envelopes().map((e) => e.iKey ?? e.instrumentationKey))).toEqual(
      new Set([capture.instrumentationKey]),
    );
    expect(network.attempts.length).toBeGreaterThan(0);
    expect(network.refused()).toEqual([]);
  });

  it('records one request per HTTP invocation, with its status and no query string', () => {
    const requests = ofKind(capture.envelopes(), 'Request');
    const webhook = requests.filter((r) => propertiesOf(r).FunctionName === 'dataverseWebhook');
    expect(webhook.map((r) => Number(r.data.baseData.responseCode)).sort()).toEqual(
      [...seen.webhookStatuses].sort(),
    );
    const ids = requests.map((r) => propertiesOf(r).InvocationId);
    expect(new Set(ids).size).toBe(ids.length);
    const byQuery = requests.filter((r) => propertiesOf(r).FunctionName === 'apiListInstances');
    expect(byQuery.map((r) => Number(r.data.baseData.responseCode))).toContain(seen.keyInQuery);
    for (const r of requests) expect(String(r.data.baseData.url ?? '')).not.toContain('?');
    // Activities and orchestrations are invocations too.
    expect(requests.some((r) => propertiesOf(r).FunctionName === 'undo_action')).toBe(true);
  });

  it('puts everything an invocation records under that invocation’s request', () => {
    const envelopes = capture.envelopes();
    const requestIds = new Set(ofKind(envelopes, 'Request').map((r) => r.data.baseData.id));
    for (const kind of ['Event', 'Message', 'Exception']) {
      const records = ofKind(envelopes, kind);
      expect(records.length, kind).toBeGreaterThan(0);
      const orphans = records.filter((e) => !requestIds.has(String(e.tags?.['ai.operation.parentId'])));
      expect(orphans, kind).toEqual([]);
    }
    // Dependencies made by the app (not by the test's own clients) hang under a request too.
    const dependencies = ofKind(envelopes, 'RemoteDependency');
    expect(dependencies.some((d) => requestIds.has(String(d.tags?.['ai.operation.parentId'])))).toBe(true);
  });

  it('records Dataverse, Graph and Blob calls as dependencies with their targets', () => {
    const deps = ofKind(capture.envelopes(), 'RemoteDependency');
    const targetOf = (service: string): Set<string> =>
      new Set(
        deps
          .filter((d) => propertiesOf(d)['dependency.service'] === service)
          .map((d) => String(d.data.baseData.target)),
      );
    const host = (url: string): string => new URL(url).host;
    expect(targetOf('Dataverse')).toEqual(new Set([host(app.sim.url)]));
    expect(targetOf('Graph')).toEqual(new Set([host(String(app.graph?.sim.url))]));
    expect(targetOf('Blob')).toEqual(
      new Set([
        host(
          /BlobEndpoint=([^;]+)/.exec(String(process.env.AzureWebJobsStorage))?.[1] ??
            'http://127.0.0.1:10000',
        ),
      ]),
    );
    // The injected 500 is a failed Dataverse call.
    expect(
      deps.some(
        (d) =>
          propertiesOf(d)['dependency.service'] === 'Dataverse' &&
          d.data.baseData.resultCode === '500' &&
          d.data.baseData.success === false,
      ),
    ).toBe(true);
    for (const d of deps) expect(String(d.data.baseData.data ?? '')).not.toContain('?');
  });

  it('records the failed step as an exception, and log lines as traces', () => {
    const exceptions = ofKind(capture.envelopes(), 'Exception');
    const messages = exceptions.flatMap((e) =>
      (e.data.baseData.exceptions as { message: string }[]).map((x) => x.message),
    );
    expect(messages.some((m) => m.includes('500'))).toBe(true);
    const traces = ofKind(capture.envelopes(), 'Message').map((t) => String(t.data.baseData.message));
    expect(traces.some((t) => t.includes('started clientOnboarding'))).toBe(true);
  });

  it('records each saga step once, however often the orchestration replayed', () => {
    expect(seen.onboardingSteps.length).toBeGreaterThan(1);
    const completed = events('SagaStepCompleted', seen.onboarding).map((e) => propertiesOf(e).step);
    expect(completed.sort()).toEqual([...seen.onboardingSteps].sort());
    const traces = ofKind(capture.envelopes(), 'Message').map((t) => String(t.data.baseData.message));
    for (const step of seen.onboardingSteps) {
      const lines = traces.filter((t) => t === `Saga 'clientOnboarding' step '${step}' completed.`);
      expect(lines, step).toHaveLength(1);
    }
    expect(events('SagaCompleted', seen.onboarding)).toHaveLength(1);
  });

  it('records the failure, each compensation and the compensated saga with its instance id', () => {
    expect(events('SagaStepFailed', seen.failedChange)).toHaveLength(1);
    const compensated = events('SagaStepCompensated', seen.failedChange).map((e) => propertiesOf(e).step);
    expect(compensated.length).toBeGreaterThan(0);
    expect(new Set(compensated).size).toBe(compensated.length);
    const [saga] = events('SagaCompensated', seen.failedChange);
    expect(propertiesOf(saga)).toMatchObject({ orchestration: 'dataverseChange', outcome: 'compensated' });
    expect(events('SagaCompensated', seen.failedChange)).toHaveLength(1);
  });

  it('records the executed rollback, and each webhook delivery with its outcome', () => {
    expect(events('RollbackExecuted', seen.rollback)).toHaveLength(1);
    expect(events('UndoApplied', seen.rollback).length).toBeGreaterThan(0);
    const outcomes = events('WebhookDelivery').map((e) => propertiesOf(e).outcome);
    expect(outcomes.sort()).toEqual(['accepted', 'duplicate', 'ignored', 'refused']);
    const [accepted] = events('WebhookDelivery').filter((e) => propertiesOf(e).outcome === 'accepted');
    expect(propertiesOf(accepted).instanceId).toBe(seen.onboarding);
    // It belongs to the request of the invocation that accepted the delivery.
    const request = ofKind(capture.envelopes(), 'Request').find(
      (r) => r.tags?.['ai.operation.id'] === accepted.tags?.['ai.operation.id'],
    );
    expect(request && propertiesOf(request).FunctionName).toBe('dataverseWebhook');
    expect(accepted.tags?.['ai.operation.parentId']).toBe(request?.data.baseData.id);
  });

  it('redacts secrets from error answers, status answers and log lines', () => {
    expect(seen.errorAnswer.status).toBe(404);
    expect(seen.errorAnswer.message).toContain('[REDACTED]');
    expect(seen.statusAnswer).toContain('do not show [REDACTED]');
    const traces = ofKind(capture.envelopes(), 'Message').map((t) => String(t.data.baseData.message));
    expect(traces.some((t) => t.includes('Create [REDACTED] of contact ignored'))).toBe(true);
    expect(seen.hostLog.some((l) => l.includes('Create [REDACTED] of contact ignored'))).toBe(true);
    expect(seen.hostLog.filter((l) => l.includes(WEBHOOK_SECRET))).toEqual([]);
  });

  it('has no secret in any byte it sent', () => {
    const raw = capture.raw();
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5);
      expect(raw.includes(secret), `a secret of ${secret.length} characters was sent`).toBe(false);
    }
    expect(seen.statusAnswer).not.toContain(WEBHOOK_SECRET);
    expect(seen.errorAnswer.message).not.toContain(WEBHOOK_SECRET);
  });
});
