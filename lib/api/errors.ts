/**
 * The public API's error answers: every error body is `{ code, message }` (and `details` for input
 * problems), so a client can branch on `code` and a person can act on `message`. Messages never
 * carry secrets: every answer is redacted, and unexpected errors are logged (redacted too) and
 * recorded as exceptions, while the caller gets only their invocation id.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { FieldProblem } from '../contracts/problems';
import { InvalidIdError } from '../ids';
import { appRedactor, telemetry } from '../telemetry';

export type { FieldProblem } from '../contracts/problems';

export type ApiErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_JSON'
  | 'INVALID_ID'
  | 'RESERVED_INSTANCE_ID'
  | 'INSTANCE_ID_TAKEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INSTANCE_NOT_RUNNING'
  | 'INSTANCE_NOT_SUSPENDED'
  | 'INSTANCE_RUNNING'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'INTERNAL';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldProblem[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static invalidInput(problems: FieldProblem[], message?: string): ApiError {
    return new ApiError(
      400,
      'INVALID_INPUT',
      message ?? `The input is not valid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
      problems,
    );
  }

  /** An id the API cannot use (lib/ids.ts): 400, naming the field and the rule. */
  static invalidId(err: InvalidIdError): ApiError {
    return new ApiError(400, err.code, `Not a usable ${err.field}: it ${err.problem}.`, [
      { field: err.field, message: err.problem },
    ]);
  }

  static notFound(message: string): ApiError {
    return new ApiError(404, 'NOT_FOUND', message);
  }
}

export function errorResponse(err: ApiError): HttpResponseInit {
  const redactor = appRedactor();
  const body: Record<string, unknown> = { code: err.code, message: redactor.text(err.message) };
  if (err.details) body.details = redactor.value(err.details);
  return { status: err.status, jsonBody: body };
}

/**
 * Wraps a handler so that an ApiError becomes its answer, an id refused by lib/ids.ts a 400 (even
 * when a store refused it, not the handler), and anything else a 500 whose message names the
 * invocation (the error itself goes to the log, where secrets in it stay private).
 */
export function answering(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      if (err instanceof InvalidIdError) return errorResponse(ApiError.invalidId(err));
      const redacted = appRedactor().error(err);
      context.error(redacted);
      telemetry().exception(redacted, {
        InvocationId: context.invocationId,
        FunctionName: context.functionName,
      });
      return errorResponse(
        new ApiError(
          500,
          'INTERNAL',
          `The request failed unexpectedly; the function log has the details (invocation ${context.invocationId}).`,
        ),
      );
    }
  };
}
