/**
 * Group commit for the SQLite backend: the writes that finish within one turn of the event loop
 * (episode outcomes, starts, activity result batches) go to SQLite in one transaction, each inside
 * its own savepoint so that one failing write rolls back alone. A commit costs far more than the
 * writes in it, so this is what lets many orchestrations progress at once on a small machine. Each
 * caller gets its own write's value once the whole batch is durable, never before.
 */

interface Job {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** Set while its batch is written; handed to the caller only once the batch is committed. */
  outcome?: { ok: true; value: unknown } | { ok: false; err: unknown };
}

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  /** Batches committed, and writes in them. */
  readonly stats = { commits: 0, writes: 0 };

  /** `transaction` runs a function in a transaction, or in a savepoint when already inside one. */
  constructor(private readonly transaction: <T>(fn: () => T) => T) {}

  /** Runs `write` in the next batch; resolves with its value once that batch is committed. */
  commit<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ write, resolve: resolve as (value: unknown) => void, reject });
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
    try {
      this.transaction(() => {
        for (const job of jobs) {
          try {
            job.outcome = { ok: true, value: this.transaction(job.write) };
          } catch (err) {
            job.outcome = { ok: false, err: err ?? new Error('write failed') };
          }
        }
      });
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    this.stats.commits++;
    this.stats.writes += jobs.length;
    for (const job of jobs) {
      const outcome = job.outcome;
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome?.err);
    }
  }
}
