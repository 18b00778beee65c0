/**
 * The rules under the storage bindings, as the Functions host applies them: binding expressions in
 * paths, blob trigger path patterns, which settings a `connection` reads, the queue message
 * encoding, and host.json's queue settings. Pure functions: no storage needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_STORAGE, connectionTarget } from '../../host/bindings/connection';
import {
  formatDate,
  parseBlobPathPattern,
  resolveAppSettings,
  resolveBindingPath,
} from '../../host/bindings/pathExpressions';
import { readStorageTriggerConfig } from '../../host/bindings/storageConfig';
import { decodeQueueMessage, encodeQueueMessage, queueMessageTexts } from '../../host/bindings/values';

const NOW = Date.UTC(2024, 2, 9, 7, 5, 3, 42); // 2024-03-09T07:05:03.042Z

describe('binding expressions in paths', () => {
  it('take {name} from the binding data, case-insensitively and through dotted paths', () => {
    const data = { customerId: 'c-1', order: { Region: 'eu' }, n: 7 };
    expect(resolveBindingPath('customers/{CUSTOMERID}/{order.region}/{n}.json', data, NOW)).toBe(
      'customers/c-1/eu/7.json',
    );
  });

  it('refuse a missing name, and a value that is not text or a whole number', () => {
    expect(() => resolveBindingPath('a/{missing}', {}, NOW)).toThrow(
      /No value for named parameter 'missing'/,
    );
    expect(() => resolveBindingPath('a/{flag}', { flag: true }, NOW)).toThrow(/text or a whole number/);
  });

  it('make a new GUID for each {rand-guid}, in the .NET formats', () => {
    const a = resolveBindingPath('x/{rand-guid}', {}, NOW);
    const b = resolveBindingPath('x/{rand-guid}', {}, NOW);
    expect(a).toMatch(/^x\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(resolveBindingPath('{rand-guid:N}', {}, NOW)).toMatch(/^[0-9a-f]{32}$/);
    expect(resolveBindingPath('{rand-guid:B}', {}, NOW)).toMatch(/^\{[0-9a-f-]{36}\}$/);
  });

  it('write {DateTime} as UTC now with dashes for colons, or in a .NET custom format', () => {
    expect(resolveBindingPath('logs/{DateTime}.txt', {}, NOW)).toBe('logs/2024-03-09T07-05-03Z.txt');
    expect(resolveBindingPath('logs/{DateTime:yyyy/MM/dd}/{datetime:HH\\hmm}', {}, NOW)).toBe(
      'logs/2024/03/09/07h05',
    );
    expect(resolveBindingPath("{sys.utcnow:yyyy-MM-dd'T'HH:mm:ss.fff}", {}, NOW)).toBe(
      '2024-03-09T07:05:03.042',
    );
    // Binding data named DateTime wins over the clock, as in the WebJobs SDK.
    expect(resolveBindingPath('{DateTime}', { DateTime: 'given' }, NOW)).toBe('given');
    expect(formatDate(new Date(NOW), 'h tt')).toBe('7 AM');
  });

  it('take %Setting% from app settings and refuse a missing one', () => {
    expect(resolveAppSettings('%Env%/out.txt', { Env: 'dev' })).toBe('dev/out.txt');
    expect(() => resolveAppSettings('%Nope%/x', {})).toThrow(/'%Nope%' does not resolve to an app setting/);
  });
});

describe('blob trigger path patterns', () => {
  it('list by the literal prefix and capture {name} parts (which may span folders)', () => {
    const p = parseBlobPathPattern('uploads/in/{name}.txt');
    expect(p.container).toBe('uploads');
    expect(p.prefix).toBe('in/');
    expect(p.match('in/report.txt')).toEqual({ name: 'report' });
    expect(p.match('in/2024/report.txt')).toEqual({ name: '2024/report' });
    expect(p.match('in/report.json')).toBeUndefined();
    expect(p.match('out/report.txt')).toBeUndefined();
  });

  it('capture several names, and match everything under a pattern with none', () => {
    expect(parseBlobPathPattern('c/{folder}/{file}.{ext}').match('a/b.c.d')).toEqual({
      folder: 'a',
      file: 'b',
      ext: 'c.d',
    });
    expect(parseBlobPathPattern('whole').match('any/blob')).toEqual({});
    expect(() => parseBlobPathPattern('{c}/x')).toThrow(/container name/);
  });
});

describe('storage connections', () => {
  it('read the setting the binding names, default AzureWebJobsStorage, also with the AzureWebJobs prefix', () => {
    expect(connectionTarget(undefined, { AzureWebJobsStorage: 'A=1' })).toMatchObject({
      kind: 'connectionString',
      setting: 'AzureWebJobsStorage',
      connectionString: 'A=1',
    });
    expect(connectionTarget('Other', { azurewebjobsother: 'B=2' })).toMatchObject({
      setting: 'AzureWebJobsOther',
    });
  });

  it("map UseDevelopmentStorage=true to Azurite's well-known account and ports", () => {
    const target = connectionTarget('Storage', { Storage: 'UseDevelopmentStorage=true' });
    expect(target).toMatchObject({ kind: 'connectionString', connectionString: DEVELOPMENT_STORAGE });
    expect(DEVELOPMENT_STORAGE).toContain('BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1');
    expect(DEVELOPMENT_STORAGE).toContain('QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1');
  });

  it('take identity-style settings: an account name, or explicit service URIs', () => {
    expect(connectionTarget('Store', { Store__accountName: 'acct', Store__clientId: 'id-1' })).toEqual({
      kind: 'identity',
      setting: 'Store',
      blobServiceUri: 'https://acct.blob.core.windows.net',
      queueServiceUri: 'https://acct.queue.core.windows.net',
      clientId: 'id-1',
    });
    expect(
      connectionTarget(undefined, {
        AzureWebJobsStorage__blobServiceUri: 'http://127.0.0.1:10000/devstoreaccount1',
        AzureWebJobsStorage__queueServiceUri: 'http://127.0.0.1:10001/devstoreaccount1',
      }),
    ).toMatchObject({ kind: 'identity', queueServiceUri: 'http://127.0.0.1:10001/devstoreaccount1' });
  });

  it('name the setting to add when none is there (code STORAGE_CONNECTION_MISSING)', () => {
    let caught: unknown;
    try {
      connectionTarget('Missing', {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      code: 'STORAGE_CONNECTION_MISSING',
      message: expect.stringMatching(/'Missing'/),
    });
  });
});

describe('queue messages', () => {
  it('are written base64 and read as base64 or, when not, as plain text', () => {
    expect(encodeQueueMessage('{"a":1}')).toBe(Buffer.from('{"a":1}').toString('base64'));
    expect(decodeQueueMessage(encodeQueueMessage('héllo wörld'))).toBe('héllo wörld');
    expect(decodeQueueMessage('{"plain":true}')).toBe('{"plain":true}');
    // Looks like base64 but does not decode to text: taken as it is.
    expect(decodeQueueMessage('test')).toBe('test');
  });

  it('go one per element when an output is given an array', () => {
    expect(queueMessageTexts({ json: JSON.stringify(['a', { b: 1 }]) })).toEqual(['a', '{"b":1}']);
    expect(queueMessageTexts({ json: '{"b":1}' })).toEqual(['{"b":1}']);
    expect(queueMessageTexts({ string: 'one' })).toEqual(['one']);
  });
});

describe("host.json's extensions.queues", () => {
  function configOf(hostJson: unknown): ReturnType<typeof readStorageTriggerConfig> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queues-config-'));
    fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson));
    return readStorageTriggerConfig(dir);
  }

  it('take the Functions defaults, with a 2 s polling ceiling locally', () => {
    expect(configOf({ version: '2.0' })).toEqual({
      batchSize: 16,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 0,
      maxPollingIntervalMs: 2000,
      blobPollingIntervalMs: 2000,
    });
  });

  it('read TimeSpans and counts, and refuse a value the host would misbehave on', () => {
    const c = configOf({
      extensions: { queues: { maxDequeueCount: 2, visibilityTimeout: '00:00:30', maxPollingInterval: 500 } },
    });
    expect(c).toMatchObject({ maxDequeueCount: 2, visibilityTimeoutMs: 30_000, maxPollingIntervalMs: 500 });
    expect(() => configOf({ extensions: { queues: { maxDequeueCount: 0 } } })).toThrow(/maxDequeueCount/);
    expect(() => configOf({ extensions: { queues: { visibilityTimeout: 'soon' } } })).toThrow(
      /visibilityTimeout/,
    );
  });
});
