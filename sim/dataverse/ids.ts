/**
 * Identifiers: random record ids, deterministic ids for built-in metadata (so a data file keeps the
 * same sdkmessage and table ids across restarts), and GUID syntax checks. Never used for secrets.
 */
import { createHash, randomUUID } from 'node:crypto';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function newId(): string {
  return randomUUID();
}

/** A stable GUID derived from a name, in the layout of a name-based (version 5) UUID. */
export function stableId(name: string): string {
  const hex = createHash('sha1').update(`life-cockpit-dataverse-sim:${name}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Dataverse prints GUIDs in lower case; clients may send either. */
export function normalizeGuid(value: string): string {
  return value.toLowerCase();
}
