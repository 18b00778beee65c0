/**
 * Scenario 8: throughput as a client sees it. A separate process (loadgen.ts) starts bench/app's
 * 5-step `benchChain` over HTTP (the Durable start webhook, keyed by instance id, a fixed number
 * of requests in flight) and polls the instance list until none is Pending or Running. Its figures
 * are the client's; the step delays and store transactions beside them are read from this host.
 */
import type { RunningHost } from '../../host/host';
import type { LoadgenReport } from '../loadgen';
import { type CommitStats, commitCounter, percentile, round, stepDelays, takeSamples } from '../measure';
import { TARGETS } from '../options';
import { runChild } from './childProcess';

export interface FromOutsideRun extends LoadgenReport {
  stepsEach: number;
  stepDelayMs: { p50: number; p99: number };
  commits: CommitStats;
  /** CPU this (host) process used during the run, user + system; the client's is clientCpuMs. */
  hostCpuMs: number;
  /**
   * Later episodes that found no live orchestration and replayed the whole history (the cache
   * counts each first episode as a miss too: those are left out), and live ones evicted.
   */
  liveSessions: { replays: number; evictions: number };
  target: { orchestrationsPerSec: number; met: boolean };
}

export interface FromOutsideOptions {
  steps: number;
  inFlight: number;
  /** The client script; default dist/bench/loadgen.js beside this scenario's build. */
  loadgenScript?: string;
}

export async function benchFromOutside(
  host: RunningHost,
  prefix: string,
  count: number,
  options: FromOutsideOptions,
): Promise<FromOutsideRun> {
  const commits = commitCounter(host);
  const cpuBefore = process.cpuUsage();
  const live = { ...host.engine.liveSessions.stats };
  const client = await runChild<LoadgenReport>(
    options.loadgenScript ?? 'loadgen.js',
    [
      `--url=${host.url}`,
      '--name=benchChain',
      `--count=${count}`,
      `--in-flight=${options.inFlight}`,
      `--prefix=${prefix}`,
      `--input=${JSON.stringify({ steps: options.steps })}`,
    ],
    [],
    { BENCH_SYSTEM_KEY: host.systemKey },
  );
  const cpu = process.cpuUsage(cpuBefore);
  const delays = stepDelays(takeSamples(prefix));
  // Every start answered and every orchestration completed, or the rate means nothing.
  const whole =
    client.errors === 0 &&
    client.transportErrors === 0 &&
    client.completed === count &&
    client.notCompleted === 0;
  return {
    ...client,
    stepsEach: options.steps,
    stepDelayMs: { p50: round(percentile(delays, 50)), p99: round(percentile(delays, 99)) },
    commits: commits.stop(client.wallMs),
    hostCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    liveSessions: {
      replays: Math.max(0, host.engine.liveSessions.stats.misses - live.misses - count),
      evictions: host.engine.liveSessions.stats.evictions - live.evictions,
    },
    target: {
      orchestrationsPerSec: TARGETS.orchestrationsPerSec,
      met: whole && client.orchestrationsPerSec >= TARGETS.orchestrationsPerSec,
    },
  };
}
