/**
 * Runs the Life Cockpit app itself on the local host for tests, wired to a fresh Dataverse simulator
 * and the suite's Azurite, exactly as a deployment would be configured (settings only).
 */
import { startHost, type RunningHost } from '../../host/host';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { DataverseClient } from '../../lib/dataverse';

export interface AppUnderTest {
  host: RunningHost;
  sim: DataverseSim;
  /** A client of the simulator for arranging and checking records, as any script would use. */
  dataverse: DataverseClient;
  close(): Promise<void>;
}

export const SIM_TOKEN = 'test-token';

export async function startAppWithDataverse(): Promise<AppUnderTest> {
  const sim = await startDataverseSim({ webhookRetryDelayMs: 20 });
  process.env.DATAVERSE_URL = sim.url;
  process.env.DATAVERSE_TOKEN = SIM_TOKEN;
  process.env.AzureWebJobsStorage = String(process.env.AZURE_STORAGE_CONNECTION_STRING);
  process.env.LIFECOCKPIT_SNAPSHOT_CONTAINER = `snap${Date.now()}`;
  process.env.LIFECOCKPIT_ROLLBACK_CONTAINER = `rbk${Date.now()}`;
  process.env.LIFECOCKPIT_CONFIG_CONTAINER = `cfg${Date.now()}`;
  const host = await startHost({ appDir: '.', port: 0, memory: true, quiet: true, virtualTime: 'auto' });
  const dataverse = new DataverseClient(sim.url, {
    getToken: async () => ({ token: SIM_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }),
  });
  return {
    host,
    sim,
    dataverse,
    async close() {
      await host.close();
      await sim.close();
    },
  };
}
