import { describe, expect, it } from 'vitest';
import { CodedError, codeOf, codedMessage, readCode } from '../../lib/errors/codedError';
import { DeploymentError } from '../../lib/deployments';
import { RollbackError } from '../../lib/rollback/store';
import { SagaFailedError } from '../../lib/saga';

describe('coded errors', () => {
  it('write the code into the message and read it back, also after a boundary added a prefix', () => {
    const err = new CodedError('INVALID_INPUT', 'pointId is required.');
    expect(err.message).toBe('[INVALID_INPUT] pointId is required.');
    expect(err.message).toBe(codedMessage('INVALID_INPUT', 'pointId is required.'));
    expect(err.name).toBe('Error');
    expect(readCode(`Orchestrator function 'rollback' failed: ${err.message}`)).toEqual({
      code: 'INVALID_INPUT',
      message: 'pointId is required.',
    });
    expect(readCode('plain failure')).toEqual({ message: 'plain failure' });
  });

  it('give the code of an error here, of a failure that crossed a boundary, or none', () => {
    expect(codeOf(new DeploymentError('DEPLOYMENT_BUSY', 'Busy.'))).toBe('DEPLOYMENT_BUSY');
    const crossed = Object.assign(new Error('Sub-orchestration failed'), {
      failureDetails: { errorType: 'Error', errorMessage: "Orchestrator 'x' failed: [SAGA_COMPENSATED] x." },
    });
    expect(codeOf(crossed)).toBe('SAGA_COMPENSATED');
    expect(codeOf(new Error('[ROLLBACK_BUSY] Taken.'))).toBe('ROLLBACK_BUSY');
    expect(codeOf(new Error('no code here'))).toBeUndefined();
    expect(codeOf('text [CONFIG_CONFLICT] raced')).toBe('CONFIG_CONFLICT');
  });

  it('keep each subclass its own name and code, and the saga failure its story', () => {
    const rollback = new RollbackError('ROLLBACK_CONFLICT', 'Edited.', { field: 'x' });
    expect(rollback).toBeInstanceOf(CodedError);
    expect([rollback.name, rollback.code, rollback.message, rollback.details]).toEqual([
      'RollbackError',
      'ROLLBACK_CONFLICT',
      '[ROLLBACK_CONFLICT] Edited.',
      { field: 'x' },
    ]);
    const saga = new SagaFailedError('SAGA_COMPENSATED', 's', 'b', { message: 'b broke' }, [
      { step: 'a', activity: 'undoA', outcome: 'compensated' },
    ]);
    expect(saga.name).toBe('SagaFailedError');
    expect(saga.message).toBe("[SAGA_COMPENSATED] Saga 's' failed at step 'b': b broke. Compensated: a.");
    expect(codeOf(saga)).toBe('SAGA_COMPENSATED');
  });

  it('say nothing needed compensating only when no compensation ran at all', () => {
    const none = new SagaFailedError('SAGA_COMPENSATED', 's', 'a', { message: 'a broke' }, []);
    expect(none.message).toContain('Nothing needed compensating.');
    const stuck = new SagaFailedError('SAGA_COMPENSATION_FAILED', 's', 'b', { message: 'b broke' }, [
      { step: 'a', activity: 'undoA', outcome: 'failed', error: { message: 'undo broke' } },
    ]);
    expect(stuck.message).toBe(
      "[SAGA_COMPENSATION_FAILED] Saga 's' failed at step 'b': b broke. Compensation failed for: a (undo broke).",
    );
  });
});
