/**
 * Queue-triggered functions, as the Functions host runs them: each queue is polled (at once again
 * after a poll that found messages, otherwise backing off from 100 ms to maxPollingInterval); a
 * message is taken invisible for 10 minutes, run with its text (base64 or plain) and its metadata
 * (DequeueCount, Id, InsertionTime, ExpirationTime, NextVisibleTime, PopReceipt), deleted when the
 * function succeeded, made visible again after visibilityTimeout when it failed, and moved to
 * `<queue>-poison` once it failed maxDequeueCount times. A missing queue is polled as empty.
 * Polls run on the clock it is given: real time even under --virtual-time, since the queue is a
 * real service. It never decides what the function does; a poll that fails is logged once until
 * one succeeds.
 */
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { Clock } from '../clock';
import type { IndexedFunction } from '../durable/functionIndex';
import type { RpcTypedData } from '../worker/coreApi';
import { statusOf } from './blobs';
import type { StorageConnections } from './connection';
import { resolveAppSettings } from './pathExpressions';
import type { StorageTriggerConfig } from './storageConfig';
import { decodeQueueMessage, jsonProperties, toTypedData } from './values';

/** A queue message as the trigger hands it to a function. */
export interface QueueTriggerMessage {
  text: string;
  id: string;
  dequeueCount: number;
  insertionTime?: Date;
  expirationTime?: Date;
  nextVisibleTime?: Date;
  popReceipt?: string;
}

/** What an invocation of a queue-triggered function gets: trigger data, metadata, binding data. */
export function queueInvocationData(message: QueueTriggerMessage): {
  data: RpcTypedData;
  triggerMetadata: Record<string, RpcTypedData>;
  bindingData: Record<string, unknown>;
} {
  const meta: Record<string, unknown> = {
    QueueTrigger: message.text,
    DequeueCount: message.dequeueCount,
    Id: message.id,
  };
  if (message.insertionTime) meta.InsertionTime = message.insertionTime.toISOString();
  if (message.expirationTime) meta.ExpirationTime = message.expirationTime.toISOString();
  if (message.nextVisibleTime) meta.NextVisibleTime = message.nextVisibleTime.toISOString();
  if (message.popReceipt) meta.PopReceipt = message.popReceipt;
  const triggerMetadata: Record<string, RpcTypedData> = {};
  for (const [k, v] of Object.entries(meta)) triggerMetadata[k] = toTypedData(v);
  // A JSON message's properties are binding data too; the host's own names win a clash.
  return {
    data: { string: message.text },
    triggerMetadata,
    bindingData: { ...jsonProperties(message.text), ...meta },
  };
}

export interface QueueTriggerOptions {
  connections: StorageConnections;
  settings: Record<string, string | undefined>;
  config: StorageTriggerConfig;
  clock: Clock;
  run: (fn: IndexedFunction, message: QueueTriggerMessage) => Promise<void>;
  log: (level: 'information' | 'warning' | 'error', message: string) => void;
}

/** Messages stay invisible this long while their function runs (the host renews; we take enough). */
const LEASE_SECONDS = 600;
const MIN_DELAY_MS = 100;

export class QueueTriggerListener {
  private stopped = true;
  private cancel: (() => void) | undefined;
  private delay = 0;
  private failing = false;
  private readonly running = new Set<Promise<void>>();
  private queue: QueueClient | undefined;
  readonly queueName: string;

  constructor(
    private readonly fn: IndexedFunction,
    private readonly options: QueueTriggerOptions,
  ) {
    this.queueName = resolveAppSettings(String(fn.trigger.queueName ?? ''), options.settings).toLowerCase();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits (bounded) for messages being run; one unfinished reappears later. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancel = this.options.clock.schedule(this.options.clock.now() + ms, () => {
      const poll = this.poll().finally(() => this.running.delete(poll));
      this.running.add(poll);
    });
  }

  private client(name = this.queueName): QueueClient {
    const connection =
      typeof this.fn.trigger.connection === 'string' ? this.fn.trigger.connection : undefined;
    if (name !== this.queueName)
      return this.options.connections.queueService(connection).getQueueClient(name);
    this.queue ??= this.options.connections.queueService(connection).getQueueClient(name);
    return this.queue;
  }

  private async poll(): Promise<void> {
    let found = 0;
    try {
      const messages = await this.receive();
      found = messages.length;
      if (this.failing) this.options.log('information', `Queue '${this.queueName}' is reachable again.`);
      this.failing = false;
      // A message whose delete or update fails reappears after its lease: say so, keep polling.
      await Promise.all(
        messages.map((m) =>
          this.process(m).catch((err: unknown) =>
            this.options.log(
              'error',
              `Queue '${this.queueName}', message '${m.messageId}': ${describe(err)}; it will be taken again once its lease ends.`,
            ),
          ),
        ),
      );
    } catch (err) {
      if (!this.failing)
        this.options.log(
          'warning',
          `Function '${this.fn.name}': cannot poll queue '${this.queueName}' (${describe(err)}); retrying until it answers.`,
        );
      this.failing = true;
    }
    this.delay =
      found > 0
        ? 0
        : Math.min(Math.max(this.delay * 2, MIN_DELAY_MS), this.options.config.maxPollingIntervalMs);
    this.schedule(this.delay);
  }

  private async receive(): Promise<DequeuedMessageItem[]> {
    if (this.stopped) return [];
    try {
      const res = await this.client().receiveMessages({
        numberOfMessages: this.options.config.batchSize,
        visibilityTimeout: LEASE_SECONDS,
      });
      return res.receivedMessageItems;
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
  }

  private async process(m: DequeuedMessageItem): Promise<void> {
    const max = this.options.config.maxDequeueCount;
    // Taken more often than allowed (e.g. the host stopped mid-run each time): poison without a run.
    if (m.dequeueCount > max) return this.poison(m);
    const message: QueueTriggerMessage = {
      text: decodeQueueMessage(m.messageText),
      id: m.messageId,
      dequeueCount: m.dequeueCount,
      insertionTime: m.insertedOn,
      expirationTime: m.expiresOn,
      nextVisibleTime: m.nextVisibleOn,
      popReceipt: m.popReceipt,
    };
    try {
      await this.options.run(this.fn, message);
    } catch (err) {
      this.options.log(
        'error',
        `Executed 'Functions.${this.fn.name}' (Failed, Id=${m.messageId}, DequeueCount=${m.dequeueCount}): ${describe(err)}`,
      );
      if (m.dequeueCount >= max) return this.poison(m);
      const seconds = Math.ceil(this.options.config.visibilityTimeoutMs / 1000);
      await this.client().updateMessage(m.messageId, m.popReceipt, undefined, seconds);
      return;
    }
    await this.client().deleteMessage(m.messageId, m.popReceipt);
  }

  private async poison(m: DequeuedMessageItem): Promise<void> {
    const poisonName = `${this.queueName}-poison`;
    const poisonQueue = this.client(poisonName);
    // The message keeps its text as stored (already encoded), so send it without encoding again.
    try {
      await poisonQueue.sendMessage(m.messageText);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await poisonQueue.createIfNotExists();
      await poisonQueue.sendMessage(m.messageText);
    }
    await this.client().deleteMessage(m.messageId, m.popReceipt);
    this.options.log(
      'warning',
      `Message '${m.messageId}' failed ${m.dequeueCount} times (maxDequeueCount ${this.options.config.maxDequeueCount}); moved to queue '${poisonName}'.`,
    );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
