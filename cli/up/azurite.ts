/**
 * Runs Azurite's blob service (or its queue service) for `blc up` and the tests from this project's
 * node_modules, keeping its data in a folder so blobs survive restarts. It only starts and stops the
 * process; it never touches the data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Azurite's well-known development account (public, the same on every machine). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** How long Azurite may take to listen. */
const START_TIMEOUT_MS = 20_000;
/** The line Azurite prints once its server is bound, with the address the OS gave it. */
const LISTENING = /successfully listens on https?:\/\/\S+:(\d+)/;

export interface LocalAzurite {
  pid: number;
  /** The port Azurite is bound to (the one it was given, or the one the OS chose for port 0). */
  port: number;
  /** What the app gets as AzureWebJobsStorage. */
  connectionString: string;
  stop(): Promise<void>;
}

export class AzuriteStartError extends Error {
  constructor(
    readonly code: 'AZURITE_START_FAILED' | 'AZURITE_PORT_IN_USE',
    message: string,
  ) {
    super(message);
    this.name = 'AzuriteStartError';
  }
}

export async function startLocalAzurite(options: {
  projectRoot: string;
  /** Folder for Azurite's data; omitted keeps everything in memory (tests). */
  location?: string;
  /** 0: any free port, chosen by the OS when Azurite binds (read back from what Azurite prints). */
  port: number;
  /** Which Azurite service to run (default blob); the connection string names its endpoint only. */
  service?: 'blob' | 'queue';
}): Promise<LocalAzurite> {
  const service = options.service ?? 'blob';
  const bin = path.join(options.projectRoot, 'node_modules', 'azurite', 'dist', 'src', service, 'main.js');
  if (!fs.existsSync(bin))
    throw new AzuriteStartError(
      'AZURITE_START_FAILED',
      `Azurite is not installed (${bin} is missing). Run 'npm ci', or set AzureWebJobsStorage in local.settings.json.`,
    );
  if (options.location) fs.mkdirSync(options.location, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      `--${service}Host`,
      '127.0.0.1',
      `--${service}Port`,
      String(options.port),
      ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await boundPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid ?? -1,
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};${service === 'queue' ? 'Queue' : 'Blob'}Endpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The port Azurite says it listens on. Azurite binds the port itself, so there is no moment in which
 * another program could take it from us; it reports a taken port by exiting with EADDRINUSE.
 */
function boundPort(child: ChildProcess): Promise<number> {
  let output = '';
  let settled = false;
  return new Promise<number>((resolve, reject) => {
    const fail = (code: AzuriteStartError['code'], why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new AzuriteStartError(code, `Azurite did not start: ${why}`));
    };
    const timer = setTimeout(
      () => fail('AZURITE_START_FAILED', `it did not listen within ${START_TIMEOUT_MS} ms. ${output.trim()}`),
      START_TIMEOUT_MS,
    );
    const read = (chunk: Buffer): void => {
      // Once listening, its output is read and dropped, so a full pipe never stalls it.
      if (settled) return;
      output += chunk.toString('utf8');
      const match = LISTENING.exec(output);
      if (!match) return;
      settled = true;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    // 'close', not 'exit': by then everything it wrote has been read.
    child.once('close', (code) =>
      /EADDRINUSE/.test(output)
        ? fail('AZURITE_PORT_IN_USE', `its port is in use. ${output.trim()}`)
        : fail('AZURITE_START_FAILED', `it exited (code ${code}). ${output.trim()}`),
    );
  });
}
