import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { ContainerClient } from '@azure/storage-blob';
import { BlobStartClaims, STALE_MS } from '../../lib/api/claims';
import { publicOrchestrations, requirePublicOrchestration } from '../../lib/api/registry';
import { instanceIdForIdempotencyKey, readJsonBody } from '../../lib/api/request';
import { errorCodeOf, instanceView, type RawStatus } from '../../lib/api/status';

function status(instanceId: string, createdTime: string, name = 'configChange'): RawStatus {
  return { instanceId, name, runtimeStatus: 'Completed', createdTime, lastUpdatedTime: createdTime };
}

describe('instance views', () => {
  it('lifts the saga phase and steps out of the custom status, and the code out of a failure', () => {
    const view = instanceView({
      ...status('x', '2026-11-01T10:00:00Z'),
      runtimeStatus: 'Failed',
      output: "Orchestrator function 'rollback' failed: [ROLLBACK_CONFLICT] Someone edited it.",
      customStatus: { kind: 'saga', saga: 'rollback', phase: 'compensated', steps: [], updatedAt: '' },
    });
    expect(view).toMatchObject({
      phase: 'compensated',
      steps: [],
      failure: { code: 'ROLLBACK_CONFLICT', message: 'Someone edited it.' },
    });
    expect(errorCodeOf('plain failure')).toEqual({ message: 'plain failure' });
  });
});

describe('requests', () => {
  const request = (headers: Record<string, string>, body?: string): HttpRequest =>
    new HttpRequest({
      url: 'http://localhost/api/x',
      method: 'POST',
      headers,
      body: body ? { string: body } : undefined,
    });

  it('maps one Idempotency-Key to one instance id, and different keys to different ids', () => {
    const a = instanceIdForIdempotencyKey(request({ 'idempotency-key': 'k-1' }));
    expect(a).toBe(instanceIdForIdempotencyKey(request({ 'idempotency-key': 'k-1' })));
    expect(a).not.toBe(instanceIdForIdempotencyKey(request({ 'idempotency-key': 'k-2' })));
    expect(instanceIdForIdempotencyKey(request({}))).toBeUndefined();
  });

  it('reads JSON bodies within the limit, and names what is wrong otherwise', async () => {
    expect(await readJsonBody(request({}, '{"a":1}'), 100)).toEqual({ a: 1 });
    expect(await readJsonBody(request({}), 100)).toBeUndefined();
    await expect(readJsonBody(request({}, '{"a":'), 100)).rejects.toMatchObject({ code: 'INVALID_JSON' });
    await expect(
      readJsonBody(request({}, JSON.stringify({ a: 'x'.repeat(100) })), 100),
    ).rejects.toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});

describe('the public registry', () => {
  it('names the public orchestrations and nothing else, not even Object properties', () => {
    expect([...publicOrchestrations.keys()].sort()).toEqual(
      ['configChange', 'createRollbackPoint', 'dataverseChange', 'rollback'].sort(),
    );
    for (const name of ['rollbackExpiry', 'constructor', 'toString', '__proto__'])
      expect(() => requirePublicOrchestration(name)).toThrow(/No public orchestration/);
  });
});

describe('start claims', () => {
  it('lets exactly one claimer win, treats old claims as stale, and frees a released claim', async () => {
    const container = new ContainerClient(
      String(process.env.AZURE_STORAGE_CONNECTION_STRING),
      `claims${Date.now()}`,
    );
    let now = Date.parse('2026-11-26T10:00:00Z');
    const claims = new BlobStartClaims(container, () => now);
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => claims.claim('inst-1', 'configChange')));
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'taken')).toHaveLength(3);
    now += STALE_MS + 1;
    expect(await claims.claim('inst-1', 'configChange')).toBe('stale');
    expect(await claims.claim('inst-1', 'configChange')).toBe('taken');
    await claims.release('inst-1');
    expect(await claims.claim('inst-1', 'configChange')).toBe('won');
    await container.deleteIfExists();
  });
});
