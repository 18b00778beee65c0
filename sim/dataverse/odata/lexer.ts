/**
 * Splits an OData expression ($filter, a key segment) into tokens: parentheses, commas, string,
 * number, GUID, date and date-time literals, and identifiers (which the parser turns into keywords
 * or property names). A character that cannot start a token is a syntax error reported with its
 * position, as the Dataverse OData parser reports it. The lexer never decides meaning.
 */
import { uriError } from '../errors';

export type TokenKind =
  'lparen' | 'rparen' | 'comma' | 'string' | 'number' | 'guid' | 'date' | 'datetime' | 'identifier';

export interface Token {
  kind: TokenKind;
  /** The literal's value (strings unescaped) or the identifier's text. */
  text: string;
  position: number;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_])/;
const DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?(?![0-9A-Za-z_])/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![0-9A-Za-z_:-])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![0-9A-Za-z_])/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*/;

/** Tried in this order: a GUID or a date can start like a number. */
const PATTERNS: [TokenKind, RegExp][] = [
  ['guid', GUID],
  ['datetime', DATE_TIME],
  ['date', DATE],
  ['number', NUMBER],
  ['identifier', IDENTIFIER],
];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', text: ch, position: i });
      i++;
      continue;
    }
    if (ch === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw uriError(`There is an unterminated string literal at position ${start} in '${text}'.`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: 'string', text: value, position: start });
      continue;
    }
    const rest = text.slice(i);
    const found = PATTERNS.map(([kind, pattern]) => ({ kind, m: pattern.exec(rest) })).find(
      (p) => p.m !== null,
    );
    if (!found?.m) {
      throw uriError(`Syntax error: character '${ch}' is not valid at position ${i} in '${text}'.`);
    }
    const raw = found.m[0];
    const value = found.kind === 'number' ? raw.replace(/[mMdDfFlL]$/, '') : raw;
    tokens.push({ kind: found.kind, text: value, position: i });
    i += raw.length;
  }
  return tokens;
}
