/**
 * The saga kit for `durable-functions` generator orchestrators. A step is an activity plus the
 * activity that undoes it; when a step fails, the completed steps are compensated newest first
 * (each with its own retry policy) and the orchestration fails with a SagaFailedError. A completed
 * pivot step (one that cannot be undone, like a sent email) seals everything before it. Progress is
 * published as the orchestration's custom status. All state is rebuilt by replay: no I/O, no clock,
 * nothing but the orchestration context. What happens is logged and recorded as telemetry events
 * (SagaStepCompleted, SagaStepFailed, SagaStepCompensated, SagaCompensationFailed, SagaCompensated,
 * SagaCompleted), each once: never again on replay.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { TypedActivity } from './activity';
import { CompensationOutcome, SagaFailedError } from './errors';
import { replaySafeEvent, replaySafeLog } from './log';
import type { SagaPhase, SagaStatus, StepError, StepStatus } from './status';

export interface RetryPolicy {
  firstRetryIntervalMs: number;
  maxAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalMs?: number;
}

export interface Compensation<R, CI> {
  activity: TypedActivity<CI, unknown>;
  /** The compensation's input, or how to derive it from the step's result. */
  input: CI | ((result: R) => CI);
  retry?: RetryPolicy;
}

export interface StepSpec<I, R, CI = unknown> {
  name: string;
  activity: TypedActivity<I, R>;
  input: I;
  retry?: RetryPolicy;
  /** A step that cannot be undone: once it completes, nothing before it is compensated. */
  pivot?: boolean;
  compensation?: Compensation<R, CI>;
}

interface PendingCompensation {
  status: StepStatus;
  activity: string;
  input: unknown;
  retry?: RetryPolicy;
}

/** Default for compensations: they must get through, so they retry harder than ordinary steps. */
export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = {
  firstRetryIntervalMs: 1000,
  maxAttempts: 5,
  backoffCoefficient: 2,
  maxRetryIntervalMs: 60_000,
};

function toRetryOptions(policy: RetryPolicy): df.RetryOptions {
  const options = new df.RetryOptions(policy.firstRetryIntervalMs, policy.maxAttempts);
  if (policy.backoffCoefficient !== undefined) options.backoffCoefficient = policy.backoffCoefficient;
  if (policy.maxRetryIntervalMs !== undefined)
    options.maxRetryIntervalInMilliseconds = policy.maxRetryIntervalMs;
  return options;
}

export function errorOf(err: unknown): StepError {
  if (err instanceof Error) {
    const failure = (err as { failureDetails?: { errorType?: string; errorMessage?: string } })
      .failureDetails;
    if (failure?.errorMessage !== undefined)
      return { message: failure.errorMessage, type: failure.errorType };
    return { message: err.message, type: err.name };
  }
  return { message: String(err) };
}

export class Saga {
  private readonly steps: StepStatus[] = [];
  private compensations: PendingCompensation[] = [];
  private phase: SagaPhase = 'running';
  private failure?: { step: string; error: StepError };
  private details?: Record<string, unknown>;

  constructor(
    private readonly context: OrchestrationContext,
    readonly name: string,
  ) {
    this.publish();
  }

  private now(): string {
    return this.context.df.currentUtcDateTime.toISOString();
  }

  private call(activity: string, input: unknown, retry?: RetryPolicy): Task {
    return retry
      ? this.context.df.callActivityWithRetry(activity, toRetryOptions(retry), input)
      : this.context.df.callActivity(activity, input);
  }

  /** Adds details to the published status (e.g. what the saga is changing). */
  annotate(details: Record<string, unknown>): void {
    this.details = { ...this.details, ...details };
    this.publish();
  }

  status(): SagaStatus {
    return {
      kind: 'saga',
      saga: this.name,
      phase: this.phase,
      steps: this.steps,
      updatedAt: this.now(),
      ...(this.failure ? { failure: this.failure } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }

  private publish(): void {
    this.context.df.setCustomStatus(this.status());
  }

  private report(event: string, properties: Record<string, string | number | boolean | undefined>): void {
    replaySafeEvent(this.context, event, { orchestration: this.name, ...properties });
  }

  /** Runs one step; use as `const result = yield* saga.step({...})`. */
  *step<I, R, CI = unknown>(spec: StepSpec<I, R, CI>): Generator<Task, R, unknown> {
    const status: StepStatus = {
      name: spec.name,
      activity: spec.activity.name,
      state: 'running',
      pivot: spec.pivot === true,
      compensable: spec.compensation !== undefined && spec.pivot !== true,
      startedAt: this.now(),
    };
    this.steps.push(status);
    this.publish();
    let result: R;
    try {
      result = (yield this.call(spec.activity.name, spec.input, spec.retry)) as R;
    } catch (err) {
      status.state = 'failed';
      status.completedAt = this.now();
      status.error = errorOf(err);
      status.compensable = false;
      this.failure = { step: spec.name, error: status.error };
      replaySafeLog(
        this.context,
        'warning',
        `Saga '${this.name}' step '${spec.name}' failed: ${status.error.message}`,
      );
      this.report('SagaStepFailed', {
        step: spec.name,
        activity: spec.activity.name,
        error: status.error.message,
      });
      const outcomes = yield* this.compensate();
      const code = outcomes.some((o) => o.outcome === 'failed')
        ? 'SAGA_COMPENSATION_FAILED'
        : 'SAGA_COMPENSATED';
      throw new SagaFailedError(code, this.name, spec.name, status.error, outcomes);
    }
    status.state = 'completed';
    status.completedAt = this.now();
    replaySafeLog(this.context, 'information', `Saga '${this.name}' step '${spec.name}' completed.`);
    this.report('SagaStepCompleted', { step: spec.name, activity: spec.activity.name, pivot: status.pivot });
    if (spec.pivot) {
      // Past a pivot the saga can only go forward: earlier steps are no longer undone automatically.
      for (const pending of this.compensations) pending.status.compensable = false;
      this.compensations = [];
    } else if (spec.compensation) {
      const c = spec.compensation;
      const input = typeof c.input === 'function' ? (c.input as (r: R) => CI)(result) : c.input;
      this.compensations.push({
        status,
        activity: c.activity.name,
        input,
        retry: c.retry ?? DEFAULT_COMPENSATION_RETRY,
      });
      status.compensation = { activity: c.activity.name, state: 'pending' };
    }
    this.publish();
    return result;
  }

  /** Undoes the completed steps, newest first; a failed compensation is recorded, never dropped. */
  private *compensate(): Generator<Task, CompensationOutcome[], unknown> {
    const outcomes: CompensationOutcome[] = [];
    this.phase = 'compensating';
    this.publish();
    for (const pending of [...this.compensations].reverse()) {
      const step = pending.status;
      step.state = 'compensating';
      step.compensation = { activity: pending.activity, state: 'running', startedAt: this.now() };
      this.publish();
      try {
        yield this.call(pending.activity, pending.input, pending.retry);
        step.state = 'compensated';
        step.compensation = { ...step.compensation, state: 'completed', completedAt: this.now() };
        outcomes.push({ step: step.name, activity: pending.activity, outcome: 'compensated' });
        this.report('SagaStepCompensated', { step: step.name, activity: pending.activity });
      } catch (err) {
        const error = errorOf(err);
        step.state = 'compensation-failed';
        step.compensation = { ...step.compensation, state: 'failed', completedAt: this.now(), error };
        outcomes.push({ step: step.name, activity: pending.activity, outcome: 'failed', error });
        replaySafeLog(
          this.context,
          'error',
          `Saga '${this.name}' could not undo step '${step.name}': ${error.message}`,
        );
        this.report('SagaCompensationFailed', {
          step: step.name,
          activity: pending.activity,
          error: error.message,
        });
      }
      this.publish();
    }
    this.compensations = [];
    this.phase = outcomes.some((o) => o.outcome === 'failed') ? 'compensation-failed' : 'compensated';
    this.publish();
    replaySafeLog(this.context, 'information', `Saga '${this.name}' ${this.phase}.`);
    this.report('SagaCompensated', {
      failedStep: this.failure?.step,
      outcome: this.phase,
      compensated: outcomes.filter((o) => o.outcome === 'compensated').length,
      failedCompensations: outcomes.filter((o) => o.outcome === 'failed').length,
    });
    return outcomes;
  }

  /**
   * Runs the saga's body; a failure outside any step (orchestrator code that throws) compensates the
   * completed steps too. Use as `return yield* saga.run(function* () { ... })`.
   */
  *run<T>(body: () => Generator<Task, T, unknown>): Generator<Task, T, unknown> {
    let output: T;
    try {
      output = yield* body();
    } catch (err) {
      if (err instanceof SagaFailedError) throw err;
      const error = errorOf(err);
      this.failure = { step: '(orchestrator)', error };
      const outcomes = yield* this.compensate();
      const code = outcomes.some((o) => o.outcome === 'failed')
        ? 'SAGA_COMPENSATION_FAILED'
        : 'SAGA_COMPENSATED';
      throw new SagaFailedError(code, this.name, '(orchestrator)', error, outcomes);
    }
    return this.complete(output);
  }

  /** Marks the saga completed and returns the orchestration's output. */
  complete<T>(output: T): T {
    this.phase = 'completed';
    this.compensations = [];
    this.publish();
    this.report('SagaCompleted', { steps: this.steps.length });
    return output;
  }
}
