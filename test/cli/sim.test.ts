import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts `blc sim ...` and resolves with its banner once the first line naming a URL appears. */
function startSim(
  args: string[],
): Promise<{ child: ChildProcess; banner: string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/blc.js', 'sim', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Faults:/.test(out)) resolve({ child, banner: out, exited });
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`blc sim exited early (${code}): ${out}`)));
  });
}

describe('blc sim', () => {
  it('runs the Dataverse simulator with demo data until told to stop', async () => {
    const { child, banner, exited } = await startSim(['dataverse', '--seed', 'demo', '--port', '0']);
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/api/data/v9.2/contacts?$select=fullname&$top=3`, {
      headers: { Authorization: 'Bearer x' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { value: unknown[] }).value).toHaveLength(3);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('runs the Graph simulator and tells how to trust its certificate', async () => {
    const { child, banner, exited } = await startSim([
      'graph',
      '--seed',
      'demo',
      '--data',
      `/tmp/blc-sim-test-${process.pid}/graph.json`,
    ]);
    expect(banner).toMatch(/https:\/\/localhost:\d+/);
    expect(banner).toMatch(/NODE_EXTRA_CA_CERTS=\/tmp\/blc-sim-test-\d+\/graph-sim-ca\.pem/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('rejects an unknown simulator and bad options with a usage error', async () => {
    const run = (args: string[]) =>
      new Promise<number | null>((resolve) =>
        spawn(process.execPath, ['bin/blc.js', 'sim', ...args]).on('exit', resolve),
      );
    expect(await run(['nothing'])).toBe(2);
    expect(await run(['graph', '--port', 'x'])).toBe(2);
    expect(await run(['dataverse', '--seed', 'huge'])).toBe(2);
  });
});
