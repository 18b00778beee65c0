/**
 * The error of every client operation of the engine: a code the HTTP API maps to a status, and a
 * message a person can act on. Nothing else belongs here.
 */
export class EngineError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'GONE' | 'BAD_REQUEST' | 'PRECONDITION_FAILED',
    message: string,
  ) {
    super(message);
  }
}
