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
  LOOKUP_ANNOTATIONS,
  NAMED_LOOKUP_ANNOTATIONS,
  PlanProblem,
  RecordKey,
  SYSTEM_ATTRIBUTES,
  bindsLookups,
  changedFields,
  checkOperationData,
  deterministicId,
  bindingKey,
  diffFields,
  lookupNames,
  recordLabel,
  withLookups,
  writableAttributes,
  type DataverseClient,
  type DataverseMetadata,
  type LookupNames,
  type LookupReference,
  type TableMetadata,
} from '../lib/dataverse';
import type { DataverseRecordRef } from '../lib/contracts/responses';
import type { UndoAction } from '../lib/rollback';

export interface PlannedOperation {
  index: number;
  op: DataverseOperation['op'];
  table: string;
  /** The table's logical name (account). */
  entity?: string;
  primaryIdAttribute: string;
  primaryNameAttribute?: string;
  /** The record's primary name: its current value, or for a create the value being written. */
  name?: string;
  /** The record's id when known (existing records, and creates: the deterministic id). */
  id?: string;
  key?: AlternateKey;
  exists: boolean;
  etag?: string;
  /** Field by field, what would change. */
  changes: Record<string, FieldChange>;
  /** The records its lookups point at before and after it, by name (absent when none is known). */
  lookupNames?: LookupNames;
  /** True when the record is already as desired: nothing will be written. */
  inDesiredState: boolean;
  data?: Record<string, unknown>;
  /** What the write would be refused for (checked against the table's metadata); empty when nothing. */
  problems?: PlanProblem[];
  /**
   * An earlier operation deletes the record this one's `attribute` refers to, and Dataverse then
   * clears that lookup: the record changes between the plan and this write.
   */
  cascadeFrom?: { operation: number; attribute: string };
}

export class ChangeError extends CodedError<
  | 'UNKNOWN_TABLE'
  | 'RECORD_NOT_FOUND'
  | 'CONFLICT'
  | 'ALREADY_EXISTS'
  | 'CHANGESET_REFUSED'
  | 'CHANGESET_OUTCOME_UNKNOWN'
> {
  override readonly name = 'ChangeError';
}

function describeTarget(op: { table: string; id?: string; key?: AlternateKey }): string {
  return op.id ? `${op.table}(${op.id})` : `${op.table}(${JSON.stringify(op.key)})`;
}

export function stripAnnotations(record: DataverseRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!k.includes('@')) out[k] = v;
  return out;
}

export function nameOf(
  record: Record<string, unknown> | undefined,
  attribute: string | undefined,
): string | undefined {
  const value = attribute ? record?.[attribute] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Whether each lookup binding points at a table the lookup may refer to and at a record that exists
 * (or that an earlier operation of the same change creates); the records found are named in `names`.
 */
async function checkLookups(
  records: RecordSource,
  metadata: DataverseMetadata,
  lookups: LookupReference[],
  created: Map<string, Named>,
  deleted: Map<string, Deleted>,
  names: LookupNames,
): Promise<PlanProblem[]> {
  const problems: PlanProblem[] = [];
  for (const ref of lookups) {
    const target = await metadata.table(ref.entitySet);
    const where = `${ref.entitySet}(${ref.id})`;
    if (!target || !ref.targets.includes(target.logicalName)) {
      problems.push({
        operation: ref.operation,
        field: ref.field,
        code: 'LOOKUP_TARGET_NOT_FOUND',
        message: `'${ref.field}' points at ${where}, but it can only refer to ${ref.targets.join(' or ')}`,
      });
      continue;
    }
    const gone = deleted.get(`${target.logicalName}|${ref.id.toLowerCase()}`);
    if (gone) {
      // Dataverse refuses a binding to a record the same change has already taken away.
      problems.push({
        operation: ref.operation,
        field: ref.field,
        code: 'LOOKUP_TARGET_NOT_FOUND',
        message: `'${ref.field}' points at ${where}, but operation #${gone.operation + 1} deletes ${gone.label} before this one`,
      });
      continue;
    }
    const key = `/${ref.entitySet}(${ref.id.toLowerCase()})`;
    const creating = created.get(key);
    if (creating) {
      if (creating.name !== undefined) names[key] = { entity: target.logicalName, name: creating.name };
      continue;
    }
    let exists: DataverseRecord | undefined;
    try {
      const select = [
        target.primaryIdAttribute,
        ...(target.primaryNameAttribute ? [target.primaryNameAttribute] : []),
      ];
      exists = await records.get(ref.entitySet, ref.id, select);
    } catch (err) {
      // Without read privilege on the table the plan cannot tell, and Dataverse refuses the write.
      if (!(err instanceof DataverseError && err.isForbidden)) throw err;
      problems.push({
        operation: ref.operation,
        field: ref.field,
        code: 'LOOKUP_TARGET_UNREADABLE',
        message: `'${ref.field}' points at ${where}, which this app may not read (no read privilege on ${target.logicalName})`,
      });
      continue;
    }
    const name = nameOf(exists, target.primaryNameAttribute);
    if (name !== undefined) names[key] = { entity: target.logicalName, name };
    if (!exists)
      problems.push({
        operation: ref.operation,
        field: ref.field,
        code: 'LOOKUP_TARGET_NOT_FOUND',
        message: `'${ref.field}' points at ${where}, which does not exist`,
      });
  }
  return problems;
}

/** The names of the bindings `changes` writes or replaces, as PlannedOperation's lookupNames. */
function namesOfBindings(
  names: LookupNames,
  changes: Record<string, FieldChange>,
): { lookupNames?: LookupNames } {
  const used: LookupNames = {};
  for (const [field, change] of Object.entries(changes)) {
    if (!field.endsWith('@odata.bind')) continue;
    for (const value of [change.before, change.after]) {
      const key = bindingKey(value);
      if (key && names[key]) used[key] = names[key];
    }
  }
  return Object.keys(used).length ? { lookupNames: used } : {};
}

/** A record an earlier operation creates, by `/set(id)`: its primary name when the data gives one. */
interface Named {
  name?: string;
}

/** A record an earlier operation deletes (or Dataverse deletes with it), by `logicalName|id`. */
interface Deleted {
  /** The operation whose delete takes it away. */
  operation: number;
  /** What that operation deletes, as a person reads it: `account "Contoso" (1a2b3c4d…)`. */
  label: string;
}

/**
 * What an earlier delete of this change does to the record `current` (its lookups, as read by the
 * plan), per relationship (CascadeConfiguration.Delete): Cascade deletes it too, so writing it would
 * find nothing (a problem of this operation); Restrict refuses the earlier delete (a problem of that
 * one); RemoveLink, or a behaviour the metadata does not say, clears its lookup, a write of Dataverse's
 * own that moves its etag on, so it cannot go in one changeset after that delete (`cascadeFrom`).
 */
function cascadesOnto(
  index: number,
  table: TableMetadata,
  current: DataverseRecord,
  label: string,
  deleted: Map<string, Deleted>,
  plan: PlannedOperation[],
  verb: string,
): { problems: PlanProblem[]; deletedBy?: Deleted; cascadeFrom?: PlannedOperation['cascadeFrom'] } {
  const problems: PlanProblem[] = [];
  let cascadeFrom: PlannedOperation['cascadeFrom'];
  // In the order the deletes run, whatever the order of the lookups: what happens first decides.
  const reached = Object.values(table.navigation)
    .flatMap((nav) => {
      const value = current[`_${nav.attribute}_value`];
      const gone =
        typeof value === 'string' ? deleted.get(`${nav.target}|${value.toLowerCase()}`) : undefined;
      return gone ? [{ nav, gone }] : [];
    })
    .sort((a, b) => a.gone.operation - b.gone.operation);
  for (const { nav, gone } of reached) {
    const by = `operation #${gone.operation + 1} deletes ${gone.label}`;
    if (nav.onDelete === 'Cascade') {
      problems.push({
        operation: index,
        field: nav.attribute,
        code: 'DELETED_BY_CASCADE',
        message: `${by}, which '${nav.attribute}' refers to, and Dataverse deletes this record with it (the relationship cascades deletes), so there would be nothing left to ${verb}`,
      });
      // Gone from here on: later deletes no longer meet it.
      return { problems, deletedBy: gone };
    }
    if (nav.onDelete === 'Restrict') {
      plan[gone.operation].problems?.push({
        operation: gone.operation,
        code: 'DELETE_RESTRICTED',
        message: `${label} (operation #${index + 1}) refers to ${gone.label} through '${nav.attribute}', and Dataverse refuses to delete a record that is referred to so (the relationship restricts deletes)`,
      });
      continue;
    }
    cascadeFrom ??= { operation: gone.operation, attribute: nav.attribute };
  }
  return cascadeFrom ? { problems, cascadeFrom } : { problems };
}

/**
 * Where a plan reads records from: one GET per record as it goes (the per-operation saga), or records
 * read up front in one $batch (activities/dataverseChangeset.ts). `select` narrows a GET; a source
 * that already holds the whole record may ignore it.
 */
export interface RecordSource {
  get(entitySet: string, key: RecordKey, select?: string[]): Promise<DataverseRecord | undefined>;
}

export function liveRecords(client: DataverseClient): RecordSource {
  return {
    get: (entitySet, key, select) =>
      client.tryRetrieve(entitySet, key, {
        ...(select?.length ? { select } : {}),
        annotations: NAMED_LOOKUP_ANNOTATIONS,
      }),
  };
}

/** The record an operation targets: a create's deterministic id, else its id or alternate key. */
export function operationTarget(
  instanceId: string,
  index: number,
  op: DataverseOperation,
): RecordKey | undefined {
  return op.op === 'create' ? deterministicId(instanceId, index) : (op.id ?? op.key);
}

export const planChange = defineActivity<
  { instanceId: string; operations: DataverseOperation[] },
  PlannedOperation[]
>('dataverseChange_plan', async ({ instanceId, operations }) =>
  buildPlan(
    instanceId,
    operations,
    services().metadata(instanceId),
    liveRecords(services().dataverse(instanceId)),
  ),
);

/** Plans each operation against its table's metadata and its record as `records` has it. */
export async function buildPlan(
  instanceId: string,
  operations: DataverseOperation[],
  metadata: DataverseMetadata,
  records: RecordSource,
): Promise<PlannedOperation[]> {
  const plan: PlannedOperation[] = [];
  /** Records earlier operations create, as `/set(id)`: a later lookup to them is fine. */
  const created = new Map<string, Named>();
  const deleted = new Map<string, Deleted>();
  for (const [index, op] of operations.entries()) {
    const table = await metadata.table(op.table);
    if (!table)
      throw new ChangeError(
        'UNKNOWN_TABLE',
        `operations[${index}]: there is no table with entity set name '${op.table}'.`,
      );
    const primaryId = table.primaryIdAttribute;
    const id = op.op === 'create' ? deterministicId(instanceId, index) : op.id;
    const target = operationTarget(instanceId, index, op);
    const current = target === undefined ? undefined : await records.get(op.table, target);
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
    const creating = !current && (op.op === 'create' || op.op === 'upsert');
    let problems: PlanProblem[] = [];
    // Named as they are now, then as the change binds them.
    const names: LookupNames = current ? await lookupNames(current, table, metadata) : {};
    if (op.op !== 'delete') {
      const checked = checkOperationData({ index, table, data: op.data ?? {}, creating, key: op.key });
      problems = [
        ...checked.problems,
        ...(await checkLookups(records, metadata, checked.lookups, created, deleted, names)),
      ];
    }
    // Lookups compared as the change writes them (bindings), not as Dataverse reads them.
    const changes =
      op.op === 'delete'
        ? diffFields(current, {})
        : diffFields(current ? await withLookups(current, table, metadata) : undefined, op.data ?? {});
    const inDesiredState =
      op.op === 'delete' ? false : current !== undefined && Object.keys(changes).length === 0;
    const recordId = (current?.[primaryId] as string | undefined) ?? id;
    const name = nameOf(current ?? op.data, table.primaryNameAttribute);
    if (creating && recordId) created.set(`/${op.table}(${recordId.toLowerCase()})`, { name });
    const label = recordLabel({ table: op.table, entity: table.logicalName, id: recordId, name });
    const cascade = current
      ? cascadesOnto(index, table, current, label, deleted, plan, op.op)
      : { problems: [], deletedBy: undefined, cascadeFrom: undefined };
    // A record already as desired is not written, so what happens to it first does not matter.
    if (!inDesiredState) problems.push(...cascade.problems);
    // Later operations may refer to this record, gone by this delete or with an earlier one.
    const gone = cascade.deletedBy
      ? { operation: cascade.deletedBy.operation, label: `${cascade.deletedBy.label} and with it ${label}` }
      : op.op === 'delete'
        ? { operation: index, label }
        : undefined;
    if (gone && recordId) deleted.set(`${table.logicalName}|${recordId.toLowerCase()}`, gone);
    plan.push({
      index,
      op: op.op,
      table: op.table,
      entity: table.logicalName,
      primaryIdAttribute: primaryId,
      primaryNameAttribute: table.primaryNameAttribute,
      name,
      id: recordId,
      key: op.key,
      exists: current !== undefined,
      etag,
      changes,
      ...namesOfBindings(names, changes),
      inDesiredState,
      data: op.data,
      problems,
      ...(cascade.cascadeFrom ? { cascadeFrom: cascade.cascadeFrom } : {}),
    });
  }
  return plan;
}

/** A record as a snapshot keeps it: no annotations, and its lookups also as bindings (to restore them). */
async function beforeImage(
  instanceId: string,
  planned: PlannedOperation,
  current: DataverseRecord,
): Promise<Record<string, unknown>> {
  const metadata = services().metadata(instanceId);
  const table = await metadata.table(planned.table);
  return table ? withLookups(current, table, metadata) : stripAnnotations(current);
}

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
      target === undefined
        ? undefined
        : await client.tryRetrieve(planned.table, target as RecordKey, { annotations: LOOKUP_ANNOTATIONS });
    const snapshot: Snapshot = current
      ? {
          exists: true,
          etag: current['@odata.etag'],
          record: await beforeImage(instanceId, planned, current),
          blob,
        }
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
  /** The table's logical name (account). */
  entity?: string;
  /** The record's primary name after the operation (for a delete: before it). */
  name?: string;
  id: string;
  action: 'created' | 'updated' | 'deleted' | 'unchanged';
  etagAfter?: string;
  /** Fields written, with their value before the change (for undo). */
  changed: Record<string, FieldChange>;
}

/** `accountnumber=ACC-2001`: the alternate key a create collided on, from the key or the data written. */
export async function collidingKey(
  instanceId: string,
  planned: PlannedOperation,
): Promise<string | undefined> {
  const describe = (key: Record<string, unknown>): string =>
    Object.entries(key)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
  if (planned.key) return describe(planned.key);
  const data = planned.data ?? {};
  const table = await services()
    .metadata(instanceId)
    .table(planned.table)
    .catch(() => undefined);
  const key = table?.keys.find((k) => k.attributes.every((a) => data[a] !== undefined && data[a] !== null));
  return key ? describe(Object.fromEntries(key.attributes.map((a) => [a, data[a]]))) : undefined;
}

export const applyOperation = defineActivity<
  { instanceId: string; planned: PlannedOperation; snapshot: Snapshot },
  ApplyResult
>('dataverseChange_apply', async ({ instanceId, planned, snapshot }) => {
  const client = services().dataverse(instanceId);
  const { table, index, entity, primaryNameAttribute } = planned;
  const named = (...records: (Record<string, unknown> | undefined)[]): string | undefined =>
    records.map((r) => nameOf(r, primaryNameAttribute)).find((n) => n !== undefined) ?? planned.name;
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
          entity,
          name: named(own),
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
      return {
        index,
        table,
        entity,
        name: named(res.record),
        id: String(createdId),
        action: 'created',
        etagAfter: res.etag,
        changed: {},
      };
    }
    const id = String(snapshot.record?.[planned.primaryIdAttribute] ?? planned.id);
    if (planned.op === 'delete') {
      const current = await client.tryRetrieve(table, id);
      if (current) await client.delete(table, id, { ifMatch: snapshot.etag });
      // A deleted record is named as it was: from its before-image.
      return { index, table, entity, name: named(snapshot.record), id, action: 'deleted', changed: {} };
    }
    const current = await client.retrieve(table, id, { annotations: LOOKUP_ANNOTATIONS });
    const desired = planned.data ?? {};
    const metadata = services().metadata(instanceId);
    // Only a write that binds lookups compares them (after a restart the metadata is read again).
    const definition = bindsLookups(desired) ? await metadata.table(table) : undefined;
    const stillDifferent = diffFields(
      definition ? await withLookups(current, definition, metadata) : stripAnnotations(current),
      desired,
    );
    const changed = changedFields(snapshot.record, desired, definition);
    if (Object.keys(stillDifferent).length === 0) {
      return {
        index,
        table,
        entity,
        name: named(current),
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
    return {
      index,
      table,
      entity,
      name: named(res.record, current),
      id,
      action: 'updated',
      etagAfter: res.etag,
      changed,
    };
  } catch (err) {
    // Before the conflict check: Dataverse answers a create whose key exists with 412 as well.
    if (err instanceof DataverseError && err.isDuplicate) {
      const key = await collidingKey(instanceId, planned);
      throw new ChangeError(
        'ALREADY_EXISTS',
        `${table} with ${key ?? 'the same key'} already exists (operation #${index + 1}); it was not created again and nothing was overwritten.`,
      );
    }
    if (err instanceof DataverseError && err.isConflict) {
      throw new ChangeError(
        'CONFLICT',
        `${table} record ${planned.id ?? JSON.stringify(planned.key)} was changed by someone else after its snapshot; nothing was overwritten.`,
      );
    }
    throw err;
  }
});

/** How an applied operation's record is named in a rollback point: set, id, and names when known. */
export function recordRef(result: ApplyResult): DataverseRecordRef {
  return {
    table: result.table,
    id: result.id,
    ...(result.entity ? { entity: result.entity } : {}),
    ...(result.name !== undefined ? { name: result.name } : {}),
  };
}

/**
 * What undoes one applied operation, from its before-image; `names` (the plan's lookupNames) lets a
 * person read the lookups it restores by the records' names.
 */
export function undoFor(result: ApplyResult, snapshot: Snapshot, names?: LookupNames): UndoAction | null {
  switch (result.action) {
    case 'created':
      return { kind: 'dataverse-delete', ...recordRef(result) };
    case 'deleted':
      return {
        kind: 'dataverse-recreate',
        ...recordRef(result),
        record: writableAttributes(snapshot.record ?? {}, SYSTEM_ATTRIBUTES),
      };
    case 'updated': {
      const fields: Record<string, unknown> = {};
      // A binding another binding restores is left out: writing its null would clear the lookup again.
      for (const [f, c] of Object.entries(result.changed)) if (!c.restoredBy) fields[f] = c.before;
      return {
        kind: 'dataverse-restore-fields',
        ...recordRef(result),
        fields,
        ...(names && Object.keys(names).length ? { lookupNames: names } : {}),
      };
    }
    case 'unchanged':
      return null;
  }
}
