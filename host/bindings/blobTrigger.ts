/**
 * Blob-triggered functions, by polling: every blobPollingIntervalMs (2 s) each trigger's container is
 * listed under the path pattern's literal prefix, and each matching blob whose ETag has no receipt
 * yet runs the function once. A success writes the receipt (function, blob, ETag) to the host's
 * store, so a restart does not run the blob again, while a blob written anew (new ETag) runs again,
 * as the Functions host's blob receipts do. A failed blob is tried again at the next polls, up to
 * maxDequeueCount runs, then given up with an error line and a receipt. Polls run on the clock it
 * is given (real time even under --virtual-time: the container is a real service). It never writes
 * or deletes blobs; a poll that fails is logged once until one succeeds.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { Clock } from '../clock';
import type { IndexedFunction } from '../durable/functionIndex';
import type { RpcTypedData } from '../worker/coreApi';
import { statusOf } from './blobs';
import type { StorageConnections } from './connection';
import { parseBlobPathPattern, resolveAppSettings, type BlobPathPattern } from './pathExpressions';
import type { StorageTriggerConfig } from './storageConfig';
import { toTypedData } from './values';

/** Which blob versions a function has already run for; kept in the host's store. */
export interface BlobReceipts {
  get(functionName: string, blob: string): string | undefined;
  put(functionName: string, blob: string, etag: string): void;
}

/** A blob as the trigger hands it to a function. */
export interface BlobTriggerItem {
  container: string;
  name: string;
  uri: string;
  content: Buffer;
  properties: Record<string, unknown>;
  metadata: Record<string, string>;
  /** The path pattern's `{name}` captures. */
  captures: Record<string, string>;
}

export function blobInvocationData(
  item: BlobTriggerItem,
  dataType: unknown,
): {
  data: RpcTypedData;
  triggerMetadata: Record<string, RpcTypedData>;
  bindingData: Record<string, unknown>;
} {
  const meta: Record<string, unknown> = {
    BlobTrigger: `${item.container}/${item.name}`,
    Uri: item.uri,
    Properties: item.properties,
    Metadata: item.metadata,
  };
  const triggerMetadata: Record<string, RpcTypedData> = {};
  for (const [k, v] of Object.entries({ ...item.captures, ...meta })) triggerMetadata[k] = toTypedData(v);
  return {
    data: dataType === 'string' ? { string: item.content.toString('utf8') } : { bytes: item.content },
    triggerMetadata,
    bindingData: { ...item.captures, ...meta },
  };
}

export interface BlobTriggerOptions {
  connections: StorageConnections;
  settings: Record<string, string | undefined>;
  config: StorageTriggerConfig;
  clock: Clock;
  receipts: BlobReceipts;
  run: (fn: IndexedFunction, item: BlobTriggerItem) => Promise<void>;
  log: (level: 'information' | 'warning' | 'error', message: string) => void;
}

export class BlobTriggerListener {
  private stopped = true;
  private cancel: (() => void) | undefined;
  private failing = false;
  private current: Promise<void> | undefined;
  /** Failed runs per blob version (blob + ETag), for the maxDequeueCount limit. */
  private readonly failures = new Map<string, number>();
  readonly pattern: BlobPathPattern;

  constructor(
    readonly fn: IndexedFunction,
    private readonly options: BlobTriggerOptions,
  ) {
    this.pattern = parseBlobPathPattern(resolveAppSettings(String(fn.trigger.path ?? ''), options.settings));
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    if (this.current)
      await Promise.race([this.current, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** A blob by `container/name` path, read now, for the admin API (as Azure takes a blob path). */
  async item(path: string): Promise<BlobTriggerItem> {
    const container = this.containerClient();
    const prefix = `${this.pattern.container}/`;
    const name = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    const captures = this.pattern.match(name);
    if (!captures)
      throw new Error(
        `The blob '${path}' does not match the trigger path '${String(this.fn.trigger.path)}'.`,
      );
    return this.read(container, name, captures);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancel = this.options.clock.schedule(this.options.clock.now() + ms, () => {
      this.current = this.scan().finally(() => {
        this.current = undefined;
        this.schedule(this.options.config.blobPollingIntervalMs);
      });
    });
  }

  private containerClient(): ContainerClient {
    const connection =
      typeof this.fn.trigger.connection === 'string' ? this.fn.trigger.connection : undefined;
    return this.options.connections.blobService(connection).getContainerClient(this.pattern.container);
  }

  private async scan(): Promise<void> {
    try {
      const container = this.containerClient();
      const due: { name: string; etag: string; captures: Record<string, string> }[] = [];
      try {
        for await (const blob of container.listBlobsFlat({ prefix: this.pattern.prefix || undefined })) {
          const captures = this.pattern.match(blob.name);
          const etag = blob.properties.etag ?? '';
          if (captures && this.options.receipts.get(this.fn.name, this.key(blob.name)) !== etag)
            due.push({ name: blob.name, etag, captures });
        }
      } catch (err) {
        if (statusOf(err) !== 404) throw err; // no container yet: nothing to run
      }
      if (this.failing)
        this.options.log('information', `Container '${this.pattern.container}' is reachable again.`);
      this.failing = false;
      for (let i = 0; i < due.length && !this.stopped; i += this.options.config.batchSize)
        await Promise.all(
          due.slice(i, i + this.options.config.batchSize).map((b) => this.runOne(container, b)),
        );
    } catch (err) {
      if (!this.failing)
        this.options.log(
          'warning',
          `Function '${this.fn.name}': cannot list container '${this.pattern.container}' (${describe(err)}); retrying until it answers.`,
        );
      this.failing = true;
    }
  }

  private key(name: string): string {
    return `${this.pattern.container}/${name}`;
  }

  private async runOne(
    container: ContainerClient,
    blob: { name: string; etag: string; captures: Record<string, string> },
  ): Promise<void> {
    const version = `${blob.name}\0${blob.etag}`;
    try {
      const item = await this.read(container, blob.name, blob.captures);
      await this.options.run(this.fn, item);
    } catch (err) {
      if (statusOf(err) === 404) return; // deleted since the listing
      const count = (this.failures.get(version) ?? 0) + 1;
      this.options.log(
        'error',
        `Executed 'Functions.${this.fn.name}' (Failed, blob '${this.key(blob.name)}', try ${count}): ${describe(err)}`,
      );
      if (count < this.options.config.maxDequeueCount) {
        this.failures.set(version, count);
        return;
      }
      this.options.log(
        'error',
        `Blob '${this.key(blob.name)}' failed ${count} times (maxDequeueCount); '${this.fn.name}' will not run for this version of it again.`,
      );
    }
    this.failures.delete(version);
    this.options.receipts.put(this.fn.name, this.key(blob.name), blob.etag);
  }

  private async read(
    container: ContainerClient,
    name: string,
    captures: Record<string, string>,
  ): Promise<BlobTriggerItem> {
    const client = container.getBlobClient(name);
    const download = await client.download();
    const chunks: Buffer[] = [];
    for await (const chunk of download.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Buffer));
    return {
      container: this.pattern.container,
      name,
      uri: client.url,
      content: Buffer.concat(chunks),
      properties: {
        ETag: download.etag,
        Length: download.contentLength,
        ContentType: download.contentType,
        LastModified: download.lastModified?.toISOString(),
      },
      metadata: download.metadata ?? {},
      captures,
    };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
