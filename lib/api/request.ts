/**
 * Reading what a client sent: the body (size-limited, JSON only), query values, instance ids and
 * the Idempotency-Key header. Everything here turns a bad request into an ApiError naming the
 * field; handlers work with checked values afterwards. Never reads settings on its own: the body
 * limit is passed in.
 */
import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { idempotencyInstanceId } from '../instanceIds';
import { ApiError } from './errors';

/** Reads the body as JSON; an empty body is `undefined`. Over `maxBytes` is a 413. */
export async function readJsonBody(request: HttpRequest, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = (): ApiError =>
    new ApiError(
      413,
      'PAYLOAD_TOO_LARGE',
      `The request body is larger than the ${maxBytes} bytes this API accepts.`,
    );
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw tooLarge();
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH))
    throw new ApiError(400, 'JSON_TOO_DEEP', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  return value;
}

/**
 * The deepest nesting a body may have: Json.NET's default, which the Durable extension applies to
 * orchestration inputs on Azure. Deeper values parse, but serializing them again (as starting an
 * orchestration does) overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed JSON value has arrays or objects nested deeper than `max`; never recurses. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Like readJsonBody, but the body must be absent or a JSON object. */
export async function readObjectBody(
  request: HttpRequest,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const body = await readJsonBody(request, maxBytes);
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw ApiError.invalidInput([{ field: '(body)', message: 'must be a JSON object' }]);
  return body as Record<string, unknown>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The instance id an Idempotency-Key stands for: a hash of the key, so the same key always names
 * the same instance (durably, with nothing stored) and a retried request finds the first run.
 */
export function instanceIdForIdempotencyKey(request: HttpRequest): string | undefined {
  const key = request.headers.get('idempotency-key');
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw ApiError.invalidInput([
      { field: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' },
    ]);
  return idempotencyInstanceId(createHash('sha256').update(key).digest('hex').slice(0, 40));
}

/** A boolean query flag: absent is false; `true`/`false` (any case); anything else a 400. */
export function queryFlag(request: HttpRequest, name: string): boolean {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return false;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw ApiError.invalidInput([{ field: name, message: 'must be true or false' }]);
}

/** A date-time query value, or undefined when absent. */
export function queryDate(request: HttpRequest, name: string): Date | undefined {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw ApiError.invalidInput([{ field: name, message: 'must be an ISO 8601 date and time' }]);
  return new Date(t);
}

/** A whole number query value within [min, max], or the fallback when absent. */
export function queryInt(
  request: HttpRequest,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw ApiError.invalidInput([{ field: name, message: `must be a whole number from ${min} to ${max}` }]);
  return n;
}

/** A comma-separated query list (`?status=a,b`, or repeated `?status=a&status=b`), trimmed. */
export function queryList(request: HttpRequest, name: string): string[] {
  return request.query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
