/**
 * Transient failures: a service that is down or throttling for a while (429, 502/503/504, a timeout,
 * a dropped or refused connection) as opposed to one that refused the request itself. The clients
 * classify their own errors (`transient` on DataverseError and GraphServiceError); an activity that
 * gives up on one fails with a ServiceUnavailableError, whose message is the only part that survives
 * into the orchestration's history, so everything the saga needs to wait instead of compensating
 * (the service, its Retry-After, how long to keep trying) is written into that message here and read
 * back from it here, nowhere else. Reading must stay a pure function of the message: orchestrators
 * call it on replay.
 */
import { CodedError, codeOf, readCode } from './codedError';

/** What a transient failure tells whoever retries: which service, and when it asked to be called again. */
export interface Outage {
  service: string;
  /** The service's Retry-After, when it sent one. */
  retryAfterMs?: number;
}

/** A transient failure read back from an activity's failure, as the saga sees it. */
export interface TransientFailure extends Outage {
  /** The failure without the code and the retry hints: what a person is shown while the saga waits. */
  detail: string;
  /** How long a saga step keeps retrying, from the app's setting when the activity failed. */
  retryForMs?: number;
}

export const SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE';

/** Statuses that say "not now" rather than "not this": throttling, gateways and timeouts. */
const TRANSIENT_STATUSES = new Set([408, 429, 502, 503, 504]);

/** Whether an HTTP answer (0: none arrived) is worth another attempt later. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || TRANSIENT_STATUSES.has(status);
}

/**
 * The wait a Retry-After header asks for (delta-seconds or an HTTP date), or undefined when there is
 * none or it cannot be read: then the client backs off on its own. A missing header is not "retry at
 * once" (Number(null) is 0, which made a 503 without the header burn every retry in milliseconds).
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  const text = header?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the IMF-fixdate form HTTP senders must use: Date.parse alone takes '1.5' or '-1' for dates.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class ServiceUnavailableError extends CodedError<typeof SERVICE_UNAVAILABLE> {
  override readonly name = 'ServiceUnavailableError';

  constructor(
    readonly service: string,
    readonly detail: string,
    readonly retryAfterMs?: number,
    readonly retryForMs?: number,
  ) {
    super(SERVICE_UNAVAILABLE, describe(service, detail, retryAfterMs, retryForMs));
  }
}

function describe(service: string, detail: string, retryAfterMs?: number, retryForMs?: number): string {
  const hints: string[] = [];
  if (retryAfterMs !== undefined) hints.push(`retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  if (retryForMs !== undefined) hints.push(`retries for ${Math.round(retryForMs / 60_000)} min`);
  const tail = hints.length ? ` (${hints.join('; ')})` : '';
  return `${service} is unavailable: ${detail.trim()}${tail}`;
}

const READ =
  /^(\S+) is unavailable: (.*?)(?: \((?:retry after (\d+) s)?(?:; )?(?:retries for (\d+) min)?\))?$/s;

/**
 * The transient failure an error carries, or undefined for any other failure: a client error that
 * classifies itself as transient, a ServiceUnavailableError, or a task failure (from history) whose
 * message a ServiceUnavailableError wrote.
 */
export function transientFailure(err: unknown): TransientFailure | undefined {
  if (err instanceof ServiceUnavailableError)
    return {
      service: err.service,
      detail: err.detail,
      retryAfterMs: err.retryAfterMs,
      retryForMs: err.retryForMs,
    };
  const own = (err as { transient?: unknown } | null)?.transient;
  if (err instanceof Error && isOutage(own)) return { ...own, detail: err.message };
  if (codeOf(err) !== SERVICE_UNAVAILABLE) return undefined;
  const text = failureText(err);
  const m = READ.exec(readCode(text).message);
  if (!m) return undefined;
  return {
    service: m[1],
    detail: m[2],
    ...(m[3] !== undefined ? { retryAfterMs: Number(m[3]) * 1000 } : {}),
    ...(m[4] !== undefined ? { retryForMs: Number(m[4]) * 60_000 } : {}),
  };
}

/**
 * What an activity throws for an error: a transient one becomes a ServiceUnavailableError that
 * carries how long steps keep retrying (read by the activity, so the orchestrator never reads
 * settings); anything else is thrown as it is.
 */
export function asActivityFailure(err: unknown, retryForMs?: number): unknown {
  if (err instanceof ServiceUnavailableError) return err;
  const transient = transientFailure(err);
  if (!transient) return err;
  return new ServiceUnavailableError(
    transient.service,
    transient.detail,
    transient.retryAfterMs,
    transient.retryForMs ?? retryForMs,
  );
}

function isOutage(value: unknown): value is Outage {
  return typeof value === 'object' && value !== null && typeof (value as Outage).service === 'string';
}

function failureText(err: unknown): string {
  const failure = (err as { failureDetails?: { errorMessage?: unknown } } | null)?.failureDetails;
  if (typeof failure?.errorMessage === 'string') return failure.errorMessage;
  return err instanceof Error ? err.message : String(err);
}
