/**
 * Runs `blc serve` (the built `dist/`) as a separate process so tests can `kill -9` it and start it
 * again on the same data directory, and talks to its Durable HTTP API the way a client would.
 * Every process started here is remembered and killed by `killAllHosts()` (call it in afterAll and
 * finally blocks) and, as a last resort, when the test worker exits.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { webhook, type HostAddress, type Status } from './durable';

const ROOT = path.resolve(__dirname, '..', '..');
/** BLC_TEST_BIN points the tests at another build (e.g. a deliberately broken copy, to check they fail). */
const BLC = process.env.BLC_TEST_BIN
  ? path.resolve(process.env.BLC_TEST_BIN)
  : path.join(ROOT, 'bin', 'blc.js');

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ChildHost {
  pid: number;
  url: string;
  systemKey: string;
  /** When `Host started` was printed (epoch ms). */
  readyAt: number;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  /** Sends `kill -9` and resolves once the process is gone. */
  crash(): Promise<void>;
  /** Sends SIGTERM and resolves with the exit code once the process is gone. */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  appDir: string;
  dataDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `blc serve --port 0 --data DIR --quiet` and resolves once it accepts requests. */
export async function spawnHost(options: SpawnOptions): Promise<ChildHost> {
  const child = spawn(
    process.execPath,
    [
      BLC,
      'serve',
      '--app',
      path.resolve(options.appDir),
      '--port',
      '0',
      '--data',
      options.dataDir,
      '--quiet',
    ],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const timeoutMs = options.timeoutMs ?? 15_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`blc serve did not start in ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    const onData = (): void => {
      const m = /Host started on (http:\/\/localhost:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(m[1]);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`blc serve exited (${code ?? signal}) before it started; output:\n${out}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  const readyAt = Date.now();
  const keys = JSON.parse(fs.readFileSync(path.join(options.dataDir, 'keys.json'), 'utf8')) as Record<
    string,
    string
  >;

  return {
    pid: child.pid as number,
    url,
    systemKey: keys.durabletask_extension,
    readyAt,
    output: () => out,
    async crash() {
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      const done = exited(child);
      child.kill('SIGTERM');
      return done;
    },
  };
}

/** Kills (SIGKILL) every host process this module started that is still running. */
export async function killAllHosts(): Promise<void> {
  const waits = [...live].map((child) => {
    const done = exited(child);
    child.kill('SIGKILL');
    return done;
  });
  await Promise.all(waits);
}

// ---- Durable HTTP API, as a client sees it ----

export type InstanceStatus = Status;
export type { HostAddress };

export function webhookUrl(host: HostAddress, rest: string): string {
  return webhook(host, rest);
}

export async function startInstance(
  host: HostAddress,
  name: string,
  instanceId: string,
  input: unknown,
): Promise<void> {
  const res = await fetch(webhookUrl(host, `orchestrators/${name}/${encodeURIComponent(instanceId)}`), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
  if (res.status !== 202)
    throw new Error(`start ${name}/${instanceId} answered ${res.status}: ${await res.text()}`);
}

export async function instanceStatus(
  host: HostAddress,
  instanceId: string,
  query = '',
): Promise<InstanceStatus> {
  const res = await fetch(
    webhookUrl(host, `instances/${encodeURIComponent(instanceId)}${query ? `?${query}` : ''}`),
  );
  if (res.status !== 200 && res.status !== 202)
    throw new Error(`status of ${instanceId} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as InstanceStatus;
}

/** POSTs an instance operation (`suspend`, `resume`, `raiseEvent/NAME`, `terminate`, ...); expects 202. */
export async function instanceOperation(
  host: HostAddress,
  instanceId: string,
  operation: string,
  body?: unknown,
): Promise<void> {
  const res = await fetch(
    webhookUrl(host, `instances/${encodeURIComponent(instanceId)}/${operation}?reason=test`),
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body),
    },
  );
  if (res.status !== 202)
    throw new Error(`${operation} on ${instanceId} answered ${res.status}: ${await res.text()}`);
}

/** Polls until `predicate` holds (or throws after `timeoutMs` with the last value seen). */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  timeoutMs = 15_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (predicate(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what}: not reached in ${timeoutMs} ms; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once the wall clock has passed `epochMs`. */
export async function waitUntilTime(epochMs: number): Promise<void> {
  while (Date.now() < epochMs)
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, epochMs - Date.now()))));
}

/** Reads a file of JSON lines; a torn last line (written at the moment of a kill) is ignored. */
export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const out: T[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line cut short by kill -9
    }
  }
  return out;
}
