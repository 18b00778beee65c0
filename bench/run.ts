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
 *      simulator and Azurite (child process: it hosts another app);
 *   8. from outside: 1,000 (and 2,000) 5-step orchestrations started over HTTP by a separate
 *      process (loadgen.ts: keyed POSTs to the start webhook, 50 in flight, then polling the
 *      instance list until none is Pending or Running), after 500 not counted; with scenario 5.
 *   9. changeCost: one Dataverse change of 5 and of 50 operations, atomic and operation by operation:
 *      Dataverse requests, activity dispatches, episodes, wall time (child process, as 7).
 *
 * Live orchestrations (extended sessions) are on, as the local host's default.
 *
 * Prints a table and writes bench/results/latest.json. Each scenario is a module of its own in
 * scenarios/ with a typed result (results.ts); report.ts prints them; this file only runs them. Options (after `--`):
 *   --only=sqlite,concurrent,chain,replay,latency,waiting,saga,http,changeCost   run a subset (e.g. for `node --cpu-prof`)
 *   --orchestrations=N   (default 1000)   --steps=N (default 5)   --chains=500,1000
 *   --repeat=N (default 3; runs of the 1,000-orchestration burst, median reported)
 *   --paced-rate=N (default 800, 80 % of the throughput target; 0 = skip)   --bounded=N,M (default 50; 0 = skip)
 *   --waiting=N (default 10000)   --sagas=N (default 100)
 *   --http=N,M (default 1000,2000; N runs --repeat times)   --http-in-flight=N (50)   --http-warmup=N (500)
 *   --out=FILE           JSON output (default bench/results/latest.json)
 * Experiments (not part of the reference run):
 *   --max-orch=N --max-act=N   run a copy of bench/app with these host.json limits
 *   --pragma='a=1;b=2'         run these pragmas on the host's store connection after start
 *   --memory                   in-memory store instead of a file (no disk I/O at all)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteBackend } from '../host/durable/sqliteBackend';
import { startHost, RunningHost } from '../host/host';
import { HOST_NODE_ARGUMENTS, missingHostArguments } from '../host/nodeArguments';
import { mb, resetSamples, round, takeSamples, waitForAll } from './measure';
import { APP_DIR, ROOT, readOptions } from './options';
import { report } from './report';
import type { BenchResults } from './results';
import { benchChain, type ChainResult } from './scenarios/chain';
import { benchChangeCost } from './scenarios/changeCost';
import { runChild, type SagaResult, type WaitingResult } from './scenarios/childProcess';
import { type FromOutsideRun, benchFromOutside } from './scenarios/fromOutside';
import { benchIdleLatency } from './scenarios/idleLatency';
import { benchLoad, type LoadResult } from './scenarios/load';
import { benchLibraryOrchestrations, benchReplay, type ReplayResult } from './scenarios/replay';
import { benchSqlite } from './scenarios/sqlite';

const options = readOptions(process.argv.slice(2));
const enabled = (name: string): boolean => !options.only || options.only.has(name);

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
    maxConcurrentActivityFunctions: options.maxAct ?? d.maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions: options.maxOrch ?? d.maxConcurrentOrchestratorFunctions,
  };
}

/** bench/app itself, or (for --max-orch/--max-act) a copy in the temp dir with other limits. */
function appDirFor(tmp: string): string {
  if (options.maxOrch === undefined && options.maxAct === undefined) return APP_DIR;
  const dir = path.join(tmp, 'app');
  fs.cpSync(APP_DIR, dir, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const hostJson = JSON.parse(fs.readFileSync(path.join(dir, 'host.json'), 'utf8')) as {
    extensions: { durableTask: Record<string, unknown> };
  };
  Object.assign(hostJson.extensions.durableTask, appLimits());
  fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson, null, 2));
  return dir;
}

function startResults(tmp: string): BenchResults {
  return {
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
      nodeArguments: [...process.execArgv],
    },
    store: options.memoryStore ? { memory: true } : { dataDir: tmp, journal: 'WAL', synchronous: 'NORMAL' },
    app: { dir: path.relative(ROOT, APP_DIR), ...appLimits() },
    experiment: {
      maxOrch: options.maxOrch ?? null,
      maxAct: options.maxAct ?? null,
      pragmas: options.pragmas,
      memoryStore: options.memoryStore,
    },
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

/** The scenarios that share one host in this process: 1, 2, 4, 5 and 8. */
async function hostScenarios(
  host: RunningHost,
  results: BenchResults,
  log: (m: string) => void,
): Promise<void> {
  const { orchestrations: count, steps } = options;
  const replay: Record<string, ReplayResult> = {};
  if (enabled('replay')) {
    log('library-alone replay of a 5-step orchestration');
    replay.fiveStep = await benchReplay(host, 'warm-0', 2000);
    results.replay = replay;
    log('library-alone 5-step orchestrations, every episode a full replay (the reference)');
    results.libraryOrchestrations = await benchLibraryOrchestrations(host, 'warm-0', 2000);
  }

  if (enabled('latency') || enabled('http')) {
    log('one 5-step orchestration at a time, HTTP start to completion, idle host');
    results.idleLatency = await benchIdleLatency(host, 30);
  }

  if (enabled('concurrent')) {
    log(`${count} concurrent ${steps}-step orchestrations`);
    // The target scenario runs REPEAT times (other work on a 2-core machine skews single runs);
    // the run with the median throughput is reported, all runs are listed.
    const runs: LoadResult[] = [];
    for (let i = 0; i < options.repeat; i++) {
      if (i > 0) log(`  again (${i + 1}/${options.repeat})`);
      runs.push(await benchLoad(host, `conc${i}-`, count, steps, { kind: 'burst' }));
    }
    const sorted = [...runs].sort((a, b) => a.orchestrationsPerSec - b.orchestrationsPerSec);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    results.concurrent = median;
    results.concurrentRuns = runs.map((x) => ({
      orchestrationsPerSec: x.orchestrationsPerSec,
      p50StepDelayMs: x.stepDelayMs.p50,
      p99StepDelayMs: x.stepDelayMs.p99,
    }));
    if (options.pacedRate > 0) {
      log(`${count} ${steps}-step orchestrations started at ${options.pacedRate}/s`);
      results.paced = await benchLoad(host, 'paced-', count, steps, {
        kind: 'paced',
        perSec: options.pacedRate,
      });
      // The same delay at 80 % of the capacity this run measured, for when the target rate is
      // more than this machine sustains at the moment (then the run above measures a backlog).
      const relative = Math.max(1, Math.round(median.orchestrationsPerSec * 0.8));
      if (relative < options.pacedRate) {
        log(`${count} ${steps}-step orchestrations started at ${relative}/s (80 % of measured)`);
        results.pacedRelative = await benchLoad(host, 'pacedrel-', count, steps, {
          kind: 'paced',
          perSec: relative,
        });
      }
    }
    for (const inFlight of options.bounded) {
      log(`${count} ${steps}-step orchestrations, at most ${inFlight} in flight`);
      results[`bounded${inFlight}`] = await benchLoad(host, `bound${inFlight}-`, count, steps, {
        kind: 'bounded',
        inFlight,
      });
    }
  }

  if (enabled('http') && options.http.length) await fromOutside(host, results, log);

  if (enabled('chain')) {
    const chains: ChainResult[] = [];
    for (const n of options.chains) {
      log(`sequential chain of ${n}`);
      chains.push(await benchChain(host, `chain${n}-`, n));
    }
    const a = chains.find((c) => c.steps === 500);
    const b = chains.find((c) => c.steps === 1000);
    results.chains = { runs: chains, ratio1000to500: a && b ? round(b.totalMs / a.totalMs, 2) : null };
  }

  if (enabled('replay') && enabled('chain') && options.chains.length) {
    const longest = Math.max(...options.chains);
    log(`library-alone replay of the last episode of the ${longest}-step chain`);
    replay[`chain${longest}LastEpisode`] = await benchReplay(host, `chain${longest}-`, 2000);
  }
}

/** Scenario 8: the first count runs `repeat` times (median reported), the others once. */
async function fromOutside(
  host: RunningHost,
  results: BenchResults,
  log: (m: string) => void,
): Promise<void> {
  const run = { steps: options.steps, inFlight: options.httpInFlight };
  const [first, ...larger] = options.http;
  if (options.httpWarmup > 0) {
    log(`from outside: warm-up of ${options.httpWarmup} over HTTP (not counted)`);
    await benchFromOutside(host, 'httpwarm-', options.httpWarmup, run);
  }
  const runs: FromOutsideRun[] = [];
  for (let i = 0; i < options.repeat; i++) {
    log(`from outside: ${first} ${options.steps}-step orchestrations over HTTP (${i + 1}/${options.repeat})`);
    runs.push(await benchFromOutside(host, `http${i}-`, first, run));
  }
  const sorted = [...runs].sort((a, b) => a.orchestrationsPerSec - b.orchestrationsPerSec);
  const others: FromOutsideRun[] = [];
  for (const n of larger) {
    log(`from outside: ${n} ${options.steps}-step orchestrations over HTTP`);
    others.push(await benchFromOutside(host, `http${n}-`, n, run));
  }
  results.fromOutside = {
    warmup: options.httpWarmup,
    median: sorted[Math.floor((sorted.length - 1) / 2)],
    runs: runs.map((x) => ({
      orchestrationsPerSec: x.orchestrationsPerSec,
      startLatencyP99Ms: x.startLatencyMs.p99,
      p99StepDelayMs: x.stepDelayMs.p99,
    })),
    larger: others,
  };
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-bench-'));
  const results = startResults(tmp);
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

    if (enabled('concurrent') || enabled('chain') || enabled('replay') || enabled('http')) {
      resetSamples();
      host = await startHost({
        appDir: appDirFor(tmp),
        port: 0,
        dataDir: path.join(tmp, 'host'),
        memory: options.memoryStore,
        quiet: true,
      });
      const store = host.engine.store;
      if (store instanceof SqliteBackend) for (const pragma of options.pragmas) store.pragma(pragma);
      log('warm-up: 50 x 5-step orchestrations');
      for (let i = 0; i < 50; i++)
        host.engine.startNew('benchChain', `warm-${i}`, JSON.stringify({ steps: 5 }));
      await waitForAll(host, 'warm-', 50, 30_000);
      takeSamples('warm-');
      await hostScenarios(host, results, log);

      const db = path.join(tmp, 'host', 'durable.sqlite');
      const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      results.storeFileMB = { db: mb(size(db)), wal: mb(size(`${db}-wal`)) };
      const stats = host.engine.store.stats;
      results.liveSessions = {
        ...host.engine.liveSessions.stats,
        commits: { commits: stats.groupCommits, writes: stats.groupWrites },
      };
    }
    await host?.close();
    host = undefined;

    if (enabled('waiting') && options.waiting > 0) {
      log(`${options.waiting} instances waiting for an external event (child process)`);
      fs.mkdirSync(path.join(tmp, 'waiting'));
      results.waiting = await runChild<WaitingResult>(
        'waiting.js',
        [`--count=${options.waiting}`, `--dir=${path.join(tmp, 'waiting')}`, `--app=${APP_DIR}`],
        [...HOST_NODE_ARGUMENTS, '--expose-gc'],
      );
    }

    if (enabled('saga') && options.sagas > 0) {
      log(`${options.sagas} Dataverse change sagas of 5 operations (child process: simulator + Azurite)`);
      fs.mkdirSync(path.join(tmp, 'saga'));
      results.saga = await runChild<SagaResult>('saga.js', [
        `--sagas=${options.sagas}`,
        `--dir=${path.join(tmp, 'saga')}`,
      ]);
    }

    if (enabled('changeCost')) {
      log('one Dataverse change of 5 and of 50 operations, atomic and per operation (child process)');
      fs.mkdirSync(path.join(tmp, 'changeCost'));
      results.changeCost = await benchChangeCost(path.join(tmp, 'changeCost'), 5);
    }
  } finally {
    await host?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const mem = process.memoryUsage();
  results.processMemoryAtEnd = { rssMB: mb(mem.rss), heapUsedMB: mb(mem.heapUsed) };
  results.benchSeconds = round((performance.now() - benchStart) / 1000, 1);
  results.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2));

  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, JSON.stringify(results, null, 2) + '\n');
  console.log(report(results));
  console.log(`\nJSON: ${path.relative(process.cwd(), options.out)}`);
}

// The host is measured with the Node arguments it runs with (host/nodeArguments.ts); started
// without them (`node dist/bench/run.js`), the bench runs itself again with them.
// --expose-gc: each load scenario starts from a collected heap (benchLoad), so none pays for the
// garbage the scenario before it left.
const missing = [
  ...missingHostArguments(),
  ...(process.execArgv.includes('--expose-gc') ? [] : ['--expose-gc']),
];
if (missing.length) {
  // Not --inspect: the inspector's port is the parent's. To inspect the bench, start it with these
  // arguments (`node --max-semi-space-size=32 --expose-gc --inspect …`) so it does not run itself again.
  const passed = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  const again = spawnSync(process.execPath, [...missing, ...passed, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (again.error)
    console.error(`bench: could not run itself again with ${missing.join(' ')}: ${again.error.message}`);
  process.exitCode = again.status ?? 1;
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
