/**
 * The cache in Redis (REDIS_URL), shared by every instance of the app: entries expire in Redis itself
 * (SET … PX). It connects on first use and, while Redis is unreachable, fails fast instead of queueing
 * commands (and waits a few seconds before trying to connect again), so a caller falls back to the
 * source at once. It never reads configuration on its own.
 */
import { createClient } from 'redis';
import type { Cache } from './cache';

type Client = ReturnType<typeof createClient>;

export interface RedisCacheOptions {
  /** Put in front of every key, so several apps can share one Redis. Default `lifecockpit:`. */
  prefix?: string;
  /** How long a connection attempt may take; default 2 s. */
  connectTimeoutMs?: number;
}

export class RedisCache implements Cache {
  private readonly client: Client;
  private readonly prefix: string;
  private connecting?: Promise<unknown>;
  /** Set once a connection succeeded: from then on a lost connection is retried in the background. */
  private connectedOnce = false;
  /** After a failed first connection, callers fall back at once until this time instead of waiting again. */
  private retryAt = 0;

  constructor(url: string, options: RedisCacheOptions = {}) {
    this.prefix = options.prefix ?? 'lifecockpit:';
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2_000,
        // A first connection that fails is reported (so callers fall back); a lost one is retried.
        reconnectStrategy: (retries: number, cause: Error) =>
          this.connectedOnce ? Math.min(100 * 2 ** retries, 5_000) : cause,
      },
    });
    this.client.on('ready', () => (this.connectedOnce = true));
    // Connection errors surface as failed commands; an unheard 'error' event would end the process.
    this.client.on('error', () => undefined);
  }

  private async ready(): Promise<void> {
    if (this.client.isReady) return;
    if (this.connectedOnce) throw new Error('Redis connection lost; reconnecting.');
    if (Date.now() < this.retryAt) throw new Error('Redis was unreachable moments ago.');
    this.connecting ??= this.client.connect().catch((err: unknown) => {
      this.connecting = undefined;
      this.retryAt = Date.now() + 5_000;
      throw err;
    });
    await this.connecting;
  }

  async get(key: string): Promise<string | undefined> {
    await this.ready();
    const value = await this.client.get(this.prefix + key);
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.ready();
    await this.client.set(this.prefix + key, value, { expiration: { type: 'PX', value: ttlMs } });
  }

  async close(): Promise<void> {
    // A client still trying to connect has nothing to flush: stop it instead of waiting for Redis.
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }
}
