/**
 * Table metadata as the plan reads it from the Dataverse simulator's EntityDefinitions, and its cache:
 * in process with a time to live, and in a real Redis (Debian's redis-server) shared by every app
 * instance. Dataverse calls are counted by passing the client's requests through a counting fetch;
 * nothing is answered in the simulator's place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/core-auth';
import { MemoryCache, RedisCache } from '../../lib/cache';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import { DataverseClient, DataverseMetadata } from '../../lib/dataverse';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { startRedis, type RunningRedis } from '../support/redis';

const credential: TokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

let sim: DataverseSim;
let redis: RunningRedis;

beforeAll(async () => {
  sim = await startDataverseSim();
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await sim?.close();
  await redis?.close();
});

/** A client of the simulator whose requests are counted (and passed on unchanged). */
function countingClient(): { client: DataverseClient; calls: string[] } {
  const calls: string[] = [];
  const client = new DataverseClient(sim.url, credential, {
    fetch: (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    },
  });
  return { client, calls };
}

describe('reading a table definition', () => {
  it('gives names, keys and, per column, type, required level, writability, length, range, options and targets, and what deleting a target does', async () => {
    const { client } = countingClient();
    const metadata = new DataverseMetadata(client, new MemoryCache(), 60_000);
    const account = await metadata.table('accounts');
    expect(account).toMatchObject({
      logicalName: 'account',
      entitySetName: 'accounts',
      primaryIdAttribute: 'accountid',
      primaryNameAttribute: 'name',
      keys: [{ name: 'account_accountnumber', attributes: ['accountnumber'] }],
    });
    expect(account?.columns.name).toMatchObject({
      type: 'String',
      maxLength: 160,
      requiredLevel: 'ApplicationRequired',
      validForCreate: true,
      validForUpdate: true,
    });
    expect(account?.columns.numberofemployees).toMatchObject({ type: 'Integer', minValue: 0, maxValue: 1e9 });
    expect(account?.columns.createdon).toMatchObject({ validForCreate: false, validForUpdate: false });
    expect(account?.columns.primarycontactid).toMatchObject({ type: 'Lookup', targets: ['contact'] });
    expect(account?.navigation.primarycontactid).toEqual({
      attribute: 'primarycontactid',
      target: 'contact',
      onDelete: 'RemoveLink',
    });
    expect(account?.columns.statecode.options?.map((o) => o.value)).toEqual([0, 1]);

    const contact = await metadata.table('contacts');
    expect(contact?.columns.preferredcontactmethodcode.options).toContainEqual({ value: 2, label: 'Email' });
    expect(contact?.navigation.parentcustomerid_account).toEqual({
      attribute: 'parentcustomerid',
      target: 'account',
      onDelete: 'Cascade',
    });
    expect(contact?.columns.birthdate).toMatchObject({ type: 'DateTime', format: 'DateOnly' });
  });

  it('is undefined for an entity set the environment has no table for', async () => {
    const { client } = countingClient();
    expect(
      await new DataverseMetadata(client, new MemoryCache(), 60_000).table('spaceships'),
    ).toBeUndefined();
  });
});

describe('the metadata cache', () => {
  it('in process: reads Dataverse once per table until the time to live has passed', async () => {
    let now = 1_000_000;
    const cache = new MemoryCache(() => now);
    const { client, calls } = countingClient();
    const metadata = new DataverseMetadata(client, cache, 300_000);
    const first = await metadata.table('accounts');
    const reads = calls.length;
    expect(reads).toBeGreaterThan(0);
    expect(calls.every((c) => c.includes('/EntityDefinitions'))).toBe(true);

    now += 299_999;
    expect(await metadata.table('accounts')).toEqual(first);
    expect(calls).toHaveLength(reads);

    now += 2;
    expect(await metadata.table('accounts')).toEqual(first);
    expect(calls).toHaveLength(2 * reads);
  });

  it('in Redis: one instance reads Dataverse, another finds it cached, until Redis expires it', async () => {
    const first = countingClient();
    const second = countingClient();
    const prefix = `test-${Date.now()}:`;
    const cacheA = new RedisCache(redis.url, { prefix });
    const cacheB = new RedisCache(redis.url, { prefix });
    try {
      const a = new DataverseMetadata(first.client, cacheA, 1_500);
      const b = new DataverseMetadata(second.client, cacheB, 1_500);
      const table = await a.table('contacts');
      expect(first.calls.length).toBeGreaterThan(0);
      expect(await b.table('contacts')).toEqual(table);
      expect(second.calls).toHaveLength(0);

      await new Promise((r) => setTimeout(r, 1_700));
      expect(await b.table('contacts')).toEqual(table);
      expect(second.calls.length).toBeGreaterThan(0);
    } finally {
      await cacheA.close();
      await cacheB.close();
    }
  });

  it('with Redis unreachable: reads Dataverse instead of failing', async () => {
    const down = await startRedis();
    const url = down.url;
    await down.close();
    const cache = new RedisCache(url, { connectTimeoutMs: 500 });
    try {
      const { client, calls } = countingClient();
      const started = Date.now();
      const table = await new DataverseMetadata(client, cache, 60_000).table('accounts');
      expect(table?.logicalName).toBe('account');
      expect(calls.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await cache.close();
    }
  });

  it('is Redis when REDIS_URL is set, else in process; its time to live is a setting', async () => {
    const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', DATAVERSE_URL: sim.url };
    const local = buildServices(readSettings(base));
    expect(local.cache).toBeInstanceOf(MemoryCache);
    expect(local.settings.metadataCacheSeconds).toBe(300);
    const shared = buildServices(
      readSettings({ ...base, REDIS_URL: redis.url, DATAVERSE_METADATA_CACHE_SECONDS: '30' }),
    );
    try {
      expect(shared.cache).toBeInstanceOf(RedisCache);
      expect(shared.settings.metadataCacheSeconds).toBe(30);
      await shared.cache.set('probe', 'value', 10_000);
      const other = new RedisCache(redis.url);
      expect(await other.get('probe')).toBe('value');
      await other.close();
    } finally {
      await shared.cache.close();
    }
    expect(() => readSettings({ ...base, DATAVERSE_METADATA_CACHE_SECONDS: 'soon' })).toThrow(
      /DATAVERSE_METADATA_CACHE_SECONDS/,
    );
  });
});
