/**
 * The rollback point an instance left, for GET /api/instances/{id}: named by the saga's custom status
 * (`details.rollbackPointId`) or its output, else found under the id every point an instance records
 * gets (`rp-<instanceId>`, lib/rollback). Only a completed instance can have left one. It reads the
 * point store and never writes; an id no point can have is simply "none".
 */
import type { InstanceView, RollbackPoint } from '../contracts/responses';
import type { RollbackPointStore } from '../rollback';
import { sagaStatusOf } from './status';

function named(view: InstanceView): string[] {
  const details = sagaStatusOf(view.customStatus)?.details;
  const output = view.output as { rollbackPointId?: unknown } | null;
  return [details?.rollbackPointId, output?.rollbackPointId].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
}

export async function rollbackPointOf(
  store: RollbackPointStore,
  view: InstanceView,
): Promise<InstanceView['rollbackPoint']> {
  if (view.runtimeStatus !== 'Completed') return undefined;
  const byName = named(view);
  for (const id of [...new Set([...byName, `rp-${view.instanceId}`])]) {
    let point: RollbackPoint | undefined;
    try {
      point = await store.get(id);
    } catch {
      continue; // not an id a point can have (lib/ids.ts)
    }
    if (!point) continue;
    // Found under the instance's own id: a point it recorded (a saga's, or one made by hand) only.
    const its = byName.includes(id) || point.sagaInstanceId === view.instanceId || point.origin === 'manual';
    if (its)
      return { id: point.id, status: point.status, ...(point.rollback ? { rollback: point.rollback } : {}) };
  }
  return undefined;
}
