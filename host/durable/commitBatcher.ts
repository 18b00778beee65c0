/**
 * Group commit: the writes of every episode (and activity result batch) that finishes within one
 * turn of the event loop go to SQLite in one transaction, each inside its own savepoint so that one
 * failing write rolls back alone. A commit costs far more than the writes in it, so this is what
 * lets many orchestrations progress at once on a small machine. Callers await their own outcome;
 * nothing of a batch is visible to them before the whole batch is durable.
 */
import type { Store } from './store';

interface Job {
  write: () => void;
  /** Undoes in-memory staging a write did when its savepoint is rolled back. */
  onRollback?: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CommitBatcher {
  private jobs: Job[] = [];
  private scheduled = false;
  /** Outermost transactions committed, and writes in them (for benchmarks). */
  readonly stats = { commits: 0, writes: 0 };

  constructor(
    private readonly store: Store,
    /** Undoes in-memory staging of a whole batch whose commit failed. */
    private readonly onBatchRollback: () => void = () => undefined,
  ) {}

  /** Runs `write` in the next batch; resolves once that batch is committed. */
  commit(write: () => void, onRollback?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.jobs.push({ write, onRollback, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 0) return;
    const failures = new Map<Job, unknown>();
    try {
      this.store.transaction(() => {
        for (const job of jobs) {
          try {
            this.store.transaction(job.write);
          } catch (err) {
            job.onRollback?.();
            failures.set(job, err ?? new Error('write failed'));
          }
        }
      });
    } catch (err) {
      this.onBatchRollback();
      for (const job of jobs) job.reject(err);
      return;
    }
    this.stats.commits++;
    this.stats.writes += jobs.length;
    for (const job of jobs) {
      if (failures.has(job)) job.reject(failures.get(job));
      else job.resolve();
    }
  }
}
