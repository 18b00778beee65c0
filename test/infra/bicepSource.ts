/**
 * A small reader for the parts of infra/*.bicep and *.bicepparam the structural tests check. There is
 * no Bicep compiler on these machines (it is a .NET tool that az downloads), so the tests read the
 * declarations themselves: parameters with their decorators, `var` objects, and parameter files.
 * It understands the subset of Bicep the templates here are written in (one declaration per line,
 * objects closed by a `}` at the start of a line), and says so when it meets anything else.
 */
import fs from 'node:fs';

export interface BicepParam {
  name: string;
  type: string;
  /** The default expression, when there is one. */
  defaultValue?: string;
  /** Values of an @allowed([...]) decorator, as source literals. */
  allowed?: string[];
  secure: boolean;
}

/** Source without `//` comments (outside strings) and without `/* *\/` blocks. */
export function stripComments(source: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (inString) {
      out += c;
      if (c === '\\') out += source[++i] ?? '';
      else if (c === "'") inString = false;
    } else if (c === "'") {
      inString = true;
      out += c;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 1;
    } else out += c;
  }
  return out;
}

/** Checks (), [] and {} pair up outside strings; returns the first problem, if any. */
export function delimiterProblem(source: string): string | undefined {
  const code = stripComments(source);
  const stack: { ch: string; line: number }[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let line = 1;
  let inString = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    else if ('([{'.includes(c)) stack.push({ ch: c, line });
    else if (c in pairs) {
      const open = stack.pop();
      if (!open || open.ch !== pairs[c]) return `unbalanced '${c}' on line ${line}`;
    }
  }
  if (inString) return 'unterminated string';
  const open = stack.pop();
  return open ? `'${open.ch}' opened on line ${open.line} is never closed` : undefined;
}

/** Multi-line decorator arguments (`@allowed([\n 'a'\n ])`) joined onto one line. */
function joinDecorators(code: string): string[] {
  const lines = code.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    while (/^\s*@\w+\(/.test(line) && delimiterProblem(line) !== undefined && i + 1 < lines.length)
      line += ` ${lines[++i].trim()}`;
    out.push(line);
  }
  return out;
}

export function readParams(file: string): BicepParam[] {
  const lines = joinDecorators(stripComments(fs.readFileSync(file, 'utf8')));
  const params: BicepParam[] = [];
  let allowed: string[] | undefined;
  let secure = false;
  for (const line of lines) {
    const decorator = /^@(\w+)\((.*)\)\s*$/.exec(line.trim());
    if (decorator) {
      if (decorator[1] === 'allowed')
        allowed = [...decorator[2].matchAll(/'[^']*'|-?\d+|true|false/g)].map((m) => m[0]);
      if (decorator[1] === 'secure') secure = true;
      continue;
    }
    const param = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(line.trim());
    if (param) {
      params.push({ name: param[1], type: param[2], defaultValue: param[3]?.trim(), allowed, secure });
    }
    if (line.trim() !== '') {
      allowed = undefined;
      secure = false;
    }
  }
  return params;
}

/** The keys and value expressions of `var <name> = { ... }` (closed by a `}` at the start of a line). */
export function readVarObject(file: string, name: string): Map<string, string> {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  const start = new RegExp(`^var ${name} = \\{\\s*$`, 'm').exec(code);
  if (!start) throw new Error(`${file} has no 'var ${name} = {' block`);
  const body = code.slice(start.index + start[0].length, code.indexOf('\n}', start.index));
  const entries = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = /^\s+(\w+):\s*(.+?)\s*$/.exec(line);
    if (m) entries.set(m[1], m[2]);
    else if (line.trim() !== '') throw new Error(`unexpected line in var ${name}: ${line.trim()}`);
  }
  return entries;
}

export interface ParamFile {
  using: string;
  values: Map<string, string>;
}

export function readParamFile(file: string): ParamFile {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  const using = /^using\s+'([^']+)'\s*$/m.exec(code);
  if (!using) throw new Error(`${file} has no using line`);
  const values = new Map<string, string>();
  for (const m of code.matchAll(/^param\s+(\w+)\s*=\s*(.+?)\s*$/gm)) values.set(m[1], m[2]);
  return { using: using[1], values };
}

export interface BicepResource {
  symbol: string;
  type: string;
  apiVersion: string;
  /** The expression of `= if (...)`, when the resource is deployed only under a condition. */
  condition?: string;
  /** The declaration's body, from its opening `{` or `[` to the matching line at the start of a line. */
  body: string;
}

/** Every `resource` declaration of a template (closed by a `}` or `]` at the start of a line). */
export function readResources(file: string): BicepResource[] {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  const found: BicepResource[] = [];
  const head = /^resource (\w+) '([^'@]+)@([^']+)' = (?:if \((.+)\) )?([{[])$/gm;
  for (const m of code.matchAll(head)) {
    const close = m[5] === '{' ? '\n}' : '\n]';
    const end = code.indexOf(close, m.index);
    if (end < 0) throw new Error(`resource ${m[1]} is never closed`);
    found.push({
      symbol: m[1],
      type: m[2],
      apiVersion: m[3],
      condition: m[4],
      body: code.slice(m.index + m[0].length - 1, end + close.length),
    });
  }
  const declared = [...code.matchAll(/^resource /gm)].length;
  if (declared !== found.length) throw new Error(`${file}: a resource declaration is in an unexpected form`);
  return found;
}

/** `var <name> = <expression>` on one line (the form the templates use for flags and lists). */
export function readVarExpression(file: string, name: string): string {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  const m = new RegExp(`^var ${name} = (.+)$`, 'm').exec(code);
  if (!m) throw new Error(`${file} has no one-line 'var ${name} ='`);
  return m[1].trim();
}

/**
 * The value of a condition for given parameter values, for the few forms a deployment condition
 * takes here: a boolean `var` defined as `param == 'literal'`, its negation with `!`, or such a
 * comparison written out. Parameters not given take their declared defaults. Anything else throws,
 * so a condition this reader cannot judge fails the test rather than being guessed.
 */
export function evaluateCondition(file: string, expression: string, given: Record<string, string>): boolean {
  const expr = expression.trim();
  if (expr.startsWith('!')) return !evaluateCondition(file, expr.slice(1), given);
  const comparison = /^(\w+) (==|!=) '([^']*)'$/.exec(expr);
  if (comparison) {
    const [, name, op, literal] = comparison;
    const value = paramValue(file, name, given);
    return op === '==' ? value === literal : value !== literal;
  }
  if (/^\w+$/.test(expr)) return evaluateCondition(file, readVarExpression(file, expr), given);
  throw new Error(`cannot evaluate the condition ${expr}`);
}

function paramValue(file: string, name: string, given: Record<string, string>): string {
  if (name in given) return given[name];
  const declared = readParams(file).find((p) => p.name === name);
  if (!declared) throw new Error(`${name} is neither a parameter nor a boolean var of ${file}`);
  const literal = /^'([^']*)'$/.exec(declared.defaultValue ?? '');
  if (!literal) throw new Error(`parameter ${name} has no string default; give its value`);
  return literal[1];
}

/** `cond ? a : b` (one level, no nested ternary) with the branch the condition picks; else the expression. */
export function pickBranch(file: string, expression: string, given: Record<string, string>): string {
  const m = /^([^?]+?) \? (.+?) : (.+)$/.exec(expression.trim());
  if (!m) return expression.trim();
  return evaluateCondition(file, m[1], given) ? m[2].trim() : m[3].trim();
}
