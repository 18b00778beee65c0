/**
 * The OData query options the Graph simulator serves — $select, $top, $skiptoken — with Graph's
 * rules and errors, plus what follows from them: projected records, @odata.context and
 * @odata.nextLink. Must never silently ignore a system query option it does not implement: a
 * $filter that is dropped would hand a caller the wrong data without a word.
 */
import { graphErrors } from './errors';

export interface QueryOptions {
  /** Canonical property names asked for, or null for the resource's default set. */
  select: string[] | null;
  top: number | null;
  /** Where the page starts, decoded from $skiptoken. */
  offset: number;
}

const IMPLEMENTED = new Set(['$select', '$top', '$skiptoken']);
const MAX_PAGE_SIZE = 999;

export interface SelectRules {
  /** The OData type name used in errors, e.g. 'user'. */
  type: string;
  /** Names a $select may use, in canonical case. */
  known: ReadonlySet<string>;
}

export function parseQuery(
  query: URLSearchParams,
  rules: SelectRules,
  options: { paged: boolean },
): QueryOptions {
  const seen = new Set<string>();
  for (const name of query.keys()) {
    const option = name.toLowerCase();
    if (!option.startsWith('$')) continue; // Graph ignores parameters that are not query options.
    if (seen.has(option)) throw graphErrors.repeatedQueryOption(name);
    seen.add(option);
    if (!IMPLEMENTED.has(option)) throw graphErrors.queryOptionNotSimulated(name);
    if (!options.paged && option !== '$select') throw graphErrors.queryOptionNotAllowed(name);
  }
  const raw = (option: string): string | null => {
    for (const [name, value] of query) if (name.toLowerCase() === option) return value;
    return null;
  };
  return {
    select: parseSelect(raw('$select'), rules),
    top: parseTop(raw('$top')),
    offset: decodeSkipToken(raw('$skiptoken')),
  };
}

function parseSelect(raw: string | null, rules: SelectRules): string[] | null {
  if (raw === null || raw.trim() === '') return null;
  const byLowerCase = new Map([...rules.known].map((name) => [name.toLowerCase(), name]));
  const picked: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (name === '*') {
      picked.push(...rules.known);
      continue;
    }
    const canonical = byLowerCase.get(name.toLowerCase());
    if (!canonical) throw graphErrors.unknownProperty(name, rules.type);
    picked.push(canonical);
  }
  return [...new Set(picked)];
}

function parseTop(raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^-?\d+$/.test(raw.trim())) throw graphErrors.notAnInteger('$top', raw);
  const top = Number(raw.trim());
  if (top < 1 || top > MAX_PAGE_SIZE) throw graphErrors.pageSizeOutOfRange(raw);
  return top;
}

// The token is opaque to callers, as Graph's is; it only has to survive being re-sent verbatim
// (the Graph JS client re-sends nextLink query values without re-encoding them), hence base64url.
const TOKEN_PREFIX = 'graphsim:';

export function encodeSkipToken(offset: number): string {
  return Buffer.from(`${TOKEN_PREFIX}${offset}`, 'utf8').toString('base64url');
}

function decodeSkipToken(raw: string | null): number {
  if (raw === null) return 0;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const match = text.startsWith(TOKEN_PREFIX) ? /^\d+$/.exec(text.slice(TOKEN_PREFIX.length)) : null;
  if (!match) throw graphErrors.invalidPageToken();
  return Number(match[0]);
}

/** Copies the properties asked for, in order; one the record lacks is null, as Graph serves it. */
export function project(record: object, properties: readonly string[]): Record<string, unknown> {
  const source = record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of properties) out[name] = source[name] ?? null;
  return out;
}

/** `<root>/$metadata#users`, `#users(displayName,mail)`, `#users/$entity`... as Graph writes them. */
export function contextUrl(
  serviceRoot: string,
  entitySet: string,
  select: string[] | null,
  entity: boolean,
): string {
  const projection = select ? `(${select.join(',')})` : '';
  return `${serviceRoot}/$metadata#${entitySet}${projection}${entity ? '/$entity' : ''}`;
}

/** The next page's URL: the same request with every other option kept and a fresh $skiptoken. */
export function nextLink(
  serviceRoot: string,
  path: string,
  query: URLSearchParams,
  nextOffset: number,
): string {
  const parts: string[] = [];
  for (const [name, value] of query) {
    if (name.toLowerCase() === '$skiptoken') continue;
    parts.push(`${readable(name)}=${readable(value)}`);
  }
  parts.push(`$skiptoken=${encodeSkipToken(nextOffset)}`);
  return `${serviceRoot}/${path}?${parts.join('&')}`;
}

// Encoded, but with '$' and ',' left as Graph leaves them in the links it writes.
function readable(text: string): string {
  return encodeURIComponent(text).replace(/%24/g, '$').replace(/%2C/gi, ',');
}
