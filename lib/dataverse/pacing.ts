/**
 * Service-protection pacing for the Dataverse client: a token bucket per app user, so the app stays
 * under Dataverse's limit of about 6,000 requests per 5 minutes per user instead of running into its
 * 429s. Every HTTP request takes one token (a `$batch` is one request, whatever it holds). A short wait
 * for a token is waited out; a long one is refused at once with a transient 429-like DataverseError
 * (REQUEST_BUDGET_SPENT, with the wait as its Retry-After), so a saga step shows `waiting` and retries
 * on a durable timer instead of holding a worker. The clock is injected; nothing here reads settings.
 */
import { delay } from './delay';
import { DataverseError } from './errors';

export interface PacerOptions {
  /** Requests allowed per 5 minutes, on average. */
  requestsPer5Min: number;
  /** The longest wait for a token that is waited out in place; longer ones fail as throttled. Default 1 s. */
  maxWaitMs?: number;
  /** Tokens the bucket holds when full (the burst). Default a tenth of the 5-minute budget. */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const WINDOW_MS = 5 * 60_000;
export const REQUEST_BUDGET_SPENT = 'REQUEST_BUDGET_SPENT';

/**
 * Refilled at requestsPer5Min / 5 min and holding a tenth of that when full, the bucket lets through
 * at most 1.1 × the budget in any 5-minute window: the default 5,000 stays below Dataverse's 6,000.
 */
export class RequestPacer {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private tokens: number;
  private updatedAt: number;
  /** Set by a 429 from Dataverse itself: no token is handed out before then. */
  private blockedUntil = 0;

  constructor(options: PacerOptions) {
    if (!(options.requestsPer5Min > 0)) throw new RangeError('requestsPer5Min must be positive.');
    this.ratePerMs = options.requestsPer5Min / WINDOW_MS;
    this.capacity = Math.max(1, options.burst ?? Math.floor(options.requestsPer5Min / 10));
    this.maxWaitMs = options.maxWaitMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? delay;
    this.tokens = this.capacity;
    this.updatedAt = this.now();
  }

  /** Tokens available now (fractional; negative while requests are reserved ahead). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * How long the next request would wait for its token, without taking it; 0 when one is free now.
   */
  waitFor(): number {
    this.refill();
    const untilToken = this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMs;
    return Math.max(untilToken, this.blockedUntil - this.now());
  }

  /**
   * Takes a token for one request, waiting for it when the wait is short; a long wait throws a
   * transient DataverseError (429, REQUEST_BUDGET_SPENT) with the wait as its retryAfterMs.
   */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.waitFor();
    if (wait > this.maxWaitMs) {
      throw new DataverseError(
        `Throttled by the app's own pacing (${REQUEST_BUDGET_SPENT}): its Dataverse request budget is spent for now; next request in ${Math.ceil(wait / 1000)} s.`,
        429,
        REQUEST_BUDGET_SPENT,
        undefined,
        Math.ceil(wait),
      );
    }
    // Reserved before waiting, so concurrent callers queue behind each other instead of all waking at once.
    this.tokens -= 1;
    if (wait > 0) await this.sleep(wait, signal);
  }

  /** Dataverse itself said 429 with Retry-After: hold every request of this user until then. */
  throttledFor(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.ratePerMs);
    this.updatedAt = now;
  }
}
