/**
 * An orchestration instance for people: each step's state in words (a compensation kept by the
 * rollback point, a wait for a service that is down), the rollback point the instance left, and the
 * few lines that say what it did. Used by `status` and at the end of `--wait`. Formatting only: it
 * decides no exit code and prints nothing.
 */
import type { InstanceView, StepStatus } from '../../lib/contracts/responses';
import { asChangeOutput, changeSummary } from './change';

const SERVICES: Record<string, string> = { dataverse: 'Dataverse', graph: 'Microsoft Graph' };

/** A clock time as the person's terminal shows it: 10:42:10. */
function clock(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toTimeString().slice(0, 8);
}

/** `waiting for Dataverse (retry 3, next at 10:42:10)` */
export function waitingText(waiting: NonNullable<StepStatus['waiting']>): string {
  const service = SERVICES[waiting.service.toLowerCase()] ?? waiting.service;
  return `waiting for ${service} (retry ${waiting.attempt}, next at ${clock(waiting.nextAttemptAt)})`;
}

/** The rollback point a completed saga keeps its compensations in. */
export function pointIdOf(view: InstanceView): string | undefined {
  const details = (view.customStatus as { details?: { rollbackPointId?: unknown } } | null)?.details;
  const id = view.rollbackPoint?.id ?? details?.rollbackPointId;
  return typeof id === 'string' ? id : undefined;
}

/** The saga's phase; `compensated` says so when nothing needed undoing (a plan refused, a first step failed). */
export function phaseText(view: InstanceView): string | undefined {
  if (view.phase !== 'compensated') return view.phase;
  return view.steps?.some((s) => s.state === 'compensated')
    ? view.phase
    : 'compensated (nothing needed undoing)';
}

/** How a Dataverse change applied its writes: as one changeset, or operation by operation and why. */
export function appliedText(view: InstanceView): string | undefined {
  const details = (view.customStatus as { details?: { atomic?: unknown; atomicFallback?: unknown } } | null)
    ?.details;
  if (view.name !== 'dataverseChange' || typeof details?.atomic !== 'boolean') return undefined;
  if (details.atomic) return 'as one changeset (all or nothing)';
  return typeof details.atomicFallback === 'string'
    ? `operation by operation: ${details.atomicFallback}`
    : 'operation by operation (atomic: false)';
}

/**
 * A step's state in words. `live` (the lines `--wait` prints as steps change) leaves out whether its
 * compensation is pending or available: that is the saga's outcome, said once at the end.
 */
export function stepState(step: StepStatus, options: { pointId?: string; live?: boolean } = {}): string {
  const c = step.compensation;
  let text: string = step.state;
  if (c?.state === 'available' && !options.live)
    text += options.pointId
      ? ` (compensation available through rollback point ${options.pointId})`
      : ' (compensation available)';
  else if (c?.state === 'pending' && !options.live) text += ' (compensation pending)';
  if (step.waiting) text += `, ${waitingText(step.waiting)}`;
  return text;
}

/** The rollback point line: `rp-… (active)` or `rp-… rolled back at … by instance …`. */
export function rollbackPointText(point: NonNullable<InstanceView['rollbackPoint']>): string {
  const r = point.rollback;
  if (point.status === 'rolled-back' && r)
    return `${point.id} rolled back at ${r.finishedAt ?? r.startedAt} by instance ${r.instanceId}`;
  if (point.status === 'rolling-back' && r)
    return `${point.id} being rolled back by instance ${r.instanceId} (since ${r.startedAt})`;
  if (point.status === 'rollback-failed' && r)
    return `${point.id} (rollback-failed: instance ${r.instanceId}${r.error ? `: ${r.error}` : ''}; retry with blc rollback execute ${point.id})`;
  return `${point.id} (${point.status})`;
}

function compact(value: unknown, max = 300): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}… (see --json)` : text;
}

/** The few lines saying what a finished instance did (nothing for one that did not complete). */
export function outcomeLines(view: InstanceView): string[] {
  if (view.runtimeStatus !== 'Completed') return [];
  const output = view.output as Record<string, unknown> | null;
  const change = view.name === 'dataverseChange' ? asChangeOutput(output) : undefined;
  const pointId =
    pointIdOf(view) ?? (typeof output?.rollbackPointId === 'string' ? output.rollbackPointId : undefined);
  const lines: string[] = [];
  if (change) {
    if (change.dryRun) return [];
    lines.push(changeSummary(change) ?? '');
  } else if (view.name === 'rollback' && Array.isArray(output?.rolledBack)) {
    lines.push(`Rolled back ${(output.rolledBack as string[]).join(', ')}.`);
  } else if (view.name === 'createRollbackPoint' && typeof output?.id === 'string') {
    lines.push(`Recorded rollback point ${output.id}: blc rollback show ${output.id}`);
  } else if (output !== null && output !== undefined) {
    lines.push(`Output: ${compact(output)}`);
  }
  if (pointId && view.name !== 'createRollbackPoint') {
    const state = view.rollbackPoint ? ` (${view.rollbackPoint.status})` : '';
    lines.push(`Rollback point ${pointId}${state}: blc rollback plan ${pointId}`);
  }
  return lines.filter(Boolean);
}
