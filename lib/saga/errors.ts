/** The error a failed saga ends with: the original failure and what each compensation did. */
import { CodedError } from '../errors/codedError';
import type { StepError } from './status';

export interface CompensationOutcome {
  step: string;
  activity: string;
  outcome: 'compensated' | 'failed';
  error?: StepError;
}

export type SagaFailureCode = 'SAGA_COMPENSATED' | 'SAGA_COMPENSATION_FAILED';

export class SagaFailedError extends CodedError<SagaFailureCode> {
  override readonly name = 'SagaFailedError';

  constructor(
    code: SagaFailureCode,
    readonly saga: string,
    readonly failedStep: string,
    readonly failure: StepError,
    readonly compensations: CompensationOutcome[],
  ) {
    super(code, SagaFailedError.describe(saga, failedStep, failure, compensations));
  }

  private static describe(
    saga: string,
    failedStep: string,
    failure: StepError,
    compensations: CompensationOutcome[],
  ): string {
    const undone = compensations.filter((c) => c.outcome === 'compensated').map((c) => c.step);
    const stuck = compensations.filter((c) => c.outcome === 'failed');
    const reason = /[.!?]$/.test(failure.message) ? failure.message : `${failure.message}.`;
    let text = `Saga '${saga}' failed at step '${failedStep}': ${reason}`;
    if (undone.length) text += ` Compensated: ${undone.join(', ')}.`;
    else if (!stuck.length) text += ' Nothing needed compensating.';
    if (stuck.length) {
      text += ` Compensation failed for: ${stuck.map((c) => `${c.step} (${c.error?.message ?? 'unknown error'})`).join('; ')}.`;
    }
    return text;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      saga: this.saga,
      failedStep: this.failedStep,
      failure: this.failure,
      compensations: this.compensations,
    };
  }
}
