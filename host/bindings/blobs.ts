/**
 * Reads and writes the blobs of blob bindings by `container/name` path. A write creates the
 * container when it is missing, as the host's output binding does; a read of a missing blob or
 * container is "no value", not an error. Any other storage failure is thrown to the invocation.
 */
import type { RpcTypedData } from '../worker/coreApi';
import type { StorageConnections } from './connection';
import { BindingExpressionError } from './pathExpressions';
import { blobBytes } from './values';

export function splitBlobPath(path: string): { container: string; name: string } {
  const slash = path.indexOf('/');
  const container = slash < 0 ? '' : path.slice(0, slash);
  const name = slash < 0 ? '' : path.slice(slash + 1);
  if (!container || !name)
    throw new BindingExpressionError(`The blob path '${path}' must be 'container/blob name'.`);
  return { container, name };
}

export async function readBlob(
  connections: StorageConnections,
  connection: string | undefined,
  path: string,
): Promise<Buffer | undefined> {
  const { container, name } = splitBlobPath(path);
  const blob = connections.blobService(connection).getContainerClient(container).getBlobClient(name);
  try {
    return await blob.downloadToBuffer();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function writeBlob(
  connections: StorageConnections,
  connection: string | undefined,
  path: string,
  value: RpcTypedData,
): Promise<void> {
  const bytes = blobBytes(value);
  if (bytes === undefined) return;
  const { container, name } = splitBlobPath(path);
  const containerClient = connections.blobService(connection).getContainerClient(container);
  const blob = containerClient.getBlockBlobClient(name);
  try {
    await blob.uploadData(bytes);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    await containerClient.createIfNotExists();
    await blob.uploadData(bytes);
  }
}

export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
