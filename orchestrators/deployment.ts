/**
 * The deployment saga. Input: a deployment manifest. It validates the manifest, records the
 * deployment and what is in force now, checks the Dataverse operations against the environment,
 * optionally waits for a person to `approve` or `reject` (a timeout rejects), applies the
 * configuration (the configChange saga) and the Dataverse operations (the dataverseChange saga) as
 * sub-orchestrations, and runs a health check. If anything fails, the saga kit rolls the applied parts
 * back through their rollback points, newest first, and the orchestration fails with a coded message
 * (lib/deployments/failure.ts). A deployment that succeeds leaves its rollback points on its record.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { planChange, type PlannedOperation } from '../activities/dataverseChange';
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
  STORE_RETRY,
  configChangeOf,
  deploymentFailure,
  validateManifest,
  type DeploymentManifest,
  type DeploymentRecord,
  type DeploymentState,
} from '../lib/deployments';
import { deploymentFlow } from '../lib/orchestrations';
import { Saga, SagaFailedError, call, defineOrchestration } from '../lib/saga';
import { configChange } from './configChange';
import { dataverseChange, type DataverseChangeResult } from './dataverseChange';
import { rollback } from './rollback';

export interface DeploymentOutput {
  id: string;
  version: string;
  state: Extract<DeploymentState, 'succeeded' | 'rejected'>;
  approval?: DeploymentRecord['approval'];
  config?: DeploymentRecord['config'];
  dataverse?: DeploymentRecord['dataverse'];
  rollbackPoints: string[];
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
function expectedRecords(change: DataverseChangeResult): HealthCheckInput['records'] {
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

/** What the saga has got to, for the failure that may end it. */
interface Progress {
  recorded: boolean;
  applying: boolean;
  /** The rollback point each applied step's compensation executes. */
  points: Map<string, string>;
}

/** Writes to the deployment's record (and its state to the saga status); not a step. */
type Recorder = (
  state?: DeploymentState,
  set?: DeploymentUpdate['set'],
  note?: string,
) => Generator<Task, void>;

type Approval = NonNullable<DeploymentRecord['approval']>;

/** Waits as the step 'await approval' for `approve`, `reject` or the deadline; returns the decision. */
function* awaitDecision(
  context: OrchestrationContext,
  saga: Saga,
  manifest: DeploymentManifest,
  record: Recorder,
): Generator<Task, Approval, unknown> {
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const hours = manifest.approvalTimeoutHours ?? DEFAULT_APPROVAL_TIMEOUT_HOURS;
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + hours * 3600_000);
  const pending: Approval = { deadline: deadline.toISOString() };
  yield* record('awaiting-approval', { approval: pending });
  const approve = context.df.waitForExternalEvent('approve');
  const reject = context.df.waitForExternalEvent('reject');
  const timeout = context.df.createTimer(deadline);
  const winner = yield* saga.wait<Task>(
    'await approval',
    'approve | reject',
    context.df.Task.any([approve, reject, timeout]),
  );
  if (winner !== timeout) timeout.cancel();
  if (winner === approve)
    return { ...pending, decision: 'approved', ...decisionOf(approve.result), at: now() };
  return winner === reject
    ? { ...pending, decision: 'rejected', ...decisionOf(reject.result), at: now() }
    : { ...pending, decision: 'timed-out', reason: `no decision within ${hours} hours`, at: now() };
}

function* deploy(
  context: OrchestrationContext,
  saga: Saga,
  manifest: DeploymentManifest,
  progress: Progress,
  record: Recorder,
): Generator<Task, DeploymentOutput, unknown> {
  const id = context.df.instanceId;
  const now = (): string => context.df.currentUtcDateTime.toISOString();
  const { configVersion } = yield* saga.step({
    name: 'record deployment',
    activity: beginDeployment,
    input: { id, manifest, at: now() },
    retry: STORE_RETRY,
  });
  progress.recorded = true;

  // Before asking anyone: do the Dataverse operations make sense against this environment?
  let plan: PlannedOperation[] = [];
  if (manifest.dataverse) {
    plan = yield* saga.step({
      name: 'check Dataverse operations',
      activity: planChange,
      input: { instanceId: `${id}:dataverse`, operations: manifest.dataverse.operations },
      retry: STORE_RETRY,
    });
  }
  const before = {
    configVersion,
    dataverseChanges: plan.filter((p) => !p.inDesiredState).length,
    alreadyInDesiredState: plan.filter((p) => p.inDesiredState).length,
  };
  yield* record(undefined, { before });

  let approval: Approval | undefined;
  if (manifest.requireApproval) {
    approval = yield* awaitDecision(context, saga, manifest, record);
    if (approval.decision !== 'approved') {
      yield* record('rejected', { approval }, approval.reason);
      return { id, version: manifest.version, state: 'rejected', approval, rollbackPoints: [] };
    }
    yield* record('applying', { approval }, approval.by ? `approved by ${approval.by}` : 'approved');
  } else {
    yield* record('applying');
  }

  progress.applying = true;
  const rollbackPoints: string[] = [];
  let config: DeploymentRecord['config'];
  const configInput = configChangeOf(manifest);
  if (configInput) {
    const step = 'apply configuration';
    const out = yield* saga.step({
      name: step,
      orchestration: configChange,
      input: { ...configInput, description: `Deployment ${manifest.version}: configuration` },
      instanceId: `${id}:config`,
      compensation: (r) => {
        progress.points.set(step, r.rollbackPointId);
        return rollbackOf(r.rollbackPointId, `${id}:config-rollback`);
      },
    });
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
    const step = 'apply Dataverse operations';
    const out = yield* saga.step({
      name: step,
      orchestration: dataverseChange,
      input: {
        description: `Deployment ${manifest.version}: reference data`,
        operations: manifest.dataverse.operations,
        ...(manifest.dataverse.atomic !== undefined ? { atomic: manifest.dataverse.atomic } : {}),
      },
      instanceId: `${id}:dataverse`,
      compensation: (r) => {
        if (!r.rollbackPointId) return undefined;
        progress.points.set(step, r.rollbackPointId);
        return rollbackOf(r.rollbackPointId, `${id}:dataverse-rollback`);
      },
    });
    dataverse = {
      ...(out.rollbackPointId ? { rollbackPointId: out.rollbackPointId } : {}),
      applied: (out.results ?? []).filter((r) => r.action !== 'unchanged').length,
    };
    if (out.rollbackPointId) rollbackPoints.unshift(out.rollbackPointId);
    expected = expectedRecords(out);
    yield* record(undefined, { dataverse, rollbackPoints });
  }

  yield* record('verifying');
  yield* saga.step({
    name: 'health check',
    activity: checkDeploymentHealth,
    input: {
      id,
      at: now(),
      ...(config ? { configVersion: config.version } : {}),
      records: [...expected, ...(manifest.healthCheck?.records ?? [])],
    },
  });
  yield* record('succeeded', { rollbackPoints });
  saga.annotate({ rollbackPoints });
  return {
    id,
    version: manifest.version,
    state: 'succeeded',
    ...(approval ? { approval } : {}),
    ...(config ? { config } : {}),
    ...(dataverse ? { dataverse } : {}),
    rollbackPoints,
  };
}

/** Undoing an applied change saga: executing its rollback point, once (it retries each undo itself). */
function rollbackOf(pointId: string, instanceId: string) {
  return { orchestration: rollback, input: { pointId }, instanceId, retry: false as const };
}

export const deployment = defineOrchestration(deploymentFlow, function* (context: OrchestrationContext) {
  const manifest = validateManifest(context.df.getInput());
  const id = context.df.instanceId;
  const saga = new Saga(context, 'deployment');
  saga.annotate({ deploymentId: id, version: manifest.version, state: 'pending' });
  const record: Recorder = function* (state, set, note) {
    const at = context.df.currentUtcDateTime.toISOString();
    yield* call(context, updateDeployment, { id, at, state, note, set }, { retry: STORE_RETRY });
    if (state) saga.annotate({ state });
  };
  const progress: Progress = { recorded: false, applying: false, points: new Map() };
  try {
    return yield* saga.run(() => deploy(context, saga, manifest, progress, record));
  } catch (err) {
    if (!(err instanceof SagaFailedError)) throw err;
    const failure = deploymentFailure(manifest.version, err, progress.applying, (step) =>
      String(progress.points.get(step)),
    );
    if (progress.recorded) {
      try {
        const { code, message, compensations, rollbackPoints } = failure;
        yield* record(failure.state, { error: { code, message }, compensations, rollbackPoints }, code);
      } catch {
        // The record stays behind; the orchestration's own status carries the outcome.
      }
    }
    throw new DeploymentError(failure.code, failure.message);
  }
});
