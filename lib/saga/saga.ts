/**
 * The saga kit for `durable-functions` generator orchestrators. A step is an activity or a
 * sub-orchestration plus the activity or sub-orchestration that undoes it (or any durable task to
 * wait for, like a person's decision); when a step fails, the completed steps are compensated newest first
 * (each with its own retry policy) and the orchestration fails with a SagaFailedError. A transient
 * failure of an activity (its service down or throttling) does not fail the step: the step waits on
 * a durable timer and tries again, for a bounded time, with `waiting` on its published status; only
 * past the bound, or on a permanent failure, does the saga compensate. Compensations wait out
 * transient failures without a bound (they must get through). A completed
 * pivot step (one that cannot be undone, like a sent email) seals everything before it. Progress is
 * published as the orchestration's custom status. All state is rebuilt by replay: no I/O, no clock,
 * nothing but the orchestration context. What happens is logged and recorded as telemetry events
 * (SagaStepCompleted, SagaStepWaiting, SagaStepFailed, SagaStepCompensated, SagaCompensationFailed,
 * SagaCompensated, SagaCompleted), each once: never again on replay.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { TypedActivity } from './activity';
import { callTask, type Callable } from './call';
import { transientFailure, type TransientFailure } from '../errors/transient';
import { CompensationOutcome, SagaFailedError, type SagaFailureCode } from './errors';
import { replaySafeEvent, replaySafeLog } from './log';
import type { TypedOrchestration } from './orchestration';
import { DEFAULT_TRANSIENT_RETRY_MS, nextAttemptAt, type TransientRetry } from './outage';
import type { RetryPolicy } from './retry';
import type { SagaPhase, SagaStatus, StepError, StepStatus } from './status';

/** What a step or a compensation runs: an activity, or a sub-orchestration under an optional instance id. */
export type Target<I, R> =
  | { activity: TypedActivity<I, R>; orchestration?: never; instanceId?: never }
  | { orchestration: TypedOrchestration<I, R>; instanceId?: string; activity?: never };

export type Compensation<R, CI> = Target<CI, unknown> & {
  /** The compensation's input, or how to derive it from the step's result. */
  input: CI | ((result: R) => CI);
  /**
   * Defaults to DEFAULT_COMPENSATION_RETRY. `false` runs it once: for an undo that retries inside
   * itself and must not be started again (running a rollback point twice is refused, hiding the cause).
   */
  retry?: RetryPolicy | false;
  /** How long an activity compensation waits out an outage (default: until it gets through); false: not at all. */
  transientRetry?: TransientRetry | false;
};

export type StepSpec<I, R, CI = unknown> = Target<I, R> & {
  name: string;
  input: I;
  retry?: RetryPolicy;
  /** A step that cannot be undone: once it completes, nothing before it is compensated. */
  pivot?: boolean;
  /**
   * How long an activity step waits out an outage of the service it calls before the saga
   * compensates (default: TRANSIENT_RETRY_MINUTES, as the failing activity reports it, else 15
   * minutes); false compensates at once. Sub-orchestration steps never wait: their own steps do.
   */
  transientRetry?: TransientRetry | false;
  /** How to undo the step; as a function of its result when only some results need undoing. */
  compensation?: Compensation<R, CI> | ((result: R) => Compensation<R, CI> | undefined);
};

interface PendingCompensation {
  status: StepStatus;
  target: Callable<unknown, unknown>;
  instanceId?: string;
  input: unknown;
  retry?: RetryPolicy;
  waits?: WaitBound;
}

/** How long to keep retrying after the first transient failure; undefined: the target never waits. */
type WaitBound = (first: TransientFailure) => number;

/** Default for compensations: they must get through, so they retry harder than ordinary steps. */
export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = {
  firstRetryIntervalMs: 1000,
  maxAttempts: 5,
  backoffCoefficient: 2,
  maxRetryIntervalMs: 60_000,
};

function targetOf<I, R>(spec: Target<I, R>): Callable<I, R> {
  return spec.orchestration ?? (spec.activity as TypedActivity<I, R>);
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
    const target = targetOf(spec);
    const pivot = spec.pivot === true;
    const declared = typeof spec.compensation === 'object';
    const status = this.begin(spec.name, target.name, pivot, declared && !pivot);
    const schedule = (): Task =>
      callTask(this.context, target, spec.input, { retry: spec.retry, instanceId: spec.instanceId });
    const own = spec.transientRetry;
    const waits: WaitBound | undefined =
      target.kind !== 'activity' || own === false
        ? undefined
        : (first) => own?.forMs ?? first.retryForMs ?? DEFAULT_TRANSIENT_RETRY_MS;
    const result = yield* this.attempt<R>(status, schedule, waits);
    const compensation =
      typeof spec.compensation === 'function' ? spec.compensation(result) : spec.compensation;
    this.completed(status, pivot);
    if (pivot) {
      // Past a pivot the saga can only go forward: earlier steps are no longer undone automatically.
      for (const pending of this.compensations) pending.status.compensable = false;
      this.compensations = [];
    } else if (compensation) {
      const undo = targetOf(compensation) as Callable<unknown, unknown>;
      const input =
        typeof compensation.input === 'function'
          ? (compensation.input as (r: R) => CI)(result)
          : compensation.input;
      this.compensations.push({
        status,
        target: undo,
        instanceId: compensation.instanceId,
        input,
        retry: compensation.retry === false ? undefined : (compensation.retry ?? DEFAULT_COMPENSATION_RETRY),
        waits: undo.kind === 'activity' ? compensationBound(compensation.transientRetry) : undefined,
      });
      status.compensable = true;
      status.compensation = { activity: undo.name, state: 'pending' };
    }
    this.publish();
    return result;
  }

  /**
   * Waits for any durable task as a step (an external event, a timer, a race of them), labelled
   * `label` in the status; it has nothing to undo. Use as `const winner = yield* saga.wait(...)`.
   */
  *wait<R>(name: string, label: string, task: Task): Generator<Task, R, unknown> {
    const status = this.begin(name, label, false, false);
    const result = yield* this.attempt<R>(status, () => task, undefined);
    this.completed(status, false);
    this.publish();
    return result;
  }

  /**
   * Runs a step that only reads (a plan): it has nothing to undo, and it waits out an outage or a
   * throttle as an activity step does, with `waiting` on its status. A failure ends the saga with
   * that error as it is, its own code included (see abort).
   */
  *read<I, R>(spec: {
    name: string;
    activity: TypedActivity<I, R>;
    input: I;
    retry?: RetryPolicy;
  }): Generator<Task, R, unknown> {
    const status = this.begin(spec.name, spec.activity.name, false, false);
    const schedule = (): Task => callTask(this.context, spec.activity, spec.input, { retry: spec.retry });
    try {
      const result = yield* this.untilThrough<R>(
        status,
        schedule,
        (first) => first.retryForMs ?? DEFAULT_TRANSIENT_RETRY_MS,
      );
      this.completed(status, false);
      this.publish();
      return result;
    } catch (err) {
      this.failed(status, err);
      return yield* this.abort(err, status.name);
    }
  }

  /**
   * Ends the saga with `err` as it is, not wrapped as a saga failure: for a refusal before anything
   * was written (a plan's PLAN_INVALID keeps its code). Completed steps are compensated first, as
   * for any failure, so the published phase says how the saga ended.
   */
  *abort(err: unknown, step = '(orchestrator)'): Generator<Task, never, unknown> {
    this.failure = { step, error: errorOf(err) };
    yield* this.compensate();
    throw err;
  }

  private begin(name: string, what: string, pivot: boolean, compensable: boolean): StepStatus {
    const status: StepStatus = {
      name,
      activity: what,
      state: 'running',
      pivot,
      compensable,
      startedAt: this.now(),
    };
    this.steps.push(status);
    this.publish();
    return status;
  }

  /** Waits for a step's task; a failure compensates the completed steps and ends the saga. */
  private *attempt<R>(
    status: StepStatus,
    schedule: () => Task,
    waits: WaitBound | undefined,
  ): Generator<Task, R, unknown> {
    try {
      return yield* this.untilThrough<R>(status, schedule, waits);
    } catch (err) {
      const error = this.failed(status, err);
      this.failure = { step: status.name, error };
      this.report('SagaStepFailed', {
        step: status.name,
        activity: status.activity,
        error: error.message,
      });
      const outcomes = yield* this.compensate();
      throw new SagaFailedError(failureCode(outcomes), this.name, status.name, error, outcomes);
    }
  }

  /** Marks a step failed with `err` (nothing of it is left to undo) and logs it; returns the error as shown. */
  private failed(status: StepStatus, err: unknown): StepError {
    status.state = 'failed';
    status.completedAt = this.now();
    status.error = errorOf(err);
    status.compensable = false;
    replaySafeLog(
      this.context,
      'warning',
      `Saga '${this.name}' step '${status.name}' failed: ${status.error.message}`,
    );
    return status.error;
  }

  /**
   * Runs a task until it succeeds. A transient failure (with `waits`) sets `waiting` on the status,
   * waits on a durable timer and schedules the task again, until the bound measured from the first
   * transient failure has passed; any other failure, or one past the bound, is thrown.
   */
  private *untilThrough<R>(
    status: StepStatus,
    schedule: () => Task,
    waits: WaitBound | undefined,
  ): Generator<Task, R, unknown> {
    let first: { at: number; boundMs: number } | undefined;
    for (let retry = 1; ; retry++) {
      try {
        const result = (yield schedule()) as R;
        delete status.waiting;
        return result;
      } catch (err) {
        const outage = waits ? transientFailure(err) : undefined;
        const now = this.context.df.currentUtcDateTime.getTime();
        if (outage && waits) first ??= { at: now, boundMs: waits(outage) };
        const at =
          outage && first
            ? nextAttemptAt(first.at, now, retry, first.boundMs, outage.retryAfterMs)
            : undefined;
        if (!outage || at === undefined) {
          delete status.waiting;
          throw err;
        }
        this.waitingFor(status, outage, retry, at);
        yield this.context.df.createTimer(new Date(at));
      }
    }
  }

  private waitingFor(status: StepStatus, outage: TransientFailure, retry: number, at: number): void {
    const nextAttemptAt = new Date(at).toISOString();
    status.waiting = { service: outage.service, attempt: retry, nextAttemptAt, error: outage.detail };
    this.publish();
    const what =
      status.state === 'compensating' ? `the undo of step '${status.name}'` : `step '${status.name}'`;
    replaySafeLog(
      this.context,
      'warning',
      `Saga '${this.name}' ${what} waits for ${outage.service} (retry ${retry} at ${nextAttemptAt}): ${outage.detail}`,
    );
    this.report('SagaStepWaiting', {
      step: status.name,
      activity: status.state === 'compensating' ? status.compensation?.activity : status.activity,
      compensation: status.state === 'compensating',
      service: outage.service,
      attempt: retry,
      nextAttemptAt,
    });
  }

  private completed(status: StepStatus, pivot: boolean): void {
    status.state = 'completed';
    status.completedAt = this.now();
    replaySafeLog(this.context, 'information', `Saga '${this.name}' step '${status.name}' completed.`);
    this.report('SagaStepCompleted', { step: status.name, activity: status.activity, pivot });
  }

  /** Undoes the completed steps, newest first; a failed compensation is recorded, never dropped. */
  private *compensate(): Generator<Task, CompensationOutcome[], unknown> {
    const outcomes: CompensationOutcome[] = [];
    this.phase = 'compensating';
    this.publish();
    for (const pending of [...this.compensations].reverse()) {
      const step = pending.status;
      step.state = 'compensating';
      const activity = pending.target.name;
      step.compensation = { activity, state: 'running', startedAt: this.now() };
      this.publish();
      try {
        const schedule = (): Task =>
          callTask(this.context, pending.target, pending.input, {
            retry: pending.retry,
            instanceId: pending.instanceId,
          });
        yield* this.untilThrough<unknown>(step, schedule, pending.waits);
        step.state = 'compensated';
        step.compensation = { ...step.compensation, state: 'completed', completedAt: this.now() };
        outcomes.push({ step: step.name, activity, outcome: 'compensated' });
        this.report('SagaStepCompensated', { step: step.name, activity });
      } catch (err) {
        const error = errorOf(err);
        step.state = 'compensation-failed';
        step.compensation = { ...step.compensation, state: 'failed', completedAt: this.now(), error };
        outcomes.push({ step: step.name, activity, outcome: 'failed', error });
        replaySafeLog(
          this.context,
          'error',
          `Saga '${this.name}' could not undo step '${step.name}': ${error.message}`,
        );
        this.report('SagaCompensationFailed', {
          step: step.name,
          activity,
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
      throw new SagaFailedError(failureCode(outcomes), this.name, '(orchestrator)', error, outcomes);
    }
    return this.complete(output);
  }

  /** Marks the saga completed and returns the orchestration's output. */
  complete<T>(output: T): T {
    this.phase = 'completed';
    // What would have undone each step is now the rollback point's to run, on request.
    for (const pending of this.compensations)
      if (pending.status.compensation) pending.status.compensation.state = 'available';
    this.compensations = [];
    this.publish();
    this.report('SagaCompleted', { steps: this.steps.length });
    return output;
  }
}

/** A compensation waits out an outage until it gets through, unless told a bound (or not to wait). */
function compensationBound(own: TransientRetry | false | undefined): WaitBound | undefined {
  if (own === false) return undefined;
  return () => own?.forMs ?? Number.POSITIVE_INFINITY;
}

function failureCode(outcomes: CompensationOutcome[]): SagaFailureCode {
  return outcomes.some((o) => o.outcome === 'failed') ? 'SAGA_COMPENSATION_FAILED' : 'SAGA_COMPENSATED';
}
