/**
 * The identity cache. The first level is in this process: a bounded LRU (lru-cache) of valid
 * identities, and a separate one of "no such token" answers, so a flood of junk tokens evicts only
 * other junk. The optional second level is a {@link SharedTier} shared by every replica, which also
 * carries revocations between them.
 *
 * A miss is looked up once: concurrent misses for one key in this process share one lookup, and
 * across replicas the first one takes a short lock in the store while the others wait for its answer
 * (see {@link IdentityCache.get}). Lookups are bounded per client, and tokens that were valid before
 * go ahead of unknown ones at the Hub.
 */
import { LRUCache } from 'lru-cache';
import { digest as sha256 } from './crypto';
import { TooManyLookupsError } from './errors';
import type { SharedLookup, SharedMessage, SharedTier } from './shared-store';
import type { HubUser } from './types';

/** Cache settings, in seconds and entries. */
export interface IdentityCacheOptions {
  /** Seconds a positive answer lives; 0 disables caching (lookups are still coalesced). */
  maxAge: number;
  /** Seconds a "no such token" answer lives. */
  negativeMaxAge: number;
  /** Most entries kept (valid identities; as many again for negative answers). */
  maxEntries: number;
  /** Most unanswered lookups of unknown tokens one client may have (default: no bound). */
  maxPendingPerClient?: number;
  /**
   * Milliseconds the store lock of a lookup lives, and the longest a replica waits for another
   * replica's lookup of the same token (default 10,000). Make it longer than the Hub timeout plus
   * the store round trips of a lookup, so that a lock never expires under a lookup still running.
   */
  lockMs?: number;
  /** The shared second level, if any. */
  shared?: SharedTier | null;
}

/** How a lookup is scheduled. */
export interface LookupOptions {
  /** Who asks (e.g. the client address); pending lookups of unknown tokens are bounded per client. */
  client?: string;
  /** A token we have reason to trust (from our own sealed login cookie): goes ahead of unknown ones. */
  priority?: boolean;
}

/** Loads an answer from the Hub; `priority` says whether it may go ahead of unknown tokens. */
export type IdentityLoader = (priority: boolean) => Promise<HubUser | null>;

// lru-cache cannot hold null, so entries are boxed.
interface Entry {
  user: HubUser | null;
}

/** Hash of a token: the cache never holds a usable credential. */
export function tokenDigest(token: string): string {
  return sha256(token);
}

/** How long a token stays "known good" (goes ahead at the Hub) after it was last valid. */
const KNOWN_VALID_MS = 24 * 3600 * 1000;
/** Polling of the store while another replica looks a token up: first and longest pause. */
const WAIT_FIRST_MS = 5;
const WAIT_MAX_MS = 40;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/** Bounded, expiring, coalescing, optionally shared cache of identities. */
export class IdentityCache {
  private readonly lru: LRUCache<string, Entry> | null;
  private readonly negatives: LRUCache<string, Entry> | null;
  /** Digests of tokens the Hub accepted lately: their lookups go ahead of unknown tokens. */
  private readonly knownValid: LRUCache<string, true>;
  /** Digest → until when (ms) the token is refused, as told by {@link revoke} or another replica. */
  private readonly revoked: LRUCache<string, number>;
  /** Digest → the {@link forgets} count when it was last forgotten: a lookup started before must not refill the cache. */
  private readonly forgotten: LRUCache<string, number>;
  /** How many forgets happened so far (a clock that cannot tie, unlike milliseconds). */
  private forgets = 0;
  private readonly inflight = new Map<string, Promise<HubUser | null>>();
  private readonly pendingByClient = new Map<string, number>();
  private readonly positiveTtl: number;
  private readonly negativeTtl: number;
  private readonly maxPendingPerClient: number;
  private readonly lockMs: number;
  private readonly shared: SharedTier | null;

  constructor(options: IdentityCacheOptions) {
    this.positiveTtl = Math.round(options.maxAge * 1000);
    this.negativeTtl = Math.round(options.negativeMaxAge * 1000);
    this.maxPendingPerClient = options.maxPendingPerClient ?? Infinity;
    this.lockMs = options.lockMs ?? 10_000;
    this.shared = options.shared ?? null;
    const max = options.maxEntries;
    // ttlResolution: read the clock at most every 100 ms; lifetimes of seconds do not need more.
    this.lru =
      this.positiveTtl > 0 ? new LRUCache<string, Entry>({ max, ttl: this.positiveTtl, ttlAutopurge: false, ttlResolution: 100 }) : null;
    this.negatives =
      this.positiveTtl > 0 && this.negativeTtl > 0
        ? new LRUCache<string, Entry>({ max, ttl: this.negativeTtl, ttlAutopurge: false, ttlResolution: 100 })
        : null;
    this.knownValid = new LRUCache<string, true>({ max, ttl: KNOWN_VALID_MS, ttlResolution: 1000 });
    this.revoked = new LRUCache<string, number>({ max });
    this.forgotten = new LRUCache<string, number>({ max: 1000 });
    this.shared?.store.subscribe({
      message: (raw) => {
        const message = this.shared?.openMessage(raw);
        if (message) this.apply(message);
      },
      resubscribed: () => this.clear(),
    });
  }

  /** The key of a token within a Hub session: `<digest(token)>:<session id>`. */
  key(token: string, sessionId = ''): string {
    return `${this.digest(token)}:${sessionId}`;
  }

  /** The token's digest: SHA-256, or the shared tier's keyed hash when there is one. */
  digest(token: string): string {
    return this.shared ? this.shared.digest(token) : sha256(token);
  }

  /** The cached answer: a user, `null` for a known-bad token, `undefined` when not cached. */
  peek(key: string): HubUser | null | undefined {
    const hit = this.lru?.get(key);
    if (hit) return hit.user;
    return this.negatives?.get(key)?.user;
  }

  /**
   * The cached answer, or a lookup. In order: this process's cache; a lookup in flight for the same
   * key in this process (joined); the shared store (an identity another replica looked up, or a
   * revocation); the store's lock: when another replica is already asking the Hub for this token,
   * this one waits for its answer in the store while the lock lives (at most `lockMs`), and asks the
   * Hub itself only when the lock went without an answer. Errors are not cached. Throws {@link TooManyLookupsError} when `client` already has
   * `maxPendingPerClient` lookups of unknown tokens waiting.
   */
  get(key: string, load: IdentityLoader, options: LookupOptions = {}): Promise<HubUser | null> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const digest = key.slice(0, key.indexOf(':'));
    if (this.isRevoked(digest)) return Promise.resolve(null);
    const priority = options.priority === true || this.knownValid.has(digest);
    const client = priority ? undefined : (options.client ?? '');
    if (client !== undefined) {
      const count = this.pendingByClient.get(client) ?? 0;
      if (count >= this.maxPendingPerClient) {
        return Promise.reject(new TooManyLookupsError('Too many unanswered token lookups from this client; try again shortly'));
      }
      this.pendingByClient.set(client, count + 1);
    }
    const lookup = this.miss(key, digest, load, priority, this.forgets).finally(() => {
      this.inflight.delete(key);
      if (client !== undefined) {
        const count = (this.pendingByClient.get(client) ?? 1) - 1;
        if (count <= 0) this.pendingByClient.delete(client);
        else this.pendingByClient.set(client, count);
      }
    });
    this.inflight.set(key, lookup);
    return lookup;
  }

  private async miss(key: string, digest: string, load: IdentityLoader, priority: boolean, forgetsAtStart: number): Promise<HubUser | null> {
    const sessionId = key.slice(digest.length + 1);
    const shared = this.shared;
    let locked = false;
    let written: Promise<void> | undefined;
    try {
      if (shared?.usable && this.positiveTtl > 0) {
        let found = await shared.lookup(digest, sessionId);
        if (found && found.user === undefined && !found.revokedUntil) {
          const taken = await shared.lock(digest, this.lockMs);
          if (taken === true) {
            locked = true;
            // Another replica may have stored its answer and released its lock between our read and
            // our lock: read once more, now that no other replica can be asking the Hub.
            found = await shared.lookup(digest, sessionId);
          } else if (taken === false) {
            found = await this.awaitOtherReplica(digest, sessionId);
          }
        }
        if (found?.revokedUntil) {
          this.revoked.set(digest, found.revokedUntil, { ttl: found.revokedUntil - Date.now() });
          return null;
        }
        if (found && found.user !== undefined && !this.isRevoked(digest)) {
          this.remember(key, digest, found.user);
          return found.user;
        }
      }
      const user = await load(priority);
      if (this.isRevoked(digest)) return null;
      // Forgotten (or revoked) while the Hub was asked: answer this caller, but keep nothing.
      if ((this.forgotten.get(digest) ?? 0) > forgetsAtStart) return user;
      this.remember(key, digest, user);
      if (shared && this.positiveTtl > 0) {
        written = shared.write(digest, sessionId, user, user ? this.positiveTtl : this.negativeTtl);
      }
      return user;
    } finally {
      // The lock goes once the answer is in the store, so that waiting replicas find it there.
      if (locked && shared) void (written ?? Promise.resolve()).then(() => shared.unlock(digest));
    }
  }

  /**
   * Another replica holds the lock of this token: it is asking the Hub. Waits for its answer in the
   * store for as long as the lock can live (the lock outlives the holder's Hub call and store
   * writes), polling (5 ms, doubling to 40 ms). Ends early with a revocation, when the lock goes
   * without an answer (the holder's Hub call failed: errors are not shared) or when the store stops
   * answering (`null`); the caller then asks the Hub itself.
   */
  private async awaitOtherReplica(digest: string, sessionId: string): Promise<SharedLookup | null> {
    const shared = this.shared as SharedTier;
    const deadline = Date.now() + this.lockMs;
    let found: SharedLookup | null;
    let pause = WAIT_FIRST_MS;
    do {
      await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
      pause = Math.min(pause * 2, WAIT_MAX_MS);
      found = await shared.lookup(digest, sessionId);
    } while (found && found.user === undefined && found.locked && !found.revokedUntil && Date.now() < deadline);
    return found;
  }

  private remember(key: string, digest: string, user: HubUser | null): void {
    if (user) this.knownValid.set(digest, true);
    this.set(key, user);
  }

  private isRevoked(digest: string): boolean {
    const until = this.revoked.get(digest);
    return until !== undefined && until > Date.now();
  }

  /** Stores an answer (negative answers apart, with the shorter lifetime). */
  set(key: string, user: HubUser | null): void {
    if (user === null) this.negatives?.set(key, { user });
    else this.lru?.set(key, { user });
  }

  /** Forgets every local entry of a token digest, in any session. */
  private dropDigest(digest: string): number {
    this.forgotten.set(digest, ++this.forgets);
    const prefix = `${digest}:`;
    let removed = 0;
    for (const lru of [this.lru, this.negatives]) {
      if (!lru) continue;
      for (const key of [...lru.keys()]) {
        if (key.startsWith(prefix) && lru.delete(key)) removed++;
      }
    }
    return removed;
  }

  private apply(message: SharedMessage): void {
    this.dropDigest(message.digest);
    if (message.kind === 'revoke' && message.until > Date.now()) {
      this.revoked.set(message.digest, message.until, { ttl: message.until - Date.now() });
      this.knownValid.delete(message.digest);
    }
  }

  /**
   * Forgets every entry of a token, in any session, here and (with a shared store) in the store and
   * on every replica. Returns the entries removed here; the promise settles when the store was told.
   */
  deleteToken(token: string): number {
    const digest = this.digest(token);
    const removed = this.dropDigest(digest);
    if (this.shared) void this.shared.forget(digest);
    return removed;
  }

  /**
   * Refuses a token here and on every replica for `seconds`, whatever the Hub says, and forgets its
   * entries. Resolves once the shared store was told (or could not be).
   */
  async revoke(token: string, seconds: number): Promise<void> {
    const digest = this.digest(token);
    const until = Date.now() + Math.max(1, Math.round(seconds * 1000));
    this.apply({ kind: 'revoke', digest, until, at: Date.now() });
    if (this.shared) await this.shared.revoke(digest, until);
  }

  /** Number of cached entries (identities and negative answers). */
  get size(): number {
    return (this.lru?.size ?? 0) + (this.negatives?.size ?? 0);
  }

  /** Drops everything cached here (revocations stay). */
  clear(): void {
    this.lru?.clear();
    this.negatives?.clear();
  }
}
