/**
 * The blob trigger across a restart, on `blc serve` processes sharing one data folder: each new
 * blob runs the function once; after the host stops and starts again, the blobs it already ran
 * (their receipts are in the host's store) do not run again, while a new blob and a rewritten one do.
 * Runs are counted from outside: the function sends one message per run to 'upload-events'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllHosts, spawnHost } from '../support/childHost';
import { startAzuriteStorage, type AzuriteStorage } from '../support/azuriteStorage';

let azurite: AzuriteStorage;
let blobs: BlobServiceClient;
let queues: QueueServiceClient;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blob-trigger-'));

beforeAll(async () => {
  azurite = await startAzuriteStorage();
  blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
}, 60_000);

afterAll(async () => {
  await killAllHosts();
  await azurite?.stop();
});

function start(): ReturnType<typeof spawnHost> {
  return spawnHost({
    appDir: 'test/apps/storage',
    dataDir,
    env: { AzureWebJobsStorage: azurite.connectionString, StorageConnString: azurite.connectionString },
  });
}

/** The names of the blobs runs were reported for, one entry per run, in order. */
async function runs(): Promise<string[]> {
  try {
    const res = await queues.getQueueClient('upload-events').peekMessages({ numberOfMessages: 32 });
    return res.peekedMessageItems.map(
      (m) => (JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { name: string }).name,
    );
  } catch {
    return [];
  }
}

async function runsReach(count: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let seen = await runs();
  while (seen.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await runs();
  }
  return seen;
}

async function upload(name: string, text: string): Promise<void> {
  const container = blobs.getContainerClient('uploads');
  await container.createIfNotExists();
  await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}

async function processed(name: string): Promise<string> {
  return (await blobs.getContainerClient('processed').getBlobClient(name).downloadToBuffer()).toString(
    'utf8',
  );
}

/** The host lists blob containers every 2 s: three intervals is enough for a run that would come. */
const QUIET_MS = 6_500;

describe('blob trigger', () => {
  it('runs once per new blob, and not again for the same blobs after a restart', async () => {
    let host = await start();
    await upload('a.txt', 'alpha');
    await upload('b.txt', 'beta');
    await upload('ignored.json', 'not a .txt: outside the trigger path');
    expect((await runsReach(2)).sort()).toEqual(['a', 'b']);
    expect(await processed('a.txt')).toBe('ALPHA');
    expect(await processed('b.txt')).toBe('BETA');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(await runs()).toHaveLength(2);
    expect(await host.stop()).toBe(0);

    host = await start();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(await runs()).toHaveLength(2);

    await upload('c.txt', 'gamma');
    await upload('a.txt', 'alpha, rewritten');
    const after = await runsReach(4);
    expect(after.slice(2).sort()).toEqual(['a', 'c']);
    expect(await processed('a.txt')).toBe('ALPHA, REWRITTEN');
    expect(await processed('c.txt')).toBe('GAMMA');
    expect(await host.stop()).toBe(0);
  }, 60_000);
});
