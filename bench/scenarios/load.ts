/**
 * Scenario 2: many concurrent orchestrations of bench/app's `benchChain` on one host: throughput,
 * the delay from one activity's end to the next one's start, latency, store transactions and memory.
 * Started as the HTTP start endpoint does (group commit); measured from the host's own records.
 */
import { performance } from 'node:perf_hooks';
import type { RunningHost } from '../../host/host';
import {
  type CommitStats,
  type MemoryPeaks,
  MemoryWatch,
  allSamples,
  commitCounter,
  onSample,
  percentile,
  round,
  stepDelays,
  takeSamples,
  waitForAll,
} from '../measure';
import { TARGETS } from '../options';
import { PauseWatch, type Pauses } from '../pauses';

/**
 * How the orchestrations are started: all at once (the target scenario), open-loop at a fixed rate
 * below capacity, or closed-loop with at most `inFlight` unfinished at a time (what admission
 * control in the engine would do).
 */
export type LoadMode =
  { kind: 'burst' } | { kind: 'paced'; perSec: number } | { kind: 'bounded'; inFlight: number };

export interface LoadResult {
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
  memory: MemoryPeaks;
  /** Garbage collections and event-loop stalls during the run: what the step-delay tail follows. */
  pauses: Pauses;
  targets: { orchestrationsPerSec: number; p99StepDelayMs: number; throughputMet: boolean; p99Met: boolean };
}

function describeMode(mode: LoadMode): string {
  if (mode.kind === 'burst') return 'all started at once';
  if (mode.kind === 'paced') return `started at ${mode.perSec}/s`;
  return `at most ${mode.inFlight} in flight`;
}

export async function benchLoad(
  host: RunningHost,
  prefix: string,
  count: number,
  steps: number,
  mode: LoadMode,
): Promise<LoadResult> {
  // The load's own collections are measured, not the old space an earlier scenario filled.
  (globalThis as { gc?: () => void }).gc?.();
  const mem = new MemoryWatch();
  const pauseWatch = new PauseWatch();
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
    onSample((s) => {
      if (s.k !== steps - 1 || !s.id.startsWith(prefix) || started >= count || topUp) return;
      topUp = true;
      setImmediate(() => {
        topUp = false;
        let finishing = 0;
        for (const x of allSamples()) if (x.k === steps - 1 && x.id.startsWith(prefix)) finishing++;
        while (started < count && started - finishing < mode.inFlight) start();
      });
    });
    while (started < Math.min(count, mode.inFlight)) start();
  }
  if (mode.kind !== 'bounded') await Promise.all(starts);
  const startPhaseMs = performance.now() - p0;
  const summary = await waitForAll(host, prefix, count, 150_000);
  onSample(undefined);
  const memory = mem.stop();
  const pauses = pauseWatch.stop();
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
    pauses,
    targets: {
      orchestrationsPerSec: TARGETS.orchestrationsPerSec,
      p99StepDelayMs: TARGETS.p99StepDelayMs,
      throughputMet: orchestrationsPerSec >= TARGETS.orchestrationsPerSec,
      p99Met: p99 < TARGETS.p99StepDelayMs,
    },
  };
}
