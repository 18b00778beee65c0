/**
 * Without APPLICATIONINSIGHTS_CONNECTION_STRING the app starts no telemetry at all: not one module of
 * applicationinsights or OpenTelemetry is loaded, no provider is registered, and the app still
 * answers and runs orchestrations as usual.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf } from '../api/client';
import { guardNetwork } from './support';

const network = guardNetwork();
let app: AppUnderTest;

beforeAll(async () => {
  delete process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  app = await startAppWithDataverse();
});
afterAll(async () => {
  await app?.close();
  network.restore();
});

describe('telemetry without a connection string', () => {
  it('loads and starts nothing, while the app works as usual', async () => {
    const api = apiOf(app);
    const id = String(
      (await app.dataverse.create('contacts', { firstname: 'No', lastname: 'Telemetry' })).id,
    );
    const started = await api.call('POST', 'orchestrators/dataverseChange', {
      body: { operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Quiet' } }] },
    });
    expect((await api.waitFor(String(started.json.id))).json.runtimeStatus).toBe('Completed');

    const loaded = Object.keys(createRequire(__filename).cache);
    // The app did load: its telemetry trigger and the code that would record are in the cache.
    expect(loaded.some((file) => file.endsWith('/dist/triggers/hooks/telemetry.js'))).toBe(true);
    expect(loaded.some((file) => file.endsWith('/dist/lib/telemetry/index.js'))).toBe(true);
    expect(loaded.filter((file) => file.includes('/dist/lib/telemetry/azureMonitor.js'))).toEqual([]);
    // The OpenTelemetry API alone is loaded by durable-functions' client (it reads the trace context);
    // no SDK, exporter, instrumentation or resource detector is.
    const telemetryModules = loaded.filter((file) =>
      /node_modules\/(applicationinsights|@azure\/monitor-|@opentelemetry\/(sdk-|exporter-|instrumentation|resource))/.test(
        file,
      ),
    );
    expect(telemetryModules).toEqual([]);
    expect(Object.getOwnPropertySymbols(globalThis).map(String)).not.toContain(
      'Symbol(opentelemetry.js.api.1)',
    );
    expect(network.refused()).toEqual([]);
  });
});
