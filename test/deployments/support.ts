/**
 * Runs the app on the local host against a fresh Dataverse simulator and the suite's Azurite, as
 * test/support/appHost does, with the virtual clock chosen by the test (approvals need 'manual'),
 * plus the deployments API as a client calls it (with a function key).
 */
import { randomUUID } from 'node:crypto';
import { startHost, type RunningHost } from '../../host/host';
import { DataverseClient } from '../../lib/dataverse';
import { buildServices, type AppServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import { buildDeploymentStore, type DeploymentRecord } from '../../lib/deployments';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { SIM_TOKEN } from '../support/appHost';

export interface DeploymentsApp {
  host: RunningHost;
  sim: DataverseSim;
  dataverse: DataverseClient;
  services: AppServices;
  /** Calls the app's HTTP API with the default function key. */
  api(method: string, path: string, body?: unknown, options?: { key?: string | null }): Promise<Response>;
  record(id: string): Promise<DeploymentRecord | undefined>;
  close(): Promise<void>;
}

export async function startDeploymentsApp(virtualTime: 'auto' | 'manual'): Promise<DeploymentsApp> {
  const sim = await startDataverseSim({ webhookRetryDelayMs: 20 });
  const suffix = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  process.env.DATAVERSE_URL = sim.url;
  process.env.DATAVERSE_TOKEN = SIM_TOKEN;
  process.env.AzureWebJobsStorage = String(process.env.AZURE_STORAGE_CONNECTION_STRING);
  process.env.LIFECOCKPIT_SNAPSHOT_CONTAINER = `snap${suffix}`;
  process.env.LIFECOCKPIT_ROLLBACK_CONTAINER = `rbk${suffix}`;
  process.env.LIFECOCKPIT_CONFIG_CONTAINER = `cfg${suffix}`;
  const host = await startHost({ appDir: '.', port: 0, memory: true, quiet: true, virtualTime });
  const dataverse = new DataverseClient(sim.url, {
    getToken: async () => ({ token: SIM_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }),
  });
  const settings = readSettings();
  const deployments = buildDeploymentStore(settings);
  const functionKey = String(Object.values(host.keys.functionKeys)[0]);
  return {
    host,
    sim,
    dataverse,
    services: buildServices(settings),
    api(method, path, body, options = {}) {
      const key = options.key === undefined ? functionKey : options.key;
      return fetch(`${host.url}/api/${path}`, {
        method,
        headers: {
          ...(key ? { 'x-functions-key': key } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    record: (id) => deployments.get(id),
    async close() {
      await host.close();
      await sim.close();
    },
  };
}

/** A version no other test (in this run or file) uses: the deployments container is shared. */
export function uniqueVersion(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

const BUMPED_ON_WRITE = ['@odata.etag', 'versionnumber', 'modifiedon', 'createdon'];

/** Every contact, without the attributes Dataverse bumps on each write. */
export async function contacts(dataverse: DataverseClient): Promise<Record<string, Record<string, unknown>>> {
  const rows: Record<string, Record<string, unknown>> = {};
  for await (const r of dataverse.query('contacts')) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!BUMPED_ON_WRITE.includes(k)) copy[k] = v;
    rows[String(r.contactid)] = copy;
  }
  return rows;
}

/** Polls the deployment record until `predicate` holds. */
export async function waitForRecord(
  app: DeploymentsApp,
  id: string,
  predicate: (r: DeploymentRecord) => boolean,
  timeoutMs = 20_000,
): Promise<DeploymentRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentRecord | undefined;
  while (Date.now() < deadline) {
    last = await app.record(id);
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`deployment ${id} did not get there; last: ${JSON.stringify(last)}`);
}
