import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { BlobStartClaims } from '../../lib/api/claims';
import { VersionedConfig } from '../../lib/config/versionedConfig';
import { DeploymentStore, newDeploymentRecord } from '../../lib/deployments';
import { InvalidIdError, checkBlobName, idProblem, parseId } from '../../lib/ids';
import { RollbackPointStore, type RollbackPoint } from '../../lib/rollback';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';
import { HOSTILE_IDS } from '../support/hostileIds';

const service = (): BlobServiceClient =>
  BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
const unique = (prefix: string): string => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

describe('the id rule (lib/ids.ts)', () => {
  it('takes the ids the app makes and people choose', () => {
    for (const id of [
      'deploy-2026.03.1',
      'deploy-2026.03.1:rollback-2',
      'rp-3f2c0b1e9d8a4c7b',
      'webhook-create-contact-1b0c-2d3e',
      'cfg-chosen-1',
      'Müller-Übersicht',
      '...a',
      'a'.repeat(300),
    ])
      expect(idProblem(id), id).toBeUndefined();
  });

  it('refuses traversal, separators, invisible and control characters, and overlong ids', () => {
    for (const [what, id] of Object.entries(HOSTILE_IDS)) {
      expect(idProblem(id), what).toEqual(expect.any(String));
      expect(() => parseId(id, 'id'), what).toThrow(InvalidIdError);
    }
    expect(idProblem(42)).toEqual(expect.any(String));
  });

  it('names the field and the rule, with code INVALID_ID, and leaves the id out of the message', () => {
    const err = (() => {
      try {
        parseId('x\u202Eevil', 'pointId');
      } catch (e) {
        return e as InvalidIdError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidIdError);
    expect(err?.code).toBe('INVALID_ID');
    expect(err?.message).toMatch(/^\[INVALID_ID\] pointId must be 1 to 300 characters/);
    expect(err?.message).not.toContain('evil');
  });

  it('checks every part of a blob name', () => {
    expect(checkBlobName('mail/reminders/2026-03-01/abc.json')).toBe('mail/reminders/2026-03-01/abc.json');
    for (const name of ['a/../b.json', 'a//b.json', '/a.json', 'a/./b.json', 'a\\b.json', 'a/%2e%2e/b.json'])
      expect(() => checkBlobName(name), name).toThrow(InvalidIdError);
  });
});

describe('stores refuse a bad id before it reaches a blob name', () => {
  /** A document in another container, where `../../<container>/points/<id>` would lead. */
  async function victim(): Promise<{ container: string; path: string }> {
    const container = unique('victim');
    await new JsonBlobs(service().getContainerClient(container)).put('points/secret.json', {
      secret: 'another container',
    });
    return { container, path: `../../${container}/points/secret` };
  }

  it('the deployment store: get, require, update and create', async () => {
    const { path } = await victim();
    const store = new DeploymentStore(new JsonBlobs(service().getContainerClient(unique('deployments'))));
    await expect(store.get(path)).rejects.toThrow(InvalidIdError);
    await expect(store.require(path)).rejects.toThrow(InvalidIdError);
    await expect(store.update(path, (r) => r)).rejects.toThrow(InvalidIdError);
    const manifest = { version: '1', config: { patch: { a: 1 } } };
    await expect(store.create(newDeploymentRecord(path, manifest, new Date().toISOString()))).rejects.toThrow(
      InvalidIdError,
    );
    for (const id of Object.values(HOSTILE_IDS)) await expect(store.get(id)).rejects.toThrow(InvalidIdError);
  });

  it('the rollback point store: get, transition and create', async () => {
    const { path } = await victim();
    const points = new RollbackPointStore(new JsonBlobs(service().getContainerClient(unique('rb'))));
    await expect(points.get(path)).rejects.toThrow(InvalidIdError);
    await expect(points.transition(path, ['active'], (p) => p)).rejects.toThrow(InvalidIdError);
    const point: RollbackPoint = {
      id: path,
      origin: 'manual',
      description: 'x',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-12-31T00:00:00.000Z',
      status: 'active',
      resources: [],
      plan: [],
      snapshots: [],
    };
    await expect(points.create(point)).rejects.toThrow(InvalidIdError);
  });

  it('JsonBlobs itself, for names built anywhere else (snapshots, mail ledger, start claims)', async () => {
    const { container } = await victim();
    const blobs = new JsonBlobs(service().getContainerClient(unique('snap')));
    await expect(blobs.get(`../${container}/points/secret.json`)).rejects.toThrow(InvalidIdError);
    await expect(blobs.put(`x/../../${container}/points/secret.json`, {})).rejects.toThrow(InvalidIdError);
    await expect(blobs.delete(`../${container}/points/secret.json`)).rejects.toThrow(InvalidIdError);
    // Untouched: the victim's document is still there, as written.
    const still = await new JsonBlobs(service().getContainerClient(container)).get('points/secret.json');
    expect(still?.value).toEqual({ secret: 'another container' });
  });

  it('start claims and configuration versions', async () => {
    const claims = new BlobStartClaims(service().getContainerClient(unique('claims')));
    await expect(claims.claim('../x', 'configChange')).rejects.toThrow(InvalidIdError);
    const config = new VersionedConfig(new JsonBlobs(service().getContainerClient(unique('cfg'))));
    for (const n of [Number.NaN, -1, 1.5, 0]) await expect(config.version(n)).rejects.toThrow(InvalidIdError);
  });
});
