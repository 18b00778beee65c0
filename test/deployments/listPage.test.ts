/**
 * Listing deployments reads one page of the store per page: the listing entries of that page and
 * their records, never every deployment. Against the suite's Azurite, nothing mocked.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { DeploymentStore, newDeploymentRecord, type DeploymentRecord } from '../../lib/deployments';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';

function freshStore(): { store: DeploymentStore; blobs: JsonBlobs } {
  const service = BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
  const blobs = new JsonBlobs(
    service.getContainerClient(`deplist${Date.now()}${Math.floor(Math.random() * 1e6)}`),
  );
  return { store: new DeploymentStore(blobs), blobs };
}

const BASE = Date.parse('2026-03-01T08:00:00Z');

function record(i: number, at: number, state?: DeploymentRecord['state']): DeploymentRecord {
  const r = newDeploymentRecord(
    `deploy-${String(i).padStart(3, '0')}`,
    { version: String(i) },
    new Date(at).toISOString(),
  );
  return state ? { ...r, state } : r;
}

describe('paging deployments in the store', () => {
  it('reads a page of entries and records per page, newest request first, stable while deployments are added', async () => {
    const { store, blobs } = freshStore();
    // Two requests share each millisecond: the id orders those, as the unpaged list did.
    for (let i = 0; i < 60; i++) await store.create(record(i, BASE + Math.floor(i / 2) * 1000));
    const expected = Array.from({ length: 60 }, (_, k) => {
      const pair = Math.floor((59 - k) / 2);
      return `deploy-${String(pair * 2 + (k % 2)).padStart(3, '0')}`;
    });

    const seen: string[] = [];
    let token: string | undefined;
    let added = 60;
    do {
      const before = { ...blobs.reads };
      const page = await store.listPage({ top: 7, continuationToken: token });
      expect(blobs.reads.names - before.names).toBeLessThanOrEqual(7);
      expect(blobs.reads.documents - before.documents).toBeLessThanOrEqual(7);
      seen.push(...page.records.map((r) => r.id));
      token = page.continuationToken;
      // A deployment requested between pages is newer than every page's position.
      await store.create(record(added++, BASE + 3_600_000 + added));
    } while (token);
    expect(seen).toEqual(expected);
  });

  it('filters by state across pages without gaps, and refuses a token it did not hand out', async () => {
    const { store } = freshStore();
    const states: DeploymentRecord['state'][] = ['succeeded', 'failed', 'rolled-back'];
    for (let i = 0; i < 30; i++) await store.create(record(i, BASE + i * 1000, states[i % 3]));
    const failed: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.listPage({ top: 4, continuationToken: token, states: ['failed'] });
      expect(page.records.every((r) => r.state === 'failed')).toBe(true);
      failed.push(...page.records.map((r) => r.id));
      token = page.continuationToken;
    } while (token);
    const expected = Array.from({ length: 30 }, (_, i) => 29 - i)
      .filter((i) => i % 3 === 1)
      .map((i) => `deploy-${String(i).padStart(3, '0')}`);
    expect(failed).toEqual(expected);
    await expect(store.listPage({ top: 4, continuationToken: 'garbage' })).rejects.toMatchObject({
      code: 'INVALID_CONTINUATION_TOKEN',
    });
  });

  it('lists a record whose listing entry a crash left unwritten once its create is retried', async () => {
    const { store, blobs } = freshStore();
    const lost = record(1, BASE);
    // The record alone, as a crash right after its write would leave it.
    await blobs.put(`deployments/${lost.id}.json`, lost, { ifNoneMatch: '*' });
    expect((await store.listPage({ top: 10 })).records).toEqual([]);
    await expect(store.create(lost)).rejects.toMatchObject({ code: 'DEPLOYMENT_EXISTS' });
    expect((await store.listPage({ top: 10 })).records.map((r) => r.id)).toEqual([lost.id]);
  });
});
