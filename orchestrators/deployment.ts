/**
 * The deployment saga. Input: a deployment manifest. It validates the manifest, records the
 * deployment and what is in force now, checks the Dataverse operations against the environment,
 * optionally waits for a person to `approve` or `reject` (a timeout rejects), applies the
 * configuration (the configChange saga) and the Dataverse operations (the dataverseChange saga) as
 * sub-orchestrations, and runs a health check. If anything fails, the applied parts are rolled back
 * through their rollback points, newest first, and the orchestration fails with a coded message.
 * A deployment that succeeds leaves its rollback points on its record.
 */
import { CodedError, codeOf } from '../lib/errors/codedError';
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { planChange, type ApplyResult, type PlannedOperation } from '../activities/dataverseChange';
import {
  beginDeployment,
  checkDeploymentHealth,
  updateDeployment,
  type DeploymentUpdate,
  type HealthCheckInput,
} from '../activities/deployment';
import {
  DEFAULT_APPROVAL_TIMEOUT_HOURS,
  DeploymentError,
  DeploymentSaga,
  configChangeOf,
  validateManifest,
  type DeploymentRecord,
  type DeploymentState,
} from '../lib/deployments';
import { errorOf } from '../lib/saga';

export interface DeploymentOutput {
  id: string;
  version: string;
  state: Extract<DeploymentState, 'succeeded' | 'rejected'>;
  approval?: DeploymentRecord['approval'];
  config?: DeploymentRecord['config'];
  dataverse?: DeploymentRecord['dataverse'];
  rollbackPoints: string[];
}

interface ConfigChangeOutput {
  version: number;
  previousVersion: number | null;
  rollbackPointId: string;
}

interface DataverseChangeOutput {
  plan: PlannedOperation[];
  results?: ApplyResult[];
  rollbackPointId?: string;
}

/** What a person sent with `approve` or `reject`: only a name and a reason are kept. */
function decisionOf(payload: unknown): { by?: string; reason?: string } {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v.slice(0, 500) : undefined;
  const by = text(p.by);
  const reason = text(p.reason) ?? text(p.comment);
  return { ...(by ? { by } : {}), ...(reason ? { reason } : {}) };
}

/** The records as a deployment's Dataverse change must have left them. */
function expectedRecords(change: DataverseChangeOutput): HealthCheckInput['records'] {
  return change.plan.map((planned) => {
    const applied = change.results?.find((r) => r.index === planned.index);
    const id = applied?.id ?? planned.id;
    const target = id ? { id } : { key: planned.key };
    const label = `${planned.op} ${planned.table} #${planned.index + 1} is in place`;
    return planned.op === 'delete'
      ? { label, table: planned.table, ...target, exists: false }
      : { label, table: planned.table, ...target, fields: planned.data ?? {} };
  });
}

/** Storage and planning reads are retried: a transient error must not roll back good work. */
const STORE_RETRY_POLICY = { firstRetryIntervalMs: 1000, maxAttempts: 4, backoffCoefficient: 2 };
const STORE_RETRY = Object.assign(new df.RetryOptions(1000, 4), { backoffCoefficient: 2 });

export const deployment = df.app.orchestration('deployment', function* (context: OrchestrationContext) {
  const manifest = validateManifest(context.df.getInput());
  const id = context.df.instanceId;
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const saga = new DeploymentSaga(context, 'deployment');
  saga.annotate({ deploymentId: id, version: manifest.version, state: 'pending' });

  function* record(
    state: DeploymentState | undefined,
    set?: DeploymentUpdate['set'],
    note?: string,
  ): Generator<Task, void, unknown> {
    yield context.df.callActivityWithRetry(updateDeployment.name, STORE_RETRY, {
      id,
      at: now(),
      state,
      note,
      set,
    } satisfies DeploymentUpdate);
    if (state) saga.annotate({ state });
  }

  let recorded = false;
  let applying = false;
  try {
    const { configVersion } = yield* saga.activity(
      'record deployment',
      beginDeployment,
      {
        id,
        manifest,
        at: now(),
      },
      STORE_RETRY_POLICY,
    );
    recorded = true;

    // Before asking anyone: do the Dataverse operations make sense against this environment?
    let plan: PlannedOperation[] = [];
    if (manifest.dataverse) {
      plan = yield* saga.activity(
        'check Dataverse operations',
        planChange,
        {
          instanceId: `${id}:dataverse`,
          operations: manifest.dataverse.operations,
        },
        STORE_RETRY_POLICY,
      );
    }
    const before = {
      configVersion,
      dataverseChanges: plan.filter((p) => !p.inDesiredState).length,
      alreadyInDesiredState: plan.filter((p) => p.inDesiredState).length,
    };
    yield* record(undefined, { before });

    let approval: DeploymentRecord['approval'];
    if (manifest.requireApproval) {
      const hours = manifest.approvalTimeoutHours ?? DEFAULT_APPROVAL_TIMEOUT_HOURS;
      const deadline = new Date(context.df.currentUtcDateTime.getTime() + hours * 3600_000);
      approval = { deadline: deadline.toISOString() };
      yield* record('awaiting-approval', { approval });
      const approve = context.df.waitForExternalEvent('approve');
      const reject = context.df.waitForExternalEvent('reject');
      const timeout = context.df.createTimer(deadline);
      const winner = yield* saga.track<Task>(
        'await approval',
        'approve | reject',
        context.df.Task.any([approve, reject, timeout]),
      );
      if (winner !== timeout) timeout.cancel();
      if (winner !== approve) {
        approval =
          winner === reject
            ? { ...approval, decision: 'rejected', ...decisionOf(reject.result), at: now() }
            : { ...approval, decision: 'timed-out', reason: `no decision within ${hours} hours`, at: now() };
        yield* record('rejected', { approval }, approval.reason);
        return saga.complete({
          id,
          version: manifest.version,
          state: 'rejected',
          approval,
          rollbackPoints: [],
        } satisfies DeploymentOutput);
      }
      approval = { ...approval, decision: 'approved', ...decisionOf(approve.result), at: now() };
      yield* record('applying', { approval }, approval.by ? `approved by ${approval.by}` : 'approved');
    } else {
      yield* record('applying');
    }

    applying = true;
    const rollbackPoints: string[] = [];
    let config: DeploymentRecord['config'];
    const configChange = configChangeOf(manifest);
    if (configChange) {
      const out = yield* saga.subOrchestration<ConfigChangeOutput>(
        'apply configuration',
        {
          name: 'configChange',
          input: { ...configChange, description: `Deployment ${manifest.version}: configuration` },
          instanceId: `${id}:config`,
        },
        (r) => ({
          name: 'rollback',
          input: { pointId: r.rollbackPointId },
          instanceId: `${id}:config-rollback`,
        }),
      );
      config = {
        version: out.version,
        previousVersion: out.previousVersion,
        rollbackPointId: out.rollbackPointId,
      };
      rollbackPoints.unshift(out.rollbackPointId);
      yield* record(undefined, { config, rollbackPoints });
    }

    let dataverse: DeploymentRecord['dataverse'];
    let expected: HealthCheckInput['records'] = [];
    if (manifest.dataverse) {
      const out = yield* saga.subOrchestration<DataverseChangeOutput>(
        'apply Dataverse operations',
        {
          name: 'dataverseChange',
          input: {
            description: `Deployment ${manifest.version}: reference data`,
            operations: manifest.dataverse.operations,
          },
          instanceId: `${id}:dataverse`,
        },
        (r) =>
          r.rollbackPointId
            ? {
                name: 'rollback',
                input: { pointId: r.rollbackPointId },
                instanceId: `${id}:dataverse-rollback`,
              }
            : undefined,
      );
      dataverse = {
        ...(out.rollbackPointId ? { rollbackPointId: out.rollbackPointId } : {}),
        applied: (out.results ?? []).filter((r) => r.action !== 'unchanged').length,
      };
      if (out.rollbackPointId) rollbackPoints.unshift(out.rollbackPointId);
      expected = expectedRecords(out);
      yield* record(undefined, { dataverse, rollbackPoints });
    }

    yield* record('verifying');
    yield* saga.activity('health check', checkDeploymentHealth, {
      id,
      at: now(),
      ...(config ? { configVersion: config.version } : {}),
      records: [...expected, ...(manifest.healthCheck?.records ?? [])],
    });
    yield* record('succeeded', { rollbackPoints });
    saga.annotate({ rollbackPoints });
    return saga.complete({
      id,
      version: manifest.version,
      state: 'succeeded',
      ...(approval ? { approval } : {}),
      ...(config ? { config } : {}),
      ...(dataverse ? { dataverse } : {}),
      rollbackPoints,
    } satisfies DeploymentOutput);
  } catch (err) {
    const failure = errorOf(err);
    saga.fail('(orchestrator)', err);
    const results = yield* saga.compensate();
    const stuck = results.filter((r) => r.outcome === 'failed');
    const undone = results.filter((r) => r.outcome === 'compensated').map((r) => r.step);
    // A change saga whose own undo failed leaves part of its change behind: that is stuck too.
    const failedInside = codeOf(err) === 'SAGA_COMPENSATION_FAILED';
    const code =
      stuck.length || failedInside
        ? 'DEPLOYMENT_ROLLBACK_FAILED'
        : applying
          ? 'DEPLOYMENT_ROLLED_BACK'
          : 'DEPLOYMENT_FAILED';
    let message = `Deployment ${manifest.version} failed: ${failure.message.replace(/\.*$/, '.')}`;
    if (undone.length) message += ` Rolled back: ${undone.join(', ')}.`;
    else if (applying && !results.length && !failedInside)
      message += ' Nothing else had been applied (a change saga that fails undoes its own work).';
    if (failedInside)
      message +=
        ' The failing change could not undo all of its own work; see its saga status and rollback point.';
    if (stuck.length) {
      const described = stuck.map(
        (s) => `${s.step} (${s.error?.message.replace(/\.*$/, '') ?? 'unknown error'})`,
      );
      message += ` Rolling back failed for: ${described.join('; ')}. Its rollback point keeps the undo plan; fix the cause and undo by hand.`;
    }
    if (recorded) {
      const state: DeploymentState = !stuck.length && !failedInside && applying ? 'rolled-back' : 'failed';
      try {
        yield* record(
          state,
          {
            error: { code, message },
            compensations: results.map((r) => ({
              step: r.step,
              pointId: String((r.compensation.input as { pointId: string }).pointId),
              outcome: r.outcome === 'compensated' ? ('rolled-back' as const) : ('failed' as const),
              ...(r.error ? { error: r.error.message } : {}),
            })),
            // Points already executed are spent; only the stuck ones are left to run by hand.
            rollbackPoints: stuck.map((s) => String((s.compensation.input as { pointId: string }).pointId)),
          },
          code,
        );
      } catch {
        // The record stays behind; the orchestration's own status carries the outcome.
      }
    }
    throw new DeploymentError(code, message);
  }
});

export interface DeploymentRollbackInput {
  deploymentId: string;
  /** Roll back records even where someone edited them since (see the rollback orchestration). */
  force?: boolean;
}

function readRollbackInput(raw: unknown): DeploymentRollbackInput {
  const input = raw as Partial<DeploymentRollbackInput> | null;
  if (!input || typeof input.deploymentId !== 'string' || input.deploymentId === '')
    throw new CodedError('INVALID_INPUT', 'deploymentId is required: the id of the deployment to roll back.');
  if (input.force !== undefined && typeof input.force !== 'boolean')
    throw new CodedError('INVALID_INPUT', 'force must be true or false.');
  return input as DeploymentRollbackInput;
}

/**
 * Rolls a succeeded deployment (or a failed one with points left, e.g. after a refused rollback that
 * may now be forced) back on request: executes its rollback points in order (Dataverse
 * first, then configuration), each through the rollback orchestration with its dependency and
 * conflict checks, and marks the deployment rolled-back. A point that cannot be executed stops it:
 * the deployment is left failed, with the points still to run on its record.
 */
export const deploymentRollback = df.app.orchestration(
  'deploymentRollback',
  function* (context: OrchestrationContext) {
    const input = readRollbackInput(context.df.getInput());
    const id = input.deploymentId;
    const now = (): string => context.df.currentUtcDateTime.toISOString();
    const saga = new DeploymentSaga(context, 'deploymentRollback');
    saga.annotate({ deploymentId: id });
    const record = yield* saga.activity(
      'claim deployment',
      updateDeployment,
      {
        id,
        at: now(),
        state: 'rolling-back',
        from: ['succeeded', 'failed'],
        note: `rollback ${context.df.instanceId}`,
      },
      STORE_RETRY_POLICY,
    );
    const points = record.rollbackPoints;
    if (!points.length) {
      // A failed deployment with nothing left to run: put its state back as it was, and say so.
      yield* setDeploymentState(context, id, now(), 'failed', {});
      throw new DeploymentError(
        'DEPLOYMENT_STATE_CONFLICT',
        `Deployment '${id}' has no rollback points left to run.`,
      );
    }
    for (const [i, pointId] of points.entries()) {
      try {
        yield* saga.subOrchestration(`execute ${pointId}`, {
          name: 'rollback',
          input: { pointId, ...(input.force ? { force: true } : {}) },
          instanceId: `${context.df.instanceId}-${i + 1}`,
        });
      } catch (err) {
        const message = `Rolling back deployment '${id}' stopped at ${pointId}: ${errorOf(err).message.replace(/\.*$/, '.')}${
          i ? ` Already rolled back: ${points.slice(0, i).join(', ')}.` : ''
        }`;
        yield* setDeploymentState(context, id, now(), 'failed', {
          error: { code: 'DEPLOYMENT_ROLLBACK_FAILED', message },
          rollbackPoints: points.slice(i),
        });
        throw new DeploymentError('DEPLOYMENT_ROLLBACK_FAILED', message);
      }
    }
    yield* setDeploymentState(context, id, now(), 'rolled-back', { rollbackPoints: [] });
    return saga.complete({ id, state: 'rolled-back', rolledBack: points });
  },
);

function* setDeploymentState(
  context: OrchestrationContext,
  id: string,
  at: string,
  state: DeploymentState,
  set: DeploymentUpdate['set'],
): Generator<Task, void, unknown> {
  yield context.df.callActivityWithRetry(updateDeployment.name, STORE_RETRY, {
    id,
    at,
    state,
    set,
  } satisfies DeploymentUpdate);
}
