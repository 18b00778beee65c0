/**
 * The dispatcher: which orchestration or entity runs next. It keeps the ready queues (work already
 * under way before new starts), one clock wake-up per instance for its earliest future message, the
 * concurrency limit, and the retry back-off after a failure of the host itself. Its queues are only
 * a cache of what the store holds (rebuilt by `start`); it never reads or writes the store itself
 * beyond asking when an instance's next message is due, and never runs user code.
 */
import type { Clock } from '../clock';

export interface DispatcherOptions {
  clock: Clock;
  maxConcurrent: number;
  /** Runs one episode (or entity batch) of an instance. A throw is a failure of the host. */
  run: (id: string) => Promise<void>;
  /** When the instance's earliest message that is not visible yet becomes visible. */
  nextDue: (id: string, now: number) => number | undefined;
  /** Whether the activity runner has nothing to do: part of "the engine is idle". */
  activitiesIdle: () => boolean;
  log: (level: 'error', message: string) => void;
}

export class Dispatcher {
  /** Instances with new events for work already under way: served before new starts. */
  private readonly ready = new Set<string>();
  /** Instances whose first episode has not run yet; admitted only when no started work is waiting. */
  private readonly readyNew = new Set<string>();
  private readonly running = new Set<string>();
  /** Instances that got new messages while an episode was running. */
  private readonly dirty = new Set<string>();
  /** One clock wakeup per instance, for its earliest future message; later ones are re-armed after each run. */
  private readonly scheduledWakeups = new Map<string, { at: number; cancel: () => void }>();
  private readonly mayHaveFutureMessages = new Set<string>();
  private readonly hostFailures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private pumpScheduled = false;
  private stopped = true;

  constructor(private readonly options: DispatcherOptions) {}

  /** Starts dispatching, with the instances the store has messages for (and when they are due). */
  start(pending: { instanceId: string; due: number }[]): void {
    this.stopped = false;
    for (const { instanceId, due } of pending) {
      this.mayHaveFutureMessages.add(instanceId);
      this.notify(instanceId, due);
    }
  }

  /** Stops dispatching: new work is ignored (the store keeps it) and wake-ups are cancelled. */
  stop(): void {
    this.stopped = true;
    for (const w of this.scheduledWakeups.values()) w.cancel();
    this.scheduledWakeups.clear();
  }

  /** Waits (bounded) for running episodes; unfinished ones are safe to abandon, their messages stay. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  /** True when nothing is runnable now (timers in the future may still be pending). */
  isIdle(): boolean {
    return (
      this.ready.size === 0 &&
      this.readyNew.size === 0 &&
      this.running.size === 0 &&
      this.options.activitiesIdle()
    );
  }

  hasScheduledWakeups(): boolean {
    return this.scheduledWakeups.size > 0;
  }

  /** Resolves once nothing is runnable. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Wakes idle waiters if nothing is runnable; call when work may have finished. */
  checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Marks an instance (or entity) as having work visible at `visibleAt`. */
  notify(id: string, visibleAt: number, isNew = false): void {
    if (this.stopped) return;
    const { clock } = this.options;
    if (visibleAt > clock.now()) {
      this.mayHaveFutureMessages.add(id);
      const existing = this.scheduledWakeups.get(id);
      if (existing && existing.at <= visibleAt) return;
      existing?.cancel();
      const cancel = clock.schedule(visibleAt, () => {
        this.scheduledWakeups.delete(id);
        this.notify(id, clock.now());
      });
      this.scheduledWakeups.set(id, { at: visibleAt, cancel });
      return;
    }
    if (this.running.has(id)) {
      this.dirty.add(id);
      return;
    }
    (isNew ? this.readyNew : this.ready).add(id);
    this.schedulePump();
  }

  /**
   * A failure of the host itself (not of user code) leaves the messages in the inbox; try again with
   * a growing delay, so a transient problem heals and a persistent one does not spin.
   */
  private retryAfterHostFailure(id: string, err: unknown): void {
    const failures = (this.hostFailures.get(id) ?? 0) + 1;
    this.hostFailures.set(id, failures);
    const delayMs = Math.min(1000 * 2 ** (failures - 1), 60_000);
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.options.log(
      'error',
      `Episode of '${id}' failed in the host (attempt ${failures}; retrying in ${delayMs} ms): ${text}`,
    );
    this.notify(id, this.options.clock.now() + delayMs);
  }

  private armNextWakeup(id: string): void {
    const next = this.options.nextDue(id, this.options.clock.now());
    if (next === undefined) this.mayHaveFutureMessages.delete(id);
    else this.notify(id, next);
  }

  private takeReady(): string | undefined {
    for (const queue of [this.ready, this.readyNew]) {
      for (const id of queue) {
        queue.delete(id);
        return id;
      }
    }
    return undefined;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.running.size < this.options.maxConcurrent) {
      const id = this.takeReady();
      if (id === undefined) break;
      if (this.running.has(id)) {
        this.dirty.add(id);
        continue;
      }
      this.running.add(id);
      this.options
        .run(id)
        .then(() => this.hostFailures.delete(id))
        .catch((err: unknown) => this.retryAfterHostFailure(id, err))
        .finally(() => {
          this.running.delete(id);
          if (this.dirty.delete(id)) this.notify(id, this.options.clock.now());
          if (this.mayHaveFutureMessages.has(id)) this.armNextWakeup(id);
          this.schedulePump();
          this.checkIdle();
        });
    }
    this.checkIdle();
  }
}
