/**
 * The one activity that performs an undo action, for saga compensations and rollbacks alike. Every
 * action tolerates being run again: deleting what is gone, re-creating what exists, re-applying
 * fields or a configuration version all end in the same state. Each undo done is recorded as an
 * UndoApplied telemetry event with the instance that asked for it (activities never replay).
 */
import { defineActivity } from '../lib/saga';
import { recordEvent } from '../lib/telemetry';
import { services } from '../lib/config/services';
import { LookupTargetGoneError, RecordsGoneError, type UndoAction } from '../lib/rollback';
import { diffFields, retrieveWithLookups, withoutNullBindings } from '../lib/dataverse';

export const undoAction = defineActivity<
  { instanceId: string; action: UndoAction | null },
  { undone: boolean }
>('undo_action', async ({ instanceId, action }) => {
  if (!action) return { undone: false };
  const result = await undo(instanceId, action);
  recordEvent('UndoApplied', {
    instanceId,
    kind: action.kind,
    table: action.kind === 'config-activate' ? undefined : action.table,
  });
  return result;
});

async function undo(instanceId: string, action: UndoAction): Promise<{ undone: boolean }> {
  const app = services();
  if (action.kind === 'config-activate') {
    await app.config.activate(action.version, new Date().toISOString(), instanceId);
    return { undone: true };
  }
  const client = app.dataverse(`${instanceId}:undo`);
  // A whole record is compared with its lookups as bindings (the point's record has them so).
  const existing =
    action.kind === 'dataverse-restore-record'
      ? await retrieveWithLookups(client, app.metadata(`${instanceId}:undo`), action.table, action.id)
      : await client.tryRetrieve(action.table, action.id);
  /** A write of `data`, whose 404 is put as the lookup target it names, when it names one. */
  const writing = async (data: Record<string, unknown>, write: () => Promise<unknown>): Promise<void> => {
    try {
      await write();
    } catch (err) {
      throw LookupTargetGoneError.from(err, action, data, 'record');
    }
  };
  const create = (record: Record<string, unknown>): Promise<void> => {
    const data = withoutNullBindings(record);
    return writing(data, () => client.create(action.table, data));
  };
  const update = (data: Record<string, unknown>): Promise<void> =>
    writing(data, () => client.update(action.table, action.id, data, { ifMatch: '*' }));
  switch (action.kind) {
    case 'dataverse-delete':
      if (existing) await client.delete(action.table, action.id);
      return { undone: true };
    case 'dataverse-restore-fields':
      // Nothing to restore the fields into: say which record, not Dataverse's bare 404.
      if (!existing) throw new RecordsGoneError([action], 'record');
      await update(action.fields);
      return { undone: true };
    case 'dataverse-recreate':
      if (!existing) await create(action.record);
      return { undone: true };
    case 'dataverse-restore-record': {
      if (!existing) {
        await create(action.record);
        return { undone: true };
      }
      const changes = diffFields(existing, action.record);
      const write: Record<string, unknown> = {};
      for (const [field, change] of Object.entries(changes)) write[field] = change.after;
      if (Object.keys(write).length) await update(write);
      return { undone: true };
    }
  }
}
