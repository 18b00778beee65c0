/**
 * Binding expressions as the Functions host resolves them in blob paths and queue names:
 * `%Setting%` from app settings; `{name}` (case-insensitive, dotted paths into JSON allowed) from the
 * trigger's binding data; `{rand-guid}` (a new GUID, `{rand-guid:N}` and the other .NET GUID formats)
 * and `{DateTime}` (UTC now as `yyyy-MM-ddTHH-mm-ssZ`, or `{DateTime:format}` with a .NET custom
 * format; binding data named DateTime wins, as in the WebJobs SDK); `{sys.randguid}`, `{sys.utcnow}`.
 * And the other direction: a blob trigger's path pattern matched against blob names. Pure functions:
 * no I/O, no clock of their own (the caller passes "now").
 */
import { randomUUID } from 'node:crypto';

export class BindingExpressionError extends Error {
  override readonly name = 'BindingExpressionError';
  readonly code = 'BINDING_EXPRESSION_UNRESOLVED';
}

/** `%Name%` → the app setting's value; a missing setting is an error, as at the host's indexing. */
export function resolveAppSettings(text: string, settings: Record<string, string | undefined>): string {
  return text.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = settings[name];
    if (value === undefined)
      throw new BindingExpressionError(`'%${name}%' does not resolve to an app setting.`);
    return value;
  });
}

/** Resolves every `{...}` in `template`. `now` is epoch ms (the host's clock). */
export function resolveBindingPath(
  template: string,
  bindingData: Record<string, unknown>,
  now: number,
): string {
  return template.replace(/\{([^{}]+)\}/g, (_, raw: string) => resolveOne(raw.trim(), bindingData, now));
}

function resolveOne(expr: string, data: Record<string, unknown>, now: number): string {
  const colon = expr.indexOf(':');
  const head = (colon < 0 ? expr : expr.slice(0, colon)).toLowerCase();
  const format = colon < 0 ? undefined : expr.slice(colon + 1);
  if (head === 'rand-guid' || head === 'sys.randguid') return formatGuid(randomUUID(), format);
  if (head === 'sys.utcnow') return formatDate(new Date(now), format);
  if (head === 'datetime') {
    const own = lookup(data, 'DateTime');
    return own === undefined ? formatDate(new Date(now), format) : pathValue(expr, own);
  }
  const value = lookup(data, expr);
  if (value === undefined) throw new BindingExpressionError(`No value for named parameter '${expr}'.`);
  return pathValue(expr, value);
}

/** Case-insensitive lookup; `a.b.c` walks into objects (JSON payload properties). */
export function lookup(data: Record<string, unknown>, path: string): unknown {
  let current: unknown = data;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    const record = current as Record<string, unknown>;
    const key =
      part in record ? part : Object.keys(record).find((k) => k.toLowerCase() === part.toLowerCase());
    if (key === undefined) return undefined;
    current = record[key];
  }
  return current;
}

/** The SDK puts only text, whole numbers and GUIDs into paths; anything else names the problem. */
function pathValue(expr: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  throw new BindingExpressionError(
    `The value of '{${expr}}' is ${value === null ? 'null' : typeof value}; a path takes text or a whole number.`,
  );
}

function formatGuid(guid: string, format: string | undefined): string {
  const bare = guid.replace(/-/g, '');
  switch ((format ?? 'D').toUpperCase()) {
    case 'N':
      return bare;
    case 'B':
      return `{${guid}}`;
    case 'P':
      return `(${guid})`;
    default:
      return guid;
  }
}

/** The SDK's default for a DateTime in a path: ISO 8601 with dashes, since ':' is awkward in names. */
const DEFAULT_DATE_FORMAT = 'yyyy-MM-ddTHH-mm-ssZ';

/** A .NET custom date format (UTC): yyyy yy MM M dd d HH H hh h mm m ss s fff ff f tt, 'quoted' text. */
export function formatDate(date: Date, format: string | undefined): string {
  const f = format && format.length > 0 ? format : DEFAULT_DATE_FORMAT;
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const h = date.getUTCHours();
  const tokens: Record<string, () => string> = {
    yyyy: () => pad(date.getUTCFullYear(), 4),
    yy: () => pad(date.getUTCFullYear() % 100, 2),
    MM: () => pad(date.getUTCMonth() + 1, 2),
    M: () => String(date.getUTCMonth() + 1),
    dd: () => pad(date.getUTCDate(), 2),
    d: () => String(date.getUTCDate()),
    HH: () => pad(h, 2),
    H: () => String(h),
    hh: () => pad(h % 12 || 12, 2),
    h: () => String(h % 12 || 12),
    mm: () => pad(date.getUTCMinutes(), 2),
    m: () => String(date.getUTCMinutes()),
    ss: () => pad(date.getUTCSeconds(), 2),
    s: () => String(date.getUTCSeconds()),
    fff: () => pad(date.getUTCMilliseconds(), 3),
    ff: () => pad(Math.floor(date.getUTCMilliseconds() / 10), 2),
    f: () => String(Math.floor(date.getUTCMilliseconds() / 100)),
    tt: () => (h < 12 ? 'AM' : 'PM'),
  };
  const pattern = /'[^']*'|"[^"]*"|\\.|yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|fff|ff|f|tt/g;
  return f.replace(pattern, (token) => {
    if (token.startsWith("'") || token.startsWith('"')) return token.slice(1, -1);
    if (token.startsWith('\\')) return token.slice(1);
    return tokens[token]?.() ?? token;
  });
}

/** A blob trigger's `container/pattern`, ready to list (by prefix) and match names. */
export interface BlobPathPattern {
  container: string;
  /** The literal start of the blob name, for listing. */
  prefix: string;
  /** The `{name}` captures of a matching blob name; undefined when it does not match. */
  match(blobName: string): Record<string, string> | undefined;
}

export function parseBlobPathPattern(path: string): BlobPathPattern {
  const slash = path.indexOf('/');
  const container = slash < 0 ? path : path.slice(0, slash);
  const namePattern = slash < 0 ? '' : path.slice(slash + 1);
  if (!container || /[{}]/.test(container))
    throw new BindingExpressionError(
      `The blob trigger path '${path}' must start with a container name (no expressions in it).`,
    );
  const names: string[] = [];
  let source = '';
  let prefix: string | undefined;
  let last = 0;
  for (const m of namePattern.matchAll(/\{([^{}]+)\}/g)) {
    const literal = namePattern.slice(last, m.index);
    prefix ??= literal;
    source += escapeRegExp(literal) + '(.+?)';
    names.push((m[1] as string).trim());
    last = (m.index ?? 0) + m[0].length;
  }
  const tail = namePattern.slice(last);
  source += escapeRegExp(tail);
  // No expression at all: the path names a folder (or nothing), and every blob under it matches.
  const regex = names.length === 0 ? undefined : new RegExp(`^${source}$`);
  return {
    container,
    prefix: prefix ?? tail,
    match(blobName) {
      if (!regex) return blobName.startsWith(tail) ? {} : undefined;
      const m = regex.exec(blobName);
      if (!m) return undefined;
      const out: Record<string, string> = {};
      names.forEach((n, i) => (out[n] = m[i + 1] as string));
      return out;
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
