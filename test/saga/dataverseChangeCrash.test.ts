import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataverseClient } from '../../lib/dataverse';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { killAllHosts, pollUntil, spawnHost, startInstance, instanceStatus } from '../support/childHost';

let sim: DataverseSim;
let dataDir: string;
let env: Record<string, string>;
const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };

beforeAll(async () => {
  sim = await startDataverseSim({});
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-crash-saga-'));
  const suffix = Date.now();
  env = {
    DATAVERSE_URL: sim.url,
    DATAVERSE_TOKEN: 't',
    AzureWebJobsStorage: String(process.env.AZURE_STORAGE_CONNECTION_STRING),
    LIFECOCKPIT_SNAPSHOT_CONTAINER: `crashsnap${suffix}`,
    LIFECOCKPIT_ROLLBACK_CONTAINER: `crashrbk${suffix}`,
  };
});
afterAll(async () => {
  await killAllHosts();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the Dataverse change saga across a crash', () => {
  it('creates no duplicate when the host dies while its create is in flight', async () => {
    const dataverse = new DataverseClient(sim.url, credential);
    // Hold the saga's create in the simulator long enough to kill the host while it waits.
    sim.faults.add({
      method: 'POST',
      path: '/api/data/v9\\.2/contacts$',
      kind: 'latency',
      latencyMs: 1500,
      count: 1,
    });
    let host = await spawnHost({ appDir: '.', dataDir, env });
    await startInstance(host, 'dataverseChange', 'crash-create-1', {
      // Per operation: the create is a request of its own (POST contacts).
      atomic: false,
      operations: [
        {
          op: 'create',
          table: 'contacts',
          data: { firstname: 'Only', lastname: 'Once', emailaddress1: 'crash-once@example.com' },
        },
      ],
    });
    await pollUntil(
      'the create reaches the simulator',
      () => sim.faults.list().length,
      (n) => n === 0,
      15_000,
      5,
    );
    await host.crash();
    const count = async (): Promise<number> => {
      const page = await dataverse
        .query('contacts', { filter: "emailaddress1 eq 'crash-once@example.com'" })
        .byPage()
        .next();
      return page.done ? 0 : page.value.records.length;
    };
    // The request the dead host sent still lands: the record exists before the restart.
    await pollUntil('the in-flight create lands', count, (n) => n === 1, 10_000, 50);
    host = await spawnHost({ appDir: '.', dataDir, env });
    const status = await pollUntil(
      'the saga completes after the restart',
      () => instanceStatus(host, 'crash-create-1'),
      (s) => ['Completed', 'Failed'].includes(s.runtimeStatus),
      20_000,
      50,
    );
    expect(status.runtimeStatus).toBe('Completed');
    expect(await count()).toBe(1);
    expect((status.output as { results: { action: string }[] }).results[0].action).toBe('created');
    expect(await host.stop()).toBe(0);
  });

  it('applies an atomic change once when the host dies after its changeset committed', async () => {
    const dataverse = new DataverseClient(sim.url, credential);
    const existing = String(
      (await dataverse.create('contacts', { firstname: 'Crash', lastname: 'Before' })).id,
    );
    // The changeset commits at once; its answer is held back long enough to kill the host meanwhile.
    sim.faults.add({ method: 'PATCH', path: 'contacts\\(', kind: 'latency', latencyMs: 1500, count: 1 });
    let host = await spawnHost({ appDir: '.', dataDir, env });
    await startInstance(host, 'dataverseChange', 'crash-changeset-1', {
      operations: [
        {
          op: 'create',
          table: 'contacts',
          data: { firstname: 'Atomic', lastname: 'Once', emailaddress1: 'crash-atomic@example.com' },
        },
        { op: 'update', table: 'contacts', id: existing, data: { lastname: 'After' } },
      ],
    });
    await pollUntil(
      'the changeset reaches the simulator',
      () => sim.faults.list().length,
      (n) => n === 0,
      15_000,
      5,
    );
    await host.crash();
    const count = async (): Promise<number> => {
      const page = await dataverse
        .query('contacts', { filter: "emailaddress1 eq 'crash-atomic@example.com'" })
        .byPage()
        .next();
      return page.done ? 0 : page.value.records.length;
    };
    expect(await count()).toBe(1);
    const requests = sim.requestCount();
    host = await spawnHost({ appDir: '.', dataDir, env });
    const status = await pollUntil(
      'the saga completes after the restart',
      () => instanceStatus(host, 'crash-changeset-1'),
      (s) => ['Completed', 'Failed'].includes(s.runtimeStatus),
      20_000,
      50,
    );
    expect(status.runtimeStatus).toBe('Completed');
    // The re-run: its changeset refused (the etag moved on, the id exists), one $batch reading back.
    expect(sim.requestCount() - requests).toBe(2);
    expect(await count()).toBe(1);
    expect((await dataverse.retrieve('contacts', existing)).lastname).toBe('After');
    const output = status.output as { results: { action: string }[] };
    expect(output.results.map((r) => r.action)).toEqual(['created', 'updated']);
    expect(await host.stop()).toBe(0);
  });
});
