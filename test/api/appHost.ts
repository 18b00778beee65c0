/**
 * Starts the app for the API tests, as test/support/appHost.ts does, with one difference: while the
 * app's package.json `main` does not yet name dist/triggers/api/*.js, it runs the built app from a
 * temporary app folder whose `main` adds that folder (same dist files, same host.json).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHost } from '../../host/host';
import { globFiles } from '../../host/worker/glob';
import { DataverseClient } from '../../lib/dataverse';
import { startDataverseSim } from '../../sim/dataverse';
import { SIM_TOKEN, type AppUnderTest } from '../support/appHost';

const ROOT = path.resolve(__dirname, '../..');

function appDirWithApi(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
  const loaded = globFiles(ROOT, pkg.main);
  if (loaded.some((f) => f.endsWith(path.join('dist', 'triggers', 'api', 'orchestrators.js')))) return ROOT;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecockpit-api-'));
  const dist = path.relative(dir, path.join(ROOT, 'dist'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ main: `${dist}/{orchestrators,activities,triggers,triggers/api}/*.js` }),
  );
  fs.copyFileSync(path.join(ROOT, 'host.json'), path.join(dir, 'host.json'));
  return dir;
}

export async function startApiApp(): Promise<AppUnderTest> {
  const sim = await startDataverseSim({ webhookRetryDelayMs: 20 });
  process.env.DATAVERSE_URL = sim.url;
  process.env.DATAVERSE_TOKEN = SIM_TOKEN;
  process.env.AzureWebJobsStorage = String(process.env.AZURE_STORAGE_CONNECTION_STRING);
  process.env.LIFECOCKPIT_SNAPSHOT_CONTAINER = `snap${Date.now()}`;
  process.env.LIFECOCKPIT_ROLLBACK_CONTAINER = `rbk${Date.now()}`;
  process.env.LIFECOCKPIT_CONFIG_CONTAINER = `cfg${Date.now()}`;
  const appDir = appDirWithApi();
  const host = await startHost({ appDir, port: 0, memory: true, quiet: true, virtualTime: 'auto' });
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
      if (appDir !== ROOT) fs.rmSync(appDir, { recursive: true, force: true });
    },
  };
}
