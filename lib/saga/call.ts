/**
 * The one typed way orchestrator code calls an activity or a sub-orchestration, with or without
 * retries: `const r = yield* call(context, handle, input, { retry })`, or `callTask` for a task to
 * fan out. It schedules exactly what the matching `context.df.call…` would, so switching a call site
 * to it keeps the orchestration's history (and replays of running instances) unchanged.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { TypedActivity } from './activity';
import type { TypedOrchestration } from './orchestration';
import { toRetryOptions, type RetryPolicy } from './retry';

export type Callable<I, R> = TypedActivity<I, R> | TypedOrchestration<I, R>;

export interface CallOptions {
  retry?: RetryPolicy;
  /** A sub-orchestration's instance id (activities have none). */
  instanceId?: string;
}

export function callTask<I, R>(
  context: OrchestrationContext,
  target: Callable<I, R>,
  input: I,
  options: CallOptions = {},
): Task {
  const { retry, instanceId } = options;
  if (target.kind === 'orchestration')
    return retry
      ? context.df.callSubOrchestratorWithRetry(target.name, toRetryOptions(retry), input, instanceId)
      : context.df.callSubOrchestrator(target.name, input, instanceId);
  return retry
    ? context.df.callActivityWithRetry(target.name, toRetryOptions(retry), input)
    : context.df.callActivity(target.name, input);
}

/** Calls and waits; the result has the handle's type. */
export function* call<I, R>(
  context: OrchestrationContext,
  target: Callable<I, R>,
  input: I,
  options: CallOptions = {},
): Generator<Task, R, unknown> {
  return (yield callTask(context, target, input, options)) as R;
}
