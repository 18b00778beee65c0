/**
 * Live orchestrations (what Durable Functions calls extended sessions): a bounded cache of
 * orchestrations whose library state is kept in memory between episodes, so the next episode feeds
 * only the new events instead of replaying the whole history. The cache is only an optimisation:
 * whatever is not in it (after a restart, an eviction, an idle timeout) is replayed in full.
 */
import path from 'node:path';
import { readSettingsFile } from '../settings';
import { JsonFields } from '../settingsFields';
import type { LiveOrchestration } from './liveOrchestration';

export interface LiveSessionSettings {
  /** host.json `extensions.durableTask.extendedSessionsEnabled`; ON for the local host unless set false. */
  enabled: boolean;
  /** host.json `extensions.durableTask.extendedSessionsMaxCount` (local host only): cache bound. */
  maxCount: number;
  /** host.json `extensions.durableTask.extendedSessionIdleTimeoutInSeconds` (Azure's name and default, 30 s). */
  idleTimeoutMs: number;
}

export const DEFAULT_LIVE_SESSIONS: LiveSessionSettings = {
  enabled: true,
  maxCount: 1000,
  idleTimeoutMs: 30_000,
};

/**
 * Reads the live-session settings from an app's host.json; absent keys take the defaults above, and
 * a present value of the wrong kind stops the host (HostStartupError naming the file and the key).
 */
export function readLiveSessionSettings(appDir: string): LiveSessionSettings {
  const file = path.join(appDir, 'host.json');
  const durable = JsonFields.of(file, readSettingsFile(file)).section('extensions').section('durableTask');
  const idleSeconds = durable.number('extendedSessionIdleTimeoutInSeconds', 0);
  return {
    enabled: durable.boolean('extendedSessionsEnabled') ?? DEFAULT_LIVE_SESSIONS.enabled,
    // 0 is allowed: it turns the cache off, which only costs replay time.
    maxCount: durable.wholeNumber('extendedSessionsMaxCount', 0) ?? DEFAULT_LIVE_SESSIONS.maxCount,
    idleTimeoutMs: idleSeconds === undefined ? DEFAULT_LIVE_SESSIONS.idleTimeoutMs : idleSeconds * 1000,
  };
}

interface Entry {
  session: LiveOrchestration;
  lastUsed: number;
}

/**
 * Least-recently-used cache of live orchestrations. An episode takes its instance's entry out
 * (so a failure anywhere leaves nothing stale behind) and puts it back only after its commit.
 */
export class LiveSessionCache {
  private readonly entries = new Map<string, Entry>();
  private settings: LiveSessionSettings;
  private sweeper: NodeJS.Timeout | undefined;
  /** Counters for tests and benchmarks. */
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(settings: Partial<LiveSessionSettings> = {}) {
    this.settings = { ...DEFAULT_LIVE_SESSIONS, ...settings };
  }

  get enabled(): boolean {
    return this.settings.enabled && this.settings.maxCount > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  configure(settings: Partial<LiveSessionSettings>): void {
    this.settings = { ...this.settings, ...settings };
    if (!this.enabled) this.clear();
    else this.trim(Date.now());
  }

  has(instanceId: string): boolean {
    return this.entries.has(instanceId);
  }

  /** Removes and returns the instance's session (the caller checks it still matches the store). */
  take(instanceId: string): LiveOrchestration | undefined {
    const entry = this.entries.get(instanceId);
    if (!entry) {
      this.stats.misses++;
      return undefined;
    }
    this.entries.delete(instanceId);
    if (this.expired(entry, Date.now())) {
      this.stats.misses++;
      this.stats.evictions++;
      return undefined;
    }
    this.stats.hits++;
    return entry.session;
  }

  put(instanceId: string, session: LiveOrchestration): void {
    if (!this.enabled) return;
    const now = Date.now();
    this.entries.delete(instanceId);
    this.entries.set(instanceId, { session, lastUsed: now });
    this.trim(now);
    this.armSweeper();
  }

  evict(instanceId: string): void {
    if (this.entries.delete(instanceId)) this.stats.evictions++;
  }

  clear(): void {
    this.stats.evictions += this.entries.size;
    this.entries.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private expired(entry: Entry, now: number): boolean {
    return now - entry.lastUsed > this.settings.idleTimeoutMs;
  }

  /** Drops the least recently used entries over the bound, and idle ones (oldest first). */
  private trim(now: number): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.settings.maxCount && !this.expired(entry, now)) break;
      this.entries.delete(id);
      this.stats.evictions++;
    }
  }

  /** Idle sessions are dropped even when nothing else happens, so a quiet host holds no state. */
  private armSweeper(): void {
    if (this.sweeper) return;
    const every = Math.max(1000, Math.min(this.settings.idleTimeoutMs / 2, 60_000));
    this.sweeper = setInterval(() => {
      this.trim(Date.now());
      if (this.entries.size === 0 && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, every);
    this.sweeper.unref();
  }
}
