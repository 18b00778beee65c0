/**
 * The one activity that performs an undo action, for saga compensations and rollbacks alike. Every
 * action tolerates being run again: deleting what is gone, re-creating what exists, re-applying
 * fields or a configuration version all end in the same state. Each undo done is recorded as an
 * UndoApplied telemetry event with the instance that asked for it (activities never replay).
 */
import { defineActivity } from '../lib/saga';
import { recordEvent } from '../lib/telemetry';
import { services } from '../lib/config/services';
import { LookupTargetGoneError, type UndoAction } from '../lib/rollback';
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
  const existing = await client.tryRetrieve(action.table, action.id);
  try {
    return await undoRecord(instanceId, action, existing !== undefined);
  } catch (err) {
    // A create, or an update of a record that was there when read: a 404 on a write that binds
    // lookups is about a record it refers to.
    if (action.kind === 'dataverse-delete' || (action.kind === 'dataverse-restore-fields' && !existing))
      throw err;
    const data = action.kind === 'dataverse-restore-fields' ? action.fields : action.record;
    throw LookupTargetGoneError.from(err, action, data, 'record');
  }
}

async function undoRecord(
  instanceId: string,
  action: Exclude<UndoAction, { kind: 'config-activate' }>,
  existing: boolean,
): Promise<{ undone: boolean }> {
  const app = services();
  const client = app.dataverse(`${instanceId}:undo`);
  switch (action.kind) {
    case 'dataverse-delete':
      if (existing) await client.delete(action.table, action.id);
      return { undone: true };
    case 'dataverse-restore-fields':
      await client.update(action.table, action.id, action.fields, { ifMatch: '*' });
      return { undone: true };
    case 'dataverse-recreate':
      if (!existing) await client.create(action.table, action.record);
      return { undone: true };
    case 'dataverse-restore-record': {
      if (!existing) {
        await client.create(action.table, withoutNullBindings(action.record));
        return { undone: true };
      }
      // Lookups compared as the record holds them as bindings (the point's record has them so).
      const current =
        (await retrieveWithLookups(client, app.metadata(`${instanceId}:undo`), action.table, action.id)) ??
        {};
      const changes = diffFields(current, action.record);
      const write: Record<string, unknown> = {};
      for (const [field, change] of Object.entries(changes)) write[field] = change.after;
      if (Object.keys(write).length) await client.update(action.table, action.id, write, { ifMatch: '*' });
      return { undone: true };
    }
  }
}
