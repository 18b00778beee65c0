/**
 * For the bench's child processes that host the Life Cockpit app itself (saga.ts, changeCost.ts):
 * their arguments, and the app on the local host against Azurite (in memory, as `blc up` starts it)
 * and the Dataverse simulator in a process of its own (simProcess.ts), each run in containers of
 * its own.
 */
import path from 'node:path';
import { startLocalAzurite } from '../cli/up/azurite';
import { startHost, type RunningHost } from '../host/host';
import { DataverseClient } from '../lib/dataverse';
import { startSimProcess, type SimChild } from './simProcess';

const ROOT = path.resolve(__dirname, '..', '..');
const TOKEN = 'bench-token';

/** `--name=value` from this process's arguments. */
export function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

export interface AppWithSims {
  host: RunningHost;
  sim: SimChild;
  /** A client of the simulator, to make the records a change works on. */
  dataverse: DataverseClient;
  close(): Promise<void>;
}

/** Starts Azurite, the simulator and the app; `env` adds settings (e.g. the request budget). */
export async function startAppWithSims(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<AppWithSims> {
  const azurite = await startLocalAzurite({ projectRoot: ROOT, port: 0 });
  const sim = await startSimProcess();
  const stamp = Date.now();
  Object.assign(process.env, {
    DATAVERSE_URL: sim.url,
    DATAVERSE_TOKEN: TOKEN,
    AzureWebJobsStorage: azurite.connectionString,
    LIFECOCKPIT_SNAPSHOT_CONTAINER: `snap${stamp}`,
    LIFECOCKPIT_ROLLBACK_CONTAINER: `rbk${stamp}`,
    LIFECOCKPIT_CONFIG_CONTAINER: `cfg${stamp}`,
    ...env,
  });
  const host = await startHost({ appDir: ROOT, port: 0, dataDir, quiet: true });
  const dataverse = new DataverseClient(sim.url, {
    getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }),
  });
  return {
    host,
    sim,
    dataverse,
    close: async () => {
      await host.close();
      await sim.close();
      await azurite.stop();
    },
  };
}
