/**
 * The described Dataverse change a saga applies: validation of the operations a user sends, the
 * field-by-field difference between a record and the desired data, deterministic ids for creates
 * (so a re-run finds its own record), and the undo action that restores a before-image. Pure:
 * no I/O, no clock, so orchestrators and activities can both use it.
 */
import { createHash } from 'node:crypto';
import type { AlternateKey } from './keys';
import { isGuid } from './keys';

export type OperationKind = 'create' | 'update' | 'upsert' | 'delete';

export interface DataverseOperation {
  op: OperationKind;
  /** Entity set name, e.g. "contacts". */
  table: string;
  id?: string;
  key?: AlternateKey;
  data?: Record<string, unknown>;
  /** The etag the record must still carry when the change is applied. */
  expectedEtag?: string;
}

export interface DataverseChangeInput {
  description?: string;
  operations: DataverseOperation[];
  dryRun?: boolean;
  /** Days the rollback point is kept; default 30. */
  retentionDays?: number;
}

export interface ValidationProblem {
  field: string;
  message: string;
}

export class ChangeValidationError extends Error {
  readonly code = 'INVALID_CHANGE';
  constructor(readonly problems: ValidationProblem[]) {
    super(
      `[INVALID_CHANGE] The change is not valid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );
  }
}

const KINDS: readonly OperationKind[] = ['create', 'update', 'upsert', 'delete'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the shape of a change; the tables' existence is checked against the environment later. */
export function validateChange(input: unknown): DataverseChangeInput {
  const problems: ValidationProblem[] = [];
  if (!isPlainObject(input))
    throw new ChangeValidationError([{ field: '(input)', message: 'must be an object' }]);
  const ops = input.operations;
  if (!Array.isArray(ops) || ops.length === 0) {
    problems.push({ field: 'operations', message: 'must be a non-empty array' });
  } else {
    ops.forEach((raw: unknown, i) => {
      const at = `operations[${i}]`;
      if (!isPlainObject(raw)) {
        problems.push({ field: at, message: 'must be an object' });
        return;
      }
      if (!KINDS.includes(raw.op as OperationKind))
        problems.push({ field: `${at}.op`, message: `must be one of ${KINDS.join(', ')}` });
      if (typeof raw.table !== 'string' || !IDENTIFIER.test(raw.table)) {
        problems.push({ field: `${at}.table`, message: 'must be an entity set name such as "contacts"' });
      }
      if (raw.id !== undefined && (typeof raw.id !== 'string' || !isGuid(raw.id))) {
        problems.push({ field: `${at}.id`, message: 'must be a GUID' });
      }
      if (raw.key !== undefined) {
        const key = raw.key;
        const ok =
          isPlainObject(key) &&
          Object.keys(key).length > 0 &&
          Object.entries(key).every(
            ([k, v]) => IDENTIFIER.test(k) && ['string', 'number', 'boolean'].includes(typeof v),
          );
        if (!ok)
          problems.push({
            field: `${at}.key`,
            message: 'must map attribute names to strings, numbers or booleans',
          });
      }
      if (raw.id !== undefined && raw.key !== undefined)
        problems.push({ field: at, message: 'give either id or key, not both' });
      const needsTarget = raw.op === 'update' || raw.op === 'delete' || raw.op === 'upsert';
      if (needsTarget && raw.id === undefined && raw.key === undefined) {
        problems.push({ field: at, message: `${String(raw.op)} needs an id or an alternate key` });
      }
      const needsData = raw.op !== 'delete';
      if (needsData && (!isPlainObject(raw.data) || Object.keys(raw.data).length === 0)) {
        problems.push({ field: `${at}.data`, message: 'must be an object with at least one attribute' });
      }
      if (raw.op === 'delete' && raw.data !== undefined)
        problems.push({ field: `${at}.data`, message: 'delete takes no data' });
      if (raw.expectedEtag !== undefined && typeof raw.expectedEtag !== 'string') {
        problems.push({ field: `${at}.expectedEtag`, message: 'must be an etag string such as W/"123"' });
      }
    });
  }
  if (input.description !== undefined && typeof input.description !== 'string') {
    problems.push({ field: 'description', message: 'must be a string' });
  }
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean')
    problems.push({ field: 'dryRun', message: 'must be true or false' });
  if (
    input.retentionDays !== undefined &&
    !(Number.isInteger(input.retentionDays) && (input.retentionDays as number) > 0)
  ) {
    problems.push({ field: 'retentionDays', message: 'must be a positive whole number of days' });
  }
  if (problems.length) throw new ChangeValidationError(problems);
  return input as unknown as DataverseChangeInput;
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

/** The fields of `desired` whose values differ from `current` (absent in current counts as null). */
export function diffFields(
  current: Record<string, unknown> | undefined,
  desired: Record<string, unknown>,
): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const [field, after] of Object.entries(desired)) {
    const before = current?.[field] ?? null;
    if (!same(before, after)) changes[field] = { before, after };
  }
  return changes;
}

/** Attributes of a retrieved record a client may write back: no annotations, no computed lookups. */
export function writableAttributes(
  record: Record<string, unknown>,
  readOnly: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
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
