/**
 * Sends the messages of queue output bindings, base64-encoded as the Functions host writes them,
 * creating the queue when it is missing (as the host's output binding does). Also moves a message
 * to its poison queue. Storage failures are thrown to the caller.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { RpcTypedData } from '../worker/coreApi';
import type { StorageConnections } from './connection';
import { statusOf } from './blobs';
import { encodeQueueMessage, queueMessageTexts } from './values';

export async function sendQueueMessages(
  connections: StorageConnections,
  connection: string | undefined,
  queueName: string,
  value: RpcTypedData,
): Promise<void> {
  const queue = connections.queueService(connection).getQueueClient(queueName);
  for (const text of queueMessageTexts(value)) await sendText(queue, text);
}

/** Sends one message (its text, encoded), creating the queue on the first 404. */
export async function sendText(queue: QueueClient, text: string): Promise<void> {
  const encoded = encodeQueueMessage(text);
  try {
    await queue.sendMessage(encoded);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    await queue.createIfNotExists();
    await queue.sendMessage(encoded);
  }
}
