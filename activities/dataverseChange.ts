/**
 * Activities of the Dataverse change saga: plan (validate against the environment and diff), take a
 * before-image, apply one operation idempotently, and undo one. Each is safe to run again after a
 * crash: a snapshot is written once, a create uses a deterministic id, an update writes only what
 * still differs, and undo tolerates work that is already undone.
 */
import { CodedError } from '../lib/errors/codedError';
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import {
  AlternateKey,
  DataverseError,
  DataverseOperation,
  DataverseRecord,
  FieldChange,
  RecordKey,
  SYSTEM_ATTRIBUTES,
  deterministicId,
  diffFields,
  writableAttributes,
} from '../lib/dataverse';
import type { UndoAction } from '../lib/rollback';

export interface PlannedOperation {
  index: number;
  op: DataverseOperation['op'];
  table: string;
  primaryIdAttribute: string;
  /** The record's id when known (existing records, and creates: the deterministic id). */
  id?: string;
  key?: AlternateKey;
  exists: boolean;
  etag?: string;
  /** Field by field, what would change. */
  changes: Record<string, FieldChange>;
  /** True when the record is already as desired: nothing will be written. */
  inDesiredState: boolean;
  data?: Record<string, unknown>;
}

export class ChangeError extends CodedError<
  'UNKNOWN_TABLE' | 'RECORD_NOT_FOUND' | 'CONFLICT' | 'ALREADY_EXISTS'
> {
  override readonly name = 'ChangeError';
}

function describeTarget(op: { table: string; id?: string; key?: AlternateKey }): string {
  return op.id ? `${op.table}(${op.id})` : `${op.table}(${JSON.stringify(op.key)})`;
}

function stripAnnotations(record: DataverseRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!k.includes('@')) out[k] = v;
  return out;
}

export const planChange = defineActivity<
  { instanceId: string; operations: DataverseOperation[] },
  PlannedOperation[]
>('dataverseChange_plan', async ({ instanceId, operations }) => {
  const client = services().dataverse(instanceId);
  const tables = new Map<string, string>();
  const plan: PlannedOperation[] = [];
  for (const [index, op] of operations.entries()) {
    let primaryId = tables.get(op.table);
    if (!primaryId) {
      const def = await client.tableDefinition(op.table);
      if (!def)
        throw new ChangeError(
          'UNKNOWN_TABLE',
          `operations[${index}]: there is no table with entity set name '${op.table}'.`,
        );
      primaryId = def.PrimaryIdAttribute;
      tables.set(op.table, primaryId);
    }
    const id = op.op === 'create' ? deterministicId(instanceId, index) : op.id;
    const target = op.op === 'create' ? id : (op.id ?? op.key);
    const current =
      target === undefined ? undefined : await client.tryRetrieve(op.table, target as RecordKey);
    if (!current && (op.op === 'update' || op.op === 'delete')) {
      throw new ChangeError(
        'RECORD_NOT_FOUND',
        `operations[${index}]: ${describeTarget(op)} does not exist.`,
      );
    }
    const etag = current?.['@odata.etag'];
    if (op.expectedEtag && current && etag !== op.expectedEtag) {
      throw new ChangeError(
        'CONFLICT',
        `operations[${index}]: ${describeTarget(op)} carries ${etag}, not the expected ${op.expectedEtag}; it was changed meanwhile.`,
      );
    }
    const changes =
      op.op === 'delete'
        ? diffFields(current, {})
        : diffFields(current ? stripAnnotations(current) : undefined, op.data ?? {});
    const inDesiredState =
      op.op === 'delete' ? false : current !== undefined && Object.keys(changes).length === 0;
    plan.push({
      index,
      op: op.op,
      table: op.table,
      primaryIdAttribute: primaryId,
      id: (current?.[primaryId] as string | undefined) ?? id,
      key: op.key,
      exists: current !== undefined,
      etag,
      changes,
      inDesiredState,
      data: op.data,
    });
  }
  return plan;
});

export interface Snapshot {
  exists: boolean;
  etag?: string;
  record?: Record<string, unknown>;
  blob: string;
}

export const snapshotRecord = defineActivity<{ instanceId: string; planned: PlannedOperation }, Snapshot>(
  'dataverseChange_snapshot',
  async ({ instanceId, planned }) => {
    const { snapshots } = services();
    const blob = `${instanceId}/${planned.index}.json`;
    // Written once: after a crash the re-run must keep the image from before the change, not after it.
    const existing = await snapshots.get<Snapshot>(blob);
    if (existing) return existing.value;
    const client = services().dataverse(instanceId);
    const target = planned.id ?? planned.key;
    const current =
      target === undefined ? undefined : await client.tryRetrieve(planned.table, target as RecordKey);
    const snapshot: Snapshot = current
      ? { exists: true, etag: current['@odata.etag'], record: stripAnnotations(current), blob }
      : { exists: false, blob };
    try {
      await snapshots.put(blob, snapshot, { ifNoneMatch: '*' });
    } catch {
      return (await snapshots.get<Snapshot>(blob))?.value ?? snapshot;
    }
    return snapshot;
  },
);

export interface ApplyResult {
  index: number;
  table: string;
  id: string;
  action: 'created' | 'updated' | 'deleted' | 'unchanged';
  etagAfter?: string;
  /** Fields written, with their value before the change (for undo). */
  changed: Record<string, FieldChange>;
}

export const applyOperation = defineActivity<
  { instanceId: string; planned: PlannedOperation; snapshot: Snapshot },
  ApplyResult
>('dataverseChange_apply', async ({ instanceId, planned, snapshot }) => {
  const client = services().dataverse(instanceId);
  const { table, index } = planned;
  const creating = !snapshot.exists && (planned.op === 'create' || planned.op === 'upsert');
  try {
    if (creating) {
      const id = planned.op === 'create' ? deterministicId(instanceId, index) : planned.id;
      // A re-run after a crash finds the record it already created instead of making a second one.
      const own = id ? await client.tryRetrieve(table, id) : undefined;
      if (own) {
        return {
          index,
          table,
          id: id as string,
          action: 'created',
          etagAfter: own['@odata.etag'],
          changed: {},
        };
      }
      const data = { ...planned.data, ...(id ? { [planned.primaryIdAttribute]: id } : {}) };
      const res =
        planned.op === 'upsert' && planned.key
          ? await client.upsert(table, planned.key, planned.data ?? {}, {
              mode: 'create',
              returnRepresentation: true,
            })
          : await client.create(table, data, { returnRepresentation: true });
      const createdId = (res.record?.[planned.primaryIdAttribute] as string | undefined) ?? res.id ?? id;
      return { index, table, id: String(createdId), action: 'created', etagAfter: res.etag, changed: {} };
    }
    const id = String(snapshot.record?.[planned.primaryIdAttribute] ?? planned.id);
    if (planned.op === 'delete') {
      const current = await client.tryRetrieve(table, id);
      if (current) await client.delete(table, id, { ifMatch: snapshot.etag });
      return { index, table, id, action: 'deleted', changed: {} };
    }
    const current = await client.retrieve(table, id);
    const desired = planned.data ?? {};
    const stillDifferent = diffFields(stripAnnotations(current), desired);
    const changed = diffFields(snapshot.record, desired);
    if (Object.keys(stillDifferent).length === 0) {
      return {
        index,
        table,
        id,
        action: Object.keys(changed).length ? 'updated' : 'unchanged',
        etagAfter: current['@odata.etag'],
        changed,
      };
    }
    const write: Record<string, unknown> = {};
    for (const field of Object.keys(stillDifferent)) write[field] = desired[field];
    // If-Match with the snapshot's etag: an edit since the snapshot is a conflict, not an overwrite.
    const res = await client.update(table, id, write, {
      ifMatch: snapshot.etag ?? '*',
      returnRepresentation: true,
    });
    return { index, table, id, action: 'updated', etagAfter: res.etag, changed };
  } catch (err) {
    if (err instanceof DataverseError && err.isConflict) {
      throw new ChangeError(
        'CONFLICT',
        `${table} record ${planned.id ?? JSON.stringify(planned.key)} was changed by someone else after its snapshot; nothing was overwritten.`,
      );
    }
    if (err instanceof DataverseError && err.isDuplicate) {
      throw new ChangeError(
        'ALREADY_EXISTS',
        `operations[${index}]: a ${table} record with the same key already exists.`,
      );
    }
    throw err;
  }
});

/** What undoes one applied operation, from its before-image. */
export function undoFor(result: ApplyResult, snapshot: Snapshot): UndoAction | null {
  switch (result.action) {
    case 'created':
      return { kind: 'dataverse-delete', table: result.table, id: result.id };
    case 'deleted':
      return {
        kind: 'dataverse-recreate',
        table: result.table,
        id: result.id,
        record: writableAttributes(snapshot.record ?? {}, SYSTEM_ATTRIBUTES),
      };
    case 'updated': {
      const fields: Record<string, unknown> = {};
      for (const [f, c] of Object.entries(result.changed)) fields[f] = c.before;
      return { kind: 'dataverse-restore-fields', table: result.table, id: result.id, fields };
    }
    case 'unchanged':
      return null;
  }
}
