/**
 * Time for the local host. Everything that waits (durable timers, timer triggers, retry back-off)
 * asks a Clock, never Date.now() or setTimeout directly, so that tests and `--virtual-time` can run
 * days of timers in milliseconds. A clock never moves backwards.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once the clock reaches `at` (epoch ms). Returns a function that cancels it. */
  schedule(at: number, fn: () => void): () => void;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, fn: () => void): () => void {
    // setTimeout caps at ~24.8 days; re-arm in steps so far-off timers still fire.
    const maxDelay = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    // Node's timers run on a monotonic clock and often fire a millisecond before Date.now() reaches
    // `at`; a wake-up that early finds its message not yet visible, so check and re-arm until it is.
    const arm = (): void => {
      handle = setTimeout(check, Math.min(Math.max(0, at - Date.now()), maxDelay));
      handle.unref?.();
    };
    const check = (): void => (Date.now() < at ? arm() : fn());
    arm();
    return () => clearTimeout(handle);
  }
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance`/`advanceTo` fire due callbacks in time order;
 * with `autoAdvance`, the host calls `skipToNext()` whenever it is idle, so the earliest pending
 * timer fires at once.
 */
export class VirtualClock implements Clock {
  private current: number;
  private pending: Pending[] = [];
  private seq = 0;

  constructor(start: number = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fn: () => void): () => void {
    const entry: Pending = { at, seq: this.seq++, fn };
    this.pending.push(entry);
    if (at <= this.current) queueMicrotask(() => this.fireDue());
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Time of the earliest pending callback, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const p of this.pending) if (min === undefined || p.at < min) min = p.at;
    return min;
  }

  advanceTo(target: number): void {
    while (true) {
      const next = this.nextDue();
      if (next === undefined || next > target) break;
      this.current = Math.max(this.current, next);
      this.fireDue();
    }
    this.current = Math.max(this.current, target);
  }

  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Jumps to the earliest pending callback and fires it. Returns false when nothing is pending. */
  skipToNext(): boolean {
    const next = this.nextDue();
    if (next === undefined) return false;
    this.advanceTo(next);
    return true;
  }

  private fireDue(): void {
    const due = this.pending.filter((p) => p.at <= this.current).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.pending = this.pending.filter((p) => p.at > this.current);
    for (const p of due) p.fn();
  }
}
