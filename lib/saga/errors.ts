/** The error a failed saga ends with: the original failure and what each compensation did. */
import type { StepError } from './status';

export interface CompensationOutcome {
  step: string;
  activity: string;
  outcome: 'compensated' | 'failed';
  error?: StepError;
}

export class SagaFailedError extends Error {
  override readonly name = 'SagaFailedError';

  constructor(
    readonly code: 'SAGA_COMPENSATED' | 'SAGA_COMPENSATION_FAILED',
    readonly saga: string,
    readonly failedStep: string,
    readonly failure: StepError,
    readonly compensations: CompensationOutcome[],
  ) {
    super(SagaFailedError.describe(code, saga, failedStep, failure, compensations));
  }

  private static describe(
    code: SagaFailedError['code'],
    saga: string,
    failedStep: string,
    failure: StepError,
    compensations: CompensationOutcome[],
  ): string {
    const undone = compensations.filter((c) => c.outcome === 'compensated').map((c) => c.step);
    const stuck = compensations.filter((c) => c.outcome === 'failed');
    const reason = /[.!?]$/.test(failure.message) ? failure.message : `${failure.message}.`;
    let text = `[${code}] Saga '${saga}' failed at step '${failedStep}': ${reason}`;
    text += undone.length ? ` Compensated: ${undone.join(', ')}.` : ' Nothing needed compensating.';
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
