/**
 * Executing a rollback point, as an orchestration: it refuses when later changes depend on the same
 * records (unless cascading, then those are undone first, newest first) and when someone edited the
 * records since (unless forced); a dry run returns the plan. A point whose rollback failed can be
 * rolled back again (lib/rollback/plan.ts says from which statuses). Each undo is an activity with retries;
 * a point whose undo fails is left `rollback-failed`, never half-hidden. An executed rollback is
 * recorded as a RollbackExecuted telemetry event (RollbackFailed when an undo failed), once.
 */
import type { OrchestrationContext } from 'durable-functions';
import { createRollbackPointFlow, rollbackFlow } from '../lib/orchestrations';
import {
  Saga,
  call,
  defineOrchestration,
  replaySafeEvent,
  replaySafeLog,
  type RetryPolicy,
} from '../lib/saga';
import { createManualPoint, prepareRollback, transitionPoint } from '../activities/rollbackPoints';
import { undoAction } from '../activities/undo';
import { createRollbackPointInput } from '../lib/contracts/createRollbackPoint';
import { parseInput } from '../lib/contracts/problems';
import { rollbackInput } from '../lib/contracts/rollback';
import { ROLLBACK_FROM } from '../lib/rollback';

const UNDO_RETRY: RetryPolicy = { firstRetryIntervalMs: 1000, maxAttempts: 3, backoffCoefficient: 2 };

export const rollback = defineOrchestration(rollbackFlow, function* (context: OrchestrationContext) {
  const input = parseInput(rollbackInput, context.df.getInput());
  const instanceId = context.df.instanceId;
  const saga = new Saga(context, 'rollback');
  // A step of its own, so a throttled or unreachable Dataverse is waited out here too; a refusal
  // (ROLLBACK_CONFLICT, ROLLBACK_DEPENDENCY, …) ends the rollback with its own code.
  const prepared = yield* saga.read({
    name: `plan the rollback of ${input.pointId}`,
    activity: prepareRollback,
    input: { instanceId, pointId: input.pointId, cascade: input.cascade, force: input.force },
  });
  if (input.dryRun) return saga.complete({ dryRun: true, ...prepared });

  saga.annotate({ pointId: input.pointId, points: prepared.steps.map((s) => s.pointId) });
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const rolledBack: string[] = [];
  for (const step of prepared.steps) {
    yield* saga.step({
      name: `start ${step.pointId}`,
      activity: transitionPoint,
      input: { pointId: step.pointId, from: [...ROLLBACK_FROM], to: 'rolling-back', instanceId, at: now() },
    });
    try {
      for (const [i, action] of step.plan.entries()) {
        yield* saga.step({
          name: `undo ${i + 1}/${step.plan.length} of ${step.pointId}`,
          activity: undoAction,
          input: { instanceId, action },
          retry: UNDO_RETRY,
        });
      }
    } catch (err) {
      yield* saga.step({
        name: `mark ${step.pointId} failed`,
        activity: transitionPoint,
        input: {
          pointId: step.pointId,
          from: ['rolling-back'],
          to: 'rollback-failed',
          instanceId,
          at: now(),
          error: String((err as Error).message),
        },
      });
      replaySafeLog(
        context,
        'error',
        `Rollback of point ${step.pointId} failed: ${String((err as Error).message)}`,
      );
      replaySafeEvent(context, 'RollbackFailed', {
        pointId: input.pointId,
        failedPoint: step.pointId,
        rolledBack: rolledBack.length,
        error: String((err as Error).message),
      });
      throw err;
    }
    yield* saga.step({
      name: `finish ${step.pointId}`,
      activity: transitionPoint,
      input: { pointId: step.pointId, from: ['rolling-back'], to: 'rolled-back', instanceId, at: now() },
    });
    rolledBack.push(step.pointId);
  }
  replaySafeLog(context, 'information', `Rollback of point ${input.pointId} undid ${rolledBack.join(', ')}.`);
  replaySafeEvent(context, 'RollbackExecuted', {
    pointId: input.pointId,
    rolledBack: rolledBack.length,
    points: rolledBack.join(','),
    cascade: input.cascade === true,
    force: input.force === true,
    conflictsOverridden: prepared.conflicts.length,
  });
  return saga.complete({ dryRun: false, rolledBack, conflictsOverridden: prepared.conflicts });
});

export const createRollbackPoint = defineOrchestration(
  createRollbackPointFlow,
  function* (context: OrchestrationContext) {
    const input = parseInput(createRollbackPointInput, context.df.getInput());
    return yield* call(context, createManualPoint, {
      instanceId: context.df.instanceId,
      description: input.description ?? 'Manual rollback point',
      createdAt: context.df.currentUtcDateTime.toISOString(),
      retentionDays: input.retentionDays,
      records: input.records ?? [],
      includeConfig: input.includeConfig,
    });
  },
);
