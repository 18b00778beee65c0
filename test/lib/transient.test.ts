import * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { DataverseError } from '../../lib/dataverse';
import { CodedError } from '../../lib/errors/codedError';
import { ServiceUnavailableError, asActivityFailure, transientFailure } from '../../lib/errors/transient';
import { GraphServiceError } from '../../lib/graph';
import { nextAttemptAt } from '../../lib/saga/outage';

/** What the orchestrator holds after an activity failed: durable-functions' error built from history. */
function fromHistory(err: Error): df.TaskFailedError {
  return new df.TaskFailedError({
    errorType: err.name,
    errorMessage: err.message,
    isNonRetriable: false,
    isCausedBy: () => false,
  });
}

describe('transient or permanent', () => {
  it('calls throttling, gateways, timeouts and no answer transient, and every other refusal permanent', () => {
    for (const status of [0, 408, 429, 502, 503, 504]) {
      expect(new DataverseError('x', status, 'c').transient).toEqual({ service: 'Dataverse' });
      expect(new GraphServiceError('x', status, 'c').transient).toEqual({ service: 'Graph' });
    }
    for (const status of [400, 401, 403, 404, 409, 412, 500]) {
      expect(new DataverseError('x', status, 'c').transient).toBeUndefined();
      expect(new GraphServiceError('x', status, 'c').isTransient).toBe(false);
    }
    expect(new DataverseError('x', 429, '0x80072322', undefined, 30_000).transient).toEqual({
      service: 'Dataverse',
      retryAfterMs: 30_000,
    });
  });

  it('survives the activity boundary: service, Retry-After and the bound are read back from the failure message', () => {
    const thrown = asActivityFailure(
      new DataverseError(
        'POST /api/data/v9.2/accounts failed with 503: busy (try later)',
        503,
        'c',
        'r',
        30_000,
      ),
      15 * 60_000,
    ) as ServiceUnavailableError;
    expect(thrown).toBeInstanceOf(ServiceUnavailableError);
    expect(thrown.message).toBe(
      '[SERVICE_UNAVAILABLE] Dataverse is unavailable: POST /api/data/v9.2/accounts failed with 503: busy (try later) (retry after 30 s; retries for 15 min)',
    );
    expect(transientFailure(fromHistory(thrown))).toEqual({
      service: 'Dataverse',
      detail: 'POST /api/data/v9.2/accounts failed with 503: busy (try later)',
      retryAfterMs: 30_000,
      retryForMs: 15 * 60_000,
    });
    const noHeader = asActivityFailure(new GraphServiceError('no answer', 0, 'NO_RESPONSE'), 60_000) as Error;
    expect(transientFailure(fromHistory(noHeader))).toEqual({
      service: 'Graph',
      detail: 'no answer',
      retryForMs: 60_000,
    });
  });

  it('leaves permanent failures as they are, and never reads a transient failure into them', () => {
    const refused = new DataverseError('PATCH failed with 412: changed', 412, '0x80060882');
    expect(asActivityFailure(refused, 60_000)).toBe(refused);
    expect(transientFailure(fromHistory(refused))).toBeUndefined();
    const coded = new CodedError('CONFLICT', 'Dataverse is unavailable: words alone are not a code');
    expect(transientFailure(fromHistory(coded))).toBeUndefined();
    expect(transientFailure(new Error('failed with 503'))).toBeUndefined();
  });
});

describe('when the next attempt is due', () => {
  const t0 = Date.parse('2026-12-04T10:00:00Z');
  const bound = 15 * 60_000;

  it('backs off 5 s, doubling up to 5 minutes, without Retry-After', () => {
    let now = t0;
    const waits: number[] = [];
    for (let retry = 1; retry <= 7; retry++) {
      const at = nextAttemptAt(t0, now, retry, bound) as number;
      waits.push((at - now) / 1000);
      now = at;
    }
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 300]);
  });

  it('honours Retry-After (at least a second), never goes past the bound, and gives up at it', () => {
    expect(nextAttemptAt(t0, t0, 1, bound, 42_000)).toBe(t0 + 42_000);
    expect(nextAttemptAt(t0, t0, 1, bound, 0)).toBe(t0 + 1_000);
    expect(nextAttemptAt(t0, t0 + bound - 2_000, 9, bound)).toBe(t0 + bound);
    expect(nextAttemptAt(t0, t0 + bound, 10, bound)).toBeUndefined();
    expect(nextAttemptAt(t0, t0 + 86_400_000, 50, Number.POSITIVE_INFINITY)).toBe(t0 + 86_400_000 + 300_000);
  });
});
