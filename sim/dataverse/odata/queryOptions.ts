/**
 * Reads the OData system query options of a request: $select, $filter, $orderby, $top, $count,
 * $skiptoken and parameter aliases (`@p=value`). Options Dataverse refuses ($skip) or that the
 * simulator does not implement ($expand, $apply, $search) are refused with a URI error rather than
 * silently ignored, so a client never gets a different result than it asked for.
 */
import { uriError } from '../errors';

export interface OrderBy {
  property: string;
  descending: boolean;
}

export interface QueryOptions {
  select?: string[];
  filter?: string;
  orderBy: OrderBy[];
  top?: number;
  count: boolean;
  skipToken?: string;
}

/** Splits a raw query string; `+` stays a plus (OData clients percent-encode spaces). */
export function parseQueryString(search: string): Map<string, string> {
  const params = new Map<string, string>();
  const raw = search.startsWith('?') ? search.slice(1) : search;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    if (params.has(name))
      throw uriError(
        `Query option '${name}' was specified more than once, but it must be specified at most once.`,
      );
    params.set(name, value);
  }
  return params;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw uriError(`The query string '${text}' is not correctly percent-encoded.`);
  }
}

/** Replaces `@alias` references outside string literals with the alias values. */
export function substituteAliases(expression: string, params: Map<string, string>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'") inString = !inString;
    if (!inString && ch === '@') {
      const match = /^@[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
      if (match) {
        const value = params.get(match[0]);
        if (value === undefined)
          throw uriError(`The parameter alias '${match[0]}' has no value in the query string.`);
        out += value;
        i += match[0].length - 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

const UNSUPPORTED: Record<string, string> = {
  $skip: 'Skip Clause is not supported in CRM',
  $expand: 'The Dataverse simulator does not support $expand; select the lookup value (_name_value) instead.',
  $apply: 'The Dataverse simulator does not support $apply.',
  $search: 'The Dataverse simulator does not support $search.',
};

export function readQueryOptions(params: Map<string, string>): QueryOptions {
  for (const [name, message] of Object.entries(UNSUPPORTED)) {
    if (params.has(name)) throw uriError(message);
  }
  for (const name of params.keys()) {
    if (
      name.startsWith('$') &&
      !['$select', '$filter', '$orderby', '$top', '$count', '$skiptoken', '$format'].includes(name)
    ) {
      throw uriError(`The query parameter '${name}' is not supported.`);
    }
  }
  const options: QueryOptions = { orderBy: [], count: false };
  const select = params.get('$select');
  if (select !== undefined) {
    options.select = select.split(',').map((s) => s.trim());
    if (options.select.some((s) => s === '')) throw uriError(`Syntax error in $select '${select}'.`);
  }
  const filter = params.get('$filter');
  if (filter !== undefined) options.filter = substituteAliases(filter, params);
  const orderBy = params.get('$orderby');
  if (orderBy !== undefined) {
    options.orderBy = orderBy.split(',').map((item) => {
      const parts = item.trim().split(/\s+/);
      const direction = parts[1]?.toLowerCase();
      if (
        parts.length > 2 ||
        parts[0] === '' ||
        (direction !== undefined && direction !== 'asc' && direction !== 'desc')
      ) {
        throw uriError(`Syntax error in $orderby '${orderBy}'.`);
      }
      return { property: parts[0], descending: direction === 'desc' };
    });
  }
  const top = params.get('$top');
  if (top !== undefined) {
    if (!/^\d+$/.test(top))
      throw uriError(
        `Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`,
      );
    options.top = Number(top);
  }
  const count = params.get('$count');
  if (count !== undefined) {
    if (count !== 'true' && count !== 'false') throw uriError(`'${count}' is not a valid count option.`);
    options.count = count === 'true';
  }
  const skipToken = params.get('$skiptoken');
  if (skipToken !== undefined) options.skipToken = skipToken;
  return options;
}
