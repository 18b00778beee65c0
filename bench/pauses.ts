/**
 * What stopped the event loop during a scenario: garbage collections (from the `gc` performance
 * entries) and the longest event-loop delay (perf_hooks' histogram). A step-delay tail follows
 * these pauses, so a run reports them beside its percentiles.
 */
import {
  PerformanceObserver,
  constants,
  monitorEventLoopDelay,
  type IntervalHistogram,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { round } from './measure';

export interface Pauses {
  /** Young-generation collections (scavenges): count, their total and longest pause. */
  minorGcs: { count: number; totalMs: number; maxMs: number };
  /** Full (mark-compact) collections: count, their total and longest pause. */
  majorGcs: { count: number; totalMs: number; maxMs: number };
  /** The event loop's delay (ms): p99 and the longest stall seen. */
  eventLoopDelayMs: { p99: number; max: number };
}

export class PauseWatch {
  private readonly minor = { count: 0, totalMs: 0, maxMs: 0 };
  private readonly major = { count: 0, totalMs: 0, maxMs: 0 };
  private readonly observer: PerformanceObserver;
  private readonly loop: IntervalHistogram;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        // Incremental-marking steps and weak-callback processing are neither: count only the two pauses.
        const into =
          kind === constants.NODE_PERFORMANCE_GC_MINOR
            ? this.minor
            : kind === constants.NODE_PERFORMANCE_GC_MAJOR
              ? this.major
              : undefined;
        if (!into) continue;
        into.count++;
        into.totalMs += entry.duration;
        into.maxMs = Math.max(into.maxMs, entry.duration);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    // 5 ms: fine enough to see a stall that matters to a 10 ms target, without waking the loop every ms.
    this.loop = monitorEventLoopDelay({ resolution: 5 });
    this.loop.enable();
  }

  stop(): Pauses {
    this.observer.disconnect();
    this.loop.disable();
    const ms = (ns: number): number => round(ns / 1e6, 1);
    const done = (g: { count: number; totalMs: number; maxMs: number }) => ({
      count: g.count,
      totalMs: round(g.totalMs, 1),
      maxMs: round(g.maxMs, 1),
    });
    return {
      minorGcs: done(this.minor),
      majorGcs: done(this.major),
      eventLoopDelayMs: { p99: ms(this.loop.percentile(99)), max: ms(this.loop.max) },
    };
  }
}
