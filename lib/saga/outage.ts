/**
 * How a saga waits out a transient outage: when the next attempt of a step (or a compensation) is
 * due after a transient failure, and when a step stops waiting. Pure arithmetic on times the
 * orchestration context gives it (deterministic on replay): never reads a clock or a setting.
 */

/** How long a step (or a compensation) keeps retrying a service that is down or throttling. */
export interface TransientRetry {
  /**
   * Milliseconds from the first transient failure. Steps default to what the failing activity
   * reported (TRANSIENT_RETRY_MINUTES), else DEFAULT_TRANSIENT_RETRY_MS; compensations default to
   * no bound: they exist to get through, and only a permanent failure makes one fail.
   */
  forMs?: number;
}

export const DEFAULT_TRANSIENT_RETRY_MS = 15 * 60_000;

/** The first wait without Retry-After; each further one doubles, up to MAX_WAIT_MS. */
const FIRST_WAIT_MS = 5_000;
const MAX_WAIT_MS = 5 * 60_000;
/** Even a Retry-After of 0 waits this long: a timer due at once would spin against a down service. */
const MIN_WAIT_MS = 1_000;

/**
 * When retry number `retry` (1 for the first) is due, or undefined when the bound has passed: the
 * service's Retry-After if it sent one, else exponential backoff; never past the bound, so the last
 * attempt happens when the bound runs out.
 */
export function nextAttemptAt(
  firstFailureAt: number,
  now: number,
  retry: number,
  boundMs: number,
  retryAfterMs?: number,
): number | undefined {
  const deadline = firstFailureAt + boundMs;
  if (now >= deadline) return undefined;
  const backoff = Math.min(FIRST_WAIT_MS * 2 ** Math.min(retry - 1, 20), MAX_WAIT_MS);
  const wait = Math.max(retryAfterMs ?? backoff, MIN_WAIT_MS);
  return Math.min(now + wait, deadline);
}
