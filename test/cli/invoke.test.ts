/**
 * `blc invoke` runs a non-HTTP function through the host's admin API with the master key: here a
 * yearly timer of the patterns app, whose each run adds 1 to a counter entity.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { startPatternsHost, webhook } from '../support/durable';
import { blcEnv, runBlc } from '../support/blc';

let host: RunningHost;
beforeAll(async () => {
  host = await startPatternsHost();
});
afterAll(async () => host?.close());

async function tally(expected: number): Promise<unknown> {
  let value: unknown;
  for (let i = 0; i < 300 && value !== expected; i++) {
    const res = await fetch(webhook(host, 'entities/counter/admin-timer'));
    if (res.status === 200) value = await res.json();
    if (value !== expected) await new Promise((r) => setTimeout(r, 10));
  }
  return value;
}

describe('blc invoke', () => {
  it('runs a timer-triggered function now with the master key from BLC_MASTER_KEY', async () => {
    const run = await runBlc(['invoke', 'yearlyTally', '--url', host.url], {
      env: blcEnv({ BLC_MASTER_KEY: host.keys.masterKey }),
    });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out.trim()).toBe("Invoked yearlyTally; its outcome is in the host's log.");
    expect(await tally(1)).toBe(1);
  });

  it("finds the local host's own master key, as blc finds its function key", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-invoke-'));
    try {
      fs.mkdirSync(path.join(dir, '.data'));
      fs.writeFileSync(
        path.join(dir, '.data', 'keys.json'),
        JSON.stringify({ master: host.keys.masterKey, default: 'not-the-master' }),
      );
      const run = await runBlc(['invoke', 'yearlyTally', '--url', host.url, '--json'], { cwd: dir });
      expect(run.code, run.err).toBe(0);
      expect(JSON.parse(run.out)).toEqual({ function: 'yearlyTally', accepted: true });
      expect(await tally(2)).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a function key is not enough, and names an unknown function', async () => {
    const withFunctionKey = await runBlc([
      'invoke',
      'yearlyTally',
      '--url',
      host.url,
      '--key',
      String(host.keys.functionKeys.default),
    ]);
    expect(withFunctionKey.code).toBe(1);
    expect(withFunctionKey.err).toMatch(/UNAUTHORIZED: .*master key/);
    const unknown = await runBlc(['invoke', 'noSuchTimer', '--url', host.url], {
      env: blcEnv({ BLC_MASTER_KEY: host.keys.masterKey }),
    });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/FUNCTION_NOT_FOUND: No function is named 'noSuchTimer'/);
  });
});
