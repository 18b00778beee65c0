/**
 * What a failed deployment saga amounts to: its code, the message a person reads, the state its
 * record ends in, what each rollback did and which rollback points are left to run by hand. Pure:
 * it reads the saga's failure (the kit has already rolled back what it could), never calls anything.
 */
import { readCode } from '../errors/codedError';
import type { SagaFailedError } from '../saga/errors';
import type { DeploymentErrorCode, DeploymentRecord, DeploymentState } from './store';

export interface DeploymentFailure {
  code: Extract<
    DeploymentErrorCode,
    'DEPLOYMENT_FAILED' | 'DEPLOYMENT_ROLLED_BACK' | 'DEPLOYMENT_ROLLBACK_FAILED'
  >;
  message: string;
  state: Extract<DeploymentState, 'failed' | 'rolled-back'>;
  compensations: NonNullable<DeploymentRecord['compensations']>;
  /** Points already executed are spent; only the stuck ones are left to run by hand. */
  rollbackPoints: string[];
}

const withStop = (text: string): string => text.replace(/\.*$/, '.');

/**
 * `applying`: whether the saga had started applying changes; `pointOf`: the rollback point each
 * compensated step executed.
 */
export function deploymentFailure(
  version: string,
  failed: SagaFailedError,
  applying: boolean,
  pointOf: (step: string) => string,
): DeploymentFailure {
  const results = failed.compensations;
  const stuck = results.filter((r) => r.outcome === 'failed');
  const undone = results.filter((r) => r.outcome === 'compensated').map((r) => r.step);
  // A change saga whose own undo failed leaves part of its change behind: that is stuck too.
  const failedInside = readCode(failed.failure.message).code === 'SAGA_COMPENSATION_FAILED';
  const code =
    stuck.length || failedInside
      ? 'DEPLOYMENT_ROLLBACK_FAILED'
      : applying
        ? 'DEPLOYMENT_ROLLED_BACK'
        : 'DEPLOYMENT_FAILED';
  let message = `Deployment ${version} failed: ${withStop(failed.failure.message)}`;
  if (undone.length) message += ` Rolled back: ${undone.join(', ')}.`;
  else if (applying && !results.length && !failedInside)
    message += ' Nothing else had been applied (a change saga that fails undoes its own work).';
  if (failedInside)
    message +=
      ' The failing change could not undo all of its own work; see its saga status and rollback point.';
  if (stuck.length) {
    const described = stuck.map(
      (s) => `${s.step} (${s.error?.message.replace(/\.*$/, '') ?? 'unknown error'})`,
    );
    message += ` Rolling back failed for: ${described.join('; ')}. Its rollback point keeps the undo plan; fix the cause and undo by hand.`;
  }
  return {
    code,
    message,
    state: !stuck.length && !failedInside && applying ? 'rolled-back' : 'failed',
    compensations: results.map((r) => ({
      step: r.step,
      pointId: pointOf(r.step),
      outcome: r.outcome === 'compensated' ? 'rolled-back' : 'failed',
      ...(r.error ? { error: r.error.message } : {}),
    })),
    rollbackPoints: stuck.map((s) => pointOf(s.step)),
  };
}
