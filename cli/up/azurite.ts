/**
 * Runs Azurite's blob service for `blc up` from this project's node_modules, keeping its data in a
 * folder so blobs survive restarts. It only starts and stops the process; it never touches the data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from './ports';

/** Azurite's well-known development account (public, the same on every machine). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface LocalAzurite {
  pid: number;
  port: number;
  /** What the app gets as AzureWebJobsStorage. */
  connectionString: string;
  stop(): Promise<void>;
}

export class AzuriteStartError extends Error {
  readonly code = 'AZURITE_START_FAILED';
}

export async function startLocalAzurite(options: {
  projectRoot: string;
  /** Folder for Azurite's data; omitted keeps everything in memory (tests). */
  location?: string;
  port: number;
}): Promise<LocalAzurite> {
  const bin = path.join(options.projectRoot, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
  if (!fs.existsSync(bin))
    throw new AzuriteStartError(
      `Azurite is not installed (${bin} is missing). Run 'npm ci', or set AzureWebJobsStorage in local.settings.json.`,
    );
  if (options.location) fs.mkdirSync(options.location, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(options.port),
      ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
      '--loose',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(options.port, 20_000),
      exited.then(() => {
        throw new Error('Azurite exited');
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw new AzuriteStartError(
      `Azurite did not start on port ${options.port}: ${(err as Error).message} ${stderr}`.trim(),
    );
  }
  return {
    pid: child.pid ?? -1,
    port: options.port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:${options.port}/${DEV_ACCOUNT};`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
