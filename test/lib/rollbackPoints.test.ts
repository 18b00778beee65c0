import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { RollbackPoint, RollbackPointStore, resourceKey } from '../../lib/rollback';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';

function store(): RollbackPointStore {
  const service = BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
  return new RollbackPointStore(
    new JsonBlobs(service.getContainerClient(`rb-${Date.now()}-${Math.floor(Math.random() * 1e6)}`)),
  );
}

function point(
  id: string,
  createdAt: string,
  ids: string[],
  extra: Partial<RollbackPoint> = {},
): RollbackPoint {
  return {
    id,
    origin: 'saga',
    sagaInstanceId: `saga-${id}`,
    description: `change ${id}`,
    createdAt,
    expiresAt: '2026-12-31T00:00:00.000Z',
    status: 'active',
    resources: ids.map((rid) => ({ kind: 'dataverse', table: 'contacts', id: rid, etagAfter: 'W/"1"' })),
    plan: [],
    snapshots: [],
    ...extra,
  };
}

describe('rollback point store', () => {
  it('records a point once, lists by status and by resource', async () => {
    const points = store();
    await points.create(point('p1', '2026-11-01T00:00:00.000Z', ['a']));
    await points.create(point('p1', '2026-11-09T00:00:00.000Z', ['zzz']));
    await points.create(point('p2', '2026-11-02T00:00:00.000Z', ['b'], { status: 'rolled-back' }));
    expect((await points.require('p1')).resources[0]).toMatchObject({ id: 'a' });
    expect((await points.list({ status: ['active'] })).map((p) => p.id)).toEqual(['p1']);
    expect(
      (await points.list({ resource: resourceKey({ kind: 'dataverse', table: 'contacts', id: 'b' }) })).map(
        (p) => p.id,
      ),
    ).toEqual(['p2']);
    await expect(points.require('nope')).rejects.toMatchObject({ code: 'ROLLBACK_POINT_NOT_FOUND' });
  });

  it('finds later active points that touched the same resources, newest first', async () => {
    const points = store();
    const first = await points.create(point('first', '2026-11-01T00:00:00.000Z', ['a', 'b']));
    await points.create(point('second', '2026-11-02T00:00:00.000Z', ['b']));
    await points.create(point('unrelated', '2026-11-03T00:00:00.000Z', ['c']));
    await points.create(point('third', '2026-11-04T00:00:00.000Z', ['a']));
    await points.create(point('done', '2026-11-05T00:00:00.000Z', ['a'], { status: 'rolled-back' }));
    expect((await points.laterDependents(first)).map((p) => p.id)).toEqual(['third', 'second']);
  });

  it('lets only one caller move a point out of active', async () => {
    const points = store();
    await points.create(point('race', '2026-11-01T00:00:00.000Z', ['a']));
    const results = await Promise.allSettled([
      points.transition('race', ['active'], (p) => ({ ...p, status: 'rolling-back' })),
      points.transition('race', ['active'], (p) => ({ ...p, status: 'rolling-back' })),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    // Lost the race on the etag (BUSY), or read the point after the winner moved it (IN_PROGRESS).
    expect(['ROLLBACK_BUSY', 'ROLLBACK_IN_PROGRESS']).toContain(rejected.reason.code);
  });

  it('expires active points past their expiry and refuses to roll them back', async () => {
    const points = store();
    await points.create(
      point('old', '2026-10-01T00:00:00.000Z', ['a'], { expiresAt: '2026-10-31T00:00:00.000Z' }),
    );
    await points.create(
      point('new', '2026-11-01T00:00:00.000Z', ['b'], { expiresAt: '2026-12-01T00:00:00.000Z' }),
    );
    const expired = await points.expire('2026-11-15T00:00:00.000Z');
    expect(expired.map((p) => p.id)).toEqual(['old']);
    await expect(points.transition('old', ['active'], (p) => p)).rejects.toMatchObject({
      code: 'ROLLBACK_POINT_EXPIRED',
    });
    expect((await points.require('new')).status).toBe('active');
  });
});
