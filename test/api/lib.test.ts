import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { ContainerClient } from '@azure/storage-blob';
import { BlobStartClaims, STALE_MS } from '../../lib/api/claims';
import { publicOrchestrations, requirePublicOrchestration } from '../../lib/api/registry';
import { instanceIdForIdempotencyKey, readJsonBody } from '../../lib/api/request';
import { errorCodeOf, instanceView, pageOf, type RawStatus } from '../../lib/api/status';

function status(instanceId: string, createdTime: string, name = 'configChange'): RawStatus {
  return { instanceId, name, runtimeStatus: 'Completed', createdTime, lastUpdatedTime: createdTime };
}

describe('paging instances', () => {
  const statuses = [
    status('b', '2026-11-01T10:00:00Z'),
    status('a', '2026-11-01T10:00:00Z'),
    status('c', '2026-11-02T10:00:00Z'),
    status('d', '2026-10-30T10:00:00Z', 'rollback'),
  ];

  it('lists newest first, the instance id breaking ties, and pages without gaps or repeats', () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = pageOf(statuses, { top: 2, continuationToken: token });
      seen.push(...page.items.map((i) => i.instanceId));
      token = page.continuationToken;
    } while (token);
    expect(seen).toEqual(['c', 'b', 'a', 'd']);
  });

  it('keeps its place when a newer instance starts between pages', () => {
    const first = pageOf(statuses, { top: 2 });
    const more = [...statuses, status('e', '2026-11-05T00:00:00Z')];
    const second = pageOf(more, { top: 10, continuationToken: first.continuationToken });
    expect(second.items.map((i) => i.instanceId)).toEqual(['a', 'd']);
  });

  it('filters by name, and refuses a token it did not hand out', () => {
    expect(pageOf(statuses, { top: 10, names: ['rollback'] }).items.map((i) => i.instanceId)).toEqual(['d']);
    expect(() => pageOf(statuses, { top: 10, continuationToken: 'bm9wZQ' })).toThrow(/continuationToken/);
  });
});

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
