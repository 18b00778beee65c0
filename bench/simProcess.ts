/**
 * The Dataverse simulator in a process of its own, for the bench's child processes that host the
 * Life Cockpit app (saga.ts, changeCost.ts): Dataverse is another machine, so its work must not be
 * counted as the host's. Run as a script it serves the simulator and prints `{"url": ...}`; it stops
 * when its parent closes stdin (or dies).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startDataverseSim } from '../sim/dataverse';

export interface SimChild {
  url: string;
  child: ChildProcess;
  /** Web API requests the simulator received so far (GET /_sim/requests; a $batch counts as one). */
  requests(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the simulator in a child process; resolves once it listens. */
export function startSimProcess(): Promise<SimChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const url = (JSON.parse(out.split('\n')[0]) as { url: string }).url;
      resolve({
        url,
        child,
        requests: async () =>
          ((await (await fetch(`${url}/_sim/requests`)).json()) as { total: number }).total,
        close: async () => void child.stdin?.end(),
      });
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
}

async function serve(): Promise<void> {
  const sim = await startDataverseSim({});
  process.stdout.write(JSON.stringify({ url: sim.url }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
}

if (require.main === module) {
  serve().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
