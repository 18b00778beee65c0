import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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
    // The local default differs from Azure's, so the banner says which applies.
    expect(res.out).toMatch(/^Extended sessions: on \(the local default; Azure runs without them/m);
  });

  it('says extended sessions are off when host.json turns them off', async () => {
    // Under the project, so the copied app still resolves durable-functions from its node_modules.
    fs.mkdirSync('test-results', { recursive: true });
    const app = fs.mkdtempSync(path.join('test-results', 'sessions-app-'));
    try {
      fs.cpSync('test/apps/patterns', app, { recursive: true });
      const hostJson = JSON.parse(fs.readFileSync(path.join(app, 'host.json'), 'utf8')) as {
        extensions?: { durableTask?: Record<string, unknown> };
      };
      hostJson.extensions = {
        ...hostJson.extensions,
        durableTask: { ...hostJson.extensions?.durableTask, extendedSessionsEnabled: false },
      };
      fs.writeFileSync(path.join(app, 'host.json'), JSON.stringify(hostJson));
      const res = await run(['serve', '--app', app, '--port', '0', '--memory'], /Host started on/);
      expect(res.code).toBe(0);
      expect(res.out).toMatch(/^Extended sessions: off \(host.json/m);
    } finally {
      fs.rmSync(app, { recursive: true, force: true });
    }
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
