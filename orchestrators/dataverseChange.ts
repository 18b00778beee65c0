/**
 * The Dataverse change saga. Input: a described list of operations. It validates them, plans and
 * checks each write against the table's metadata (a dry run stops there and returns the plan with its
 * problems; a real run whose plan has problems stops there too, unless told to skip the checks),
 * then for each operation takes a before-image and
 * applies it idempotently, with the undo as its compensation. A finished change records a rollback
 * point; a failed one leaves Dataverse as it was.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { validateChange } from '../lib/dataverse/changes';
import { PlanInvalidError, type PlanProblem } from '../lib/dataverse/planChecks';
import { dataverseChangeFlow } from '../lib/orchestrations';
import { Saga, call, defineOrchestration } from '../lib/saga';
import type { TouchedResource, UndoAction } from '../lib/rollback';
import {
  ApplyResult,
  PlannedOperation,
  Snapshot,
  applyOperation,
  planChange,
  recordRef,
  snapshotRecord,
  undoFor,
} from '../activities/dataverseChange';
import { recordRollbackPoint } from '../activities/rollbackPoints';
import { undoAction } from '../activities/undo';

export interface DataverseChangeResult {
  dryRun: boolean;
  plan: PlannedOperation[];
  /** A dry run: what the plan found the writes would be refused for, and whether any would be. */
  problems?: PlanProblem[];
  wouldFail?: boolean;
  results?: ApplyResult[];
  rollbackPointId?: string;
}

export const dataverseChange = defineOrchestration(
  dataverseChangeFlow,
  function* (context: OrchestrationContext): Generator<Task, DataverseChangeResult, unknown> {
    const input = validateChange(context.df.getInput());
    const instanceId = context.df.instanceId;
    const plan = yield* call(context, planChange, { instanceId, operations: input.operations });
    const problems = plan.flatMap((p) => p.problems ?? []);
    const wouldFail = problems.length > 0;
    if (input.dryRun) return { dryRun: true, plan, problems, wouldFail } satisfies DataverseChangeResult;
    // Refused before any write: a plan that finds problems would only end in compensation.
    if (wouldFail && !input.skipPlanChecks)
      throw new PlanInvalidError(
        problems,
        plan.map((p) => p.table),
      );

    const saga = new Saga(context, 'dataverseChange');
    saga.annotate({ description: input.description ?? '', operations: plan.length });
    return yield* saga.run(function* () {
      const results: ApplyResult[] = [];
      const undo: UndoAction[] = [];
      const resources: TouchedResource[] = [];
      const snapshots: string[] = [];
      for (const planned of plan) {
        if (planned.inDesiredState) continue;
        const label = `${planned.op} ${planned.table} #${planned.index + 1}`;
        const snapshot: Snapshot = yield* saga.step({
          name: `snapshot ${planned.table} #${planned.index + 1}`,
          activity: snapshotRecord,
          input: { instanceId, planned },
        });
        snapshots.push(snapshot.blob);
        const result: ApplyResult = yield* saga.step({
          name: label,
          activity: applyOperation,
          input: { instanceId, planned, snapshot },
          compensation: {
            activity: undoAction,
            input: (r: ApplyResult) => ({ instanceId, action: undoFor(r, snapshot) }),
          },
        });
        results.push(result);
        const action = undoFor(result, snapshot);
        if (action) undo.unshift(action);
        if (result.action !== 'unchanged')
          resources.push({
            kind: 'dataverse',
            ...recordRef(result),
            etagAfter: result.etagAfter,
            fieldsAfter:
              result.action === 'created'
                ? planned.data
                : Object.fromEntries(Object.entries(result.changed).map(([f, c]) => [f, c.after])),
          });
      }
      const point = yield* saga.step({
        name: 'record rollback point',
        activity: recordRollbackPoint,
        input: {
          sagaInstanceId: instanceId,
          description: input.description ?? `Dataverse change ${instanceId}`,
          createdAt: context.df.currentUtcDateTime.toISOString(),
          retentionDays: input.retentionDays,
          resources,
          plan: undo,
          snapshots,
        },
      });
      saga.annotate({ rollbackPointId: point.id });
      return { dryRun: false, plan, results, rollbackPointId: point.id } satisfies DataverseChangeResult;
    });
  },
);
