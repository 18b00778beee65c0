/**
 * The Dataverse change saga. Input: a described list of operations. It validates them, plans and
 * checks each write against the table's metadata (a dry run stops there and returns the plan with its
 * problems; a real run whose plan has problems stops there too, unless told to skip the checks),
 * then applies the writes. By default (`atomic`, when they fit one changeset: at most 1,000 writes,
 * no record written twice) the plan reads every record in one $batch and all writes go in one
 * all-or-nothing changeset, as one step; otherwise (`atomic: false`, or what does not fit, said in
 * the status as `atomicFallback`) each operation takes its before-image and is applied on its own,
 * with its undo as its compensation. A finished change records a rollback point; a failed one leaves
 * Dataverse as it was.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { validateChange } from '../lib/dataverse/changes';
import { changesetFit } from '../lib/dataverse/changeset';
import { PlanInvalidError, type PlanProblem } from '../lib/dataverse/planChecks';
import { dataverseChangeFlow } from '../lib/orchestrations';
import { Saga, defineOrchestration, replaySafeLog } from '../lib/saga';
import type { TouchedResource, UndoAction } from '../lib/rollback';
import {
  applyOperation,
  planChange,
  recordRef,
  snapshotRecord,
  undoFor,
  type ApplyResult,
  type PlannedOperation,
  type Snapshot,
} from '../activities/dataverseChange';
import {
  applyChangeset,
  planChangeset,
  snapshotOf,
  type BeforeImage,
} from '../activities/dataverseChangeset';
import { undoChangeset } from '../activities/undoChangeset';
import { recordRollbackPoint } from '../activities/rollbackPoints';
import { undoAction } from '../activities/undo';

export interface DataverseChangeResult {
  dryRun: boolean;
  plan: PlannedOperation[];
  /** A dry run: what the plan found the writes would be refused for, and whether any would be. */
  problems?: PlanProblem[];
  wouldFail?: boolean;
  /** A dry run of an atomic change that would go operation by operation instead: why. */
  atomicFallback?: string;
  results?: ApplyResult[];
  rollbackPointId?: string;
}

/** What a finished change leaves in its rollback point, gathered operation by operation. */
interface PointContents {
  results: ApplyResult[];
  undo: UndoAction[];
  resources: TouchedResource[];
  snapshots: string[];
}

function emptyPoint(): PointContents {
  return { results: [], undo: [], resources: [], snapshots: [] };
}

/** Adds one applied operation: its undo runs before those of earlier operations. */
function addApplied(
  point: PointContents,
  planned: PlannedOperation,
  result: ApplyResult,
  snapshot: Snapshot,
): void {
  point.results.push(result);
  const action = undoFor(result, snapshot, planned.lookupNames);
  if (action) point.undo.unshift(action);
  if (result.action !== 'unchanged')
    point.resources.push({
      kind: 'dataverse',
      ...recordRef(result),
      etagAfter: result.etagAfter,
      fieldsAfter:
        result.action === 'created'
          ? planned.data
          : Object.fromEntries(Object.entries(result.changed).map(([f, c]) => [f, c.after])),
    });
}

/** Today's path: for each operation a snapshot activity, then an apply activity with its own undo. */
function* applyEach(
  saga: Saga,
  instanceId: string,
  plan: PlannedOperation[],
): Generator<Task, PointContents, unknown> {
  const point = emptyPoint();
  for (const planned of plan) {
    if (planned.inDesiredState) continue;
    const label = `${planned.op} ${planned.table} #${planned.index + 1}`;
    const snapshot: Snapshot = yield* saga.step({
      name: `snapshot ${planned.table} #${planned.index + 1}`,
      activity: snapshotRecord,
      input: { instanceId, planned },
    });
    point.snapshots.push(snapshot.blob);
    const result: ApplyResult = yield* saga.step({
      name: label,
      activity: applyOperation,
      input: { instanceId, planned, snapshot },
      compensation: {
        activity: undoAction,
        input: (r: ApplyResult) => ({ instanceId, action: undoFor(r, snapshot, planned.lookupNames) }),
      },
    });
    addApplied(point, planned, result, snapshot);
  }
  return point;
}

/**
 * The atomic path: every write in one changeset, as one step whose undo (should a later step fail)
 * is itself one changeset. A refused changeset wrote nothing, so nothing is compensated. An updated
 * record someone deleted before the undo is left out of it and the rest undone; the compensation then
 * fails naming that record (RECORD_GONE), as the per-operation path fails only its compensation.
 */
function* applyAtomically(
  saga: Saga,
  instanceId: string,
  plan: PlannedOperation[],
  images: BeforeImage[],
): Generator<Task, PointContents, unknown> {
  const point = emptyPoint();
  const writes = plan.filter((p) => !p.inDesiredState);
  if (writes.length === 0) return point;
  const snapshots = new Map(images.map((i) => [i.index, snapshotOf(instanceId, i)]));
  const snapshotFor = (p: PlannedOperation): Snapshot =>
    snapshots.get(p.index) ?? snapshotOf(instanceId, { index: p.index, exists: p.exists });
  // Results come back in the order of the writes; undo runs newest first, as the rollback point's.
  const undoOf = (results: ApplyResult[]): UndoAction[] =>
    results
      .map((r, i) => undoFor(r, snapshotFor(writes[i]), writes[i].lookupNames))
      .filter((a): a is UndoAction => a !== null)
      .reverse();
  const results: ApplyResult[] = yield* saga.step({
    name: `apply ${writes.length} operation${writes.length === 1 ? '' : 's'} (one changeset)`,
    activity: applyChangeset,
    input: { instanceId, writes, images },
    compensation: {
      activity: undoChangeset,
      input: (r: ApplyResult[]) => ({ instanceId, actions: undoOf(r) }),
    },
  });
  for (const [i, planned] of writes.entries()) {
    point.snapshots.push(snapshotFor(planned).blob);
    addApplied(point, planned, results[i], snapshotFor(planned));
  }
  return point;
}

export const dataverseChange = defineOrchestration(
  dataverseChangeFlow,
  function* (context: OrchestrationContext): Generator<Task, DataverseChangeResult, unknown> {
    const input = validateChange(context.df.getInput());
    const instanceId = context.df.instanceId;
    const atomicWanted = input.atomic !== false;
    const saga = new Saga(context, 'dataverseChange');
    const count = input.operations.length;
    // A step of its own, so a throttled or unreachable Dataverse is waited out (and shown) here too.
    const planning = {
      name: `plan ${count} operation${count === 1 ? '' : 's'}`,
      input: { instanceId, operations: input.operations },
    };
    // The atomic path reads every record in one $batch and keeps the reads as before-images.
    const { plan, images } = atomicWanted
      ? yield* saga.read({ ...planning, activity: planChangeset })
      : { plan: yield* saga.read({ ...planning, activity: planChange }), images: [] };
    const problems = plan.flatMap((p) => p.problems ?? []);
    const wouldFail = problems.length > 0;
    const fit = atomicWanted ? changesetFit(plan) : undefined;
    if (input.dryRun)
      return saga.complete({
        dryRun: true,
        plan,
        problems,
        wouldFail,
        ...(fit && !fit.fits ? { atomicFallback: fit.reason } : {}),
      } satisfies DataverseChangeResult);
    // Refused before any write: a plan that finds problems would only end in compensation.
    if (wouldFail && !input.skipPlanChecks)
      return yield* saga.abort(
        new PlanInvalidError(
          problems,
          plan.map((p) => p.table),
        ),
      );

    const atomic = fit?.fits === true;
    saga.annotate({
      description: input.description ?? '',
      operations: plan.length,
      atomic,
      ...(fit && !fit.fits ? { atomicFallback: fit.reason } : {}),
    });
    if (fit && !fit.fits)
      replaySafeLog(
        context,
        'information',
        `Dataverse change ${instanceId} is applied operation by operation, not as one changeset: ${fit.reason}.`,
      );
    return yield* saga.run(function* () {
      const point = atomic
        ? yield* applyAtomically(saga, instanceId, plan, images)
        : yield* applyEach(saga, instanceId, plan);
      const recorded = yield* saga.step({
        name: 'record rollback point',
        activity: recordRollbackPoint,
        input: {
          sagaInstanceId: instanceId,
          description: input.description ?? `Dataverse change ${instanceId}`,
          createdAt: context.df.currentUtcDateTime.toISOString(),
          retentionDays: input.retentionDays,
          resources: point.resources,
          plan: point.undo,
          snapshots: point.snapshots,
        },
      });
      saga.annotate({ rollbackPointId: recorded.id });
      return {
        dryRun: false,
        plan,
        results: point.results,
        rollbackPointId: recorded.id,
      } satisfies DataverseChangeResult;
    });
  },
);
