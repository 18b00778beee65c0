/**
 * Typed errors of the Dataverse client: HTTP status, Dataverse's own error code, request id, and
 * whether the failure is transient (the service is down or throttling: worth waiting for) or
 * permanent (the request itself was refused: validation, a conflict, a missing record).
 */
import { isTransientStatus, type Outage } from '../errors/transient';

/** Dataverse error codes the app branches on. */
export const DataverseErrorCodes = {
  notFound: '0x80040217',
  duplicateKey: '0x80040237',
  /** DuplicateRecordEntityKey: a create whose alternate key values another record already has. */
  duplicateAlternateKey: '0x80060892',
  concurrencyMismatch: '0x80060882',
  throttled: '0x80072322',
} as const;

export class DataverseError extends Error {
  override readonly name = 'DataverseError';

  constructor(
    message: string,
    readonly statusCode: number,
    /** Dataverse's code (e.g. 0x80040217), or a client code such as 'NETWORK_ERROR'. */
    readonly code: string,
    readonly requestId?: string,
    /** What the service's Retry-After asked for, when it sent one. */
    readonly retryAfterMs?: number,
    /** Dataverse's own message, without what the client adds around it (set for $batch parts). */
    readonly serviceMessage?: string,
  ) {
    super(message);
  }

  /** Set when Dataverse is down or throttling (429, 502/503/504, a timeout, no answer at all). */
  get transient(): Outage | undefined {
    if (!isTransientStatus(this.statusCode)) return undefined;
    return {
      service: 'Dataverse',
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
  }

  /** The caller lacks a privilege the request needs (e.g. read on the table). */
  get isForbidden(): boolean {
    return this.statusCode === 403;
  }

  get isConflict(): boolean {
    return this.statusCode === 412 || this.code === DataverseErrorCodes.concurrencyMismatch;
  }

  get isDuplicate(): boolean {
    return (
      this.code === DataverseErrorCodes.duplicateKey ||
      this.code === DataverseErrorCodes.duplicateAlternateKey
    );
  }
}
