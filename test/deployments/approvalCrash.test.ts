import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import { DataverseClient } from '../../lib/dataverse';
import { buildDeploymentStore } from '../../lib/deployments';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { instanceStatus, killAllHosts, pollUntil, spawnHost, type ChildHost } from '../support/childHost';
import { uniqueVersion } from './support';

let sim: DataverseSim;
let dataDir: string;
let env: Record<string, string>;
const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };

beforeAll(async () => {
  sim = await startDataverseSim({});
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-crash-deploy-'));
  const suffix = `${Date.now()}`;
  env = {
    DATAVERSE_URL: sim.url,
    DATAVERSE_TOKEN: 't',
    AzureWebJobsStorage: String(process.env.AZURE_STORAGE_CONNECTION_STRING),
    LIFECOCKPIT_SNAPSHOT_CONTAINER: `dcsnap${suffix}`,
    LIFECOCKPIT_ROLLBACK_CONTAINER: `dcrbk${suffix}`,
    LIFECOCKPIT_CONFIG_CONTAINER: `dccfg${suffix}`,
  };
});
afterAll(async () => {
  await killAllHosts();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function api(host: ChildHost, method: string, route: string, body?: unknown): Promise<Response> {
  const { default: key } = JSON.parse(fs.readFileSync(path.join(dataDir, 'keys.json'), 'utf8')) as {
    default: string;
  };
  return fetch(`${host.url}/api/${route}`, {
    method,
    headers: { 'x-functions-key': key, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('a deployment waiting for approval across a crash', () => {
  it('still waits after the host is killed, and applies once approved on the restarted host', async () => {
    const dataverse = new DataverseClient(sim.url, credential);
    const contact = String((await dataverse.create('contacts', { firstname: 'Crash', lastname: 'Wait' })).id);
    const settings = readSettings({ ...process.env, ...env });
    const store = buildDeploymentStore(settings);
    const version = uniqueVersion('crash');

    let host = await spawnHost({ appDir: '.', dataDir, env });
    const started = await api(host, 'POST', 'deployments', {
      version,
      requireApproval: true,
      config: { value: { reminderHour: 11 } },
      dataverse: {
        operations: [{ op: 'update', table: 'contacts', id: contact, data: { jobtitle: 'Approved' } }],
      },
    });
    expect(started.status).toBe(202);
    const id = ((await started.json()) as { id: string }).id;
    await pollUntil(
      'the deployment waits',
      () => store.get(id),
      (r) => r?.state === 'awaiting-approval',
    );
    await host.crash();

    host = await spawnHost({ appDir: '.', dataDir, env });
    expect((await instanceStatus(host, id)).runtimeStatus).toBe('Running');
    expect((await api(host, 'POST', `deployments/${id}/approve`, { by: 'owner' })).status).toBe(202);
    const status = await pollUntil(
      'the deployment finishes',
      () => instanceStatus(host, id),
      (s) => ['Completed', 'Failed'].includes(s.runtimeStatus),
      20_000,
      50,
    );
    expect(status.runtimeStatus).toBe('Completed');
    expect((await dataverse.retrieve('contacts', contact)).jobtitle).toBe('Approved');
    expect((await buildServices(settings).config.current())?.value).toEqual({ reminderHour: 11 });
    expect((await store.get(id))?.state).toBe('succeeded');
    expect(await host.stop()).toBe(0);
  });
});
