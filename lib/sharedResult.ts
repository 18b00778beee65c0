/**
 * One result shared by every caller for a while: the first call runs the work, and every call while
 * it runs and for `ttlMs` after it settled gets that same promise. For answers that spend someone
 * else's quota and that anyone may ask for at will (the anonymous health check's Dataverse and Graph
 * calls). One instance per piece of work: it never tells two kinds of work apart.
 */
export class SharedResult<T> {
  private current?: { promise: Promise<T>; settledAt?: number };

  constructor(private readonly now: () => number = Date.now) {}

  get(ttlMs: number, run: () => Promise<T>): Promise<T> {
    const c = this.current;
    if (c && (c.settledAt === undefined || this.now() - c.settledAt < ttlMs)) return c.promise;
    const entry: { promise: Promise<T>; settledAt?: number } = { promise: run() };
    const settled = (): void => {
      entry.settledAt = this.now();
    };
    // A failure is shared like a success (it cost the same calls); its rejection stays the callers'.
    entry.promise.then(settled, settled);
    this.current = entry;
    return entry.promise;
  }
}
