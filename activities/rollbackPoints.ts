/**
 * Activities that record rollback points. A point's id derives from the saga instance, so recording
 * it again after a crash finds the first one.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import {
  RollbackError,
  resourceKey,
  type RollbackPoint,
  type RollbackStatus,
  type TouchedResource,
  type UndoAction,
} from '../lib/rollback';
import { SYSTEM_ATTRIBUTES, writableAttributes } from '../lib/dataverse';

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

export interface RollbackStep {
  pointId: string;
  description: string;
  plan: UndoAction[];
}

export interface FieldConflict {
  table: string;
  id: string;
  deleted?: boolean;
  fields: Record<string, { expected: unknown; actual: unknown }>;
}

/**
 * Decides what a rollback of `pointId` will do: the points to undo (later dependents first, when
 * cascading) and whether anyone edited the touched records since. Refuses with a RollbackError
 * naming the blocking points or the edited field values, unless cascade/force say otherwise.
 */
export const prepareRollback = defineActivity<
  { instanceId: string; pointId: string; cascade?: boolean; force?: boolean },
  { steps: RollbackStep[]; conflicts: FieldConflict[] }
>('rollback_prepare', async ({ instanceId, pointId, cascade, force }) => {
  const { rollbackPoints } = services();
  const point = await rollbackPoints.require(pointId);
  if (point.status === 'expired')
    throw new RollbackError(
      'ROLLBACK_POINT_EXPIRED',
      `Rollback point '${pointId}' expired on ${point.expiresAt}.`,
    );
  if (point.status !== 'active')
    throw new RollbackError('ROLLBACK_POINT_NOT_ACTIVE', `Rollback point '${pointId}' is ${point.status}.`);
  const dependents = await rollbackPoints.laterDependents(point);
  if (dependents.length && !cascade) {
    throw new RollbackError(
      'ROLLBACK_DEPENDENCY',
      `Later changes touched the same records: ${dependents.map((d) => `${d.id} (${d.description})`).join(', ')}. Roll them back first, or ask for a cascade.`,
      { dependents: dependents.map((d) => d.id) },
    );
  }
  const points = [...dependents, point];
  const conflicts: FieldConflict[] = [];
  const client = services().dataverse(instanceId);
  for (const [i, p] of points.entries()) {
    // A record a later point in this cascade also touched is put back by that point's undo first.
    const laterKeys = new Set(points.slice(0, i).flatMap((later) => later.resources.map(resourceKey)));
    for (const r of p.resources) {
      if (r.kind !== 'dataverse' || !r.etagAfter || laterKeys.has(resourceKey(r))) continue;
      const current = await client.tryRetrieve(r.table, r.id);
      if (current?.['@odata.etag'] === r.etagAfter) continue;
      const fields: FieldConflict['fields'] = {};
      for (const [f, expected] of Object.entries(r.fieldsAfter ?? {}))
        fields[f] = { expected, actual: current?.[f] ?? null };
      conflicts.push({ table: r.table, id: r.id, ...(current ? {} : { deleted: true }), fields });
    }
  }
  if (conflicts.length && !force) {
    const described = conflicts
      .map((c) =>
        c.deleted
          ? `${c.table}(${c.id}) was deleted`
          : `${c.table}(${c.id}): ${Object.entries(c.fields)
              .map(
                ([f, v]) =>
                  `${f} is ${JSON.stringify(v.actual)} (the change set ${JSON.stringify(v.expected)})`,
              )
              .join(', ')}`,
      )
      .join('; ');
    throw new RollbackError(
      'ROLLBACK_CONFLICT',
      `Records were edited after the change: ${described}. Use force to roll back anyway.`,
      {
        conflicts,
      },
    );
  }
  return {
    steps: points.map((p) => ({ pointId: p.id, description: p.description, plan: p.plan })),
    conflicts,
  };
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
  const resources: TouchedResource[] = [];
  const plan: UndoAction[] = [];
  const snapshots: string[] = [];
  for (const [i, ref] of input.records.entries()) {
    const current = await client.tryRetrieve(ref.table, ref.id);
    if (!current)
      throw new RollbackError(
        'ROLLBACK_POINT_NOT_FOUND',
        `${ref.table}(${ref.id}) does not exist; there is nothing to snapshot.`,
      );
    const record = writableAttributes(current, SYSTEM_ATTRIBUTES);
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
