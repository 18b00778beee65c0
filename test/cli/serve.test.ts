import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(
  args: string[],
  untilLine?: RegExp,
): Promise<{ code: number | null; out: string; err: string; kill: () => void }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/blc.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (untilLine && untilLine.test(out)) {
        untilLine = undefined;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err, kill: () => child.kill('SIGKILL') }));
  });
}

describe('blc serve', () => {
  it('lists each function with its trigger and URL, then shuts down cleanly on SIGTERM', async () => {
    const res = await run(
      ['serve', '--app', 'test/apps/patterns', '--port', '0', '--memory'],
      /Host started on/,
    );
    expect(res.code).toBe(0);
    expect(res.out).toMatch(
      /startOrchestration: \[POST\] http:\/\/localhost:\d+\/api\/orchestrators\/\{orchestratorName\}\/\{instanceId\?\}/,
    );
    expect(res.out).toMatch(/chaining: orchestrationTrigger/);
    expect(res.out).toMatch(/sayHello: activityTrigger/);
    expect(res.out).toMatch(/counter: entityTrigger/);
    expect(res.out).toMatch(/Received SIGTERM; shutting down\./);
  });

  it('rejects a bad port with a usage error', async () => {
    const res = await run(['serve', '--port', 'abc']);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/--port must be a number/);
  });

  it('explains an app directory it cannot load', async () => {
    const res = await run(['serve', '--app', 'test/apps/nowhere', '--memory']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/No package.json/);
  });

  it('prints the version and usage', async () => {
    const version = await run(['version']);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const usage = await run([]);
    expect(usage.code).toBe(2);
    expect(usage.out).toMatch(/Usage: blc <command>/);
  });
});
