/**
 * The described Dataverse change a saga applies: validation of the operations a user sends (by the
 * contract in lib/contracts/dataverseChange.ts), the field-by-field difference between a record and
 * the desired data, deterministic ids for creates
 * (so a re-run finds its own record), and the undo action that restores a before-image. Pure:
 * no I/O, no clock, so orchestrators and activities can both use it.
 */
import { createHash } from 'node:crypto';
import { dataverseChangeInput, type DataverseChangeInput } from '../contracts/dataverseChange';
import { InvalidInputError, parseInput, type FieldProblem } from '../contracts/problems';
import { parseBinding } from './planChecks';

export type { DataverseChangeInput, DataverseOperation, OperationKind } from '../contracts/dataverseChange';

export type ValidationProblem = FieldProblem;

export class ChangeValidationError extends InvalidInputError {
  constructor(problems: FieldProblem[]) {
    super(problems, 'INVALID_CHANGE', 'The change');
    this.name = 'ChangeValidationError';
  }
}

/**
 * Checks the shape of a change against its contract (lib/contracts/dataverseChange.ts); the tables'
 * existence is checked against the environment later.
 */
export function validateChange(input: unknown): DataverseChangeInput {
  return parseInput(dataverseChangeInput, input, (problems) => new ChangeValidationError(problems));
}

/** A record id derived from the instance and step: the same on every re-run, distinct otherwise. */
export function deterministicId(instanceId: string, step: number): string {
  const h = createHash('sha1').update(`life-cockpit:${instanceId}:${step}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface FieldChange {
  before: unknown;
  after: unknown;
  /** A lookup binding whose old target another binding restores (lookups.ts): its undo writes nothing. */
  restoredBy?: string;
}

/** `accounts(ID)`, `/accounts(id)` and an absolute URL to it name the same record. */
function sameBinding(a: unknown, b: unknown): boolean {
  const ra = typeof a === 'string' ? parseBinding(a) : undefined;
  const rb = typeof b === 'string' ? parseBinding(b) : undefined;
  return ra !== undefined && rb !== undefined && ra.entitySet === rb.entitySet && ra.id === rb.id;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'string' && typeof b === 'string') {
    // Dates come back normalised (2026-01-02T03:04:05Z); compare instants, not spellings.
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    if (/^\d{4}-\d{2}-\d{2}T/.test(a) && /^\d{4}-\d{2}-\d{2}T/.test(b) && !Number.isNaN(ta)) return ta === tb;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The fields of `desired` whose values differ from `current` (absent in current counts as null). A
 * lookup binding is compared with `current`'s binding of it, which a read record only has once
 * lookups.ts has added it (Dataverse reads lookups as `_x_value`).
 */
export function diffFields(
  current: Record<string, unknown> | undefined,
  desired: Record<string, unknown>,
): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const [field, after] of Object.entries(desired)) {
    const before = current?.[field] ?? null;
    if (same(before, after) || (field.endsWith('@odata.bind') && sameBinding(before, after))) continue;
    changes[field] = { before, after };
  }
  return changes;
}

/**
 * Attributes of a retrieved record a client may write back: no annotations and no lookups as read
 * (`_x_value`); lookups come back through the bindings lookups.ts adds (`x@odata.bind`).
 */
export function writableAttributes(
  record: Record<string, unknown>,
  readOnly: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k.endsWith('@odata.bind')) {
      if (v !== null && v !== undefined) out[k] = v;
      continue;
    }
    if (k.includes('@') || (k.startsWith('_') && k.endsWith('_value')) || readOnly.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Attributes Dataverse maintains itself; a before-image never writes them back. */
export const SYSTEM_ATTRIBUTES = [
  'createdon',
  'modifiedon',
  'versionnumber',
  'overriddencreatedon',
  'timezoneruleversionnumber',
  'utcconversiontimezonecode',
  'importsequencenumber',
] as const;
