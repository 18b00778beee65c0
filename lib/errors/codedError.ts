/**
 * Coded errors: a code a machine can branch on, and a message a person can act on. Only a failure's
 * message survives an activity or orchestration boundary, so the code travels inside it, written as
 * `[CODE] message` by codedMessage() and read back by readCode(); nothing else in the app builds or
 * parses that form. Subclasses narrow the code to their own union. Never put secrets in a message:
 * it is shown in statuses and logs.
 */

/** A code: capital letters, digits and underscores, starting with a letter. */
const CODE = /\[([A-Z][A-Z0-9_]+)\]\s*(.*)/s;

/** The one way a code is written into a failure message. */
export function codedMessage(code: string, message: string): string {
  return `[${code}] ${message}`;
}

/** The one way a code is read back: the first `[CODE]` in the text and what follows it. */
export function readCode(text: string): { code?: string; message: string } {
  const m = CODE.exec(text);
  return m ? { code: m[1], message: m[2].trim() } : { message: text };
}

/**
 * The code an error carries: its own when it is a CodedError here, else the one written into its
 * message (a failure that came back from an activity or a sub-orchestration).
 */
export function codeOf(err: unknown): string | undefined {
  if (err instanceof CodedError) return err.code;
  const failure = (err as { failureDetails?: { errorMessage?: unknown } } | null)?.failureDetails;
  const text =
    typeof failure?.errorMessage === 'string'
      ? failure.errorMessage
      : err instanceof Error
        ? err.message
        : String(err);
  return readCode(text).code;
}

export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(codedMessage(code, message));
    // A plain coded failure reports as an Error (the type a saga step shows); subclasses name themselves.
    this.name = 'Error';
  }
}
