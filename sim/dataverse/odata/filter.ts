/**
 * Parses a `$filter` expression into a tree: `or` binds looser than `and`, `and` looser than `not`;
 * comparisons (eq ne gt ge lt le) between a property and a literal (or two properties); the string
 * functions contains, startswith and endswith; parentheses. Literals keep their kind (string, number,
 * boolean, null, GUID, date, date-time) so the SQL translation can check types. It never looks at a
 * table: unknown names are caught when the tree is translated.
 *
 * Hand-written on purpose: the npm OData parsers (odata-v4-parser, @balena/odata-parser, odata-parser,
 * odata-filter-to-ast) are unmaintained or miss Dataverse's bare GUID and date literals, `not` or bare
 * boolean columns, and none reports errors with the positions Dataverse's messages give.
 */
import { uriError } from '../errors';
import { tokenize, type Token } from './lexer';

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type StringFunction = 'contains' | 'startswith' | 'endswith';

export type Literal =
  | { kind: 'literal'; type: 'string'; value: string; position: number }
  | { kind: 'literal'; type: 'number'; value: number; raw: string; position: number }
  | { kind: 'literal'; type: 'boolean'; value: boolean; position: number }
  | { kind: 'literal'; type: 'null'; position: number }
  | { kind: 'literal'; type: 'guid' | 'date' | 'datetime'; value: string; position: number };

export interface PropertyRef {
  kind: 'property';
  name: string;
  position: number;
}

export type Operand = Literal | PropertyRef;

export type FilterExpr =
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; operand: FilterExpr }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { kind: 'function'; name: StringFunction; property: PropertyRef; value: Literal }
  /** A bare boolean column used as a condition (`$filter=donotemail`). */
  | { kind: 'booleanProperty'; property: PropertyRef };

const COMPARE_OPS: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const FUNCTIONS: readonly string[] = ['contains', 'startswith', 'endswith'];

class Parser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): FilterExpr {
    if (this.tokens.length === 0) throw uriError(`Expression expected at position 0 in '${this.text}'.`);
    const expr = this.orExpr();
    const extra = this.peek();
    if (extra) throw this.syntaxError(extra.position);
    return expr;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (!token) throw uriError(`Expression expected at position ${this.text.length} in '${this.text}'.`);
    this.index++;
    return token;
  }

  private isWord(token: Token | undefined, word: string): boolean {
    return token?.kind === 'identifier' && token.text === word;
  }

  private syntaxError(position: number): Error {
    return uriError(`Syntax error at position ${position} in '${this.text}'.`);
  }

  private expect(kind: Token['kind']): Token {
    const token = this.next();
    if (token.kind !== kind) throw this.syntaxError(token.position);
    return token;
  }

  private orExpr(): FilterExpr {
    let left = this.andExpr();
    while (this.isWord(this.peek(), 'or')) {
      this.index++;
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): FilterExpr {
    let left = this.notExpr();
    while (this.isWord(this.peek(), 'and')) {
      this.index++;
      left = { kind: 'and', left, right: this.notExpr() };
    }
    return left;
  }

  private notExpr(): FilterExpr {
    if (this.isWord(this.peek(), 'not')) {
      this.index++;
      return { kind: 'not', operand: this.notExpr() };
    }
    return this.comparison();
  }

  private comparison(): FilterExpr {
    const token = this.peek();
    if (token?.kind === 'lparen') {
      this.index++;
      const inner = this.orExpr();
      this.expect('rparen');
      return inner;
    }
    if (
      token?.kind === 'identifier' &&
      FUNCTIONS.includes(token.text) &&
      this.tokens[this.index + 1]?.kind === 'lparen'
    ) {
      return this.stringFunction();
    }
    const left = this.operand();
    const opToken = this.peek();
    if (opToken?.kind === 'identifier' && COMPARE_OPS.includes(opToken.text)) {
      this.index++;
      const right = this.operand();
      return { kind: 'compare', op: opToken.text as CompareOp, left, right };
    }
    if (left.kind === 'property') return { kind: 'booleanProperty', property: left };
    throw this.syntaxError(opToken?.position ?? this.text.length);
  }

  private stringFunction(): FilterExpr {
    const name = this.next().text as StringFunction;
    this.expect('lparen');
    const property = this.operand();
    if (property.kind !== 'property') {
      throw uriError(
        `The first argument of '${name}' must be a property, at position ${property.position} in '${this.text}'.`,
      );
    }
    this.expect('comma');
    const value = this.operand();
    if (value.kind !== 'literal') {
      throw uriError(
        `The second argument of '${name}' must be a literal, at position ${value.position} in '${this.text}'.`,
      );
    }
    this.expect('rparen');
    return { kind: 'function', name, property, value };
  }

  private operand(): Operand {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { kind: 'literal', type: 'string', value: token.text, position: token.position };
      case 'number':
        return {
          kind: 'literal',
          type: 'number',
          value: Number(token.text),
          raw: token.text,
          position: token.position,
        };
      case 'guid':
        return { kind: 'literal', type: 'guid', value: token.text.toLowerCase(), position: token.position };
      case 'date':
      case 'datetime':
        return { kind: 'literal', type: token.kind, value: token.text, position: token.position };
      case 'identifier': {
        if (token.text === 'true' || token.text === 'false') {
          return { kind: 'literal', type: 'boolean', value: token.text === 'true', position: token.position };
        }
        if (token.text === 'null') return { kind: 'literal', type: 'null', position: token.position };
        if (['and', 'or', 'not', ...COMPARE_OPS].includes(token.text)) throw this.syntaxError(token.position);
        return { kind: 'property', name: token.text, position: token.position };
      }
      default:
        throw this.syntaxError(token.position);
    }
  }
}

export function parseFilter(text: string): FilterExpr {
  return new Parser(text, tokenize(text)).parse();
}
