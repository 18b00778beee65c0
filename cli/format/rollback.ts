/**
 * Rollback points and plans for people: the undo actions as numbered sentences naming the records
 * (`delete account "Lindqvist Physio" (3eedb109…)`), a point's rollback state, and the conflicts a
 * plan found. Formatting only: the GUIDs and the raw actions stay in `--json`.
 */
import type {
  FieldConflict,
  LookupNames,
  RollbackPlan,
  RollbackPoint,
  UndoAction,
} from '../../lib/contracts/responses';
import { actionText, fieldText, recordName, valueText } from './records';

export function actionLines(plan: UndoAction[], indent = '  '): string[] {
  return plan.length
    ? plan.map((a, i) => `${indent}${i + 1}. ${actionText(a)}`)
    : [`${indent}(nothing to undo)`];
}

/** `rolled back at … by instance …`, or how the rollback failed; undefined when none ran. */
export function rollbackText(point: Pick<RollbackPoint, 'status' | 'rollback'>): string | undefined {
  const r = point.rollback;
  if (!r) return undefined;
  if (point.status === 'rolling-back') return `running as instance ${r.instanceId} since ${r.startedAt}`;
  if (point.status === 'rollback-failed')
    return `failed at ${r.finishedAt ?? r.startedAt} (instance ${r.instanceId}): ${r.error ?? 'unknown error'}`;
  return `rolled back at ${r.finishedAt ?? r.startedAt} by instance ${r.instanceId}`;
}

function conflictText(c: FieldConflict, names: LookupNames): string {
  if (c.deleted) return `${recordName(c)} was deleted since`;
  const fields = Object.entries(c.fields)
    .map(
      ([f, v]) =>
        `${fieldText(f)} is now ${valueText(v.actual, names)} (the change set ${valueText(v.expected, names)})`,
    )
    .join(', ');
  return `${recordName(c)}: ${fields || 'edited since'}`;
}

/** Every lookup target the plan's actions name: a conflict's values are bindings among these. */
function namesIn(plan: RollbackPlan): LookupNames {
  const names: LookupNames = {};
  for (const step of plan.steps)
    for (const a of step.plan) if (a.kind === 'dataverse-restore-fields') Object.assign(names, a.lookupNames);
  return names;
}

export function planLines(plan: RollbackPlan): string[] {
  const lines = [`Rolling back ${plan.pointId} would undo ${plan.steps.length} point(s), in this order:`];
  for (const step of plan.steps)
    lines.push('', `${step.pointId}  ${step.description}`, ...actionLines(step.plan));
  const names = namesIn(plan);
  if (plan.conflicts.length)
    lines.push(
      '',
      'Edited since the change (a rollback with --force overwrites these):',
      ...plan.conflicts.map((c) => `  ${conflictText(c, names)}`),
    );
  lines.push(
    '',
    `Nothing was changed. To roll back: blc rollback execute ${plan.pointId}${
      plan.steps.length > 1 ? ' --cascade' : ''
    }${plan.conflicts.length ? ' --force' : ''} --wait`,
  );
  return lines;
}
