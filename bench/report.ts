/**
 * The bench's printed table: one row per measure with its value and what it is held to. Reads a
 * BenchResults and nothing else; measuring is the scenarios' job.
 */
import { TARGETS } from './options';
import type { BenchResults } from './results';
import type { FromOutsideRun } from './scenarios/fromOutside';
import { CHANGE_COST_TARGETS } from './scenarios/changeCost';
import type { LoadResult } from './scenarios/load';

type Row = [string, string, string];

function table(rows: Row[]): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+${'-'.repeat(Math.max(...rows.map((r) => r[2].length)) + 2)}+`;
  const w2 = line.length - w0 - w1 - 10;
  const fmt = (r: Row): string => `| ${r[0].padEnd(w0)} | ${r[1].padStart(w1)} | ${r[2].padEnd(w2)} |`;
  return [line, fmt(rows[0]), line, ...rows.slice(1).map(fmt), line].join('\n');
}

function chainRows(r: BenchResults, rows: Row[]): void {
  const chains = r.chains;
  if (!chains) return;
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
      c1000.totalMs < TARGETS.chain1000Ms ? 'MET' : 'NOT MET',
    ]);
  if (chains.ratio1000to500 !== null)
    rows.push([
      'Chain time ratio 1000/500',
      `${chains.ratio1000to500}x`,
      `2.0 = linear, 4.0 = quadratic; target < ${TARGETS.chainRatio}: ${chains.ratio1000to500 < TARGETS.chainRatio ? 'MET' : 'NOT MET'}`,
    ]);
}

/** The load runs in the order they ran: the burst (median), paced ones, bounded ones. */
function loadRuns(r: BenchResults): [string, LoadResult][] {
  const runs: [string, LoadResult | undefined][] = [
    ['concurrent', r.concurrent],
    ['paced', r.paced],
    ['pacedRelative', r.pacedRelative],
    ...Object.keys(r)
      .filter((k): k is `bounded${number}` => /^bounded\d+$/.test(k))
      .map((k): [string, LoadResult | undefined] => [k, r[k]]),
  ];
  return runs.filter((x): x is [string, LoadResult] => x[1] !== undefined);
}

function loadRows(r: BenchResults, rows: Row[]): void {
  const libraryRate = r.libraryOrchestrations?.orchestrationsPerSec;
  for (const [key, c] of loadRuns(r)) {
    const target = key === 'concurrent';
    const all = target ? r.concurrentRuns : undefined;
    // Throughput is judged on the burst; the step delay at the target load, on the paced run.
    const verdict = (met: boolean, isTarget: boolean): string =>
      isTarget ? (met ? 'MET' : 'NOT MET') : met ? 'would meet' : 'would miss';
    rows.push([
      `${c.orchestrations} x ${c.stepsEach}-step orchs, ${c.mode}${all && all.length > 1 ? ' (median run)' : ''}`,
      `${c.orchestrationsPerSec} orch/s`,
      `${libraryRate && target ? `${Math.round((100 * c.orchestrationsPerSec) / libraryRate)}% of the library's own rate; ` : ''}${key.startsWith('paced') ? 'capped by the offered load, not a capacity test' : `target >= ${c.targets.orchestrationsPerSec}: ${verdict(c.targets.throughputMet, target)}`}; ${(c.totalMs / 1000).toFixed(2)} s total, ${c.activitiesPerSec} activities/s, start phase ${c.startPhaseMs} ms`,
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
    const { minorGcs: minor, majorGcs: major, eventLoopDelayMs: loop } = c.pauses;
    rows.push([
      '  pauses (GC, event loop)',
      `${major.count} full GC`,
      `full GC ${major.totalMs} ms (longest ${major.maxMs}); ${minor.count} scavenges ${minor.totalMs} ms (longest ${minor.maxMs}); event-loop delay p99 ${loop.p99}, max ${loop.max} ms`,
    ]);
    rows.push([
      '  store transactions',
      `${c.commits.transactions}`,
      `${c.commits.perSec}/s, ${(c.commits.transactions / c.orchestrations).toFixed(1)} per orchestration; ${c.commits.msInTransactions} ms inside them (${(c.commits.shareOfWallTime * 100).toFixed(0)}% of wall time)`,
    ]);
  }
}

/**
 * What the run cost in CPU per orchestration, and what the target rate would need of this
 * machine's cores: the throughput from outside is bounded by this when host and client share them.
 */
function cpuRow(c: FromOutsideRun, cpus: number): Row {
  const host = c.hostCpuMs / c.orchestrations;
  const client = c.clientCpuMs / c.orchestrations;
  const coresAtTarget = ((host + client) * c.target.orchestrationsPerSec) / 1000;
  return [
    '  CPU per orchestration',
    `${(host + client).toFixed(2)} ms`,
    `host ${host.toFixed(2)} ms + client ${client.toFixed(2)} ms; at ${c.target.orchestrationsPerSec}/s that is ${coresAtTarget.toFixed(2)} cores busy (this machine: ${cpus})`,
  ];
}

function fromOutsideRow(c: FromOutsideRun, label: string, cpus: number, rows: Row[]): void {
  const failures = c.errors + c.transportErrors + c.notCompleted;
  rows.push([
    `${c.orchestrations} x ${c.stepsEach}-step orchs over HTTP, ${c.inFlight} in flight${label}`,
    `${c.orchestrationsPerSec} orch/s`,
    `target >= ${c.target.orchestrationsPerSec} from outside: ${c.target.met ? 'MET' : 'NOT MET'}; ${(c.wallMs / 1000).toFixed(2)} s to none Pending or Running (${c.polls} polls every ${c.pollIntervalMs} ms); ${c.completed}/${c.orchestrations} completed (${c.listPages} list pages)${failures ? `; ${c.errors} non-2xx ${JSON.stringify(c.errorStatuses)}, ${c.transportErrors} unanswered, ${c.notCompleted} not completed` : '; 0 errors'}`,
  ]);
  rows.push([
    '  start requests (client-side)',
    `p50 ${c.startLatencyMs.p50} ms`,
    `p99 ${c.startLatencyMs.p99} ms, max ${c.startLatencyMs.max} ms; ${c.startsPerSec} starts/s over ${(c.startPhaseMs / 1000).toFixed(2)} s; client CPU ${c.clientCpuMs} ms`,
  ]);
  rows.push(cpuRow(c, cpus));
  rows.push([
    '  step delay, store transactions (host-side)',
    `p99 ${c.stepDelayMs.p99} ms`,
    `p50 ${c.stepDelayMs.p50} ms; ${c.commits.transactions} transactions, ${(c.commits.transactions / c.orchestrations).toFixed(1)} per orchestration, ${(c.commits.shareOfWallTime * 100).toFixed(0)}% of wall time inside them; live orchestrations: ${c.liveSessions.replays} later episodes replayed from the start, ${c.liveSessions.evictions} evicted`,
  ]);
}

/** Scenario 8: the client's view, median of the repeated run first. */
function fromOutsideRows(r: BenchResults, rows: Row[]): void {
  const h = r.fromOutside;
  if (!h) return;
  fromOutsideRow(h.median, h.runs.length > 1 ? ' (median run)' : '', r.machine.cpus, rows);
  if (h.runs.length > 1)
    rows.push([
      '  all runs',
      `${h.runs.length} runs`,
      `${h.runs.map((x) => `${x.orchestrationsPerSec} orch/s, start p99 ${x.startLatencyP99Ms} ms, step p99 ${x.p99StepDelayMs} ms`).join('; ')}; after ${h.warmup} not counted`,
    ]);
  for (const c of h.larger) fromOutsideRow(c, '', r.machine.cpus, rows);
}

function changeCostRows(r: BenchResults, rows: Row[]): void {
  for (const c of r.changeCost?.rows ?? []) {
    rows.push([
      `Dataverse change of ${c.operations} ops, ${c.atomic ? 'atomic' : 'per operation'}`,
      `${c.dataverseRequests} requests`,
      `${c.activityDispatches} activity dispatches, ${c.episodes} episodes; wall p50 ${c.wallMs.p50} ms (min ${c.wallMs.min}, max ${c.wallMs.max}, ${c.runs} runs, one at a time, metadata cached, unpaced); at most ${Math.floor(5000 / Math.max(1, c.dataverseRequests))} such changes per 5 min within the default request budget (5,000)`,
    ]);
    if (c.atomic && c.operations === 5) {
      const met =
        c.dataverseRequests <= CHANGE_COST_TARGETS.requests &&
        c.activityDispatches <= CHANGE_COST_TARGETS.activityDispatches;
      rows.push([
        `  target: <= ${CHANGE_COST_TARGETS.requests} requests, <= ${CHANGE_COST_TARGETS.activityDispatches} dispatches`,
        `${c.dataverseRequests} / ${c.activityDispatches}`,
        met ? 'MET' : 'NOT MET',
      ]);
    }
  }
}

function otherRows(r: BenchResults, rows: Row[]): void {
  const idle = r.idleLatency;
  if (idle) {
    rows.push([
      'One 5-step orch, HTTP start -> done, idle',
      `p50 ${idle.p50Ms} ms`,
      `target < ${idle.target} ms: ${idle.met ? 'MET' : 'NOT MET'}; min ${idle.minMs}, max ${idle.maxMs} ms over ${idle.runs} runs`,
    ]);
  }
  const waiting = r.waiting;
  if (waiting) {
    rows.push([
      `RSS with ${waiting.instances} instances waiting`,
      `${waiting.rssMB} MB`,
      `target < ${TARGETS.waitingRssMB} MB: ${waiting.rssMB < TARGETS.waitingRssMB ? 'MET' : 'NOT MET'}; after GC; heap ${waiting.heapUsedMB} MB; ${waiting.liveSessions} kept live (cache bound); host alone ${waiting.rssBeforeMB} MB`,
    ]);
  }
  const saga = r.saga;
  if (saga) {
    rows.push([
      `${saga.sagas} Dataverse change sagas (5 ops), at once`,
      `${saga.sagasPerSec} sagas/s`,
      `latency p50 ${saga.latencyMs.p50} ms, p99 ${saga.latencyMs.p99} ms; one saga alone ${saga.aloneMs} ms. Per step: activity (queue for the app's 10 activity slots + I/O) p50 ${saga.activityMs.p50} / p99 ${saga.activityMs.p99} ms, engine (completion -> next episode) p50 ${saga.engineStepMs.p50} / p99 ${saga.engineStepMs.p99} ms`,
    ]);
  }
  const s = r.sqlite;
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
  const lib = r.libraryOrchestrations;
  if (lib) {
    rows.push([
      'Library alone: 5-step orchestrations (reference)',
      `${lib.orchestrationsPerSec} orch/s`,
      `${lib.usPerOrchestration} us each: ${lib.episodes} episodes, each a full replay through the worker shim; no store, no activities`,
    ]);
  }
  for (const [name, x] of Object.entries(r.replay ?? {})) {
    rows.push([
      `Library replay alone: ${name}`,
      `${x.replaysPerSec} replays/s`,
      `${x.usPerReplay} us/replay, ${x.historyEvents} events, ${x.eventsPerSec} events/s (worker shim, no store)`,
    ]);
  }
  if (r.storeFileMB)
    rows.push(['Store files at end', `${r.storeFileMB.db} MB`, `WAL ${r.storeFileMB.wal} MB`]);
}

export function report(r: BenchResults): string {
  const rows: Row[] = [['Measure', 'Value', 'Notes']];
  const m = r.machine;
  rows.push([
    'Machine',
    `${m.cpus} CPU`,
    `${m.cpuModel}, Node ${m.node}${m.nodeArguments.length ? ` (${m.nodeArguments.join(' ')})` : ''}, durable-functions ${m.durableFunctions}`,
  ]);
  chainRows(r, rows);
  loadRows(r, rows);
  fromOutsideRows(r, rows);
  otherRows(r, rows);
  changeCostRows(r, rows);
  const pm = r.processMemoryAtEnd;
  if (pm) rows.push(['Process memory at end', `${pm.rssMB} MB RSS`, `heap used ${pm.heapUsedMB} MB`]);
  rows.push([
    'Bench wall time',
    `${String(r.benchSeconds)} s`,
    `load average at start ${r.loadAverageAtStart.join(' ')}, at end ${(r.loadAverageAtEnd ?? []).join(' ')} (other processes share the 2 cores)`,
  ]);
  return table(rows);
}
