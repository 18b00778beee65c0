/**
 * JSON documents in one Blob container, with the blob's ETag for optimistic concurrency. The
 * building block of snapshots, versioned configuration and rollback points. Takes a
 * ContainerClient, so it works the same against Azurite and Azure Storage; never reads settings.
 */
import { RestError, type ContainerClient } from '@azure/storage-blob';

export interface StoredJson<T> {
  value: T;
  etag: string;
}

export class BlobConflictError extends Error {
  readonly code = 'BLOB_CONFLICT';
}

export class JsonBlobs {
  private ensured?: Promise<unknown>;

  constructor(readonly container: ContainerClient) {}

  private ensure(): Promise<unknown> {
    this.ensured ??= this.container.createIfNotExists();
    return this.ensured;
  }

  async get<T>(name: string): Promise<StoredJson<T> | undefined> {
    await this.ensure();
    try {
      // Body and etag from one response: reading them separately races with writers.
      const res = await this.container.getBlobClient(name).download();
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
    await this.ensure();
    const body = JSON.stringify(value, null, 2);
    try {
      const res = await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: { ifMatch: conditions.ifMatch, ifNoneMatch: conditions.ifNoneMatch },
      });
      return String(res.etag);
    } catch (err) {
      if (err instanceof RestError && (err.statusCode === 412 || err.statusCode === 409)) {
        throw new BlobConflictError(`Blob '${name}' changed or already exists (${err.statusCode}).`);
      }
      throw err;
    }
  }

  async delete(name: string): Promise<boolean> {
    await this.ensure();
    const res = await this.container.getBlobClient(name).deleteIfExists();
    return res.succeeded;
  }

  async list(prefix: string): Promise<string[]> {
    await this.ensure();
    const names: string[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix })) names.push(blob.name);
    return names;
  }
}
