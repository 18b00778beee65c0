import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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

/** A `blc serve` on `dataDir` until it says it started: its URL, what it printed, and a stop. */
async function serveOn(
  dataDir: string,
): Promise<{ url: string; out: () => string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['bin/blc.js', 'serve', '--app', 'test/apps/patterns', '--port', '0', '--data', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!(url = /Host started on (http:\/\/\S+)/.exec(out)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`blc serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

describe('blc serve after a restart', () => {
  it('says how many orchestrations it resumed, and says nothing on a first start', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-serve-resume-'));
    try {
      const first = await serveOn(data);
      expect(first.out()).not.toMatch(/Resumed/);
      const { durabletask_extension: systemKey } = JSON.parse(
        fs.readFileSync(path.join(data, 'keys.json'), 'utf8'),
      ) as { durabletask_extension: string };
      const webhook = (p: string): string =>
        `${first.url}/runtime/webhooks/durabletask/${p}${p.includes('?') ? '&' : '?'}code=${systemKey}`;
      for (const id of ['resume-1', 'resume-2', 'resume-3', 'done-1'])
        expect((await fetch(webhook(`orchestrators/waiter/${id}`), { method: 'POST' })).status).toBe(202);
      // One of them finishes before the stop: it is not resumed.
      await fetch(webhook('instances/done-1/raiseEvent/next'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify('stop'),
      });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const res = await fetch(webhook('instances/?runtimeStatus=Running'));
        const running = ((await res.json()) as { instanceId: string }[]).map((s) => s.instanceId).sort();
        const done = (await (await fetch(webhook('instances/done-1'))).json()) as { runtimeStatus: string };
        if (running.join() === 'resume-1,resume-2,resume-3' && done.runtimeStatus === 'Completed') break;
        if (Date.now() > deadline) throw new Error(`not settled: ${running.join()} ${done.runtimeStatus}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.stop();

      const second = await serveOn(data);
      expect(second.out()).toContain('Resumed 3 orchestrations left running at the last stop.');
      await second.stop();
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});
