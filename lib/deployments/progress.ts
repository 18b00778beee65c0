/**
 * The deployment saga's bookkeeping. The saga kit's steps are activities; a deployment's big steps
 * are sub-orchestrations (the configuration and Dataverse change sagas) whose undo is another
 * orchestration (executing their rollback points). This tracks both kinds of step, declares each
 * compensation with its step (with retries where they help), and publishes the same status shape as the
 * saga kit (`kind: 'saga'`, phase, steps), so status readers need not know the difference. A failed
 * compensation is recorded, never dropped. Like the kit: no I/O, no clock, only the context.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  errorOf,
  type RetryPolicy,
  type SagaPhase,
  type SagaStatus,
  type StepError,
  type StepStatus,
  type TypedActivity,
} from '../saga';

/** An orchestration to run as a sub-orchestration. */
export interface SubOrchestration {
  name: string;
  input: unknown;
  instanceId: string;
  /**
   * Retries, for a compensation that may fail transiently as a whole. Executing a rollback point
   * needs none: the rollback orchestration retries each undo itself and leaves a point that still
   * fails `rollback-failed`, so running it again could only be refused and hide the real cause.
   */
  retry?: RetryPolicy;
}

export interface CompensationResult {
  step: string;
  compensation: SubOrchestration;
  outcome: 'compensated' | 'failed';
  error?: StepError;
}

interface Pending {
  status: StepStatus;
  call: SubOrchestration;
  retry?: RetryPolicy;
}

function retryOptions(policy: RetryPolicy): df.RetryOptions {
  const options = new df.RetryOptions(policy.firstRetryIntervalMs, policy.maxAttempts);
  if (policy.backoffCoefficient !== undefined) options.backoffCoefficient = policy.backoffCoefficient;
  if (policy.maxRetryIntervalMs !== undefined)
    options.maxRetryIntervalInMilliseconds = policy.maxRetryIntervalMs;
  return options;
}

export class DeploymentSaga {
  private readonly steps: StepStatus[] = [];
  private pending: Pending[] = [];
  private phase: SagaPhase = 'running';
  private failure?: { step: string; error: StepError };
  private details: Record<string, unknown> = {};

  constructor(
    private readonly context: OrchestrationContext,
    readonly name: string,
  ) {
    this.publish();
  }

  private now(): string {
    return this.context.df.currentUtcDateTime.toISOString();
  }

  private publish(): void {
    const status: SagaStatus = {
      kind: 'saga',
      saga: this.name,
      phase: this.phase,
      steps: this.steps,
      updatedAt: this.now(),
      ...(this.failure ? { failure: this.failure } : {}),
      details: this.details,
    };
    this.context.df.setCustomStatus(status);
  }

  annotate(details: Record<string, unknown>): void {
    this.details = { ...this.details, ...details };
    this.publish();
  }

  /**
   * Runs one step: waits for `task`, recording the step's state and times. A failure is recorded
   * and rethrown; compensating is the caller's decision (see compensate()).
   */
  *track<R>(
    name: string,
    what: string,
    task: Task,
    compensation?: (result: R) => SubOrchestration | undefined,
  ): Generator<Task, R, unknown> {
    const status: StepStatus = {
      name,
      activity: what,
      state: 'running',
      pivot: false,
      compensable: false,
      startedAt: this.now(),
    };
    this.steps.push(status);
    this.publish();
    let result: R;
    try {
      result = (yield task) as R;
    } catch (err) {
      status.state = 'failed';
      status.completedAt = this.now();
      status.error = errorOf(err);
      this.failure = { step: name, error: status.error };
      this.publish();
      throw err;
    }
    status.state = 'completed';
    status.completedAt = this.now();
    const undo = compensation?.(result);
    if (undo) {
      status.compensable = true;
      status.compensation = { activity: undo.name, state: 'pending' };
      this.pending.push({ status, call: undo, retry: undo.retry });
    }
    this.publish();
    return result;
  }

  *activity<I, R>(
    name: string,
    activity: TypedActivity<I, R>,
    input: I,
    retry?: RetryPolicy,
  ): Generator<Task, R, unknown> {
    const task = retry
      ? this.context.df.callActivityWithRetry(activity.name, retryOptions(retry), input)
      : this.context.df.callActivity(activity.name, input);
    return yield* this.track<R>(name, activity.name, task);
  }

  *subOrchestration<R>(
    name: string,
    call: SubOrchestration,
    compensation?: (result: R) => SubOrchestration | undefined,
  ): Generator<Task, R, unknown> {
    const task = this.context.df.callSubOrchestrator(call.name, call.input, call.instanceId);
    return yield* this.track<R>(name, call.name, task, compensation);
  }

  /** Records a failure that happened outside any step (e.g. a check in orchestrator code). */
  fail(step: string, err: unknown): void {
    this.failure ??= { step, error: errorOf(err) };
    this.publish();
  }

  /** Whether any completed step has something to undo. */
  get hasCompensations(): boolean {
    return this.pending.length > 0;
  }

  /** Undoes the completed steps newest first, each compensation retried; returns what each did. */
  *compensate(): Generator<Task, CompensationResult[], unknown> {
    const results: CompensationResult[] = [];
    this.phase = 'compensating';
    this.publish();
    for (const p of [...this.pending].reverse()) {
      const step = p.status;
      step.state = 'compensating';
      step.compensation = { activity: p.call.name, state: 'running', startedAt: this.now() };
      this.publish();
      try {
        yield p.retry
          ? this.context.df.callSubOrchestratorWithRetry(
              p.call.name,
              retryOptions(p.retry),
              p.call.input,
              p.call.instanceId,
            )
          : this.context.df.callSubOrchestrator(p.call.name, p.call.input, p.call.instanceId);
        step.state = 'compensated';
        step.compensation = { ...step.compensation, state: 'completed', completedAt: this.now() };
        results.push({ step: step.name, compensation: p.call, outcome: 'compensated' });
      } catch (err) {
        const error = errorOf(err);
        step.state = 'compensation-failed';
        step.compensation = { ...step.compensation, state: 'failed', completedAt: this.now(), error };
        results.push({ step: step.name, compensation: p.call, outcome: 'failed', error });
      }
      this.publish();
    }
    this.pending = [];
    this.phase = results.some((r) => r.outcome === 'failed') ? 'compensation-failed' : 'compensated';
    this.publish();
    return results;
  }

  complete<T>(output: T): T {
    this.phase = 'completed';
    this.pending = [];
    this.publish();
    return output;
  }
}
