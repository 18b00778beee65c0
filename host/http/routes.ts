/**
 * HTTP route templates for the local host, following the ASP.NET Core rules that Azure Functions uses
 * for `route` on HTTP triggers: literal and parameter segments, `{name?}`, `{name=default}`, `{*rest}`,
 * inline constraints, and ASP.NET-style precedence between templates that match the same path.
 *
 * This module only decides which function a path belongs to. It must never read requests, check keys or
 * call functions, and a template it cannot fully understand must fail at registration (throw), never be
 * matched loosely at request time.
 */

export type RouteParams = Record<string, string>;

export interface CompiledRoute {
  readonly template: string;
  /** Per-segment ranks, compared lexicographically: lower sorts first (more specific). */
  readonly precedence: readonly number[];
  /** Parameter values (URL-decoded) when `path` matches, else undefined. */
  match(path: string): RouteParams | undefined;
}

export interface RouteEntry {
  functionName: string;
  template: string;
  methods: string[];
}

export type RouteMatch =
  | { functionName: string; params: RouteParams }
  | { error: 'not-found' }
  | { error: 'method-not-allowed'; allowed: string[] };

type Constraint = (value: string) => boolean;

interface Param {
  kind: 'param';
  name: string;
  catchAll: boolean;
  optional: boolean;
  defaultValue: string | undefined;
  constraints: Constraint[];
}

interface Literal {
  kind: 'literal';
  text: string;
}

type Part = Param | Literal;

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; param: Param }
  | { kind: 'complex'; params: Param[]; full: RegExp; withoutOptional: RegExp | undefined };

// ---------------------------------------------------------------------------------------------------
// Constraints. Semantics follow the ASP.NET Core inline constraints with the invariant culture.

const INT32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

function parseInteger(value: string, [min, max]: readonly [bigint, bigint]): bigint | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= min && n <= max ? n : undefined;
}

const isLong = (v: string): boolean => parseInteger(v, INT64) !== undefined;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const FLOATING = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const GUID_D = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const GUID = new RegExp(`^([0-9a-f]{32}|${GUID_D}|\\{${GUID_D}\\}|\\(${GUID_D}\\))$`, 'i');
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function isDateTime(value: string): boolean {
  const m = ISO_DATETIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1).map((p) => Number(p ?? 0));
  // Date.UTC silently rolls 2023-02-30 over to March; a round trip catches impossible dates.
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}

const SIMPLE_CONSTRAINTS: Record<string, Constraint> = {
  int: (v) => parseInteger(v, INT32) !== undefined,
  long: isLong,
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => GUID.test(v),
  alpha: (v) => /^[a-z]+$/i.test(v),
  decimal: (v) => DECIMAL.test(v),
  double: (v) => FLOATING.test(v) && Number.isFinite(Number(v)),
  float: (v) => FLOATING.test(v) && Number.isFinite(Math.fround(Number(v))),
  datetime: isDateTime,
};

function integerArgs(name: string, args: string, count: number, range: readonly [bigint, bigint]): bigint[] {
  const parts = args.split(',').map((a) => a.trim());
  const values = parts.map((a) => parseInteger(a, range));
  if (parts.length !== count || values.some((v) => v === undefined)) {
    throw new Error(`constraint '${name}' needs ${count} integer argument(s), got '(${args})'`);
  }
  return values as bigint[];
}

function ordered(name: string, [lo, hi]: bigint[]): [bigint, bigint] {
  if (lo > hi) throw new Error(`constraint '${name}' has minimum ${lo} greater than maximum ${hi}`);
  return [lo, hi];
}

function numberIn([lo, hi]: readonly [bigint, bigint]): Constraint {
  return (v) => {
    const n = parseInteger(v, INT64);
    return n !== undefined && n >= lo && n <= hi;
  };
}

function lengthIn([lo, hi]: readonly [bigint, bigint]): Constraint {
  return (v) => v.length >= lo && v.length <= hi;
}

const NON_NEGATIVE = [0n, INT32[1]] as const;

const ARG_CONSTRAINTS: Record<string, (args: string) => Constraint> = {
  minlength: (a) => lengthIn([integerArgs('minlength', a, 1, NON_NEGATIVE)[0], INT32[1]]),
  maxlength: (a) => lengthIn([0n, integerArgs('maxlength', a, 1, NON_NEGATIVE)[0]]),
  length: (a) => {
    const [lo, hi = lo] = integerArgs('length', a, a.includes(',') ? 2 : 1, NON_NEGATIVE);
    return lengthIn(ordered('length', [lo, hi]));
  },
  min: (a) => numberIn([integerArgs('min', a, 1, INT64)[0], INT64[1]]),
  max: (a) => numberIn([INT64[0], integerArgs('max', a, 1, INT64)[0]]),
  range: (a) => numberIn(ordered('range', integerArgs('range', a, 2, INT64))),
  regex: (a) => {
    let re: RegExp;
    try {
      // ASP.NET's regex constraint is case-insensitive and unanchored; templates anchor with ^...$.
      re = new RegExp(a, 'i');
    } catch (err) {
      throw new Error(`constraint 'regex' has an invalid pattern '${a}': ${(err as Error).message}`);
    }
    return (v) => re.test(v);
  },
};

function compileConstraint(name: string, args: string | undefined): Constraint {
  const key = name.toLowerCase();
  const simple = SIMPLE_CONSTRAINTS[key];
  const withArgs = ARG_CONSTRAINTS[key];
  if (simple) {
    if (args !== undefined) throw new Error(`constraint '${name}' takes no arguments`);
    return simple;
  }
  if (withArgs) {
    if (args === undefined) throw new Error(`constraint '${name}' needs arguments, e.g. ${name}(1)`);
    return withArgs(args);
  }
  throw new Error(`unknown constraint '${name}'`);
}

// ---------------------------------------------------------------------------------------------------
// Template parsing.

/**
 * Index of the ')' closing the '(' at `open`. Escapes and character classes are skipped so that regex
 * arguments such as `^(\\d+)?:x$` or `[)]` keep their own parentheses, colons and slashes.
 */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let j = open; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') j++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return j;
  }
  return -1;
}

/** Parses the inside of `{...}`: `*name`, `name:c1:c2(args)`, then `?` or `=default`. */
function parseParam(text: string): Param {
  let i = 0;
  let catchAll = false;
  if (text.startsWith('**')) {
    catchAll = true;
    i = 2;
  } else if (text.startsWith('*')) {
    catchAll = true;
    i = 1;
  }
  const nameMatch = /^[^:=?{}/*]+/.exec(text.slice(i));
  if (!nameMatch) throw new Error(`parameter '{${text}}' has no name`);
  const name = nameMatch[0];
  i += name.length;

  const constraints: Constraint[] = [];
  while (text[i] === ':') {
    const cname = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1))?.[0];
    if (!cname) throw new Error(`parameter '${name}' has an empty constraint`);
    i += 1 + cname.length;
    let args: string | undefined;
    if (text[i] === '(') {
      const close = closingParen(text, i);
      if (close === -1) throw new Error(`constraint '${cname}' of parameter '${name}' is missing ')'`);
      args = text.slice(i + 1, close);
      i = close + 1;
    }
    constraints.push(compileConstraint(cname, args));
  }

  let optional = false;
  let defaultValue: string | undefined;
  if (text[i] === '=') {
    const fallback = text.slice(i + 1);
    if (fallback.endsWith('?')) throw new Error(`optional parameter '${name}' cannot have a default`);
    // A default that its own constraints reject would hand functions a value no request could carry.
    if (!constraints.every((c) => c(fallback))) {
      throw new Error(`default '${fallback}' of parameter '${name}' does not satisfy its constraints`);
    }
    defaultValue = fallback;
  } else if (text[i] === '?' && i === text.length - 1) {
    if (catchAll) throw new Error(`catch-all parameter '${name}' cannot be marked optional`);
    optional = true;
  } else if (i !== text.length) {
    throw new Error(`parameter '{${text}}' has unexpected text '${text.slice(i)}'`);
  }
  return { kind: 'param', name, catchAll, optional, defaultValue, constraints };
}

/**
 * Splits a template into segments of parts. Braces are escaped by doubling (`{{`, `}}`), which is also
 * how a regex constraint spells a literal brace; '/' inside a parameter does not end the segment.
 */
function tokenize(template: string): Part[][] {
  const segments: Part[][] = [[]];
  let literal = '';
  const flush = (): void => {
    if (literal) segments[segments.length - 1].push({ kind: 'literal', text: literal });
    literal = '';
  };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    const next = template[i + 1];
    if ((ch === '{' || ch === '}') && next === ch) {
      literal += ch;
      i++;
    } else if (ch === '}') {
      throw new Error(`unbalanced '}' at position ${i}`);
    } else if (ch === '{') {
      flush();
      let inner = '';
      let j = i + 1;
      for (; j < template.length; j++) {
        if (template[j] === '}' && template[j + 1] === '}') {
          inner += '}';
          j++;
        } else if (template[j] === '{' && template[j + 1] === '{') {
          inner += '{';
          j++;
        } else if (template[j] === '}') {
          break;
        } else if (template[j] === '{') {
          throw new Error(`unbalanced '{' at position ${j} (inside a parameter write '{{')`);
        } else {
          inner += template[j];
        }
      }
      if (j >= template.length) throw new Error(`unbalanced '{' at position ${i}: missing '}'`);
      segments[segments.length - 1].push(parseParam(inner));
      i = j;
    } else if (ch === '/') {
      flush();
      segments.push([]);
    } else if (ch === '?') {
      throw new Error(`literal text cannot contain '?' (position ${i})`);
    } else {
      literal += ch;
    }
  }
  flush();
  return segments;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function complexSegment(parts: Part[]): Segment {
  const params: Param[] = [];
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    if (part.kind === 'literal') continue;
    if (part.catchAll) throw new Error(`catch-all '${part.name}' must be alone in its segment`);
    const next = parts[k + 1];
    if (next?.kind === 'param') {
      throw new Error(`parameters '${part.name}' and '${next.name}' need literal text between them`);
    }
    const omittable = part.optional || part.defaultValue !== undefined;
    if (omittable && k !== parts.length - 1) {
      throw new Error(`optional parameter '${part.name}' must be last in its segment`);
    }
    const previous = parts[k - 1];
    if (omittable && !(previous?.kind === 'literal' && previous.text.endsWith('.'))) {
      // ASP.NET only allows this shape (`{name}.{ext?}`), where the '.' goes away with the parameter.
      throw new Error(`optional parameter '${part.name}' in a segment must follow a '.'`);
    }
    params.push(part);
  }
  const source = (ps: Part[]): string =>
    ps.map((p) => (p.kind === 'literal' ? escapeRegex(p.text) : '(.+)')).join('');
  const last = parts[parts.length - 1];
  let withoutOptional: RegExp | undefined;
  if (last.kind === 'param' && (last.optional || last.defaultValue !== undefined)) {
    const rest = parts.slice(0, -1);
    const dot = rest[rest.length - 1] as Literal;
    const trimmed: Part[] = [...rest.slice(0, -1), { kind: 'literal', text: dot.text.slice(0, -1) }];
    withoutOptional = new RegExp(`^${source(trimmed)}$`, 'is');
  }
  return { kind: 'complex', params, full: new RegExp(`^${source(parts)}$`, 'is'), withoutOptional };
}

function isOmittable(segment: Segment): segment is { kind: 'param'; param: Param } {
  if (segment.kind !== 'param') return false;
  const { param } = segment;
  return param.optional || param.catchAll || param.defaultValue !== undefined;
}

function rank(segment: Segment): number {
  if (segment.kind === 'literal') return 0;
  if (segment.kind === 'complex') return 1;
  const { param } = segment;
  const constrained = param.constraints.length > 0 ? 0 : 1;
  if (param.catchAll) return 5 + constrained;
  if (param.optional || param.defaultValue !== undefined) return 3 + constrained;
  return 1 + constrained;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // Like ASP.NET, a malformed escape is kept as written rather than failing the whole request.
    return segment;
  }
}

export function compileRoute(template: string): CompiledRoute {
  const fail = (message: string): never => {
    throw new Error(`Invalid route template '${template}': ${message}`);
  };
  let partsBySegment: Part[][];
  try {
    // Leading '/' or '~/' and one trailing '/' are tolerated, as ASP.NET does.
    partsBySegment = tokenize(template.replace(/^~?\//, '').replace(/\/$/, ''));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (partsBySegment.length === 1 && partsBySegment[0].length === 0) partsBySegment = [];

  const names = new Set<string>();
  const segments: Segment[] = partsBySegment.map((parts, index) => {
    if (parts.length === 0) fail(`segment ${index + 1} is empty`);
    for (const part of parts) {
      if (part.kind !== 'param') continue;
      const key = part.name.toLowerCase();
      if (names.has(key)) fail(`parameter '${part.name}' appears more than once`);
      names.add(key);
    }
    if (parts.length > 1) {
      try {
        return complexSegment(parts);
      } catch (err) {
        return fail((err as Error).message);
      }
    }
    const [part] = parts;
    return part.kind === 'literal' ? { kind: 'literal', text: part.text } : { kind: 'param', param: part };
  });

  const catchAlls = segments.filter((s) => s.kind === 'param' && s.param.catchAll);
  if (catchAlls.length > 1) fail('only one catch-all parameter is allowed');
  if (catchAlls.length === 1 && catchAlls[0] !== segments[segments.length - 1]) {
    fail('a catch-all parameter must be the last segment');
  }
  segments.forEach((segment, index) => {
    // A missing segment can only be skipped if everything after it can be skipped too.
    if (segment.kind === 'param' && segment.param.optional && !segments.slice(index + 1).every(isOmittable)) {
      fail(`optional parameter '${segment.param.name}' must be last (only optional segments may follow)`);
    }
  });

  const match = (path: string): RouteParams | undefined => {
    const trimmed = path.replace(/^\/+/, '').replace(/\/$/, '');
    const raw = trimmed === '' ? [] : trimmed.split('/');
    const params: RouteParams = {};
    const accept = (param: Param, value: string): boolean => {
      if (value === '' || !param.constraints.every((c) => c(value))) return false;
      params[param.name] = value;
      return true;
    };

    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      if (i >= raw.length) {
        if (!isOmittable(segment)) return undefined;
        if (segment.param.defaultValue !== undefined) params[segment.param.name] = segment.param.defaultValue;
        continue;
      }
      const value = decode(raw[i]);
      if (segment.kind === 'literal') {
        if (value.toLowerCase() !== segment.text.toLowerCase()) return undefined;
      } else if (segment.kind === 'param' && segment.param.catchAll) {
        return accept(segment.param, raw.slice(i).map(decode).join('/')) ? params : undefined;
      } else if (segment.kind === 'param') {
        if (!accept(segment.param, value)) return undefined;
      } else {
        const full = segment.full.exec(value);
        const groups = full ?? segment.withoutOptional?.exec(value);
        if (!groups) return undefined;
        for (let k = 0; k < segment.params.length; k++) {
          const param = segment.params[k];
          const captured = groups[k + 1];
          if (captured === undefined) {
            if (param.defaultValue !== undefined) params[param.name] = param.defaultValue;
          } else if (!accept(param, captured)) {
            return undefined;
          }
        }
      }
    }
    // A catch-all has already returned, so leftover segments mean the path is too long.
    return raw.length > segments.length ? undefined : params;
  };

  return { template, precedence: segments.map(rank), match };
}

/** Negative when `a` is more specific; a template that ends earlier beats one that goes on. */
function comparePrecedence(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? -1) - (b[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}

interface TableEntry {
  functionName: string;
  route: CompiledRoute;
  methods: string[];
}

export class RouteTable {
  private readonly entries: TableEntry[] = [];

  add(entry: RouteEntry): void {
    const route = compileRoute(entry.template);
    const methods = [...new Set(entry.methods.map((m) => m.toUpperCase()))];
    this.entries.push({ functionName: entry.functionName, route, methods });
    // Array.prototype.sort is stable, so equal precedence keeps registration order.
    this.entries.sort((a, b) => comparePrecedence(a.route.precedence, b.route.precedence));
  }

  match(method: string, path: string): RouteMatch {
    const wanted = method.toUpperCase();
    const allowed = new Set<string>();
    for (const entry of this.entries) {
      const params = entry.route.match(path);
      if (!params) continue;
      // A path match with the wrong method keeps looking: a less specific route may take this method.
      if (entry.methods.length === 0 || entry.methods.includes(wanted)) {
        return { functionName: entry.functionName, params };
      }
      entry.methods.forEach((m) => allowed.add(m));
    }
    return allowed.size > 0
      ? { error: 'method-not-allowed', allowed: [...allowed].sort() }
      : { error: 'not-found' };
  }
}

/**
 * The part of `urlPath` after `routePrefix` (no leading '/'), or undefined when the path is outside
 * the prefix. An empty prefix puts routes at the root. The prefix matches whole segments only.
 */
export function splitRoutePrefix(urlPath: string, routePrefix: string): string | undefined {
  const path = urlPath.replace(/^\/+/, '');
  const prefix = routePrefix.replace(/^\/+|\/+$/g, '');
  if (prefix === '') return path;
  if (path.length < prefix.length || path.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) {
    return undefined;
  }
  const rest = path.slice(prefix.length);
  if (rest === '') return '';
  return rest.startsWith('/') ? rest.replace(/^\/+/, '') : undefined;
}
