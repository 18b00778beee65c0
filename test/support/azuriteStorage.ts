/**
 * A private Azurite blob and queue service pair for one test file, in memory, with one connection
 * string naming both endpoints (what AzureWebJobsStorage holds for a storage-binding app). Private,
 * so that hosts polling the same container names in parallel test files never see each other's blobs.
 */
import path from 'node:path';
import { startLocalAzurite } from '../../cli/up/azurite';

export interface AzuriteStorage {
  connectionString: string;
  stop(): Promise<void>;
}

export async function startAzuriteStorage(): Promise<AzuriteStorage> {
  const projectRoot = path.resolve(__dirname, '../..');
  const [blob, queue] = await Promise.all([
    startLocalAzurite({ projectRoot, port: 0, service: 'blob' }),
    startLocalAzurite({ projectRoot, port: 0, service: 'queue' }),
  ]);
  const queueEndpoint = /QueueEndpoint=[^;]+;/.exec(queue.connectionString)?.[0] ?? '';
  return {
    connectionString: `${blob.connectionString}${queueEndpoint}`,
    stop: async () => {
      await Promise.all([blob.stop(), queue.stop()]);
    },
  };
}
