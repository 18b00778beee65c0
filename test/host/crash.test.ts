/**
 * Crash safety of the local host: `blc serve` runs as a separate process on a data directory, gets
 * `kill -9`ed at chosen moments and is started again on the same directory. Every accepted
 * orchestration must still complete with the right output, each activity result must be recorded
 * exactly once (activities themselves run at least once), durable timers that came due while the host
 * was down must fire, and a timer trigger must make up for missed occurrences with one isPastDue run.
 *
 * Uses the built `dist/` (run `npm run build` first; `npm test` does).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ChildHost,
  instanceStatus,
  killAllHosts,
  pollUntil,
  readJsonLines,
  spawnHost,
  startInstance,
  waitUntilTime,
} from '../support/childHost';

const APP = 'test/apps/crash';
/** host.json maxConcurrentActivityFunctions of the fixture. */
const MAX_ACTIVITIES = 4;
const INSTANCES = 5;
const ACTIVITIES_PER_INSTANCE = 24;
const ACTIVITY_MS = 25;
const TOTAL = INSTANCES * ACTIVITIES_PER_INSTANCE;

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-crash-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await killAllHosts();
});
afterAll(async () => {
  await killAllHosts();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface Execution {
  ev: 'start' | 'end';
  tag: string;
  i: number;
  pid: number;
}

const key = (e: { tag: string; i: number }): string => `${e.tag}#${e.i}`;

function endedItems(log: string): Set<string> {
  return new Set(
    readJsonLines<Execution>(log)
      .filter((e) => e.ev === 'end')
      .map(key),
  );
}

/**
 * Where to kill the host: right after every instance was accepted (202), once a fraction of all
 * activities has finished, or the moment a restarted host says it is up (while it is recovering).
 */
type KillPoint = { at: 'accepted' } | { at: 'progress'; fraction: number } | { at: 'startup' };

function expectedOutput(tag: string): unknown {
  const order = Array.from({ length: ACTIVITIES_PER_INSTANCE }, (_, k) => k + 1);
  return { tag, count: ACTIVITIES_PER_INSTANCE, sum: order.reduce((a, i) => a + i * i, 0), order };
}

async function fanOutWithCrashes(
  kills: KillPoint[],
): Promise<{ reexecuted: number; interrupted: number; hosts: number }> {
  const dataDir = tempDir();
  const log = path.join(dataDir, 'executions.log');
  const env = { CRASH_EXECUTION_LOG: log };
  const tags = Array.from({ length: INSTANCES }, (_, k) => `fan-${k}`);
  const killedPids: number[] = [];

  let host: ChildHost = await spawnHost({ appDir: APP, dataDir, env });
  for (const tag of tags) {
    await startInstance(host, 'crashFanOut', tag, { tag, count: ACTIVITIES_PER_INSTANCE, ms: ACTIVITY_MS });
  }

  for (const point of kills) {
    if (point.at === 'progress') {
      const target = Math.ceil(TOTAL * point.fraction);
      await pollUntil(
        `${target} of ${TOTAL} activities finished`,
        () => endedItems(log).size,
        (n) => n >= target,
        20_000,
        2,
      );
    }
    await host.crash();
    killedPids.push(host.pid);
    if (point.at === 'progress') {
      // The kill must land in the middle of the fan-out, not after it.
      expect(endedItems(log).size, 'activities finished when the host was killed').toBeLessThan(TOTAL);
    }
    host = await spawnHost({ appDir: APP, dataDir, env });
  }

  // Every instance accepted before the crashes completes, with exactly the output of an undisturbed run.
  for (const tag of tags) {
    const status = await pollUntil(
      `${tag} completed`,
      () => instanceStatus(host, tag, 'showHistory=true&showHistoryOutput=true'),
      (s) => ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus),
      20_000,
    );
    expect(status.runtimeStatus, `${tag}: ${JSON.stringify(status.output)}`).toBe('Completed');
    expect(status.output).toEqual(expectedOutput(tag));
    const events = status.historyEvents ?? [];
    const count = (type: string, fn?: string): number =>
      events.filter((e) => e.EventType === type && (fn === undefined || e.FunctionName === fn)).length;
    expect(count('ExecutionStarted')).toBe(1);
    expect(count('ExecutionCompleted')).toBe(1);
    expect(count('TaskFailed')).toBe(0);
    expect(count('TaskCompleted', 'crashWork')).toBe(ACTIVITIES_PER_INSTANCE);
    expect(count('TaskCompleted', 'crashCombine')).toBe(1);
    const results = events
      .filter((e) => e.EventType === 'TaskCompleted' && e.FunctionName === 'crashWork')
      .map((e) => (e.Result as { i: number }).i)
      .sort((a, b) => a - b);
    expect(results).toEqual((expectedOutput(tag) as { order: number[] }).order);
  }

  const exitCode = await host.stop();
  expect(exitCode, host.output()).toBe(0);

  // The store itself: one completion per scheduled task, and no work or messages left behind that a
  // later restart would run again.
  const db = new Database(path.join(dataDir, 'durable.sqlite'), { readonly: true, fileMustExist: true });
  try {
    for (const tag of tags) {
      const history = (
        db.prepare('SELECT event FROM history WHERE instance_id = ? ORDER BY seq').all(tag) as {
          event: string;
        }[]
      ).map(
        (r) =>
          JSON.parse(r.event) as {
            EventType: number;
            EventId: number;
            TaskScheduledId?: number;
            Name?: string;
          },
      );
      // EventType numbers of the Durable Task Framework: TaskScheduled 4, TaskCompleted 5, TaskFailed 6.
      const scheduled = history.filter((e) => e.EventType === 4).map((e) => e.EventId);
      const completed = history.filter((e) => e.EventType === 5).map((e) => e.TaskScheduledId);
      expect(new Set(scheduled).size, `${tag}: duplicate TaskScheduled ids`).toBe(scheduled.length);
      expect(scheduled).toHaveLength(ACTIVITIES_PER_INSTANCE + 1);
      const duplicates = completed.filter((id, n) => completed.indexOf(id) !== n);
      expect(duplicates, `${tag}: TaskCompleted recorded twice for the same TaskScheduledId`).toEqual([]);
      expect([...completed].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
        [...scheduled].sort((a, b) => a - b),
      );
    }
    expect(db.prepare('SELECT COUNT(*) AS n FROM activities').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM inbox').get()).toEqual({ n: 0 });
  } finally {
    db.close();
  }

  // Activities ran at least once, never twice in one process, and a crash re-ran only what was in
  // flight then: at most the running ones plus the finished ones whose results were not yet committed.
  const executions = readJsonLines<Execution>(log);
  const starts = executions.filter((e) => e.ev === 'start');
  const ends = executions.filter((e) => e.ev === 'end');
  expect(new Set(ends.map(key)).size).toBe(TOTAL);
  const perProcess = new Map<string, number>();
  for (const s of starts)
    perProcess.set(`${s.pid}/${key(s)}`, (perProcess.get(`${s.pid}/${key(s)}`) ?? 0) + 1);
  expect(
    [...perProcess].filter(([, n]) => n > 1),
    'activity executed twice by one host process',
  ).toEqual([]);

  const pidsInOrder = [...new Set(executions.map((e) => e.pid))];
  let reexecuted = 0;
  let interrupted = 0;
  const perKill: string[] = [];
  for (const pid of killedPids) {
    const later = new Set(
      starts.filter((s) => pidsInOrder.indexOf(s.pid) > pidsInOrder.indexOf(pid)).map(key),
    );
    const startedHere = new Set(starts.filter((s) => s.pid === pid).map(key));
    const endedHere = new Set(ends.filter((e) => e.pid === pid).map(key));
    const cutShort = [...startedHere].filter((k) => !endedHere.has(k));
    const ranAgain = [...startedHere].filter((k) => later.has(k));
    // Work interrupted by the kill has to run again...
    expect(
      cutShort.filter((k) => !later.has(k)),
      `work cut short in ${pid} never ran again`,
    ).toEqual([]);
    // ...but finished, committed work must not. What may run again is what was in flight (at most
    // MAX_ACTIVITIES) plus what had finished but whose results were not committed yet (normally at
    // most as many again; a third MAX_ACTIVITIES is slack for a host process descheduled mid-batch).
    expect(ranAgain.length, `activities of ${pid} re-run after its crash`).toBeLessThanOrEqual(
      3 * MAX_ACTIVITIES,
    );
    perKill.push(`${cutShort.length}/${ranAgain.length}`);
    reexecuted += ranAgain.length;
    interrupted += cutShort.length;
  }
  if (process.env.CRASH_TEST_STATS)
    console.log(
      `crash stats: ${killedPids.length} kills, ${interrupted} activities cut short, ${reexecuted} re-executed (per kill cut/re-run: ${perKill.join(' ')}), ${starts.length} executions for ${TOTAL} activities`,
    );
  return { reexecuted, interrupted, hosts: killedPids.length + 1 };
}

describe('kill -9 during a fan-out', () => {
  it('completes every instance exactly once after crashes right after start, at 30 % and at 70 %', async () => {
    const { interrupted, reexecuted, hosts } = await fanOutWithCrashes([
      { at: 'accepted' },
      { at: 'progress', fraction: 0.3 },
      { at: 'progress', fraction: 0.7 },
    ]);
    expect(hosts).toBe(4);
    // The kills really landed on running activities (otherwise this test proves little).
    expect(interrupted).toBeGreaterThan(0);
    expect(reexecuted).toBeGreaterThanOrEqual(interrupted);
  }, 60_000);

  it('survives crashes while a restarted host is still recovering, five kills in a row', async () => {
    const { interrupted, hosts } = await fanOutWithCrashes([
      { at: 'progress', fraction: 0.2 },
      { at: 'startup' },
      { at: 'progress', fraction: 0.5 },
      { at: 'startup' },
      { at: 'progress', fraction: 0.85 },
    ]);
    expect(hosts).toBe(6);
    expect(interrupted).toBeGreaterThan(0);
  }, 60_000);
});

describe('kill -9 with a durable timer pending', () => {
  it('fires a timer that came due while the host was down once the host is back', async () => {
    const dataDir = tempDir();
    let host = await spawnHost({ appDir: APP, dataDir });
    await startInstance(host, 'crashSleeper', 'sleeper', { delayMs: 1200 });
    const pending = await pollUntil(
      'timer created',
      () => instanceStatus(host, 'sleeper', 'showHistory=true'),
      (s) => (s.historyEvents ?? []).some((e) => e.EventType === 'TimerCreated'),
    );
    const fireAt = Date.parse(
      String(pending.historyEvents?.find((e) => e.EventType === 'TimerCreated')?.FireAt),
    );
    expect(fireAt).toBeGreaterThan(Date.now());
    await host.crash();
    const killedAt = Date.now();

    // Stay down until the timer is overdue, then start again.
    await waitUntilTime(fireAt + 300);
    host = await spawnHost({ appDir: APP, dataDir });
    const done = await pollUntil(
      'sleeper completed',
      () => instanceStatus(host, 'sleeper', 'showHistory=true&showHistoryOutput=true'),
      (s) => s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending',
      10_000,
    );
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { dueAt: string; resumedAt: string; after: unknown };
    expect(Date.parse(output.dueAt)).toBe(fireAt);
    expect(output.after).toEqual({ tag: 'timer', count: 1, sum: 7 });
    // The orchestration resumed in the restarted host, after the timer's due time.
    expect(Date.parse(output.resumedAt)).toBeGreaterThanOrEqual(fireAt);
    const events = done.historyEvents ?? [];
    expect(events.filter((e) => e.EventType === 'TimerFired')).toHaveLength(1);
    const completedAt = Date.parse(
      String(events.find((e) => e.EventType === 'ExecutionCompleted')?.Timestamp),
    );
    expect(completedAt).toBeGreaterThan(killedAt);
    expect(await host.stop()).toBe(0);
  }, 30_000);
});

interface Tick {
  at: number;
  pid: number;
  isPastDue: boolean;
  scheduleStatus: { last: string; next: string; lastUpdated: string } | null;
}

describe('kill -9 with a timer trigger', () => {
  it('runs one isPastDue invocation for the occurrences missed while the host was down', async () => {
    const dataDir = tempDir();
    const log = path.join(dataDir, 'ticks.log');
    const env = { CRASH_TIMER_LOG: log, CRASH_TIMER_SCHEDULE: '*/1 * * * * *' };
    let host = await spawnHost({ appDir: APP, dataDir, env });
    const firstPid = host.pid;
    await pollUntil(
      'a first tick',
      () => readJsonLines<Tick>(log).length,
      (n) => n >= 1,
      10_000,
    );
    await host.crash();
    const killedAt = Date.now();
    const before = readJsonLines<Tick>(log);
    expect(before.every((t) => t.pid === firstPid && !t.isPastDue)).toBe(true);

    // Down for 2.5 s: at least two every-second occurrences are missed.
    await waitUntilTime(killedAt + 2500);
    host = await spawnHost({ appDir: APP, dataDir, env });
    const secondPid = host.pid;
    const ticksAfter = (): Tick[] => readJsonLines<Tick>(log).filter((t) => t.pid === secondPid);
    await pollUntil('catch-up and two regular ticks', ticksAfter, (t) => t.length >= 3, 10_000);
    const observedUntil = Date.now();
    await host.crash();

    const after = ticksAfter();
    // The first invocation after the restart is the catch-up, and the only one that is past due.
    expect(after[0].isPastDue).toBe(true);
    expect(after.filter((t) => t.isPastDue)).toHaveLength(1);
    // Its schedule status shows the missed occurrence (the first one after the last run before the
    // kill) and that last run.
    const lastBefore = before[before.length - 1].at;
    const missed = Date.parse(String(after[0].scheduleStatus?.next));
    expect(missed).toBeGreaterThan(lastBefore - 1000);
    expect(missed).toBeLessThanOrEqual(killedAt + 1000);
    expect(Date.parse(String(after[0].scheduleStatus?.last))).toBeLessThanOrEqual(lastBefore);
    // No burst replaying every missed second: the regular invocations after the catch-up fall in
    // distinct seconds, about one per second.
    const regular = after.slice(1).map((t) => t.at);
    expect(new Set(regular.map((at) => Math.floor(at / 1000))).size).toBe(regular.length);
    expect(regular.length).toBeLessThanOrEqual(Math.ceil((observedUntil - after[0].at) / 1000) + 1);
  }, 30_000);
});
