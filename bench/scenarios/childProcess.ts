/**
 * Scenarios 6 and 7 run in child processes (waiting.ts needs --expose-gc and a fresh heap; saga.ts
 * hosts another app with its simulators), and so does the from-outside scenario's client (loadgen.ts). This runs one and reads its one JSON line as the typed
 * result the child promises.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** waiting.ts: RSS of a host with many instances waiting for an external event. */
export interface WaitingResult {
  instances: number;
  startAndSettleMs: number;
  rssMB: number;
  heapUsedMB: number;
  rssBeforeMB: number;
  liveSessions: number;
  gcExposed: boolean;
  wokenAndCompleted: number;
}

/** saga.ts: Dataverse change sagas against the simulator and Azurite. */
export interface SagaResult {
  sagas: number;
  operationsEach: number;
  sagasPerSec: number;
  totalMs: number;
  latencyMs: { p50: number; p99: number; max: number };
  aloneMs: number;
  activityMs: { p50: number; p99: number };
  engineStepMs: { p50: number; p99: number };
  historyEventsPerSaga: number;
}

/** `script` is relative to dist/bench/ (or absolute); `env` adds to this process's environment. */
export function runChild<T>(
  script: string,
  childArgs: string[],
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, path.resolve(__dirname, '..', script), ...childArgs],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`${script} failed (${code}): ${err.slice(-2000)}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}
