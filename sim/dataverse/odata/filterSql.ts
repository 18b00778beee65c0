/**
 * Translates a parsed `$filter` into a SQL WHERE fragment for one table. Every literal becomes a
 * bound parameter; only column names the schema validated are written into the SQL text. Type
 * mismatches (`name eq 5`, `contactid eq 'x'`), unknown or unreadable properties and unsupported
 * shapes are refused with the error the Dataverse OData parser gives.
 */
import { propertyNotFound, uriError } from '../errors';
import type { Catalog } from '../schema/catalog';
import { edmType, type AttributeDef, type AttributeType, type TableDef } from '../schema/types';
import { quote, type SqlFragment, type SqlValue } from '../store';
import { normalizeDateOnly, normalizeDateTime } from '../values';
import type { CompareOp, FilterExpr, Literal, Operand, PropertyRef } from './filter';

const SQL_OPS: Record<CompareOp, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };
const OP_KIND: Record<CompareOp, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
};
const FLIPPED: Record<CompareOp, CompareOp> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

const NUMERIC: readonly AttributeType[] = [
  'Integer',
  'BigInt',
  'Decimal',
  'Double',
  'Money',
  'Picklist',
  'State',
  'Status',
];
const TEXT: readonly AttributeType[] = ['String', 'Memo'];
const GUIDS: readonly AttributeType[] = ['Uniqueidentifier', 'Lookup'];

function literalEdmType(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return 'Edm.String';
    case 'number':
      if (/[eE]/.test(literal.raw)) return 'Edm.Double';
      if (literal.raw.includes('.')) return 'Edm.Decimal';
      return Math.abs(literal.value) > 2_147_483_647 ? 'Edm.Int64' : 'Edm.Int32';
    case 'boolean':
      return 'Edm.Boolean';
    case 'guid':
      return 'Edm.Guid';
    case 'date':
      return 'Edm.Date';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    case 'null':
      return 'null';
  }
}

export class FilterTranslator {
  constructor(
    private readonly catalog: Catalog,
    private readonly table: TableDef,
  ) {}

  translate(expr: FilterExpr): SqlFragment {
    switch (expr.kind) {
      case 'and':
      case 'or': {
        const left = this.translate(expr.left);
        const right = this.translate(expr.right);
        return {
          sql: `(${left.sql} ${expr.kind.toUpperCase()} ${right.sql})`,
          params: [...left.params, ...right.params],
        };
      }
      case 'not': {
        const inner = this.translate(expr.operand);
        return { sql: `(NOT ${inner.sql})`, params: inner.params };
      }
      case 'booleanProperty': {
        const attribute = this.resolve(expr.property);
        if (attribute.type !== 'Boolean') {
          throw uriError(`The expression '${expr.property.name}' is not a boolean value.`);
        }
        return { sql: `(${quote(attribute.logicalName)} = 1)`, params: [] };
      }
      case 'function':
        return this.stringFunction(expr.name, expr.property, expr.value);
      case 'compare':
        return this.compare(expr.op, expr.left, expr.right);
    }
  }

  private resolve(ref: PropertyRef): AttributeDef {
    if (ref.name.includes('/') || ref.name.includes('.')) {
      throw uriError(
        `The Dataverse simulator does not support navigation paths or query functions in $filter ('${ref.name}').`,
      );
    }
    const attribute = this.catalog.property(this.table, ref.name);
    if (!attribute || !attribute.readable) throw propertyNotFound(ref.name, this.table.logicalName);
    return attribute;
  }

  private stringFunction(name: string, ref: PropertyRef, value: Literal): SqlFragment {
    const attribute = this.resolve(ref);
    if (!TEXT.includes(attribute.type) || value.type !== 'string') {
      throw uriError(
        `No function signature for the function with name '${name}' matches the specified arguments. ` +
          `The function signatures considered are: ${name}(Edm.String Nullable=true, Edm.String Nullable=true).`,
      );
    }
    const escaped = value.value.replace(/[\\%_]/g, (c) => `\\${c}`);
    const pattern =
      name === 'contains' ? `%${escaped}%` : name === 'startswith' ? `${escaped}%` : `%${escaped}`;
    return { sql: `(${quote(attribute.logicalName)} LIKE ? ESCAPE '\\')`, params: [pattern] };
  }

  private compare(op: CompareOp, left: Operand, right: Operand): SqlFragment {
    if (left.kind === 'literal' && right.kind === 'property') return this.compare(FLIPPED[op], right, left);
    if (left.kind === 'literal') {
      throw uriError('A comparison in $filter must name at least one property.');
    }
    const attribute = this.resolve(left);
    const column = quote(attribute.logicalName);
    if (right.kind === 'property') {
      const other = this.resolve(right);
      if (edmType(other.type) !== edmType(attribute.type))
        throw this.incompatible(op, edmType(attribute.type), edmType(other.type));
      return { sql: `(${column} ${SQL_OPS[op]} ${quote(other.logicalName)})`, params: [] };
    }
    if (right.type === 'null') {
      if (op === 'eq') return { sql: `(${column} IS NULL)`, params: [] };
      if (op === 'ne') return { sql: `(${column} IS NOT NULL)`, params: [] };
      return { sql: '(0 = 1)', params: [] };
    }
    const value = this.literalFor(attribute, right, op);
    return { sql: `(${column} ${SQL_OPS[op]} ?)`, params: [value] };
  }

  private incompatible(op: CompareOp, left: string, right: string): Error {
    return uriError(
      `A binary operator with incompatible types was detected. Found operand types '${left}' and '${right}' ` +
        `for operator kind '${OP_KIND[op]}'.`,
    );
  }

  /** The storage form of a literal compared with a column, or a type error. */
  private literalFor(
    attribute: AttributeDef,
    literal: Exclude<Literal, { type: 'null' }>,
    op: CompareOp,
  ): SqlValue {
    const mismatch = (): Error => this.incompatible(op, edmType(attribute.type), literalEdmType(literal));
    const type = attribute.type;
    switch (literal.type) {
      case 'string':
        if (!TEXT.includes(type)) throw mismatch();
        return literal.value;
      case 'number':
        if (!NUMERIC.includes(type)) throw mismatch();
        return literal.value;
      case 'boolean':
        if (type !== 'Boolean') throw mismatch();
        return literal.value ? 1 : 0;
      case 'guid':
        if (!GUIDS.includes(type)) throw mismatch();
        return literal.value;
      case 'date':
      case 'datetime': {
        if (type === 'DateTime') {
          const normalized = normalizeDateTime(literal.value);
          if (normalized) return normalized;
        } else if (type === 'DateOnly') {
          const normalized = normalizeDateOnly(literal.value);
          if (normalized) return normalized;
        } else {
          throw mismatch();
        }
        throw uriError(
          `Unrecognized '${literalEdmType(literal)}' literal '${literal.value}' at '${literal.position}'.`,
        );
      }
    }
  }
}
