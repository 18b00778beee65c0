/**
 * `blc replay-check` against real histories: a small app runs on the local host (a child `blc serve`)
 * until some orders are finished and some wait for an approval or are suspended; then blc replays
 * the stored histories against the same code and against edited copies of it, while that host keeps
 * running (the check only reads the store).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newInstance } from '../../host/durable/instanceRecords';
import { SqliteBackend } from '../../host/durable/sqliteBackend';
import { runBlc, type BlcRun } from '../support/blc';
import {
  instanceOperation,
  instanceStatus,
  killAllHosts,
  pollUntil,
  spawnHost,
  startInstance,
  type ChildHost,
} from '../support/childHost';

// Each test runs blc several times as a child process (and sagas in between): on a busy machine
// that takes longer than the suite's default allows; the assertions do not depend on time.
vi.setConfig({ testTimeout: 120_000 });

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'replay-app');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-replay-'));
/** The app as it ran; its host keeps data where `blc up` would, so no --data is needed. */
const original = path.join(tmp, 'original');
const dataDir = path.join(original, '.data', 'host');
let host: ChildHost;

/** A copy of the app with its orchestrator source edited (each edit must apply). */
function editedCopy(name: string, edits: [string, string][]): string {
  const dir = path.join(tmp, name);
  copyApp(dir);
  const file = path.join(dir, 'src', 'orders.js');
  let source = fs.readFileSync(file, 'utf8');
  for (const [from, to] of edits) {
    if (!source.includes(from)) throw new Error(`the fixture has no '${from}'`);
    source = source.replace(from, to);
  }
  fs.writeFileSync(file, source);
  return dir;
}

function copyApp(dir: string): void {
  fs.cpSync(FIXTURE, dir, { recursive: true });
  // The copy lives outside the project, so it needs a way to this project's durable-functions.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}

function blc(...args: string[]): Promise<BlcRun> {
  return runBlc(['replay-check', ...args]);
}

interface Report {
  app: string;
  store: string;
  ok: boolean;
  instances: { instanceId: string; name: string; status: string; result: string; detail?: string }[];
}

async function report(...args: string[]): Promise<{ code: number | null; report: Report }> {
  const res = await blc(...args, '--json');
  expect(res.err).toBe('');
  return { code: res.code, report: JSON.parse(res.out) as Report };
}

const byId = (r: Report): Record<string, { result: string; detail?: string; status: string }> =>
  Object.fromEntries(r.instances.map((i) => [i.instanceId, i]));

async function settle(id: string, status: string): Promise<void> {
  await pollUntil(
    `${id} ${status}`,
    () => instanceStatus(host, id, 'showHistory=true'),
    (s) =>
      s.runtimeStatus === status &&
      // A waiting order has recorded its wait only once the activity before it completed.
      (status !== 'Running' || (s.historyEvents ?? []).some((e) => e.EventType === 'TaskCompleted')),
  );
}

beforeAll(async () => {
  copyApp(original);
  host = await spawnHost({ appDir: original, dataDir });
  await startInstance(host, 'approveOrder', 'waiting', 'o-1');
  await startInstance(host, 'approveOrder', 'on-hold', 'o-2');
  await startInstance(host, 'approveOrder', 'approved', 'o-3');
  await startInstance(host, 'quickOrder', 'quick', 'o-4');
  await startInstance(host, 'brokenOrder', 'broken', 'o-5');
  await settle('waiting', 'Running');
  await settle('on-hold', 'Running');
  await settle('approved', 'Running');
  await instanceOperation(host, 'approved', 'raiseEvent/approved', 'yes');
  await instanceOperation(host, 'on-hold', 'suspend');
  await settle('approved', 'Completed');
  await settle('on-hold', 'Suspended');
  await settle('quick', 'Completed');
  await settle('broken', 'Failed');
}, 60_000);

afterAll(async () => {
  await killAllHosts();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('blc replay-check with the code that wrote the histories', () => {
  it('reproduces the unfinished instances, with the store found in the default place, exit 0', async () => {
    const res = await blc('--app', original);
    expect(res.code, res.err).toBe(0);
    const lines = res.out.trim().split('\n');
    expect(lines[0]).toMatch(/^INSTANCE\s+ORCHESTRATION\s+STATUS\s+RESULT\s+DETAIL$/);
    expect(lines.slice(1, -1).sort()).toEqual([
      expect.stringMatching(/^on-hold\s+approveOrder\s+Suspended\s+reproduced\s+-$/),
      expect.stringMatching(/^waiting\s+approveOrder\s+Running\s+reproduced\s+-$/),
    ]);
    expect(lines.at(-1)).toBe(
      'Checked 2 instances: 2 reproduced. The current code reproduces every history.',
    );
  });

  it('with --all also replays finished ones: completed, and failed exactly as recorded', async () => {
    const { code, report: r } = await report('--app', original, '--data', dataDir, '--all');
    expect(code).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.store).toBe(path.join(dataDir, 'durable.sqlite'));
    expect(byId(r)).toEqual({
      waiting: expect.objectContaining({ result: 'reproduced', status: 'Running' }),
      'on-hold': expect.objectContaining({ result: 'reproduced', status: 'Suspended' }),
      approved: expect.objectContaining({ result: 'reproduced', status: 'Completed' }),
      quick: expect.objectContaining({ result: 'reproduced', status: 'Completed' }),
      broken: expect.objectContaining({
        result: 'reproduced',
        status: 'Failed',
        detail: 'fails again as recorded',
      }),
    });
  });
});

describe('blc replay-check with changed code', () => {
  it('reports a waiting instance whose orchestrator now calls another activity, exit 1', async () => {
    const app = editedCopy('other-activity', [
      ["callActivity('reserve', order)", "callActivity('notify', order)"],
    ]);
    const res = await blc('--app', app, '--data', dataDir);
    expect(res.code).toBe(1);
    expect(res.err).toBe('');
    expect(res.out).toMatch(
      /^waiting\s+approveOrder\s+Running\s+diverged\s+action #1 in the recorded history is activity 'reserve', but replaying the current code produces activity 'notify'$/m,
    );
    expect(res.out).toMatch(/^on-hold\s+approveOrder\s+Suspended\s+diverged\s/m);
    expect(res.out.trim().split('\n').at(-1)).toBe(
      'Checked 2 instances: 2 diverged. 2 not reproduced; 2 unfinished, which would fail when they run again.',
    );
  });

  it('reports steps that now come in another order', async () => {
    const app = editedCopy('reordered', [
      [
        "const reserved = yield context.df.callActivity('reserve', order);\n  const approval = yield context.df.waitForExternalEvent('approved');",
        "const approval = yield context.df.waitForExternalEvent('approved');\n  const reserved = yield context.df.callActivity('reserve', order);",
      ],
    ]);
    const { code, report: r } = await report('--app', app, '--data', dataDir, '--instance', 'waiting');
    expect(code).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.instances).toEqual([
      {
        instanceId: 'waiting',
        name: 'approveOrder',
        status: 'Running',
        result: 'diverged',
        recordedActions: 2,
        detail:
          "action #1 in the recorded history is activity 'reserve', but replaying the current code produces wait for event 'approved'",
      },
    ]);
  });

  it('accepts a change after the point an instance reached', async () => {
    const app = editedCopy('later-change', [
      ["callActivity('ship', order)", "callActivity('notify', order)"],
    ]);
    const unfinished = await report('--app', app, '--data', dataDir);
    expect(unfinished.code).toBe(0);
    expect(unfinished.report.instances.map((i) => i.result)).toEqual(['reproduced', 'reproduced']);
    // The approved order did reach that step: its history no longer matches.
    const finished = await report('--app', app, '--data', dataDir, '--instance', 'approved');
    expect(finished.code).toBe(1);
    expect(finished.report.instances[0].detail).toBe(
      "action #3 in the recorded history is activity 'ship', but replaying the current code produces activity 'notify'",
    );
  });

  it('reports a finished instance whose code would now go on instead of completing', async () => {
    const app = editedCopy('longer', [
      [
        '  return { reserved, approval, shipped };',
        "  yield context.df.waitForExternalEvent('audited');\n  return { reserved, approval, shipped };",
      ],
    ]);
    const { code, report: r } = await report('--app', app, '--data', dataDir, '--instance', 'approved');
    expect(code).toBe(1);
    expect(r.instances[0]).toMatchObject({
      result: 'diverged',
      detail: 'the history recorded completion, but replaying the current code does not finish',
    });
  });

  it('reports a removed orchestrator and a failure that changed', async () => {
    const app = editedCopy('removed-and-failing', [
      ["df.app.orchestration('quickOrder'", "df.app.orchestration('fastOrder'"],
      ['the warehouse is closed', 'the warehouse burned down'],
    ]);
    const { code, report: r } = await report(
      '--app',
      app,
      '--data',
      dataDir,
      '--all',
      '--name',
      'quickOrder,brokenOrder',
    );
    expect(code).toBe(1);
    expect(byId(r)).toEqual({
      quick: expect.objectContaining({
        result: 'missing',
        detail: "the app registers no orchestrator named 'quickOrder'",
      }),
      broken: expect.objectContaining({
        result: 'error',
        detail:
          'replaying throws "the warehouse burned down", but the history recorded the failure "the warehouse is closed"',
      }),
    });
  });
});

describe('blc replay-check before an instance ran', () => {
  it('has nothing to compare for an instance whose first step is still queued', async () => {
    // As the engine leaves a new instance until its first episode: a row, no history yet.
    const queued = path.join(tmp, 'queued');
    const store = new SqliteBackend(path.join(queued, 'durable.sqlite'));
    store.createInstance(
      newInstance({
        instanceId: 'queued-1',
        name: 'approveOrder',
        input: '"o-9"',
        version: null,
        now: Date.now(),
      }),
    );
    store.close();
    const res = await blc('--app', original, '--data', queued);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^queued-1\s+approveOrder\s+Pending\s+not started\s+-$/m);
  });
});

describe('blc replay-check errors', () => {
  it('exits 3 with one line when there is no store, or the file is not one', async () => {
    const missing = await blc('--app', original, '--data', path.join(tmp, 'nowhere'));
    expect(missing.code).toBe(3);
    expect(missing.out).toBe('');
    expect(missing.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^blc: STORE_NOT_FOUND: no durable store in .*nowhere/),
    ]);
    const junk = path.join(tmp, 'junk');
    fs.mkdirSync(junk);
    fs.writeFileSync(path.join(junk, 'durable.sqlite'), 'not a database, just text'.repeat(100));
    const unreadable = await blc('--app', original, '--data', junk);
    expect(unreadable.code).toBe(3);
    expect(unreadable.err.trim().split('\n')).toEqual([expect.stringMatching(/^blc: STORE_UNREADABLE: /)]);
  });

  it('exits 3 when the app cannot be loaded, and 1 for an instance that does not exist', async () => {
    const noApp = await blc('--app', path.join(tmp, 'no-app'), '--data', dataDir);
    expect(noApp.code).toBe(3);
    expect(noApp.err.trim().split('\n')).toEqual([expect.stringMatching(/^blc: APP_LOAD_FAILED: /)]);
    const unknown = await blc('--app', original, '--data', dataDir, '--instance', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe(
      `blc: NOT_FOUND: there is no instance 'nobody' in ${path.join(dataDir, 'durable.sqlite')}`,
    );
  });

  it('exits 2 for bad arguments and prints its help', async () => {
    const unknownOption = await blc('--bogus');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.err).toMatch(/^blc: USAGE: Unknown option '--bogus'/);
    const both = await blc('--all', '--instance', 'x');
    expect(both.code).toBe(2);
    const stray = await blc('extra');
    expect(stray.code).toBe(2);
    expect(stray.err.trim()).toBe(
      "blc: USAGE: unexpected argument 'extra'; usage: blc replay-check [options]",
    );
    const help = await blc('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: blc replay-check /);
    expect(help.out).toContain('--instance ID');
  });
});
