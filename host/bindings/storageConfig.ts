/**
 * The storage trigger settings of an app's host.json (`extensions.queues`), with the Functions
 * host's defaults where they suit a developer's machine, and how often the local host polls. A value
 * of the wrong kind stops the host (HostStartupError naming the file and the key). Reads only.
 */
import path from 'node:path';
import { parseTimeSpan, readSettingsFile } from '../settings';
import { JsonFields } from '../settingsFields';

export interface StorageTriggerConfig {
  /** Messages taken per poll of one queue (host.json `batchSize`, default 16, at most 32). */
  batchSize: number;
  /** Runs of one message before it moves to `<queue>-poison` (host.json `maxDequeueCount`, default 5). */
  maxDequeueCount: number;
  /** How long a failed message stays invisible before its next try (host.json `visibilityTimeout`, default 0). */
  visibilityTimeoutMs: number;
  /**
   * Longest wait between polls of an empty queue (host.json `maxPollingInterval`). Azure's default
   * is one minute; the local host's is 2 s, so a message sent while developing runs at once.
   */
  maxPollingIntervalMs: number;
  /** How often blob-triggered containers are listed for new or changed blobs (2 s; not in host.json). */
  blobPollingIntervalMs: number;
}

export const DEFAULT_STORAGE_TRIGGERS: StorageTriggerConfig = {
  batchSize: 16,
  maxDequeueCount: 5,
  visibilityTimeoutMs: 0,
  maxPollingIntervalMs: 2000,
  blobPollingIntervalMs: 2000,
};

export function readStorageTriggerConfig(appDir: string): StorageTriggerConfig {
  const file = path.join(appDir, 'host.json');
  const queues = JsonFields.of(file, readSettingsFile(file)).section('extensions').section('queues');
  return {
    ...DEFAULT_STORAGE_TRIGGERS,
    batchSize: queues.wholeNumber('batchSize', 1, 32) ?? DEFAULT_STORAGE_TRIGGERS.batchSize,
    maxDequeueCount: queues.wholeNumber('maxDequeueCount', 1) ?? DEFAULT_STORAGE_TRIGGERS.maxDequeueCount,
    visibilityTimeoutMs:
      timeSpan(queues, 'visibilityTimeout', 0) ?? DEFAULT_STORAGE_TRIGGERS.visibilityTimeoutMs,
    maxPollingIntervalMs:
      timeSpan(queues, 'maxPollingInterval', 100) ?? DEFAULT_STORAGE_TRIGGERS.maxPollingIntervalMs,
  };
}

/** A TimeSpan text ("00:00:30") or, as the host also takes, a number of milliseconds. */
function timeSpan(section: JsonFields, key: string, minMs: number): number | undefined {
  const value = section.raw(key);
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseTimeSpan(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < minMs)
    throw section.invalid(key, `a TimeSpan like "00:00:30" (or milliseconds) of at least ${minMs} ms`);
  return ms;
}
