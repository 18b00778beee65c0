/**
 * JSON documents in one Blob container, with the blob's ETag for optimistic concurrency. The
 * building block of snapshots, versioned configuration and rollback points. Takes a
 * ContainerClient, so it works the same against Azurite and Azure Storage; never reads settings.
 * It never sends a name with `..`, `\`, `%` or invisible characters in it (see lib/ids.ts): the
 * storage client resolves `..` in a name, which would reach a blob in another container.
 */
import { RestError, type ContainerClient } from '@azure/storage-blob';
import { checkBlobName } from '../ids';
import { recordDependency } from '../telemetry';

export interface StoredJson<T> {
  value: T;
  etag: string;
}

export class BlobConflictError extends Error {
  readonly code = 'BLOB_CONFLICT';
}

/** One page of blob names and the service's marker for the next page (absent on the last one). */
export interface NamePage {
  names: string[];
  continuationToken?: string;
}

export class JsonBlobs {
  private ensured?: Promise<unknown>;
  /** Documents read and names listed, so a caller (or a test) can see what a read cost. */
  readonly reads = { documents: 0, names: 0 };

  constructor(readonly container: ContainerClient) {}

  private ensure(): Promise<unknown> {
    this.ensured ??= this.container.createIfNotExists();
    return this.ensured;
  }

  /** Runs one Blob call and records it (a 404 or 412 is an answer, not a failed call). */
  private async observed<T>(
    method: string,
    name: string | undefined,
    call: () => Promise<T>,
    statusOf: (result: T) => number,
  ): Promise<T> {
    const started = performance.now();
    const url = name === undefined ? this.container.url : this.container.getBlobClient(name).url;
    const record = (status: number): void =>
      recordDependency({
        service: 'Blob',
        method,
        url,
        durationMs: performance.now() - started,
        status,
        success: status > 0 && status < 500,
      });
    try {
      const result = await call();
      record(statusOf(result));
      return result;
    } catch (err) {
      record(err instanceof RestError ? (err.statusCode ?? 0) : 0);
      throw err;
    }
  }

  async get<T>(name: string): Promise<StoredJson<T> | undefined> {
    checkBlobName(name);
    await this.ensure();
    this.reads.documents++;
    try {
      // Body and etag from one response: reading them separately races with writers.
      const res = await this.observed(
        'GET',
        name,
        () => this.container.getBlobClient(name).download(),
        (r) => r._response.status,
      );
      const chunks: Buffer[] = [];
      for await (const chunk of res.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Buffer));
      return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, etag: String(res.etag) };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /**
   * Writes a document. `ifMatch` (an etag) makes it a compare-and-swap; `ifNoneMatch: '*'` makes it
   * create-only. A failed condition is a BlobConflictError.
   */
  async put<T>(
    name: string,
    value: T,
    conditions: { ifMatch?: string; ifNoneMatch?: '*' } = {},
  ): Promise<string> {
    checkBlobName(name);
    await this.ensure();
    const body = JSON.stringify(value, null, 2);
    try {
      const res = await this.observed(
        'PUT',
        name,
        () =>
          this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
            blobHTTPHeaders: { blobContentType: 'application/json' },
            conditions: { ifMatch: conditions.ifMatch, ifNoneMatch: conditions.ifNoneMatch },
          }),
        (r) => r._response.status,
      );
      return String(res.etag);
    } catch (err) {
      if (err instanceof RestError && (err.statusCode === 412 || err.statusCode === 409)) {
        throw new BlobConflictError(`Blob '${name}' changed or already exists (${err.statusCode}).`);
      }
      throw err;
    }
  }

  async delete(name: string): Promise<boolean> {
    checkBlobName(name);
    await this.ensure();
    const res = await this.observed(
      'DELETE',
      name,
      () => this.container.getBlobClient(name).deleteIfExists(),
      (r) => r._response.status,
    );
    return res.succeeded;
  }

  async list(prefix: string): Promise<string[]> {
    await this.ensure();
    return this.observed(
      'GET',
      undefined,
      async () => {
        const names: string[] = [];
        for await (const blob of this.container.listBlobsFlat({ prefix })) names.push(blob.name);
        this.reads.names += names.length;
        return names;
      },
      () => 200,
    );
  }

  /**
   * One page of the names under `prefix`, in name order, at most `maxPageSize` of them, from where
   * `continuationToken` (the service's marker from the page before) left off.
   */
  async listPage(prefix: string, maxPageSize: number, continuationToken?: string): Promise<NamePage> {
    await this.ensure();
    return this.observed(
      'GET',
      undefined,
      async () => {
        const pages = this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize, continuationToken });
        const { value, done } = await pages.next();
        if (done || !value) return { names: [] };
        const names = value.segment.blobItems.map((b) => b.name);
        this.reads.names += names.length;
        return value.continuationToken ? { names, continuationToken: value.continuationToken } : { names };
      },
      () => 200,
    );
  }
}
