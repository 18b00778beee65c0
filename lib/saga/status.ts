/**
 * What a saga publishes as its orchestration's custom status: the phase and each step with its
 * state and times. The status endpoints, `blc` and the dashboard read exactly this shape, so it is
 * declared once, with the API's other answers, in lib/contracts/responses.d.ts.
 */
export type {
  CompensationStatus,
  SagaPhase,
  SagaStatus,
  StepError,
  StepState,
  StepStatus,
} from '../contracts/responses';
