import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { ConfigVersionError, VersionedConfig } from '../../lib/config/versionedConfig';
import { BlobConflictError, JsonBlobs } from '../../lib/storage/jsonBlobs';

function blobs(): JsonBlobs {
  const service = BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
  return new JsonBlobs(service.getContainerClient(`cfg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`));
}

describe('JSON blobs', () => {
  it('round-trips documents and enforces etag conditions', async () => {
    const store = blobs();
    expect(await store.get('a.json')).toBeUndefined();
    const etag = await store.put('a.json', { n: 1 });
    expect(await store.get('a.json')).toEqual({ value: { n: 1 }, etag });
    await store.put('a.json', { n: 2 }, { ifMatch: etag });
    await expect(store.put('a.json', { n: 3 }, { ifMatch: etag })).rejects.toBeInstanceOf(BlobConflictError);
    await expect(store.put('a.json', { n: 3 }, { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      BlobConflictError,
    );
    expect((await store.get<{ n: number }>('a.json'))?.value.n).toBe(2);
    expect(await store.delete('a.json')).toBe(true);
    expect(await store.delete('a.json')).toBe(false);
  });
});

describe('versioned configuration', () => {
  it('keeps every version, moves the pointer forward and back', async () => {
    const config = new VersionedConfig<{ reminderHour: number }>(blobs());
    expect(await config.current()).toBeUndefined();
    const v1 = await config.write({ reminderHour: 9 }, '2026-01-01T00:00:00Z', 'setup');
    await config.activate(v1, '2026-01-01T00:00:00Z', 'setup');
    const v2 = await config.write({ reminderHour: 8 }, '2026-01-02T00:00:00Z', 'change-1');
    await config.activate(v2, '2026-01-02T00:00:00Z', 'change-1', v1);
    expect((await config.current())?.value).toEqual({ reminderHour: 8 });
    await config.activate(v1, '2026-01-03T00:00:00Z', 'rollback', v2);
    expect((await config.current())?.value).toEqual({ reminderHour: 9 });
    expect(await config.versions()).toEqual([1, 2]);
    expect((await config.version(2)).value).toEqual({ reminderHour: 8 });
  });

  it('writes a version idempotently on a re-run and refuses a different one under the same number', async () => {
    const config = new VersionedConfig<{ a: number }>(blobs());
    expect(await config.write({ a: 1 }, 't', 'x', 1)).toBe(1);
    expect(await config.write({ a: 1 }, 't', 'x', 1)).toBe(1);
    await expect(config.write({ a: 2 }, 't', 'x', 1)).rejects.toMatchObject({ code: 'CONFIG_CONFLICT' });
  });

  it('refuses to move a pointer someone else moved, and unknown versions', async () => {
    const config = new VersionedConfig<{ a: number }>(blobs());
    await config.activate(await config.write({ a: 1 }, 't'), 't');
    await config.activate(await config.write({ a: 2 }, 't'), 't');
    await config.write({ a: 3 }, 't');
    await expect(config.activate(3, 't', 'x', 1)).rejects.toMatchObject({ code: 'CONFIG_CONFLICT' });
    await expect(config.activate(9, 't')).rejects.toBeInstanceOf(ConfigVersionError);
  });
});
