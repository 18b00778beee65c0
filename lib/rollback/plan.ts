/**
 * What a rollback of a point would do, decided by reading only: the points to undo (later dependents
 * first, when cascading) and the records someone edited since. The rollback orchestration runs it in
 * an activity before it undoes anything, and POST /api/rollback-points/{id}/plan runs it in the HTTP
 * function, so a plan is refused exactly when the rollback would be, with the same code. It must never
 * write: no point, record or instance is changed or started here.
 *
 * Which points can be rolled back: `active` ones, and `rollback-failed` ones again once the cause is
 * fixed (every undo action tolerates having run before). `rolling-back` is refused while another
 * rollback runs (ROLLBACK_IN_PROGRESS), `rolled-back` (ROLLBACK_POINT_NOT_ACTIVE) and `expired`
 * (ROLLBACK_POINT_EXPIRED) for good.
 */
import type { FieldConflict, RollbackPoint, RollbackStatus, UndoAction } from '../contracts/responses';
import { RollbackError, type RollbackPointStore } from './store';
import { diffFields } from '../dataverse/changes';
import { resourceKey } from './types';

/** The statuses a rollback may start from. */
export const ROLLBACK_FROM: readonly RollbackStatus[] = ['active', 'rollback-failed'];

/** Reads a Dataverse record; undefined when it does not exist. */
export interface RecordReader {
  tryRetrieve(table: string, id: string): Promise<Record<string, unknown> | undefined>;
}

export interface RollbackStep {
  pointId: string;
  description: string;
  plan: UndoAction[];
}

export interface PreparedRollback {
  steps: RollbackStep[];
  conflicts: FieldConflict[];
}

export interface PlanRequest {
  pointId: string;
  cascade?: boolean;
  force?: boolean;
}

/** The refusal for a point in a status a rollback cannot start from; undefined when it can. */
export function refusalFor(point: RollbackPoint): RollbackError | undefined {
  switch (point.status) {
    case 'active':
    case 'rollback-failed':
      return undefined;
    case 'expired':
      return new RollbackError(
        'ROLLBACK_POINT_EXPIRED',
        `Rollback point '${point.id}' expired on ${point.expiresAt}.`,
      );
    case 'rolling-back':
      return new RollbackError(
        'ROLLBACK_IN_PROGRESS',
        `Rollback point '${point.id}' is being rolled back by instance '${point.rollback?.instanceId ?? '?'}'; wait for it to finish.`,
      );
    case 'rolled-back':
      return new RollbackError(
        'ROLLBACK_POINT_NOT_ACTIVE',
        `Rollback point '${point.id}' was already rolled back${point.rollback?.finishedAt ? ` at ${point.rollback.finishedAt}` : ''}.`,
      );
  }
}

/**
 * Whether the record already is as the undo would leave it: then rolling back overwrites nothing,
 * which is what a retried rollback finds for the records its first attempt did undo.
 */
function alreadyUndone(actions: UndoAction[], current: Record<string, unknown> | undefined): boolean {
  if (!actions.length) return false;
  return actions.every((a) => {
    if (a.kind === 'dataverse-delete') return current === undefined;
    if (a.kind === 'dataverse-restore-fields')
      return current !== undefined && Object.keys(diffFields(current, a.fields)).length === 0;
    return false;
  });
}

function describe(conflicts: FieldConflict[]): string {
  return conflicts
    .map((c) => {
      const target = `${c.entity ?? c.table}${c.name ? ` "${c.name}"` : ''} (${c.id})`;
      if (!c.deleted && Object.keys(c.fields).length === 0) return `${target} was edited in other columns`;
      return c.deleted
        ? `${target} was deleted`
        : `${target}: ${Object.entries(c.fields)
            .map(
              ([f, v]) =>
                `${f} is ${JSON.stringify(v.actual)} (the change set ${JSON.stringify(v.expected)})`,
            )
            .join(', ')}`;
    })
    .join('; ');
}

/**
 * Decides what a rollback of `pointId` will do, or refuses with a RollbackError: the point's status
 * (see refusalFor), later points that touched the same records (ROLLBACK_DEPENDENCY, unless
 * cascading), records edited since (ROLLBACK_CONFLICT, unless forced).
 */
export async function planRollback(
  store: RollbackPointStore,
  records: RecordReader,
  { pointId, cascade, force }: PlanRequest,
): Promise<PreparedRollback> {
  const point = await store.require(pointId);
  const refused = refusalFor(point);
  if (refused) throw refused;
  const dependents = await store.laterDependents(point);
  if (dependents.length && !cascade) {
    throw new RollbackError(
      'ROLLBACK_DEPENDENCY',
      `Later changes touched the same records: ${dependents.map((d) => `${d.id} (${d.description})`).join(', ')}. Roll them back first, or roll back with cascade to undo them too, newest first.`,
      { dependents: dependents.map((d) => d.id) },
    );
  }
  const points = [...dependents, point];
  const conflicts: FieldConflict[] = [];
  for (const [i, p] of points.entries()) {
    // A record a later point in this cascade also touched is put back by that point's undo first.
    const laterKeys = new Set(points.slice(0, i).flatMap((later) => later.resources.map(resourceKey)));
    for (const r of p.resources) {
      if (r.kind !== 'dataverse' || !r.etagAfter || laterKeys.has(resourceKey(r))) continue;
      const current = await records.tryRetrieve(r.table, r.id);
      if (current?.['@odata.etag'] === r.etagAfter) continue;
      const undo = p.plan.filter(
        (a) =>
          a.kind !== 'config-activate' && a.table === r.table && a.id.toLowerCase() === r.id.toLowerCase(),
      );
      if (alreadyUndone(undo, current)) continue;
      // A new etag alone is no conflict for an undo that puts fields back: only a field the change
      // wrote that now holds something else is. Deleting a record the change created would also lose
      // edits to other columns, so there the new etag counts by itself.
      const fields: FieldConflict['fields'] = {};
      for (const [f, c] of Object.entries(diffFields(current, r.fieldsAfter ?? {})))
        fields[f] = { expected: c.after, actual: c.before };
      const deletesRecord = undo.some((a) => a.kind === 'dataverse-delete');
      if (current && !deletesRecord && Object.keys(fields).length === 0) continue;
      conflicts.push({
        table: r.table,
        id: r.id,
        ...(r.entity ? { entity: r.entity } : {}),
        ...(r.name ? { name: r.name } : {}),
        ...(current ? {} : { deleted: true }),
        fields,
      });
    }
  }
  if (conflicts.length && !force) {
    throw new RollbackError(
      'ROLLBACK_CONFLICT',
      `Records were edited after the change: ${describe(conflicts)}. Use force to roll back anyway.`,
      { conflicts },
    );
  }
  return {
    steps: points.map((p) => ({ pointId: p.id, description: p.description, plan: p.plan })),
    conflicts,
  };
}
