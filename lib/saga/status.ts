/**
 * What a saga publishes as its orchestration's custom status: the phase and each step with its
 * state and times. The status endpoints, `blc` and the dashboard read exactly this shape.
 */

export type SagaPhase = 'running' | 'compensating' | 'compensated' | 'compensation-failed' | 'completed';

export type StepState =
  'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'compensation-failed';

export interface StepError {
  message: string;
  type?: string;
}

export interface CompensationStatus {
  activity: string;
  state: 'pending' | 'running' | 'completed' | 'failed';
  startedAt?: string;
  completedAt?: string;
  error?: StepError;
}

export interface StepStatus {
  name: string;
  activity: string;
  state: StepState;
  pivot: boolean;
  /** False for steps before a completed pivot, and for steps that declared no compensation. */
  compensable: boolean;
  startedAt: string;
  completedAt?: string;
  error?: StepError;
  compensation?: CompensationStatus;
}

export interface SagaStatus {
  kind: 'saga';
  saga: string;
  phase: SagaPhase;
  steps: StepStatus[];
  updatedAt: string;
  failure?: { step: string; error: StepError };
  /** Free-form details the orchestration adds (e.g. a rollback point id). */
  details?: Record<string, unknown>;
}
