/**
 * `npm run bench`: throughput and latency of the local host's durable engine, measured in one run on
 * this machine against a file-backed SQLite store in a temp directory:
 *
 *   1. sequential chains of 500 and 1,000 no-op activities (time, and the 1000/500 ratio);
 *   2. 1,000 concurrent 5-activity orchestrations (orchestrations/s, and the delay from one
 *      activity's end to the next activity's start, p50/p99);
 *   3. the raw SQLite commit rate (better-sqlite3, WAL, synchronous=NORMAL, as the host's store);
 *   4. the replay rate of `durable-functions` alone (the orchestrator handler invoked through the
 *      host's worker shim with a recorded history, no I/O): the reference the engine is held to;
 *   5. one 5-step orchestration from its HTTP start to completion on an idle host;
 *   6. RSS of a host with 10,000 instances waiting for an external event (child process, after GC);
 *   7. Dataverse change sagas of 5 operations on the Life Cockpit app against the Dataverse
 *      simulator and Azurite (child process: it hosts another app).
 *
 * Live orchestrations (extended sessions) are on, as the local host's default.
 *
 * Prints a table and writes bench/results/latest.json. Options (after `--`):
 *   --only=sqlite,concurrent,chain,replay,latency,waiting,saga   run a subset (e.g. for `node --cpu-prof`)
 *   --orchestrations=N   (default 1000)   --steps=N (default 5)   --chains=500,1000
 *   --repeat=N (default 3; runs of the 1,000-orchestration burst, median reported)
 *   --paced-rate=N (default 800, 80 % of the throughput target; 0 = skip)   --bounded=N,M (default 50; 0 = skip)
 *   --waiting=N (default 10000)   --sagas=N (default 100)
 *   --out=FILE           JSON output (default bench/results/latest.json)
 * Experiments (not part of the reference run):
 *   --max-orch=N --max-act=N   run a copy of bench/app with these host.json limits
 *   --pragma='a=1;b=2'         run these pragmas on the host's store connection after start
 *   --memory                   in-memory store instead of a file (no disk I/O at all)
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHost, RunningHost } from '../host/host';
import type { HistoryEvent } from '../host/durable/history';
import { fromTypedData, invokeFunction } from '../host/worker/invoke';

interface Sample {
  id: string;
  k: number;
  start: number;
  end: number;
}

const samplesHolder = globalThis as unknown as { __benchSamples?: Sample[] };
const ROOT = path.resolve(__dirname, '..', '..');
const APP_DIR = path.join(ROOT, 'bench', 'app');
// The issue's targets on this 2-core machine (no-op activities).
const TARGET_ORCH_PER_SEC = 1000;
const TARGET_P99_STEP_MS = 10;
const TARGET_CHAIN_1000_MS = 5000;
const TARGET_CHAIN_RATIO = 2.5;
const TARGET_IDLE_START_TO_DONE_MS = 15;
const TARGET_WAITING_RSS_MB = 300;

// ---------------------------------------------------------------- options

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] ?? 'true';
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const only = args.only ? new Set(args.only.split(',')) : undefined;
const enabled = (name: string): boolean => !only || only.has(name);
const ORCHESTRATIONS = Number(args.orchestrations ?? 1000);
const STEPS = Number(args.steps ?? 5);
const CHAINS = (args.chains ?? '500,1000').split(',').map(Number);
const OUT = path.resolve(args.out ?? path.join(ROOT, 'bench', 'results', 'latest.json'));
// The step-delay target applies at 80 % of the throughput target, offered steadily.
const PACED_RATE = Number(args['paced-rate'] ?? 800);
const WAITING = Number(args.waiting ?? 10000);
const SAGAS = Number(args.sagas ?? 100);
const REPEAT = Math.max(1, Number(args.repeat ?? 3));
const BOUNDED = (args.bounded ?? '50')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
// Experiments only (the default run uses bench/app as it is, 100/100, and the store's own pragmas).
const MAX_ORCH = args['max-orch'] ? Number(args['max-orch']) : undefined;
const MAX_ACT = args['max-act'] ? Number(args['max-act']) : undefined;
const PRAGMAS = args.pragma ? args.pragma.split(';').filter(Boolean) : [];
const MEMORY_STORE = args.memory === 'true';

// ---------------------------------------------------------------- helpers

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function mb(bytes: number): number {
  return round(bytes / (1024 * 1024), 1);
}

/** Samples rss/heap while a scenario runs; reports the peaks. */
class MemoryWatch {
  private peakRss = 0;
  private peakHeap = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
  }

  stop(): { peakRssMB: number; peakHeapUsedMB: number } {
    this.sample();
    clearInterval(this.timer);
    return { peakRssMB: mb(this.peakRss), peakHeapUsedMB: mb(this.peakHeap) };
  }
}

function takeSamples(prefix: string): Sample[] {
  const all = samplesHolder.__benchSamples ?? [];
  const mine = all.filter((s) => s.id.startsWith(prefix));
  samplesHolder.__benchSamples = all.filter((s) => !s.id.startsWith(prefix));
  return mine;
}

/** Delay from step k's end to step k+1's start, for every instance and step. */
function stepDelays(samples: Sample[]): number[] {
  const byInstance = new Map<string, Sample[]>();
  for (const s of samples) {
    let list = byInstance.get(s.id);
    if (!list) byInstance.set(s.id, (list = []));
    list[s.k] = s;
  }
  const delays: number[] = [];
  for (const list of byInstance.values()) {
    for (let k = 1; k < list.length; k++) {
      if (list[k] && list[k - 1]) delays.push(list[k].start - list[k - 1].end);
    }
  }
  return delays;
}

interface CompletionSummary {
  completed: number;
  failed: number;
  /** Latest updated_at of a completed instance (epoch ms). */
  lastUpdated: number;
  /** created→completed per instance (ms). */
  latencies: number[];
}

function summarize(host: RunningHost, prefix: string): CompletionSummary {
  const rows = host.engine.store.db
    .prepare('SELECT status, created_at, updated_at FROM instances WHERE substr(instance_id, 1, ?) = ?')
    .all(prefix.length, prefix) as { status: string; created_at: number; updated_at: number }[];
  const out: CompletionSummary = { completed: 0, failed: 0, lastUpdated: 0, latencies: [] };
  for (const r of rows) {
    if (r.status === 'Completed') {
      out.completed++;
      out.lastUpdated = Math.max(out.lastUpdated, r.updated_at);
      out.latencies.push(r.updated_at - r.created_at);
    } else if (r.status === 'Failed' || r.status === 'Terminated') out.failed++;
  }
  return out;
}

/** Waits until `count` instances with `prefix` are final; throws on failure or timeout. */
async function waitForAll(
  host: RunningHost,
  prefix: string,
  count: number,
  timeoutMs: number,
): Promise<CompletionSummary> {
  const count$ = host.engine.store.db.prepare(
    `SELECT COUNT(*) AS n FROM instances WHERE substr(instance_id, 1, ?) = ? AND status IN ('Completed', 'Failed', 'Terminated')`,
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = (count$.get(prefix.length, prefix) as { n: number }).n;
    if (n >= count) break;
    if (Date.now() > deadline)
      throw new Error(`only ${n}/${count} '${prefix}' instances finished in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const summary = summarize(host, prefix);
  if (summary.failed > 0) {
    const failed = host.engine.store.db
      .prepare(
        `SELECT instance_id, output FROM instances WHERE substr(instance_id, 1, ?) = ? AND status != 'Completed' LIMIT 1`,
      )
      .get(prefix.length, prefix);
    throw new Error(`${summary.failed} '${prefix}' instances failed, e.g. ${JSON.stringify(failed)}`);
  }
  return summary;
}

// ---------------------------------------------------------------- 3. raw SQLite

interface SqliteResult {
  singleInsertCommitsPerSec: number;
  episodeShapedCommitsPerSec: number;
  singleInsertFullSyncCommitsPerSec: number;
  transactions: number;
}

function benchSqlite(dir: string): SqliteResult {
  const payload = JSON.stringify({
    EventType: 5,
    EventId: -1,
    IsPlayed: false,
    Timestamp: new Date().toISOString(),
    TaskScheduledId: 3,
    Result: '4',
  });
  const run = (
    file: string,
    synchronous: 'NORMAL' | 'FULL',
    n: number,
    shape: 'single' | 'episode',
  ): number => {
    const db = new Database(path.join(dir, file));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL, v TEXT NOT NULL);
      CREATE TABLE h (k TEXT NOT NULL, seq INTEGER NOT NULL, v TEXT NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;
      CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const del = db.prepare('DELETE FROM t WHERE id = ?');
    const hist = db.prepare('INSERT INTO h (k, seq, v) VALUES (?, ?, ?)');
    const up = db.prepare('INSERT INTO s (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
    const single = db.transaction((i: number) => ins.run(`i${i % 1000}`, payload));
    // Roughly what one orchestration episode commits: take a message, append 4 history rows,
    // update the instance row, add a work item.
    let lastId = 0;
    const episode = db.transaction((i: number) => {
      if (lastId) del.run(lastId);
      const key = `i${i % 1000}`;
      for (let j = 0; j < 4; j++) hist.run(key, i * 4 + j, payload);
      up.run(key, payload);
      lastId = Number(ins.run(key, payload).lastInsertRowid);
    });
    const tx = shape === 'single' ? single : episode;
    for (let i = 0; i < 200; i++) tx(i); // warm-up
    const t0 = performance.now();
    for (let i = 200; i < n + 200; i++) tx(i);
    const rate = n / ((performance.now() - t0) / 1000);
    db.close();
    return round(rate, 0);
  };
  const n = 20_000;
  return {
    transactions: n,
    singleInsertCommitsPerSec: run('normal.sqlite', 'NORMAL', n, 'single'),
    episodeShapedCommitsPerSec: run('episode.sqlite', 'NORMAL', n, 'episode'),
    singleInsertFullSyncCommitsPerSec: run('full.sqlite', 'FULL', 5_000, 'single'),
  };
}

// ---------------------------------------------------------------- 2. concurrent orchestrations

/**
 * How the orchestrations are started: all at once (the target scenario), open-loop at a fixed rate
 * below capacity, or closed-loop with at most `inFlight` unfinished at a time (what admission
 * control in the engine would do).
 */
type LoadMode = { kind: 'burst' } | { kind: 'paced'; perSec: number } | { kind: 'bounded'; inFlight: number };

interface LoadResult {
  mode: string;
  orchestrations: number;
  stepsEach: number;
  startPhaseMs: number;
  totalMs: number;
  orchestrationsPerSec: number;
  activitiesPerSec: number;
  stepDelayMs: { p50: number; p90: number; p99: number; max: number; samples: number };
  orchestrationLatencyMs: { p50: number; p99: number; max: number };
  commits: CommitStats;
  memory: { peakRssMB: number; peakHeapUsedMB: number };
  targets: { orchestrationsPerSec: number; p99StepDelayMs: number; throughputMet: boolean; p99Met: boolean };
}

function describeMode(mode: LoadMode): string {
  if (mode.kind === 'burst') return 'all started at once';
  if (mode.kind === 'paced') return `started at ${mode.perSec}/s`;
  return `at most ${mode.inFlight} in flight`;
}

async function benchLoad(
  host: RunningHost,
  prefix: string,
  count: number,
  steps: number,
  mode: LoadMode,
): Promise<LoadResult> {
  const mem = new MemoryWatch();
  const commits = commitCounter(host);
  const input = JSON.stringify({ steps });
  let started = 0;
  // As the HTTP start endpoint does: durable before acknowledged, commits shared within a turn.
  const starts: Promise<unknown>[] = [];
  const start = (): void => {
    starts.push(host.engine.startNewGrouped('benchChain', `${prefix}${started}`, input));
    started++;
  };
  const t0 = Date.now();
  const p0 = performance.now();
  if (mode.kind === 'burst') {
    while (started < count) start();
  } else if (mode.kind === 'paced') {
    const interval = 1000 / mode.perSec;
    while (started < count) {
      const due = Math.min(count, Math.floor((performance.now() - p0) / interval) + 1);
      while (started < due) start();
      if (started < count) await new Promise((r) => setTimeout(r, Math.max(1, interval)));
    }
  } else {
    // The last step of an instance starting means it is about to finish: start the next one.
    let topUp = false;
    const global = globalThis as unknown as { __benchOnSample?: (s: Sample) => void };
    global.__benchOnSample = (s) => {
      if (s.k !== steps - 1 || !s.id.startsWith(prefix) || started >= count || topUp) return;
      topUp = true;
      setImmediate(() => {
        topUp = false;
        let finishing = 0;
        for (const x of samplesHolder.__benchSamples ?? [])
          if (x.k === steps - 1 && x.id.startsWith(prefix)) finishing++;
        while (started < count && started - finishing < mode.inFlight) start();
      });
    };
    while (started < Math.min(count, mode.inFlight)) start();
  }
  if (mode.kind !== 'bounded') await Promise.all(starts);
  const startPhaseMs = performance.now() - p0;
  const summary = await waitForAll(host, prefix, count, 150_000);
  (globalThis as unknown as { __benchOnSample?: unknown }).__benchOnSample = undefined;
  const memory = mem.stop();
  const totalMs = Math.max(1, summary.lastUpdated - t0);
  const delays = stepDelays(takeSamples(prefix));
  const orchestrationsPerSec = round(count / (totalMs / 1000), 1);
  const p99 = round(percentile(delays, 99));
  return {
    mode: describeMode(mode),
    orchestrations: count,
    stepsEach: steps,
    startPhaseMs: round(startPhaseMs, 1),
    totalMs,
    orchestrationsPerSec,
    activitiesPerSec: round((count * steps) / (totalMs / 1000), 1),
    stepDelayMs: {
      p50: round(percentile(delays, 50)),
      p90: round(percentile(delays, 90)),
      p99,
      max: round(Math.max(...delays)),
      samples: delays.length,
    },
    orchestrationLatencyMs: {
      p50: percentile(summary.latencies, 50),
      p99: percentile(summary.latencies, 99),
      max: Math.max(...summary.latencies),
    },
    commits: commits.stop(totalMs),
    memory,
    targets: {
      orchestrationsPerSec: TARGET_ORCH_PER_SEC,
      p99StepDelayMs: TARGET_P99_STEP_MS,
      throughputMet: orchestrationsPerSec >= TARGET_ORCH_PER_SEC,
      p99Met: p99 < TARGET_P99_STEP_MS,
    },
  };
}

interface CommitStats {
  transactions: number;
  perSec: number;
  /** Wall time spent inside the store's outermost transactions (their JS work plus COMMIT). */
  msInTransactions: number;
  shareOfWallTime: number;
}

/**
 * Counts the host store's outermost transactions by wrapping `Store.transaction` on this one
 * instance (instrumentation only; the host's code is unchanged).
 */
function commitCounter(host: RunningHost): { stop(wallMs: number): CommitStats } {
  const store = host.engine.store;
  const original = store.transaction;
  let n = 0;
  let ms = 0;
  store.transaction = function <T>(fn: () => T): T {
    if (store.db.inTransaction) return original.call(store, fn) as T;
    n++;
    const t = performance.now();
    try {
      return original.call(store, fn) as T;
    } finally {
      ms += performance.now() - t;
    }
  };
  return {
    stop(wallMs: number): CommitStats {
      store.transaction = original;
      return {
        transactions: n,
        perSec: round(n / (wallMs / 1000), 0),
        msInTransactions: round(ms, 0),
        shareOfWallTime: round(ms / wallMs, 3),
      };
    },
  };
}

// ---------------------------------------------------------------- 1. sequential chains

interface ChainResult {
  steps: number;
  totalMs: number;
  msPerStep: number;
  historyEvents: number;
  stepDelayMs: { p50: number; p99: number; first10Avg: number; last10Avg: number };
  memory: { peakRssMB: number; peakHeapUsedMB: number };
}

async function benchChain(host: RunningHost, id: string, steps: number): Promise<ChainResult> {
  const mem = new MemoryWatch();
  const t0 = Date.now();
  host.engine.startNew('benchChain', id, JSON.stringify({ steps }));
  const summary = await waitForAll(host, id, 1, 170_000);
  const memory = mem.stop();
  const totalMs = Math.max(1, summary.lastUpdated - t0);
  const delays = stepDelays(takeSamples(id));
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    steps,
    totalMs,
    msPerStep: round(totalMs / steps, 3),
    historyEvents: host.engine.store.historyLength(id),
    stepDelayMs: {
      p50: round(percentile(delays, 50)),
      p99: round(percentile(delays, 99)),
      first10Avg: round(avg(delays.slice(0, 10))),
      last10Avg: round(avg(delays.slice(-10))),
    },
    memory,
  };
}

// ---------------------------------------------------------------- 4. library-alone replay

interface ReplayResult {
  steps: number;
  historyEvents: number;
  replays: number;
  replaysPerSec: number;
  usPerReplay: number;
  eventsPerSec: number;
}

/**
 * Replays a completed instance's last episode through the worker shim, as the engine does: the
 * stored history minus the final OrchestratorCompleted/ExecutionCompleted pair. No store access.
 */
async function benchReplay(host: RunningHost, instanceId: string, minMs: number): Promise<ReplayResult> {
  const instance = host.engine.store.getInstance(instanceId);
  if (!instance) throw new Error(`no instance ${instanceId} to replay`);
  const stored: HistoryEvent[] = host.engine.store.history(instanceId);
  const history = stored.slice(0, stored.length - 2);
  const fn = host.functions.find((f) => f.name === 'benchChain');
  if (!fn) throw new Error('benchChain is not registered');
  // Same payload shape as Engine.invokeOrchestrator.
  const payloadFor = (): string =>
    JSON.stringify({
      history,
      input: JSON.parse(instance.input ?? 'null') as unknown,
      instanceId,
      isReplaying: false,
      parentInstanceId: null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 3,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '3650.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    });
  const once = async (): Promise<unknown> => {
    const res = await invokeFunction(host.core, fn.fn, {
      inputData: [{ name: fn.triggerKey, data: { string: payloadFor() } }],
    });
    return fromTypedData(res.returnValue);
  };
  const first = (await once()) as { isDone?: boolean; output?: unknown } | undefined;
  if (!first?.isDone)
    throw new Error(`replay of ${instanceId} did not complete: ${JSON.stringify(first).slice(0, 300)}`);
  for (let i = 0; i < 20; i++) await once();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 5) {
    await once();
    n++;
  }
  const elapsed = performance.now() - t0;
  const perSec = n / (elapsed / 1000);
  const steps = (JSON.parse(instance.input ?? '{}') as { steps?: number }).steps ?? 0;
  return {
    steps,
    historyEvents: history.length,
    replays: n,
    replaysPerSec: round(perSec, 0),
    usPerReplay: round((elapsed * 1000) / n, 1),
    eventsPerSec: round(perSec * history.length, 0),
  };
}

// ---------------------------------------------------------------- 5. idle start-to-completion

interface IdleLatencyResult {
  runs: number;
  p50Ms: number;
  maxMs: number;
  minMs: number;
  target: number;
  met: boolean;
}

/**
 * One 5-step orchestration at a time, started over HTTP (the Durable start webhook) on an idle host;
 * measured from just before the request to the commit that completed it (the store's clock).
 */
async function benchIdleLatency(host: RunningHost, runs: number): Promise<IdleLatencyResult> {
  const done = host.engine.store.db.prepare(
    "SELECT updated_at FROM instances WHERE instance_id = ? AND status = 'Completed'",
  );
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await host.engine.whenIdle();
    await new Promise((r) => setTimeout(r, 20));
    const id = `idle-${i}`;
    const t0 = Date.now();
    const res = await fetch(
      `${host.url}/runtime/webhooks/durabletask/orchestrators/benchChain/${id}?code=${encodeURIComponent(host.systemKey)}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ steps: 5 }) },
    );
    if (res.status !== 202) throw new Error(`start answered ${res.status}`);
    await res.arrayBuffer();
    for (;;) {
      const row = done.get(id) as { updated_at: number } | undefined;
      if (row) {
        times.push(row.updated_at - t0);
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  takeSamples('idle-');
  const p50 = percentile(times, 50);
  return {
    runs,
    p50Ms: p50,
    maxMs: Math.max(...times),
    minMs: Math.min(...times),
    target: TARGET_IDLE_START_TO_DONE_MS,
    met: p50 < TARGET_IDLE_START_TO_DONE_MS,
  };
}

// ---------------------------------------------------------------- 6, 7. child processes

function runChild(
  script: string,
  childArgs: string[],
  nodeArgs: string[] = [],
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, script), ...childArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`${script} failed (${code}): ${err.slice(-2000)}`));
      else resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

interface LibraryOrchestrationsResult {
  episodes: number;
  orchestrations: number;
  orchestrationsPerSec: number;
  usPerOrchestration: number;
}

/**
 * The library's own limit: a whole 5-step orchestration driven through the worker shim with a full
 * replay per episode (the history each episode would see, rebuilt from a completed instance), no
 * store, no activities. What the engine's end-to-end rate is held to.
 */
async function benchLibraryOrchestrations(
  host: RunningHost,
  instanceId: string,
  minMs: number,
): Promise<LibraryOrchestrationsResult> {
  const instance = host.engine.store.getInstance(instanceId);
  if (!instance) throw new Error(`no instance ${instanceId}`);
  const stored: HistoryEvent[] = host.engine.store.history(instanceId);
  const fn = host.functions.find((f) => f.name === 'benchChain');
  if (!fn) throw new Error('benchChain is not registered');
  // Written by the host after the library answered; the library reads them only in later episodes.
  const HOST_WRITTEN = new Set([1, 4, 7, 10, 13, 14]);
  const episodes: string[] = [];
  for (let i = 0; i < stored.length; i++) {
    if (stored[i].EventType !== 12) continue;
    let end = i + 1;
    while (end < stored.length && !HOST_WRITTEN.has(stored[end].EventType)) end++;
    const history = [...stored.slice(0, i), ...stored.slice(i, end).map((e) => ({ ...e, IsPlayed: false }))];
    episodes.push(
      JSON.stringify({
        history,
        input: JSON.parse(instance.input ?? 'null') as unknown,
        instanceId,
        isReplaying: false,
        parentInstanceId: null,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 3,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '3650.00:00:00',
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      }),
    );
  }
  const orchestration = async (): Promise<boolean> => {
    let done = false;
    for (const payload of episodes) {
      const res = await invokeFunction(host.core, fn.fn, {
        inputData: [{ name: fn.triggerKey, data: { string: payload } }],
      });
      done = (fromTypedData(res.returnValue) as { isDone?: boolean }).isDone === true;
    }
    return done;
  };
  if (!(await orchestration())) throw new Error('the rebuilt episodes did not complete the orchestration');
  for (let i = 0; i < 20; i++) await orchestration();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 5) {
    await orchestration();
    n++;
  }
  const elapsed = performance.now() - t0;
  return {
    episodes: episodes.length,
    orchestrations: n,
    orchestrationsPerSec: round(n / (elapsed / 1000), 0),
    usPerOrchestration: round((elapsed * 1000) / n, 1),
  };
}

// ---------------------------------------------------------------- report

function table(rows: [string, string, string][]): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+${'-'.repeat(Math.max(...rows.map((r) => r[2].length)) + 2)}+`;
  const w2 = line.length - w0 - w1 - 10;
  const fmt = (r: [string, string, string]): string =>
    `| ${r[0].padEnd(w0)} | ${r[1].padStart(w1)} | ${r[2].padEnd(w2)} |`;
  return [line, fmt(rows[0]), line, ...rows.slice(1).map(fmt), line].join('\n');
}

function libraryVersion(name: string): string {
  try {
    return (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

function appLimits(): { maxConcurrentActivityFunctions: number; maxConcurrentOrchestratorFunctions: number } {
  const json = JSON.parse(fs.readFileSync(path.join(APP_DIR, 'host.json'), 'utf8')) as {
    extensions: {
      durableTask: { maxConcurrentActivityFunctions: number; maxConcurrentOrchestratorFunctions: number };
    };
  };
  const d = json.extensions.durableTask;
  return {
    maxConcurrentActivityFunctions: MAX_ACT ?? d.maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions: MAX_ORCH ?? d.maxConcurrentOrchestratorFunctions,
  };
}

/** bench/app itself, or (for --max-orch/--max-act) a copy in the temp dir with other limits. */
function appDirFor(tmp: string): string {
  if (MAX_ORCH === undefined && MAX_ACT === undefined) return APP_DIR;
  const dir = path.join(tmp, 'app');
  fs.cpSync(APP_DIR, dir, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const hostJson = JSON.parse(fs.readFileSync(path.join(dir, 'host.json'), 'utf8')) as {
    extensions: { durableTask: Record<string, unknown> };
  };
  Object.assign(hostJson.extensions.durableTask, {
    maxConcurrentActivityFunctions: appLimits().maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions: appLimits().maxConcurrentOrchestratorFunctions,
  });
  fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson, null, 2));
  return dir;
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-bench-'));
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemMB: mb(os.totalmem()),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      durableFunctions: libraryVersion('durable-functions'),
      azureFunctions: libraryVersion('@azure/functions'),
      betterSqlite3: libraryVersion('better-sqlite3'),
    },
    store: MEMORY_STORE ? { memory: true } : { dataDir: tmp, journal: 'WAL', synchronous: 'NORMAL' },
    app: { dir: path.relative(ROOT, APP_DIR), ...appLimits() },
    experiment: {
      maxOrch: MAX_ORCH ?? null,
      maxAct: MAX_ACT ?? null,
      pragmas: PRAGMAS,
      memoryStore: MEMORY_STORE,
    },
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
  const log = (m: string): void =>
    console.error(`[bench +${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${m}`);

  let host: RunningHost | undefined;
  try {
    if (enabled('sqlite')) {
      log('raw SQLite commit rate');
      const dir = path.join(tmp, 'raw');
      fs.mkdirSync(dir);
      results.sqlite = benchSqlite(dir);
    }

    const needHost = enabled('concurrent') || enabled('chain') || enabled('replay');
    if (needHost) {
      samplesHolder.__benchSamples = [];
      host = await startHost({
        appDir: appDirFor(tmp),
        port: 0,
        dataDir: path.join(tmp, 'host'),
        memory: MEMORY_STORE,
        quiet: true,
      });
      for (const pragma of PRAGMAS) host.engine.store.db.pragma(pragma);
      log('warm-up: 50 x 5-step orchestrations');
      for (let i = 0; i < 50; i++)
        host.engine.startNew('benchChain', `warm-${i}`, JSON.stringify({ steps: 5 }));
      await waitForAll(host, 'warm-', 50, 30_000);
      takeSamples('warm-');
    }

    const replay: Record<string, ReplayResult> = {};
    if (host && enabled('replay')) {
      log('library-alone replay of a 5-step orchestration');
      replay.fiveStep = await benchReplay(host, 'warm-0', 2000);
      results.replay = replay;
      log('library-alone 5-step orchestrations, every episode a full replay (the reference)');
      results.libraryOrchestrations = await benchLibraryOrchestrations(host, 'warm-0', 2000);
    }

    if (host && enabled('latency')) {
      log('one 5-step orchestration at a time, HTTP start to completion, idle host');
      results.idleLatency = await benchIdleLatency(host, 30);
    }

    if (host && enabled('concurrent')) {
      log(`${ORCHESTRATIONS} concurrent ${STEPS}-step orchestrations`);
      // The target scenario runs REPEAT times (other work on a 2-core machine skews single runs);
      // the run with the median throughput is reported, all runs are listed.
      const runs: LoadResult[] = [];
      for (let i = 0; i < REPEAT; i++) {
        if (i > 0) log(`  again (${i + 1}/${REPEAT})`);
        runs.push(await benchLoad(host, `conc${i}-`, ORCHESTRATIONS, STEPS, { kind: 'burst' }));
      }
      const sorted = [...runs].sort((a, b) => a.orchestrationsPerSec - b.orchestrationsPerSec);
      results.concurrent = sorted[Math.floor((sorted.length - 1) / 2)];
      results.concurrentRuns = runs.map((x) => ({
        orchestrationsPerSec: x.orchestrationsPerSec,
        p50StepDelayMs: x.stepDelayMs.p50,
        p99StepDelayMs: x.stepDelayMs.p99,
      }));
      if (PACED_RATE > 0) {
        log(`${ORCHESTRATIONS} ${STEPS}-step orchestrations started at ${PACED_RATE}/s`);
        results.paced = await benchLoad(host, 'paced-', ORCHESTRATIONS, STEPS, {
          kind: 'paced',
          perSec: PACED_RATE,
        });
        // The same delay at 80 % of the capacity this run measured, for when the target rate is
        // more than this machine sustains at the moment (then the run above measures a backlog).
        const measured = (results.concurrent as LoadResult).orchestrationsPerSec;
        const relative = Math.max(1, Math.round(measured * 0.8));
        if (relative < PACED_RATE) {
          log(`${ORCHESTRATIONS} ${STEPS}-step orchestrations started at ${relative}/s (80 % of measured)`);
          results.pacedRelative = await benchLoad(host, 'pacedrel-', ORCHESTRATIONS, STEPS, {
            kind: 'paced',
            perSec: relative,
          });
        }
      }
      for (const inFlight of BOUNDED) {
        log(`${ORCHESTRATIONS} ${STEPS}-step orchestrations, at most ${inFlight} in flight`);
        results[`bounded${inFlight}`] = await benchLoad(host, `bound${inFlight}-`, ORCHESTRATIONS, STEPS, {
          kind: 'bounded',
          inFlight,
        });
      }
    }

    if (host && enabled('chain')) {
      const chains: ChainResult[] = [];
      for (const steps of CHAINS) {
        log(`sequential chain of ${steps}`);
        chains.push(await benchChain(host, `chain${steps}-`, steps));
      }
      const a = chains.find((c) => c.steps === 500);
      const b = chains.find((c) => c.steps === 1000);
      results.chains = { runs: chains, ratio1000to500: a && b ? round(b.totalMs / a.totalMs, 2) : null };
    }

    if (host && enabled('replay') && enabled('chain') && CHAINS.length) {
      const longest = Math.max(...CHAINS);
      log(`library-alone replay of the last episode of the ${longest}-step chain`);
      replay[`chain${longest}LastEpisode`] = await benchReplay(host, `chain${longest}-`, 2000);
    }

    if (host) {
      const db = path.join(tmp, 'host', 'durable.sqlite');
      const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      results.storeFileMB = { db: mb(size(db)), wal: mb(size(`${db}-wal`)) };
      results.liveSessions = { ...host.engine.liveSessions.stats, commits: host.engine.commits.stats };
    }
    await host?.close();
    host = undefined;

    if (enabled('waiting') && WAITING > 0) {
      log(`${WAITING} instances waiting for an external event (child process)`);
      fs.mkdirSync(path.join(tmp, 'waiting'));
      results.waiting = await runChild(
        'waiting.js',
        [`--count=${WAITING}`, `--dir=${path.join(tmp, 'waiting')}`, `--app=${APP_DIR}`],
        ['--expose-gc'],
      );
    }

    if (enabled('saga') && SAGAS > 0) {
      log(`${SAGAS} Dataverse change sagas of 5 operations (child process: simulator + Azurite)`);
      fs.mkdirSync(path.join(tmp, 'saga'));
      results.saga = await runChild('saga.js', [`--sagas=${SAGAS}`, `--dir=${path.join(tmp, 'saga')}`]);
    }
  } finally {
    await host?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const mem = process.memoryUsage();
  results.processMemoryAtEnd = { rssMB: mb(mem.rss), heapUsedMB: mb(mem.heapUsed) };
  results.benchSeconds = round((performance.now() - benchStart) / 1000, 1);
  results.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2));

  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  console.log(report(results));
  console.log(`\nJSON: ${path.relative(process.cwd(), OUT)}`);
}

function report(r: Record<string, unknown>): string {
  const rows: [string, string, string][] = [['Measure', 'Value', 'Notes']];
  const m = r.machine as Record<string, unknown>;
  rows.push([
    'Machine',
    `${String(m.cpus)} CPU`,
    `${String(m.cpuModel)}, Node ${String(m.node)}, durable-functions ${String(m.durableFunctions)}`,
  ]);
  const chains = r.chains as { runs: ChainResult[]; ratio1000to500: number | null } | undefined;
  if (chains) {
    for (const c of chains.runs) {
      rows.push([
        `Chain of ${c.steps} no-op activities`,
        `${(c.totalMs / 1000).toFixed(2)} s`,
        `${c.msPerStep} ms/step; step delay p50 ${c.stepDelayMs.p50} / p99 ${c.stepDelayMs.p99} ms (first 10 ${c.stepDelayMs.first10Avg}, last 10 ${c.stepDelayMs.last10Avg}); ${c.historyEvents} history events; peak RSS ${c.memory.peakRssMB} MB`,
      ]);
    }
    const c1000 = chains.runs.find((c) => c.steps === 1000);
    if (c1000)
      rows.push([
        '  target: chain of 1000 < 5 s',
        `${(c1000.totalMs / 1000).toFixed(2)} s`,
        c1000.totalMs < TARGET_CHAIN_1000_MS ? 'MET' : 'NOT MET',
      ]);
    if (chains.ratio1000to500 !== null)
      rows.push([
        'Chain time ratio 1000/500',
        `${chains.ratio1000to500}x`,
        `2.0 = linear, 4.0 = quadratic; target < ${TARGET_CHAIN_RATIO}: ${chains.ratio1000to500 < TARGET_CHAIN_RATIO ? 'MET' : 'NOT MET'}`,
      ]);
  }
  const loads: [string, LoadResult | undefined][] = Object.keys(r)
    .filter((k) => k === 'concurrent' || k.startsWith('paced') || k.startsWith('bounded'))
    .map((k) => [k, r[k] as LoadResult]);
  const libraryRate = (r.libraryOrchestrations as LibraryOrchestrationsResult | undefined)
    ?.orchestrationsPerSec;
  for (const [key, c] of loads) {
    if (!c) continue;
    const target = key === 'concurrent';
    const all = target
      ? (r.concurrentRuns as { orchestrationsPerSec: number; p99StepDelayMs: number }[] | undefined)
      : undefined;
    // Throughput is judged on the burst; the step delay at the target load, on the paced run.
    const verdict = (met: boolean, isTarget: boolean): string =>
      isTarget ? (met ? 'MET' : 'NOT MET') : met ? 'would meet' : 'would miss';
    rows.push([
      `${c.orchestrations} x ${c.stepsEach}-step orchs, ${c.mode}${all && all.length > 1 ? ' (median run)' : ''}`,
      `${c.orchestrationsPerSec} orch/s`,
      `${libraryRate && key === 'concurrent' ? `${Math.round((100 * c.orchestrationsPerSec) / libraryRate)}% of the library's own rate; ` : ''}${key.startsWith('paced') ? 'capped by the offered load, not a capacity test' : `target >= ${c.targets.orchestrationsPerSec}: ${verdict(c.targets.throughputMet, target)}`}; ${(c.totalMs / 1000).toFixed(2)} s total, ${c.activitiesPerSec} activities/s, start phase ${c.startPhaseMs} ms`,
    ]);
    rows.push([
      '  step delay (activity end -> next start)',
      `p99 ${c.stepDelayMs.p99} ms`,
      `target < ${c.targets.p99StepDelayMs} ms${key === 'paced' ? ' at the target load' : key === 'pacedRelative' ? ' at 80 % of measured capacity' : ''}: ${verdict(c.targets.p99Met, key === 'paced')}; p50 ${c.stepDelayMs.p50}, p90 ${c.stepDelayMs.p90}, max ${c.stepDelayMs.max} ms (${c.stepDelayMs.samples} samples)`,
    ]);
    if (all && all.length > 1) {
      rows.push([
        '  all runs',
        `${all.length} runs`,
        all.map((x) => `${x.orchestrationsPerSec} orch/s, p99 ${x.p99StepDelayMs} ms`).join('; '),
      ]);
    }
    rows.push([
      '  orchestration latency (created -> done)',
      `p50 ${c.orchestrationLatencyMs.p50} ms`,
      `p99 ${c.orchestrationLatencyMs.p99} ms, max ${c.orchestrationLatencyMs.max} ms; peak RSS ${c.memory.peakRssMB} MB, heap ${c.memory.peakHeapUsedMB} MB`,
    ]);
    rows.push([
      '  store transactions',
      `${c.commits.transactions}`,
      `${c.commits.perSec}/s, ${(c.commits.transactions / c.orchestrations).toFixed(1)} per orchestration; ${c.commits.msInTransactions} ms inside them (${(c.commits.shareOfWallTime * 100).toFixed(0)}% of wall time)`,
    ]);
  }
  const idle = r.idleLatency as IdleLatencyResult | undefined;
  if (idle) {
    rows.push([
      'One 5-step orch, HTTP start -> done, idle',
      `p50 ${idle.p50Ms} ms`,
      `target < ${idle.target} ms: ${idle.met ? 'MET' : 'NOT MET'}; min ${idle.minMs}, max ${idle.maxMs} ms over ${idle.runs} runs`,
    ]);
  }
  const waiting = r.waiting as
    | { instances: number; rssMB: number; heapUsedMB: number; liveSessions: number; rssBeforeMB: number }
    | undefined;
  if (waiting) {
    rows.push([
      `RSS with ${waiting.instances} instances waiting`,
      `${waiting.rssMB} MB`,
      `target < ${TARGET_WAITING_RSS_MB} MB: ${waiting.rssMB < TARGET_WAITING_RSS_MB ? 'MET' : 'NOT MET'}; after GC; heap ${waiting.heapUsedMB} MB; ${waiting.liveSessions} kept live (cache bound); host alone ${waiting.rssBeforeMB} MB`,
    ]);
  }
  const saga = r.saga as
    | {
        sagas: number;
        sagasPerSec: number;
        latencyMs: { p50: number; p99: number };
        aloneMs: number;
        activityMs: { p50: number; p99: number };
        engineStepMs: { p50: number; p99: number };
      }
    | undefined;
  if (saga) {
    rows.push([
      `${saga.sagas} Dataverse change sagas (5 ops), at once`,
      `${saga.sagasPerSec} sagas/s`,
      `latency p50 ${saga.latencyMs.p50} ms, p99 ${saga.latencyMs.p99} ms; one saga alone ${saga.aloneMs} ms. Per step: activity (queue for the app's 10 activity slots + I/O) p50 ${saga.activityMs.p50} / p99 ${saga.activityMs.p99} ms, engine (completion -> next episode) p50 ${saga.engineStepMs.p50} / p99 ${saga.engineStepMs.p99} ms`,
    ]);
  }
  const s = r.sqlite as SqliteResult | undefined;
  if (s) {
    rows.push([
      'Raw SQLite commits (1 insert/txn)',
      `${s.singleInsertCommitsPerSec}/s`,
      'better-sqlite3, file DB, WAL, synchronous=NORMAL',
    ]);
    rows.push([
      'Raw SQLite commits (episode-shaped txn)',
      `${s.episodeShapedCommitsPerSec}/s`,
      '1 delete + 4 history inserts + 1 upsert + 1 insert per txn, NORMAL',
    ]);
    rows.push([
      'Raw SQLite commits (1 insert/txn, FULL)',
      `${s.singleInsertFullSyncCommitsPerSec}/s`,
      'synchronous=FULL (fsync per commit), for reference',
    ]);
  }
  const lib = r.libraryOrchestrations as LibraryOrchestrationsResult | undefined;
  if (lib) {
    rows.push([
      'Library alone: 5-step orchestrations (reference)',
      `${lib.orchestrationsPerSec} orch/s`,
      `${lib.usPerOrchestration} us each: ${lib.episodes} episodes, each a full replay through the worker shim; no store, no activities`,
    ]);
  }
  const replay = r.replay as Record<string, ReplayResult> | undefined;
  if (replay) {
    for (const [name, x] of Object.entries(replay)) {
      rows.push([
        `Library replay alone: ${name}`,
        `${x.replaysPerSec} replays/s`,
        `${x.usPerReplay} us/replay, ${x.historyEvents} events, ${x.eventsPerSec} events/s (worker shim, no store)`,
      ]);
    }
  }
  const store = r.storeFileMB as { db: number; wal: number } | undefined;
  if (store) rows.push(['Store files at end', `${store.db} MB`, `WAL ${store.wal} MB`]);
  const pm = r.processMemoryAtEnd as { rssMB: number; heapUsedMB: number };
  rows.push(['Process memory at end', `${pm.rssMB} MB RSS`, `heap used ${pm.heapUsedMB} MB`]);
  rows.push([
    'Bench wall time',
    `${String(r.benchSeconds)} s`,
    `load average at start ${(r.loadAverageAtStart as number[]).join(' ')}, at end ${(r.loadAverageAtEnd as number[]).join(' ')} (other processes share the 2 cores)`,
  ]);
  return table(rows);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
