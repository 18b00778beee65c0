/**
 * Activities that record rollback points. A point's id derives from the saga instance, so recording
 * it again after a crash finds the first one.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import {
  RollbackError,
  planRollback,
  type PreparedRollback,
  type RollbackPoint,
  type RollbackStatus,
  type TouchedResource,
  type UndoAction,
} from '../lib/rollback';
import {
  SYSTEM_ATTRIBUTES,
  emptyLookupBindings,
  retrieveWithLookups,
  writableAttributes,
} from '../lib/dataverse';

export interface RecordPointInput {
  sagaInstanceId: string;
  description: string;
  createdAt: string;
  retentionDays?: number;
  resources: TouchedResource[];
  /** Undo actions in the order a rollback runs them (newest change first). */
  plan: UndoAction[];
  snapshots: string[];
}

export const recordRollbackPoint = defineActivity<RecordPointInput, RollbackPoint>(
  'rollback_record',
  async (input) => {
    const { rollbackPoints, settings } = services();
    const days = input.retentionDays ?? settings.rollbackRetentionDays;
    const expiresAt = new Date(Date.parse(input.createdAt) + days * 24 * 3600 * 1000).toISOString();
    return rollbackPoints.create({
      id: `rp-${input.sagaInstanceId}`,
      sagaInstanceId: input.sagaInstanceId,
      origin: 'saga',
      description: input.description,
      createdAt: input.createdAt,
      recordedAt: new Date().toISOString(),
      expiresAt,
      status: 'active',
      resources: input.resources,
      plan: input.plan,
      snapshots: input.snapshots,
    });
  },
);

/**
 * Decides what a rollback of `pointId` will do (lib/rollback/plan.ts: the same read the plan route
 * makes), or refuses with a RollbackError naming the blocking points or the edited field values.
 */
export const prepareRollback = defineActivity<
  { instanceId: string; pointId: string; cascade?: boolean; force?: boolean },
  PreparedRollback
>('rollback_prepare', async ({ instanceId, pointId, cascade, force }) => {
  const { rollbackPoints } = services();
  const client = services().dataverse(instanceId);
  const metadata = services().metadata(instanceId);
  // Records read with their lookups as bindings: the undo and the change's values name them so.
  const records = {
    tryRetrieve: (table: string, id: string) => retrieveWithLookups(client, metadata, table, id),
  };
  return planRollback(rollbackPoints, records, { pointId, cascade, force });
});

export const transitionPoint = defineActivity<
  {
    pointId: string;
    from: RollbackStatus[];
    to: RollbackStatus;
    instanceId: string;
    at: string;
    error?: string;
  },
  RollbackPoint
>('rollback_transition', async ({ pointId, from, to, instanceId, at, error }) =>
  services().rollbackPoints.transition(pointId, [...from, to], (p) => ({
    ...p,
    status: to,
    rollback:
      to === 'rolling-back'
        ? { instanceId, startedAt: at }
        : { instanceId, startedAt: p.rollback?.startedAt ?? at, finishedAt: at, ...(error ? { error } : {}) },
  })),
);

/** A point made by hand: snapshots of the given records and the current configuration, to restore later. */
export const createManualPoint = defineActivity<
  {
    instanceId: string;
    description: string;
    createdAt: string;
    retentionDays?: number;
    records: { table: string; id: string }[];
    includeConfig?: boolean;
  },
  RollbackPoint
>('rollback_createManual', async (input) => {
  const app = services();
  const client = app.dataverse(input.instanceId);
  const metadata = app.metadata(input.instanceId);
  const resources: TouchedResource[] = [];
  const plan: UndoAction[] = [];
  const snapshots: string[] = [];
  for (const [i, ref] of input.records.entries()) {
    // With its lookups as bindings: a restored record gets them back.
    const current = await retrieveWithLookups(client, metadata, ref.table, ref.id);
    if (!current)
      throw new RollbackError(
        'ROLLBACK_POINT_NOT_FOUND',
        `${ref.table}(${ref.id}) does not exist; there is nothing to snapshot.`,
      );
    const table = await metadata.table(ref.table);
    const record = {
      ...writableAttributes(current, SYSTEM_ATTRIBUTES),
      ...(table ? emptyLookupBindings(current, table) : {}),
    };
    const blob = `${input.instanceId}/manual-${i}.json`;
    await app.snapshots.put(blob, { exists: true, etag: current['@odata.etag'], record, blob });
    snapshots.push(blob);
    resources.push({ kind: 'dataverse', table: ref.table, id: ref.id });
    plan.push({ kind: 'dataverse-restore-record', table: ref.table, id: ref.id, record });
  }
  if (input.includeConfig) {
    const current = await app.config.current();
    if (current) {
      resources.push({ kind: 'config', name: 'app', versionAfter: current.version });
      plan.push({ kind: 'config-activate', name: 'app', version: current.version });
    }
  }
  const days = input.retentionDays ?? app.settings.rollbackRetentionDays;
  return app.rollbackPoints.create({
    id: `rp-${input.instanceId}`,
    origin: 'manual',
    description: input.description,
    createdAt: input.createdAt,
    recordedAt: new Date().toISOString(),
    expiresAt: new Date(Date.parse(input.createdAt) + days * 24 * 3600 * 1000).toISOString(),
    status: 'active',
    resources,
    plan,
    snapshots,
  });
});

/** Expires points past their expiry and deletes their snapshots; returns the expired ids. */
export async function expireRollbackPoints(now: string): Promise<string[]> {
  const app = services();
  const expired = await app.rollbackPoints.expire(now);
  for (const p of expired) for (const blob of p.snapshots) await app.snapshots.delete(blob);
  return expired.map((p) => p.id);
}
