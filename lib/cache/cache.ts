/**
 * The one small interface behind which the app caches values with a time to live: text in, text out,
 * by key. Callers treat a failing cache as a miss (the source stays the truth), so nothing here may
 * ever be the only copy of something. The in-process implementation lives here; Redis is redisCache.ts.
 */

export interface Cache {
  /** The value stored under `key`, or undefined when there is none or it has expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Releases connections; the cache is not used afterwards. */
  close(): Promise<void>;
}

/** Entries in this process's memory, each dropped once its time to live has passed. */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  /** `now` is the clock the time to live is measured on (tests move it instead of waiting). */
  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
