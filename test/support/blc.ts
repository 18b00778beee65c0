/**
 * Runs `blc` as a child process, as a person or a script would, and answers what it printed and how
 * it exited. BLC_URL, BLC_KEY and BLC_MASTER_KEY of the test's own environment never leak in unless a test passes them.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const BLC = path.join(PROJECT_ROOT, 'bin', 'blc.js');

export interface BlcRun {
  code: number | null;
  out: string;
  err: string;
}

/** This process's environment without BLC_URL/BLC_KEY/BLC_MASTER_KEY, plus `extra`. */
export function blcEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BLC_URL;
  delete env.BLC_KEY;
  delete env.BLC_MASTER_KEY;
  return { ...env, ...extra };
}

export function runBlc(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<BlcRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BLC, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: options.env ?? blcEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': output still in the pipe when the process exits would be lost.
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
