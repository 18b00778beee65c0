/**
 * Typed errors of the Graph client: the HTTP status, Graph's own error code and the request id, so
 * callers branch on a code instead of parsing messages. A status of 0 means Graph never answered (a
 * dropped connection or a timeout): the request may or may not have been processed. `transient`
 * tells a failure worth waiting for (Graph down or throttling) from one where Graph refused the
 * request itself.
 */
import { isTransientStatus, type Outage } from '../errors/transient';

export class GraphServiceError extends Error {
  override readonly name = 'GraphServiceError';

  constructor(
    message: string,
    /** HTTP status Graph answered with; 0 when no answer arrived. */
    readonly statusCode: number,
    /** Graph's error code (e.g. ErrorInvalidUser, Request_ResourceNotFound) or a client code. */
    readonly code: string,
    readonly requestId?: string,
    /** What Graph's Retry-After asked for, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
  }

  get isThrottled(): boolean {
    return this.statusCode === 429;
  }

  /** No answer arrived: a write may have happened or not. */
  get isNoResponse(): boolean {
    return this.statusCode === 0;
  }

  /** Worth another attempt later: throttling, a gateway or timeout answer, or no answer at all. */
  get isTransient(): boolean {
    return isTransientStatus(this.statusCode);
  }

  /** Set when the failure is transient: which service, and its Retry-After. */
  get transient(): Outage | undefined {
    if (!this.isTransient) return undefined;
    return {
      service: 'Graph',
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }
}
