/**
 * What the bench scenarios measure with: percentiles, memory peaks, the step samples bench/app's
 * activities record, completion polling through the engine's backend, and the backend's commit
 * counters over a scenario. Reads only: it never writes to the host's store.
 */
import type { RunningHost } from '../host/host';

export interface Sample {
  id: string;
  k: number;
  start: number;
  end: number;
}

const samplesHolder = globalThis as unknown as {
  __benchSamples?: Sample[];
  __benchOnSample?: (s: Sample) => void;
};

export function resetSamples(): void {
  samplesHolder.__benchSamples = [];
}

export function allSamples(): Sample[] {
  return samplesHolder.__benchSamples ?? [];
}

/** Called by bench/app for every sample recorded (undefined: nobody listens). */
export function onSample(listener: ((s: Sample) => void) | undefined): void {
  samplesHolder.__benchOnSample = listener;
}

export function takeSamples(prefix: string): Sample[] {
  const all = allSamples();
  const mine = all.filter((s) => s.id.startsWith(prefix));
  samplesHolder.__benchSamples = all.filter((s) => !s.id.startsWith(prefix));
  return mine;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function mb(bytes: number): number {
  return round(bytes / (1024 * 1024), 1);
}

export interface MemoryPeaks {
  peakRssMB: number;
  peakHeapUsedMB: number;
}

/** Samples rss/heap while a scenario runs; reports the peaks. */
export class MemoryWatch {
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

  stop(): MemoryPeaks {
    this.sample();
    clearInterval(this.timer);
    return { peakRssMB: mb(this.peakRss), peakHeapUsedMB: mb(this.peakHeap) };
  }
}

/** Delay from step k's end to step k+1's start, for every instance and step. */
export function stepDelays(samples: Sample[]): number[] {
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

export interface CompletionSummary {
  completed: number;
  failed: number;
  /** Latest updatedAt of a completed instance (epoch ms). */
  lastUpdated: number;
  /** created→completed per instance (ms). */
  latencies: number[];
  /** One failed instance, for the error message. */
  firstFailure?: { instanceId: string; output: string | null };
}

function summarize(host: RunningHost, prefix: string): CompletionSummary {
  const out: CompletionSummary = { completed: 0, failed: 0, lastUpdated: 0, latencies: [] };
  let continuation: string | undefined;
  do {
    const page = host.engine.store.queryInstances({ instanceIdPrefix: prefix, continuation });
    for (const r of page.rows) {
      if (r.status === 'Completed') {
        out.completed++;
        out.lastUpdated = Math.max(out.lastUpdated, r.updatedAt);
        out.latencies.push(r.updatedAt - r.createdAt);
      } else if (r.status === 'Failed' || r.status === 'Terminated') {
        out.failed++;
        out.firstFailure ??= { instanceId: r.instanceId, output: r.output };
      }
    }
    continuation = page.continuation;
  } while (continuation);
  return out;
}

/** Waits until `count` instances with `prefix` are final; throws on failure or timeout. */
export async function waitForAll(
  host: RunningHost,
  prefix: string,
  count: number,
  timeoutMs: number,
): Promise<CompletionSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = host.engine.store.countInstances({
      instanceIdPrefix: prefix,
      statuses: ['Completed', 'Failed', 'Terminated'],
    });
    if (n >= count) break;
    if (Date.now() > deadline)
      throw new Error(`only ${n}/${count} '${prefix}' instances finished in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const summary = summarize(host, prefix);
  if (summary.failed > 0)
    throw new Error(
      `${summary.failed} '${prefix}' instances failed, e.g. ${JSON.stringify(summary.firstFailure)}`,
    );
  return summary;
}

export interface CommitStats {
  transactions: number;
  perSec: number;
  /** Wall time spent inside the store's outermost transactions (their JS work plus COMMIT). */
  msInTransactions: number;
  shareOfWallTime: number;
}

/** The backend's transaction counters over a scenario: read at its start, and at its end. */
export function commitCounter(host: RunningHost): { stop(wallMs: number): CommitStats } {
  const before = { ...host.engine.store.stats };
  return {
    stop(wallMs: number): CommitStats {
      const after = host.engine.store.stats;
      const n = after.transactions - before.transactions;
      const ms = after.msInTransactions - before.msInTransactions;
      return {
        transactions: n,
        perSec: round(n / (wallMs / 1000), 0),
        msInTransactions: round(ms, 0),
        shareOfWallTime: round(ms / wallMs, 3),
      };
    },
  };
}
