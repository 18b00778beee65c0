/**
 * Undoes an applied changeset (a later step of the saga failed) as one changeset: created records
 * deleted, fields and deleted records restored from the before-images. It reads the records first and
 * writes only what is not undone yet, so running it again changes nothing. Each undo done is recorded
 * as an UndoApplied telemetry event, as undo_action records its own.
 *
 * A record someone deleted since the change cannot get its fields back, and its update would make
 * Dataverse refuse the whole changeset: it is left out, the rest is committed, and then the activity
 * fails naming those records (RECORD_GONE), as the per-operation path fails only their compensations.
 * So is a write that would bind a lookup to a record deleted since (LOOKUP_TARGET_GONE): the records
 * lookups point at are read in the same $batch as the undo's own records.
 */
import { defineActivity } from '../lib/saga';
import { recordEvent } from '../lib/telemetry';
import { services } from '../lib/config/services';
import {
  DataverseError,
  LOOKUP_ANNOTATIONS,
  bindsLookups,
  diffFields,
  bindingsIn,
  readRecords,
  recordKeyOf,
  withLookups,
  withoutNullBindings,
  type BatchWrite,
  type DataverseClient,
} from '../lib/dataverse';
import { LookupTargetGoneError, RecordsGoneError, type GoneBindings, type UndoAction } from '../lib/rollback';

type RecordAction = Exclude<UndoAction, { kind: 'config-activate' }>;

/**
 * The write that undoes one action given the record as it is now; none when it is already undone,
 * 'gone' when the record it would write into no longer exists (the other kinds create what is absent).
 */
function undoWrite(
  action: RecordAction,
  current: Record<string, unknown> | undefined,
): BatchWrite | 'gone' | undefined {
  switch (action.kind) {
    case 'dataverse-delete':
      return current ? { kind: 'delete', entitySet: action.table, key: action.id } : undefined;
    case 'dataverse-restore-fields':
      if (!current) return 'gone';
      if (Object.keys(diffFields(current, action.fields)).length === 0) return undefined;
      return { kind: 'update', entitySet: action.table, key: action.id, data: action.fields, ifMatch: '*' };
    case 'dataverse-recreate':
      return current ? undefined : { kind: 'create', entitySet: action.table, data: action.record };
    case 'dataverse-restore-record': {
      if (!current)
        return { kind: 'create', entitySet: action.table, data: withoutNullBindings(action.record) };
      const changes = diffFields(current, action.record);
      if (Object.keys(changes).length === 0) return undefined;
      const data = Object.fromEntries(Object.entries(changes).map(([f, c]) => [f, c.after]));
      return { kind: 'update', entitySet: action.table, key: action.id, data, ifMatch: '*' };
    }
  }
}

export interface UndoChangesetInput {
  instanceId: string;
  actions: UndoAction[];
}

/** The records an action may bind lookups to: read with its own record, to leave out a write that would fail. */
function boundTargets(action: RecordAction): { entitySet: string; key: string }[] {
  const data =
    action.kind === 'dataverse-restore-fields'
      ? action.fields
      : action.kind === 'dataverse-delete'
        ? {}
        : action.record;
  return bindingsIn(data).map(({ target }) => ({ entitySet: target.entitySet, key: target.id }));
}

/** The bindings of `write` to records the read found missing and no write of this undo creates. */
function goneBindings(
  write: BatchWrite,
  found: Map<string, unknown>,
  created: Set<string>,
): [string, string][] {
  if (!('data' in write)) return [];
  return bindingsIn(write.data).flatMap(({ navigation, binding, target }): [string, string][] => {
    const key = recordKeyOf(target.entitySet, target.id);
    // Read and not there; a read refused (403) proves nothing, and Dataverse decides at commit.
    const missing = found.has(key) && found.get(key) === undefined && !created.has(key);
    return missing ? [[navigation, binding]] : [];
  });
}

export async function undoActions({ instanceId, actions }: UndoChangesetInput): Promise<{ undone: number }> {
  const records = actions.filter((a): a is RecordAction => a.kind !== 'config-activate');
  if (records.length === 0) return { undone: 0 };
  const client = services().dataverse(`${instanceId}:undo`);
  const metadata = services().metadata(`${instanceId}:undo`);
  const own = new Set(records.map((a) => recordKeyOf(a.table, a.id)));
  const refused = new Map<string, DataverseError>();
  const found = await readRecords(
    client,
    [...records.map((a) => ({ entitySet: a.table, key: a.id })), ...records.flatMap(boundTargets)],
    LOOKUP_ANNOTATIONS,
    refused,
  );
  // Only a lookup target may be unreadable; the undo's own records must be read, as before.
  for (const [key, error] of refused) if (own.has(key)) throw error;
  const pending: { action: RecordAction; write: BatchWrite }[] = [];
  const gone: RecordAction[] = [];
  for (const action of records) {
    const read = found.get(recordKeyOf(action.table, action.id));
    const binds =
      action.kind === 'dataverse-restore-fields'
        ? bindsLookups(action.fields)
        : action.kind === 'dataverse-restore-record';
    const table = read && binds ? await metadata.table(action.table) : undefined;
    // Lookups compared as the undo writes them (bindings), or a restored one would look undone.
    const current = read && table ? await withLookups(read, table, metadata) : read;
    const write = undoWrite(action, current);
    if (write === 'gone') gone.push(action);
    else if (write) pending.push({ action, write });
  }
  // A write binding a record deleted since would make Dataverse refuse the whole changeset: left out,
  // unless a write before it in the changeset creates that record again.
  const created = new Set<string>();
  const targetGone: GoneBindings[] = [];
  const writes = pending.filter(({ action, write }) => {
    const bindings = goneBindings(write, found, created);
    if (bindings.length) targetGone.push({ record: action, bindings });
    else if (write.kind === 'create') created.add(recordKeyOf(action.table, action.id));
    return bindings.length === 0;
  });
  if (writes.length > 0) await commit(instanceId, client, writes);
  // After the rest is committed: a retry finds it undone, writes nothing and names the same records.
  if (targetGone.length > 0)
    throw new LookupTargetGoneError(targetGone, {
      scope: 'rest-undone',
      ...(gone.length ? { also: `Also, ${RecordsGoneError.describe(gone, 'also')}` } : {}),
    });
  if (gone.length > 0) throw new RecordsGoneError(gone);
  return { undone: writes.length };
}

export const undoChangeset = defineActivity<UndoChangesetInput, { undone: number }>(
  'dataverseChange_undoChangeset',
  undoActions,
);

/** Every pending undo in one changeset, all or nothing. */
async function commit(
  instanceId: string,
  client: DataverseClient,
  pending: { action: RecordAction; write: BatchWrite }[],
): Promise<void> {
  const answer = await client.executeBatch({ changeset: pending.map((u) => u.write) });
  if (answer.changeset?.outcome !== 'committed') {
    const failure = answer.changeset?.failure;
    const error =
      failure?.error ??
      new DataverseError('The undo changeset was not applied.', answer.status, 'CHANGESET_REFUSED');
    const refused = failure?.index === undefined ? undefined : pending[failure.index];
    throw refused && 'data' in refused.write
      ? LookupTargetGoneError.from(error, refused.action, refused.write.data, 'changeset')
      : error;
  }
  // As undo_action reports each undo it does.
  for (const { action } of pending)
    recordEvent('UndoApplied', { instanceId, kind: action.kind, table: action.table });
}
