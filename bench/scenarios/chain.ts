/**
 * Scenario 1: one sequential chain of N no-op activities: total time, time per step, and whether the
 * step delay grows with the history (it must not: the 1000/500 ratio is reported).
 */
import type { RunningHost } from '../../host/host';
import {
  type MemoryPeaks,
  MemoryWatch,
  percentile,
  round,
  stepDelays,
  takeSamples,
  waitForAll,
} from '../measure';

export interface ChainResult {
  steps: number;
  totalMs: number;
  msPerStep: number;
  historyEvents: number;
  stepDelayMs: { p50: number; p99: number; first10Avg: number; last10Avg: number };
  memory: MemoryPeaks;
}

export async function benchChain(host: RunningHost, id: string, steps: number): Promise<ChainResult> {
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
