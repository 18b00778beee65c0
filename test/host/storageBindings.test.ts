/**
 * Storage bindings on Azurite, driven as a client would: over the host's HTTP API and through the
 * storage services themselves (blobs put and read, queue messages sent and received with the SDKs).
 * The app under test/apps/storage is written like any v4 app: the cloud backup sample's fan-out
 * writing blobs, a queue trigger with a blob input and queue output, one that always fails, a blob
 * trigger, and bindings the local host does not serve.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../host/host';
import { startAzuriteStorage, type AzuriteStorage } from '../support/azuriteStorage';
import { getStatus } from '../support/durable';

let azurite: AzuriteStorage;
let host: RunningHost;
let blobs: BlobServiceClient;
let queues: QueueServiceClient;
const lines: { level: string; message: string }[] = [];

beforeAll(async () => {
  azurite = await startAzuriteStorage();
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.StorageConnString = azurite.connectionString;
  blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  host = await startHost({
    appDir: 'test/apps/storage',
    port: 0,
    memory: true,
    log: (level, message) => lines.push({ level, message }),
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await azurite?.stop();
});

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function blobText(container: string, name: string): Promise<string | undefined> {
  try {
    return (await blobs.getContainerClient(container).getBlobClient(name).downloadToBuffer()).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

/** Messages of a queue, decoded from base64 as the host writes them; read without taking them. */
async function peek(queueName: string): Promise<string[]> {
  try {
    const res = await queues.getQueueClient(queueName).peekMessages({ numberOfMessages: 32 });
    return res.peekedMessageItems.map((m) => Buffer.from(m.messageText, 'base64').toString('utf8'));
  } catch {
    return [];
  }
}

async function send(queueName: string, text: string, encoding: 'base64' | 'plain' = 'base64'): Promise<void> {
  const queue = queues.getQueueClient(queueName);
  await queue.createIfNotExists();
  await queue.sendMessage(encoding === 'base64' ? Buffer.from(text).toString('base64') : text);
}

function invokeByAdmin(name: string, input: string): Promise<Response> {
  return fetch(`${host.url}/admin/functions/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-functions-key': host.keys.masterKey },
    body: JSON.stringify({ input }),
  });
}

describe('blob output from a fanned-out orchestration (the cloud backup sample)', () => {
  it('writes one blob per file with its content, and the orchestration returns the bytes', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-'));
    fs.mkdirSync(path.join(root, 'docs'));
    const files: Record<string, string> = {
      'index.html': '<h1>home</h1>',
      'docs/guide.md': '# guide\nread me',
      'docs/notes.txt': 'three',
    };
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(root, name), content);

    const res = await fetch(`${host.url}/api/backup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rootDirectory: root }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const status = await eventually('the backup to finish', async () => {
      const s = await getStatus(host, id);
      return s.runtimeStatus === 'Completed' || s.runtimeStatus === 'Failed' ? s : undefined;
    });
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe(Object.values(files).reduce((n, c) => n + Buffer.byteLength(c), 0));
    for (const [name, content] of Object.entries(files))
      expect(await blobText('backups', name)).toBe(content);
  });
});

describe('queue trigger with a blob input and queue output', () => {
  it('resolves the blob from the message, answers on the output queue (base64) and writes its blob', async () => {
    const customers = blobs.getContainerClient('customers');
    await customers.createIfNotExists();
    await customers.getBlockBlobClient('c-42.json').upload('{"name":"Ada"}', 14);
    await send('orders', JSON.stringify({ orderId: 'o-1', customerId: 'c-42' }));

    const confirmations = await eventually('a confirmation', async () => {
      const texts = await peek('confirmations');
      return texts.length > 0 ? texts : undefined;
    });
    expect(confirmations.map((t) => JSON.parse(t))).toEqual([
      { orderId: 'o-1', customerName: 'Ada', dequeueCount: 1 },
    ]);
    // {rand-guid} makes a new name each run: find the one receipt by its prefix.
    const receipts: string[] = [];
    for await (const b of blobs.getContainerClient('receipts').listBlobsFlat({ prefix: 'o-1-' }))
      receipts.push(b.name);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatch(/^o-1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.txt$/);
    expect(await blobText('receipts', receipts[0] as string)).toBe('order o-1 for Ada');
    // Done with: the message is gone from its queue.
    expect(await peek('orders')).toEqual([]);
  });

  it('reads a message written as plain text (not base64) as it is', async () => {
    await send('orders', JSON.stringify({ orderId: 'o-plain', customerId: 'nobody' }), 'plain');
    const answer = await eventually('the plain message to be answered', async () => {
      const found = (await peek('confirmations')).map((t) => JSON.parse(t) as { orderId: string });
      return found.find((c) => c.orderId === 'o-plain');
    });
    // No blob customers/nobody.json: the input is empty, as on Azure, and the function still runs.
    expect(answer).toEqual({ orderId: 'o-plain', customerName: null, dequeueCount: 1 });
  });
});

describe('a message whose function always fails', () => {
  it('runs maxDequeueCount times (dequeue counts 1..3), then lands in <queue>-poison', async () => {
    await send('fragile', '{"attempt":"me"}');
    const poisoned = await eventually('the poison message', async () => {
      const texts = await peek('fragile-poison');
      return texts.length > 0 ? texts : undefined;
    });
    expect(poisoned).toEqual(['{"attempt":"me"}']);
    const runs = lines
      .map((l) => /fragile run (\d+) of/.exec(l.message)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
    expect(runs).toEqual([1, 2, 3]);
    expect(await peek('fragile')).toEqual([]);
    expect(
      lines.some((l) => l.level === 'warning' && /moved to queue 'fragile-poison'/.test(l.message)),
    ).toBe(true);
  });
});

describe('POST /admin/functions/{name} on storage triggers', () => {
  it('hands a queue-triggered function the input as its message', async () => {
    const res = await invokeByAdmin(
      'processOrder',
      JSON.stringify({ orderId: 'o-admin', customerId: 'c-42' }),
    );
    expect(res.status).toBe(202);
    const answer = await eventually('the admin-run confirmation', async () => {
      const found = (await peek('confirmations')).map((t) => JSON.parse(t) as { orderId: string });
      return found.find((c) => c.orderId === 'o-admin');
    });
    // The blob input resolved from the given message; no queue message behind it, so no dequeue yet.
    expect(answer).toEqual({ orderId: 'o-admin', customerName: 'Ada', dequeueCount: 0 });
  });

  it('hands a blob-triggered function the blob at the input path', async () => {
    const uploads = blobs.getContainerClient('uploads');
    await uploads.createIfNotExists();
    await uploads.getBlockBlobClient('by-hand.txt').upload('made by hand', 12);
    // The poller may run it too; the admin call must run it regardless, so count the events.
    const res = await invokeByAdmin('onUpload', 'uploads/by-hand.txt');
    expect(res.status).toBe(202);
    expect(await eventually('the processed blob', () => blobText('processed', 'by-hand.txt'))).toBe(
      'MADE BY HAND',
    );
    const events = await eventually('an upload event', async () => {
      const found = (await peek('upload-events')).filter((t) => t.includes('by-hand'));
      return found.length > 0 ? found : undefined;
    });
    expect(JSON.parse(events[0] as string)).toEqual({ name: 'by-hand', path: 'uploads/by-hand.txt' });
  });
});

describe('bindings the local host does not serve', () => {
  it('start the app with one warning naming each binding and its function', () => {
    const warnings = lines.filter((l) => l.level === 'warning' && /does not support/.test(l.message));
    expect(warnings).toHaveLength(1);
    const text = warnings[0]?.message ?? '';
    expect(text).toMatch(/'tallyFromBus' trigger serviceBusTrigger/);
    expect(text).toMatch(/'mailer' in binding '\w+' of type cosmosDB/);
    expect(text).toMatch(/'mailer' out binding 'mail' of type sendGrid/);
    // The storage bindings are served, so they are not in it.
    expect(text).not.toMatch(/processOrder|onUpload|copyFileToBlob|queue|blob/i);
    // And nothing else warns about bindings, at start or per call.
    expect(lines.filter((l) => /not supported/.test(l.message))).toEqual([]);
  });

  it('runs the function whose bindings are not served, without them', async () => {
    const res = await fetch(`${host.url}/api/mailer`, { method: 'POST' });
    expect(res.status).toBe(204);
  });
});
