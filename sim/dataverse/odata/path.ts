/**
 * Reads the resource path after `/api/data/v9.x/`: segments split on `/` outside quotes, each an
 * identifier with an optional key in parentheses — a GUID (`contacts(00000000-…)`) or named values
 * (`contacts(emailaddress1='a@b.c')`, `EntityDefinitions(LogicalName='contact')`). It only parses;
 * deciding whether a segment names a table, function or column is the router's job.
 */
import { uriError } from '../errors';
import { isGuid } from '../ids';

export type KeyValue = string | number | boolean | null;

export type KeySpec =
  { kind: 'id'; id: string } | { kind: 'named'; values: Map<string, KeyValue>; text: string };

export interface PathSegment {
  name: string;
  /** Present when the segment carried parentheses; `()` (a function call) gives an empty named key. */
  key?: KeySpec;
  raw: string;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

function keyValue(raw: string, segment: string): KeyValue {
  const text = raw.trim();
  if (text.startsWith("'")) {
    if (text.length < 2 || !text.endsWith("'")) throw badKey(segment);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (isGuid(text)) return text.toLowerCase();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  throw badKey(segment);
}

function badKey(segment: string): Error {
  return uriError(`Bad Request - Error in query syntax. The key in segment '${segment}' is not valid.`);
}

export function parseKey(inner: string, segment: string): KeySpec {
  const text = inner.trim();
  if (isGuid(text)) return { kind: 'id', id: text.toLowerCase() };
  const values = new Map<string, KeyValue>();
  if (text === '') return { kind: 'named', values, text };
  for (const part of splitOutsideQuotes(text, ',')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      // A single unnamed value that is not a GUID, e.g. `contacts(5)`.
      throw badKey(segment);
    }
    const name = part.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw badKey(segment);
    values.set(name, keyValue(part.slice(eq + 1), segment));
  }
  return { kind: 'named', values, text };
}

/** Splits a decoded resource path (`contacts(…)/fullname`) into segments. */
export function parsePath(path: string): PathSegment[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  return splitOutsideQuotes(trimmed, '/').map((raw) => {
    const open = raw.indexOf('(');
    if (open < 0) return { name: raw, raw };
    if (!raw.endsWith(')')) throw badKey(raw);
    return { name: raw.slice(0, open), key: parseKey(raw.slice(open + 1, -1), raw), raw };
  });
}
