/**
 * `@hubauth/redis`: the shared identity cache of `@hubauth/core` on Redis, for services that run as
 * several replicas. Built on ioredis.
 *
 * @packageDocumentation
 * @module @hubauth/redis
 */
import { ConfigError, type HubAuthLogger, type SharedStore, type SharedStoreListener } from '@hubauth/core';
import { Redis, type RedisOptions } from 'ioredis';

/** Options of {@link redisStore}: give `url` or `client` (or set `HUBAUTH_REDIS_URL`). */
export interface RedisStoreOptions {
  /**
   * Where Redis is (`HUBAUTH_REDIS_URL`): `redis://[:password@]host[:port][/db]`, or `rediss://` for TLS.
   */
  url?: string;
  /**
   * An ioredis client of your own instead of `url`; the store uses it for commands and a duplicate of
   * it for pub/sub. Create it with `enableOfflineQueue: false` so that commands fail at once while
   * Redis is away. {@link RedisStore.close} does not close it.
   */
  client?: Redis;
  /** Prefix of every key and of the pub/sub channel (default `hubauth:`). */
  keyPrefix?: string;
  /**
   * Milliseconds after which ioredis gives up on a command that has no reply, freeing it (default
   * 1,000). Requests never wait that long: hubauth stops waiting for the store after
   * `sharedCache.timeoutMs` (default 250) and carries on without it, so keep this one longer.
   */
  timeoutMs?: number;
  /** Milliseconds to wait for a connection (default 2,000). */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in milliseconds (default 2,000). */
  maxReconnectDelayMs?: number;
  /** Where connection problems are reported (default `console`); messages never contain passwords. */
  logger?: HubAuthLogger;
  /** Environment to read instead of `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A {@link SharedStore} on Redis, as made by {@link redisStore}. */
export interface RedisStore extends SharedStore {
  /** Whether the command connection is ready. */
  readonly available: boolean;
  /** The ioredis command client. */
  readonly client: Redis;
  /**
   * Resolves once commands can be sent and revocations are being received (both connections up and
   * subscribed), or `false` after `timeoutMs` (default 5,000). Requests never need to wait for it:
   * use it for a readiness probe or in tests.
   */
  ready(timeoutMs?: number): Promise<boolean>;
  /** One round trip to Redis (`PING`); rejects when Redis cannot be reached. */
  ping(): Promise<string>;
  /** Closes the connections this store opened (not a `client` you passed). */
  close(): Promise<void>;
}

function fail(option: string, env: string | null, message: string): never {
  throw new ConfigError(option, `${message} [option "${option}"${env ? ` (env ${env})` : ''}]`);
}

function integer(value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(option, null, `must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

const consoleLogger: HubAuthLogger = {
  warn: (m) => console.warn(`[hubauth] ${m}`),
  error: (m) => console.error(`[hubauth] ${m}`),
};

/** The URL without its password, for messages. */
function shown(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

/**
 * Makes the Redis store of the shared identity cache. Options are checked here and a
 * {@link ConfigError} names anything wrong. Connecting happens in the background: a Redis that is
 * down, slow or gone for a while never fails a request (each replica uses its own cache and the Hub
 * meanwhile) and is reconnected to automatically.
 *
 * @example
 * ```ts
 * import { HubOAuth } from '@hubauth/core';
 * import { redisStore } from '@hubauth/redis';
 *
 * // Every replica: the same HUBAUTH_COOKIE_SECRET, the same Redis.
 * const auth = new HubOAuth({ sharedCache: { store: redisStore({ url: 'redis://redis:6379' }) } });
 * ```
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  if (options === null || typeof options !== 'object') fail('options', null, 'must be an object such as { url }');
  const env = options.env ?? process.env;
  const logger = options.logger ?? consoleLogger;
  const timeoutMs = integer(options.timeoutMs, 'timeoutMs', 1_000, 1, 60_000);
  const connectTimeoutMs = integer(options.connectTimeoutMs, 'connectTimeoutMs', 2_000, 1, 600_000);
  const maxReconnectDelayMs = integer(options.maxReconnectDelayMs, 'maxReconnectDelayMs', 2_000, 10, 600_000);
  const prefix = options.keyPrefix ?? 'hubauth:';
  if (typeof prefix !== 'string' || !/^[\x21-\x7e]{0,100}$/.test(prefix)) {
    fail('keyPrefix', null, 'must be at most 100 visible ASCII characters, e.g. "hubauth:myservice:"');
  }

  let client: Redis;
  let owned: boolean;
  let where: string;
  if (options.client !== undefined) {
    if (options.url !== undefined) fail('url', null, 'give either url or client, not both');
    const given = options.client as unknown as Record<string, unknown> | null;
    if (!given || typeof given.duplicate !== 'function' || typeof given.mget !== 'function') {
      fail('client', null, 'must be an ioredis client (new Redis(...) from the ioredis package)');
    }
    client = options.client;
    owned = false;
    where = 'the given client';
  } else {
    const url = options.url ?? (env.HUBAUTH_REDIS_URL || undefined);
    if (url === undefined) {
      fail('url', 'HUBAUTH_REDIS_URL', 'Redis is not configured: pass { url: "redis://host:6379" } or { client }, or set HUBAUTH_REDIS_URL');
    }
    if (typeof url !== 'string') fail('url', 'HUBAUTH_REDIS_URL', 'must be a string such as "redis://host:6379"');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail('url', 'HUBAUTH_REDIS_URL', `"${shown(url)}" is not a URL; use redis://host:6379 or rediss://host:6380`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      fail('url', 'HUBAUTH_REDIS_URL', `"${shown(url)}" must use redis: or rediss:`);
    }
    const connection: RedisOptions = {
      // Commands fail at once while disconnected instead of queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A backstop that frees commands a frozen server never answers. hubauth's own, shorter timeout
      // bounds requests; this one is longer so that a reply read late by a busy process still counts.
      commandTimeout: timeoutMs,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 16), maxReconnectDelayMs),
      // Concurrent commands of one tick go out as one pipeline.
      enableAutoPipelining: true,
    };
    client = new Redis(url, connection);
    owned = true;
    where = shown(url);
  }

  // Pub/sub needs a connection of its own; it queues SUBSCRIBE until connected and resubscribes after.
  const subscriber = client.duplicate({ enableOfflineQueue: true, autoResubscribe: true, commandTimeout: undefined, enableAutoPipelining: false });
  const channel = `${prefix}revocations`;
  const listeners: SharedStoreListener[] = [];
  let subscribed = false;
  let listening = false;
  let lastWarning = 0;
  const warn = (what: string, err: unknown) => {
    const now = Date.now();
    if (now - lastWarning < 30_000) return;
    lastWarning = now;
    logger.warn(`Redis at ${where}: ${what} (${(err as Error)?.message ?? String(err)}); retrying in the background`);
  };
  // Without listeners, ioredis would print every connection error as unhandled.
  client.on('error', (err) => warn('connection error', err));
  subscriber.on('error', (err) => warn('subscription error', err));
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    for (const listener of listeners) listener.message(message);
  });
  subscriber.on('close', () => {
    listening = false;
  });
  subscriber.on('ready', () => {
    // ioredis resubscribes as it becomes ready again.
    if (subscribed) listening = true;
    // Messages published while this connection was away (or not yet up) are lost: the replica drops
    // its own cache and reads the store again.
    for (const listener of listeners) listener.resubscribed();
  });

  const key = (k: string) => prefix + k;
  const store: RedisStore = {
    get available() {
      return client.status === 'ready';
    },
    client,
    async getMany(keys) {
      return client.mget(keys.map(key));
    },
    async set(k, value, ttlMs) {
      await client.set(key(k), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async setIfAbsent(k, value, ttlMs) {
      return (await client.set(key(k), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
    async delete(keys) {
      if (keys.length > 0) await client.del(...keys.map(key));
    },
    async publish(message) {
      await client.publish(channel, message);
    },
    subscribe(listener) {
      listeners.push(listener);
      if (!subscribed) {
        subscribed = true;
        subscriber.subscribe(channel).then(
          () => {
            listening = true;
          },
          (err: unknown) => warn('cannot subscribe', err),
        );
      }
    },
    ping() {
      return client.ping();
    },
    async ready(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(client.status === 'ready' && subscriber.status === 'ready' && listening)) {
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return true;
    },
    async close() {
      listeners.length = 0;
      subscriber.disconnect();
      if (owned) client.disconnect();
    },
  };
  return store;
}
