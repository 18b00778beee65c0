/**
 * Converts column values between the JSON a client sends or receives and the storage form: text,
 * numbers, 0/1 for booleans, `YYYY-MM-DDTHH:MM:SSZ` for date-times (so text order is time order),
 * lower-case GUIDs. Wrong types are refused with Dataverse's payload error. This module must never
 * accept a value it cannot store faithfully (e.g. a fractional Integer, an unparseable date).
 */
import { DataverseFault, ErrorCodes, payloadError } from './errors';
import { isGuid, normalizeGuid } from './ids';
import { edmType, type AttributeDef, type TableDef } from './schema/types';
import type { SqlValue } from './store';

export type JsonScalar = string | number | boolean | null;

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** A date or date-time text in UTC storage form (seconds precision, as Dataverse keeps it), or undefined. */
export function normalizeDateTime(text: string): string | undefined {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', , zone = 'Z'] = match;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return formatDateTime(ms);
}

export function formatDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function normalizeDateOnly(text: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$/.exec(text.trim());
  if (!match) return undefined;
  const date = `${match[1]}-${match[2]}-${match[3]}`;
  return Number.isNaN(Date.parse(`${date}T00:00:00Z`)) ? undefined : date;
}

function lengthError(table: TableDef, attribute: AttributeDef): DataverseFault {
  return new DataverseFault(
    400,
    ErrorCodes.stringLengthTooLong,
    `A validation error occurred. The length of the '${attribute.logicalName}' attribute of the '${table.logicalName}' ` +
      `entity exceeded the maximum allowed length of '${attribute.maxLength ?? 0}'.`,
  );
}

/** The storage form of a value a client sent for a column; throws Dataverse's payload error if it does not fit. */
export function toStorage(table: TableDef, attribute: AttributeDef, value: unknown): SqlValue {
  if (value === null) return null;
  const wrong = (): DataverseFault =>
    payloadError(
      table.entitySetName,
      `Cannot convert the literal '${typeof value === 'string' ? value : JSON.stringify(value)}' to the expected type ` +
        `'${edmType(attribute.type)}' for the property '${attribute.logicalName}'.`,
    );
  switch (attribute.type) {
    case 'String':
    case 'Memo': {
      if (typeof value !== 'string') throw wrong();
      if (attribute.maxLength !== undefined && value.length > attribute.maxLength)
        throw lengthError(table, attribute);
      return value;
    }
    case 'Integer':
    case 'BigInt':
    case 'Picklist':
    case 'State':
    case 'Status': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw wrong();
      if (attribute.type !== 'BigInt' && (n > 2_147_483_647 || n < -2_147_483_648)) throw wrong();
      if (
        (attribute.minValue !== undefined && n < attribute.minValue) ||
        (attribute.maxValue !== undefined && n > attribute.maxValue)
      ) {
        throw new DataverseFault(
          400,
          ErrorCodes.integerValueOutOfRange,
          'A validation error occurred. An integer provided is outside of the allowed values for this attribute.',
        );
      }
      if (attribute.options && !attribute.options.some((o) => o.value === n)) {
        throw new DataverseFault(
          400,
          ErrorCodes.picklistValueOutOfRange,
          `A validation error occurred. The value ${n} of '${attribute.logicalName}' on record of type ` +
            `'${table.logicalName}' is outside the valid range. Accepted Values: ${attribute.options.map((o) => o.value).join(',')}`,
        );
      }
      return n;
    }
    case 'Decimal':
    case 'Double':
    case 'Money': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw wrong();
      return n;
    }
    case 'Boolean':
      if (typeof value !== 'boolean') throw wrong();
      return value ? 1 : 0;
    case 'DateTime': {
      const normalized = typeof value === 'string' ? normalizeDateTime(value) : undefined;
      if (!normalized) throw wrong();
      return normalized;
    }
    case 'DateOnly': {
      const normalized = typeof value === 'string' ? normalizeDateOnly(value) : undefined;
      if (!normalized) throw wrong();
      return normalized;
    }
    case 'Uniqueidentifier':
      if (typeof value !== 'string' || !isGuid(value)) throw wrong();
      return normalizeGuid(value);
    case 'Lookup':
      // Lookups are set through `<navigation>@odata.bind`, never as plain values.
      throw payloadError(
        table.entitySetName,
        `An undeclared property '${attribute.logicalName}' which only has property annotations in the payload ` +
          'but no property value was found in the payload.',
      );
  }
}

/** The JSON a client receives for a stored value. */
export function fromStorage(attribute: AttributeDef, value: SqlValue): JsonScalar {
  if (value === null || value === undefined) return null;
  switch (attribute.type) {
    case 'Boolean':
      return value === 1 || value === '1';
    case 'Integer':
    case 'BigInt':
    case 'Picklist':
    case 'State':
    case 'Status':
    case 'Decimal':
    case 'Double':
    case 'Money':
      return typeof value === 'number' ? value : Number(value);
    default:
      return String(value);
  }
}

/** A human label for a stored value (the FormattedValue annotation). */
export function formattedValue(attribute: AttributeDef, value: SqlValue): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (attribute.options) return attribute.options.find((o) => o.value === Number(value))?.label;
  switch (attribute.type) {
    case 'Boolean':
      return value === 1 ? 'Yes' : 'No';
    case 'Money':
      return `€${Number(value).toFixed(2)}`;
    case 'DateTime': {
      const date = new Date(String(value));
      return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
    }
    case 'Integer':
    case 'BigInt':
    case 'Decimal':
    case 'Double':
      return Number(value).toLocaleString('en-US');
    default:
      return undefined;
  }
}
