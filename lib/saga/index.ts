/** The saga kit: typed activities, steps with compensations, pivots, and the published status. */
export { defineActivity, activityRef, type TypedActivity } from './activity';
export {
  Saga,
  DEFAULT_COMPENSATION_RETRY,
  errorOf,
  type Compensation,
  type RetryPolicy,
  type StepSpec,
} from './saga';
export { SagaFailedError, type CompensationOutcome } from './errors';
export type { SagaPhase, SagaStatus, StepState, StepStatus, StepError, CompensationStatus } from './status';
export { replaySafeLog, replaySafeEvent } from './log';
