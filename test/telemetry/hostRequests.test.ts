/**
 * Requests recorded by the Functions host (as on Azure, LIFECOCKPIT_TELEMETRY_REQUESTS=host): the app
 * records no request of its own, and what it records during an invocation joins the trace the host
 * passed in (the invocation's traceParent), so it shows up under the host's request. In app mode the
 * same records hang under the app's own request instead.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../lib/config/settings';
import { Redactor, type Telemetry } from '../../lib/telemetry';
import { startAzureMonitor } from '../../lib/telemetry/azureMonitor';
import { guardNetwork, ofKind, startCapture, trustOnLoopback, type Capture } from './support';

const network = guardNetwork();
let capture: Capture;
let untrust: () => void;
let telemetry: Telemetry;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const HOST_SPAN_ID = '00f067aa0ba902b7';

beforeAll(async () => {
  capture = await startCapture();
  untrust = trustOnLoopback(capture.caPem);
  const settings = readSettings({
    APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString,
    WEBSITE_SITE_NAME: 'lifecockpit-test',
  });
  if (!settings.telemetry) throw new Error('the connection string should turn telemetry on');
  telemetry = startAzureMonitor(settings.telemetry, new Redactor([]));
  await telemetry.invocation(
    {
      functionName: 'dataverseWebhook',
      invocationId: 'invocation-1',
      trigger: 'httpTrigger',
      method: 'POST',
      url: 'http://localhost/api/webhooks/dataverse?code=never-recorded',
      traceParent: `00-${TRACE_ID}-${HOST_SPAN_ID}-01`,
    },
    async () => {
      telemetry.dependency({
        service: 'Dataverse',
        method: 'GET',
        url: 'https://contoso.crm.dynamics.com/api/data/v9.2/contacts?$filter=x',
        durationMs: 12,
        status: 200,
        success: true,
      });
      telemetry.event('WebhookDelivery', { outcome: 'accepted', instanceId: 'webhook-1' });
      return { status: 202 };
    },
    (r) => r.status,
  );
  await telemetry.flush();
  await telemetry.shutdown();
});

afterAll(async () => {
  untrust?.();
  await capture?.close();
  network.restore();
});

describe('when the Functions host records requests', () => {
  it('records no request, and puts what the invocation records into the host’s trace', () => {
    expect(telemetry.recordsRequests).toBe(false);
    const envelopes = capture.envelopes();
    expect(ofKind(envelopes, 'Request')).toEqual([]);
    const [dependency] = ofKind(envelopes, 'RemoteDependency');
    const [event] = ofKind(envelopes, 'Event');
    for (const e of [dependency, event]) {
      expect(e.tags?.['ai.operation.id']).toBe(TRACE_ID);
      expect(e.tags?.['ai.operation.parentId']).toBe(HOST_SPAN_ID);
    }
    expect(dependency.data.baseData.target).toBe('contoso.crm.dynamics.com');
    expect(dependency.data.baseData.data).toBe('https://contoso.crm.dynamics.com/api/data/v9.2/contacts');
    expect(network.refused()).toEqual([]);
  });
});

describe('what would talk to other hosts', () => {
  // Resolved the way the distro resolves them, so these are the very modules it uses.
  const fromAppInsights = createRequire(require.resolve('applicationinsights'));
  const fromDistro = createRequire(fromAppInsights.resolve('@azure/monitor-opentelemetry'));

  it('is stopped: the exporter polls no remote configuration, the VM metadata probe is silenced', () => {
    const exporter = path.dirname(fromDistro.resolve('@azure/monitor-opentelemetry-exporter'));
    const { ConfigurationManager } = fromDistro(
      path.join(exporter, '_configuration', 'configurationManager.js'),
    ) as { ConfigurationManager: { getInstance(): { worker?: unknown } } };
    expect(ConfigurationManager.getInstance().worker).toBeUndefined();
    const { azureVmDetector } = fromDistro('@opentelemetry/resource-detector-azure') as {
      azureVmDetector: { detect(): unknown };
    };
    expect(azureVmDetector.detect()).toEqual({ attributes: {} });
    expect(process.env.APPLICATION_INSIGHTS_NO_STATSBEAT).toBe('true');
  });
});
