/**
 * How a record is addressed in a Web API URL: by primary id `(guid)` or by alternate key
 * `(emailaddress1='a@b.c',other=5)`. Values are escaped here so no caller builds URLs by hand.
 */

export type AlternateKey = Record<string, string | number | boolean>;
export type RecordKey = string | AlternateKey;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

function literal(value: string | number | boolean): string {
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  return String(value);
}

export function keySegment(key: RecordKey): string {
  if (typeof key === 'string') {
    if (!isGuid(key))
      throw new TypeError(`'${key}' is not a record id (GUID); pass an alternate key object instead.`);
    return `(${key})`;
  }
  const parts = Object.entries(key);
  if (parts.length === 0) throw new TypeError('An alternate key needs at least one attribute.');
  return `(${parts.map(([name, value]) => `${name}=${encodeURIComponent(literal(value))}`).join(',')})`;
}

/** The id in an OData-EntityId header value: https://org/api/data/v9.2/contacts(<id>). */
export function idFromEntityIdHeader(value: string | null): string | undefined {
  const match = value && /\(([0-9a-f-]{36})\)\s*$/i.exec(value);
  return match ? match[1] : undefined;
}
