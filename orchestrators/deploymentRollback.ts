/**
 * Rolls a succeeded deployment (or a failed one with points left, e.g. after a refused rollback that
 * may now be forced) back on request: executes its rollback points in order (Dataverse first, then
 * configuration), each through the rollback orchestration with its dependency and conflict checks,
 * and marks the deployment rolled-back. A point that cannot be executed stops it: the deployment is
 * left failed, with the points still to run on its record.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { updateDeployment, type DeploymentUpdate } from '../activities/deployment';
import { CodedError } from '../lib/errors/codedError';
import { DeploymentError, STORE_RETRY, type DeploymentState } from '../lib/deployments';
import { deploymentRollbackFlow, type DeploymentRollbackInput } from '../lib/orchestrations';
import { Saga, SagaFailedError, call, defineOrchestration } from '../lib/saga';
import { rollback } from './rollback';

function readRollbackInput(raw: unknown): DeploymentRollbackInput {
  const input = raw as Partial<DeploymentRollbackInput> | null;
  if (!input || typeof input.deploymentId !== 'string' || input.deploymentId === '')
    throw new CodedError('INVALID_INPUT', 'deploymentId is required: the id of the deployment to roll back.');
  if (input.force !== undefined && typeof input.force !== 'boolean')
    throw new CodedError('INVALID_INPUT', 'force must be true or false.');
  return input as DeploymentRollbackInput;
}

export const deploymentRollback = defineOrchestration(
  deploymentRollbackFlow,
  function* (context: OrchestrationContext) {
    const input = readRollbackInput(context.df.getInput());
    const id = input.deploymentId;
    const now = (): string => context.df.currentUtcDateTime.toISOString();
    function* setState(state: DeploymentState, set: DeploymentUpdate['set']): Generator<Task, void> {
      yield* call(context, updateDeployment, { id, at: now(), state, set }, { retry: STORE_RETRY });
    }
    const saga = new Saga(context, 'deploymentRollback');
    saga.annotate({ deploymentId: id });
    const record = yield* saga.step({
      name: 'claim deployment',
      activity: updateDeployment,
      input: {
        id,
        at: now(),
        state: 'rolling-back',
        from: ['succeeded', 'failed'],
        note: `rollback ${context.df.instanceId}`,
      },
      retry: STORE_RETRY,
    });
    const points = record.rollbackPoints;
    if (!points.length) {
      // A failed deployment with nothing left to run: put its state back as it was, and say so.
      yield* setState('failed', {});
      throw new DeploymentError(
        'DEPLOYMENT_STATE_CONFLICT',
        `Deployment '${id}' has no rollback points left to run.`,
      );
    }
    for (const [i, pointId] of points.entries()) {
      try {
        yield* saga.step({
          name: `execute ${pointId}`,
          orchestration: rollback,
          input: { pointId, ...(input.force ? { force: true } : {}) },
          instanceId: `${context.df.instanceId}-${i + 1}`,
        });
      } catch (err) {
        if (!(err instanceof SagaFailedError)) throw err;
        const message = `Rolling back deployment '${id}' stopped at ${pointId}: ${err.failure.message.replace(/\.*$/, '.')}${
          i ? ` Already rolled back: ${points.slice(0, i).join(', ')}.` : ''
        }`;
        yield* setState('failed', {
          error: { code: 'DEPLOYMENT_ROLLBACK_FAILED', message },
          rollbackPoints: points.slice(i),
        });
        throw new DeploymentError('DEPLOYMENT_ROLLBACK_FAILED', message);
      }
    }
    yield* setState('rolled-back', { rollbackPoints: [] });
    return saga.complete({ id, state: 'rolled-back' as const, rolledBack: points });
  },
);
