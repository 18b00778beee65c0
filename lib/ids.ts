/**
 * The one rule for ids that end up inside a blob name, a URL path or an orchestration instance id
 * (deployment ids, rollback point ids, instance ids): a request's id is checked against it before
 * anything is looked up (the API answers 400 INVALID_ID), and every store checks again before it
 * builds a blob name, so a crafted id can never name another document or another container.
 * Listings show these ids to people, so characters that reorder or hide text are refused too.
 * It never repairs an id (no trimming, decoding or normalising): a bad id is refused, not guessed at.
 */

declare const checked: unique symbol;

/** An id that passed this module's rule: safe as one segment of a blob name or a URL path. */
export type SafeId = string & { readonly [checked]: true };

/** Longest instance id: the durable engine's limit. */
export const MAX_INSTANCE_ID_LENGTH = 256;
/** Longest instance id a client may choose for a start (shorter: ids show in URLs and listings). */
export const MAX_CHOSEN_INSTANCE_ID_LENGTH = 100;
/** Longest id a store takes: point ids are `rp-` + an instance id, so longer than instance ids. */
export const MAX_ID_LENGTH = 300;
/** Longest blob name Azure Storage takes. */
const MAX_BLOB_NAME_LENGTH = 1024;

/**
 * Refused anywhere: / and \ (path separators; Azure and many proxies read \ as /), % # ? (they give
 * a URL a meaning), whitespace, control characters (Cc), format characters (Cf: bidi overrides and
 * isolates, zero-width characters, the BOM), line and paragraph separators, lone surrogates (no URL
 * can carry one) and U+FFFD (what an undecodable byte sequence, such as overlong UTF-8, decodes to).
 */
const FORBIDDEN = /[/\\%#?\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\uFFFD]/u;
/** `.` and `..` are path steps, not names; so is any run of dots to some URL parsers. */
const DOTS_ONLY = /^\.+$/;

export class InvalidIdError extends Error {
  readonly code = 'INVALID_ID';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    // The code leads the message: only the message survives an activity boundary. The id itself is
    // left out on purpose: it may hold characters that garble a log line or a terminal.
    super(`[INVALID_ID] ${field} ${problem}.`);
    this.name = 'InvalidIdError';
  }
}

function ruleText(maxLength: number): string {
  return `must be 1 to ${maxLength} characters, not only dots, without /, \\, %, #, ?, whitespace, control or invisible formatting characters`;
}

/** What is wrong with `value` as an id (undefined: nothing). */
export function idProblem(value: unknown, maxLength = MAX_ID_LENGTH): string | undefined {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > maxLength ||
    FORBIDDEN.test(value) ||
    DOTS_ONLY.test(value)
  )
    return ruleText(maxLength);
  return undefined;
}

export function isSafeId(value: unknown, maxLength = MAX_ID_LENGTH): value is SafeId {
  return idProblem(value, maxLength) === undefined;
}

/** `value` as a SafeId, or an InvalidIdError naming `field`. */
export function parseId(value: unknown, field = 'id', maxLength = MAX_ID_LENGTH): SafeId {
  const problem = idProblem(value, maxLength);
  if (problem !== undefined) throw new InvalidIdError(field, problem);
  return value as SafeId;
}

/** `value` as an instance id (the id rule, up to the engine's length), or an InvalidIdError. */
export function parseInstanceId(
  value: unknown,
  field = 'instanceId',
  maxLength = MAX_INSTANCE_ID_LENGTH,
): SafeId {
  return parseId(value, field, maxLength);
}

/** The blob name of the JSON document `id` in `folder` (`<folder>/<id>.json`); refuses a bad id. */
export function documentBlobName(folder: string, id: string, field = 'id'): string {
  return `${folder}/${parseId(id, field)}.json`;
}

/**
 * Refuses a blob name none of whose `/`-separated parts may be empty, a run of dots, or hold a
 * character the id rule refuses: the last line of defence, in the one class that talks to Blob storage.
 */
export function checkBlobName(name: string): string {
  const bad =
    name.length > MAX_BLOB_NAME_LENGTH ||
    name.split('/').some((part) => idProblem(part, MAX_BLOB_NAME_LENGTH) !== undefined);
  if (bad)
    throw new InvalidIdError(
      'blob name',
      'must be /-separated parts, each one not empty, not only dots, and without \\, %, #, ?, whitespace, control or invisible formatting characters',
    );
  return name;
}
