/** Typed errors of the Dataverse client: HTTP status, Dataverse's own error code, request id. */

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
  ) {
    super(message);
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
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
