/**
 * Typed errors of the Graph client: the HTTP status, Graph's own error code and the request id, so
 * callers branch on a code instead of parsing messages. A status of 0 means Graph never answered (a
 * dropped connection or a timeout): the request may or may not have been processed.
 */

export class GraphServiceError extends Error {
  override readonly name = 'GraphServiceError';

  constructor(
    message: string,
    /** HTTP status Graph answered with; 0 when no answer arrived. */
    readonly statusCode: number,
    /** Graph's error code (e.g. ErrorInvalidUser, Request_ResourceNotFound) or a client code. */
    readonly code: string,
    readonly requestId?: string,
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

  /** Worth another attempt later: throttling, a server error or no answer at all. */
  get isTransient(): boolean {
    return this.statusCode === 0 || this.statusCode === 429 || this.statusCode >= 500;
  }
}
