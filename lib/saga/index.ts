/** The saga kit: typed activities and orchestrations, one way to call them, steps with compensations, pivots, and the published status. */
export { defineActivity, type TypedActivity } from './activity';
export { defineOrchestration, orchestrationRef, type TypedOrchestration } from './orchestration';
export { call, callTask, type Callable, type CallOptions } from './call';
export { toRetryOptions, type RetryPolicy } from './retry';
export { DEFAULT_TRANSIENT_RETRY_MS, type TransientRetry } from './outage';
export {
  Saga,
  DEFAULT_COMPENSATION_RETRY,
  errorOf,
  type Compensation,
  type StepSpec,
  type Target,
} from './saga';
export { SagaFailedError, type CompensationOutcome, type SagaFailureCode } from './errors';
export type { SagaPhase, SagaStatus, StepState, StepStatus, StepError, CompensationStatus } from './status';
export { replaySafeLog, replaySafeEvent } from './log';
