/**
 * The second cache level, shared by every replica of a service: the {@link SharedStore} contract a
 * store (e.g. `@hubauth/redis`) implements, and {@link SharedTier}, which is all the security of it.
 *
 * The store only ever sees keyed hashes and sealed values. Keys are HMAC-SHA-256 of the token under a
 * key derived from the shared secret, so a reader of the store learns no token. Values are AES-256-GCM
 * sealed under another derived key, with the entry's key as additional data, so a writer can neither
 * forge an identity nor move one from a token to another. Revocation messages are sealed the same way.
 * Every store call is bounded by a timeout; a store that fails or is slow is skipped for a while and
 * the replica carries on with its own cache and the Hub.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { HubAuthLogger } from './config';
import { deriveKey, keyedDigest, randomBytes } from './crypto';
import type { HubUser } from './types';
import { deepFreeze } from './user-model';

/** Receives what other replicas publish. */
export interface SharedStoreListener {
  /** A message published by any replica (this one included). */
  message(message: string): void;
  /**
   * The subscription was lost and is back: messages published meanwhile may be lost, so the replica
   * drops its first-level cache and reads the store again.
   */
  resubscribed(): void;
}

/**
 * A key-value store with expiry, set-if-absent and publish/subscribe, shared by replicas. Keys and
 * values are opaque ASCII strings (keyed hashes and sealed values): the store adds its own prefix and
 * needs no security of its own. Every method may reject or hang; the caller bounds and absorbs both.
 * `@hubauth/redis` implements it on Redis.
 */
export interface SharedStore {
  /** The values of `keys`, `null` for absent ones, in order. */
  getMany(keys: readonly string[]): Promise<ReadonlyArray<string | null>>;
  /** Sets `key` to `value` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets `key` only if it is absent; resolves `true` when this call set it (a short lock). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `keys`. */
  delete(keys: readonly string[]): Promise<void>;
  /** Sends `message` to every subscribed replica. */
  publish(message: string): Promise<void>;
  /** Delivers every published message to `listener` from now on. */
  subscribe(listener: SharedStoreListener): void;
  /** Whether the store is connected right now; when `false`, calls are skipped without waiting. */
  readonly available?: boolean;
  /** A round trip to the store (used by `hubauth doctor`). */
  ping?(): Promise<unknown>;
  /** Closes the store's connections. */
  close?(): Promise<void>;
}

/** Options of the shared cache (`sharedCache` in {@link HubAuthOptions}). */
export interface SharedCacheOptions {
  /** The store, e.g. `redisStore({ url: 'redis://redis:6379' })` from `@hubauth/redis`. */
  store: SharedStore;
  /**
   * Secret shared by every replica, at least 32 characters, from which the key hashing and sealing
   * keys are derived (default: the cookie secret, `cookieSecret` / `HUBAUTH_COOKIE_SECRET`; with a
   * list, the first one).
   */
  secret?: string | readonly string[];
  /** Milliseconds to wait for the store before going on without it (default 250). */
  timeoutMs?: number;
}

/** What the store knows about a token. */
export interface SharedLookup {
  /** The identity (`null`: the Hub said no), or `undefined` when the store has no entry for this session. */
  user: HubUser | null | undefined;
  /** Until when (ms since the epoch) the token is refused by every replica, or 0. */
  revokedUntil: number;
  /** Whether another replica is asking the Hub right now. */
  locked: boolean;
}

/** A revocation or forget message between replicas. */
export interface SharedMessage {
  kind: 'forget' | 'revoke';
  digest: string;
  /** For `revoke`: until when (ms since the epoch). */
  until: number;
  /** When it was sent (ms since the epoch). */
  at: number;
}

interface SealedEntry {
  /** The model, or null for a negative answer. */
  u: HubUser | null;
  /** Hash of the Hub session id the answer was given for. */
  s: string;
  /** Expiry, ms since the epoch (a replayed old value expires with its first lifetime). */
  e: number;
  /** When the answer was written (ms since the epoch): a value older than a revocation is refused. */
  w: number;
}

/** How long a store that failed is left alone before it is tried again. */
const STORE_BACKOFF_MS = 1000;

class StoreTimeout extends Error {}

/**
 * The security and failure handling around a {@link SharedStore}: keyed hashes, sealed values and
 * messages, timeouts, and a back-off after failures. Never rejects: a store problem reads as "absent".
 */
export class SharedTier {
  private readonly hashKey: Buffer;
  private readonly sealKey: Buffer;
  private readonly timeoutMs: number;
  private downUntil = 0;
  private warnedAt = 0;

  constructor(
    readonly store: SharedStore,
    secret: string,
    timeoutMs: number,
    private readonly logger: HubAuthLogger,
  ) {
    this.hashKey = deriveKey(secret, 'shared-cache key hash');
    this.sealKey = deriveKey(secret, 'shared-cache value seal');
    this.timeoutMs = timeoutMs;
  }

  /** The keyed hash of a token: the only form in which it reaches the store or another replica. */
  digest(token: string): string {
    return keyedDigest(this.hashKey, token);
  }

  private sessionHash(sessionId: string): string {
    return sessionId === '' ? '' : keyedDigest(this.hashKey, `session:${sessionId}`).slice(0, 22);
  }

  /** Whether calls go to the store right now. */
  get usable(): boolean {
    return this.store.available !== false && Date.now() >= this.downUntil;
  }

  private seal(aad: string, payload: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  private open<T>(aad: string, sealed: string | null): T | undefined {
    if (typeof sealed !== 'string' || sealed.length < 40 || sealed.length > 1_000_000) return undefined;
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * Runs a store call within the timeout; on failure backs off and resolves `fallback`. `always`
   * runs it during the back-off too (releasing a lock must not wait for the next second).
   */
  private async call<T>(what: string, run: () => Promise<T>, fallback: T, always = false): Promise<T> {
    if (!(always ? this.store.available !== false : this.usable)) return fallback;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          // Node runs due timers before it reads sockets: on a busy machine, a process that was not
          // scheduled for longer than the timeout would otherwise count a reply already waiting in
          // its socket as missing. The timeout counts after one round of reading.
          timer = setTimeout(() => setImmediate(() => reject(new StoreTimeout())), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      this.downUntil = Date.now() + STORE_BACKOFF_MS;
      const now = Date.now();
      if (now - this.warnedAt > 30_000) {
        this.warnedAt = now;
        const why = err instanceof StoreTimeout ? `no answer within ${this.timeoutMs} ms` : ((err as Error)?.message ?? String(err));
        this.logger.warn(`The shared cache store failed (${what}: ${why}); using the local cache and the Hub meanwhile`);
      }
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the store knows about a token in a session; `null` when the store cannot answer. */
  async lookup(digest: string, sessionId: string): Promise<SharedLookup | null> {
    const values = await this.call('read', () => this.store.getMany([`id:${digest}`, `rev:${digest}`, `lock:${digest}`]), null);
    if (!values) return null;
    const now = Date.now();
    const revoked = this.open<{ u: number }>(`rev:${digest}`, values[1] ?? null);
    const revokedUntil = revoked && typeof revoked.u === 'number' && revoked.u > now ? revoked.u : 0;
    const entry = this.open<SealedEntry>(`id:${digest}`, values[0] ?? null);
    let user: HubUser | null | undefined;
    if (entry && entry.e > now && entry.s === this.sessionHash(sessionId) && (entry.u === null || typeof entry.u === 'object')) {
      user = entry.u === null ? null : deepFreeze(entry.u);
    }
    return { user, revokedUntil, locked: typeof values[2] === 'string' };
  }

  /** Stores an answer for `ttlMs`. */
  async write(digest: string, sessionId: string, user: HubUser | null, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const now = Date.now();
    const value = this.seal(`id:${digest}`, { u: user, s: this.sessionHash(sessionId), e: now + ttlMs, w: now } satisfies SealedEntry);
    await this.call('write', () => this.store.set(`id:${digest}`, value, ttlMs), undefined);
  }

  /** Takes the short lock of a token's lookup: `true` taken, `false` held by another replica, `null` unknown. */
  lock(digest: string, ttlMs: number): Promise<boolean | null> {
    return this.call('lock', () => this.store.setIfAbsent(`lock:${digest}`, '1', ttlMs), null);
  }

  /** Releases a lock taken with {@link lock} (also while the store is being skipped after a failure). */
  async unlock(digest: string): Promise<void> {
    await this.call('unlock', () => this.store.delete([`lock:${digest}`]), undefined, true);
  }

  /** Forgets a token everywhere: its entry goes and every replica drops its own copy. */
  async forget(digest: string): Promise<void> {
    await this.call('forget', () => this.store.delete([`id:${digest}`]), undefined);
    await this.publish({ kind: 'forget', digest, until: 0, at: Date.now() });
  }

  /** Refuses a token on every replica until `until` (ms since the epoch), whatever the Hub says. */
  async revoke(digest: string, until: number): Promise<void> {
    const ttl = until - Date.now();
    if (ttl <= 0) return;
    await this.call(
      'revoke',
      async () => {
        await this.store.set(`rev:${digest}`, this.seal(`rev:${digest}`, { u: until }), ttl);
        await this.store.delete([`id:${digest}`]);
      },
      undefined,
    );
    await this.publish({ kind: 'revoke', digest, until, at: Date.now() });
  }

  private async publish(message: SharedMessage): Promise<void> {
    await this.call('publish', () => this.store.publish(this.seal('message', message)), undefined);
  }

  /** Opens a message from another replica; `undefined` for anything not sealed with our secret. */
  openMessage(raw: string): SharedMessage | undefined {
    const m = this.open<SharedMessage>('message', raw);
    if (!m || (m.kind !== 'forget' && m.kind !== 'revoke') || typeof m.digest !== 'string' || typeof m.until !== 'number') return undefined;
    return m;
  }
}
