/**
 * The identity cache: a bounded LRU (lru-cache) of the Hub's answers, keyed by a hash of the token
 * and the Hub session id, with concurrent misses for one key coalesced into a single lookup.
 */
import { LRUCache } from 'lru-cache';
import { digest } from './crypto';
import type { HubUser } from './types';

/** Cache settings, in seconds and entries. */
export interface IdentityCacheOptions {
  /** Seconds a positive answer lives; 0 disables caching (lookups are still coalesced). */
  maxAge: number;
  /** Seconds a "no such token" answer lives. */
  negativeMaxAge: number;
  /** Most entries kept. */
  maxEntries: number;
}

// lru-cache cannot hold null, so a negative answer is boxed.
interface Entry {
  user: HubUser | null;
}

/** Hash of a token: the cache never holds a usable credential. */
export function tokenDigest(token: string): string {
  return digest(token);
}

/** Bounded, expiring, coalescing cache of identities. */
export class IdentityCache {
  private readonly lru: LRUCache<string, Entry> | null;
  private readonly inflight = new Map<string, Promise<HubUser | null>>();
  private readonly positiveTtl: number;
  private readonly negativeTtl: number;

  constructor(options: IdentityCacheOptions) {
    this.positiveTtl = Math.round(options.maxAge * 1000);
    this.negativeTtl = Math.round(options.negativeMaxAge * 1000);
    // ttlResolution: read the clock at most every 100 ms; lifetimes of seconds do not need more.
    this.lru =
      this.positiveTtl > 0
        ? new LRUCache<string, Entry>({ max: options.maxEntries, ttl: this.positiveTtl, ttlAutopurge: false, ttlResolution: 100 })
        : null;
  }

  /** The key of a token within a Hub session: `<sha256(token)>:<session id>`. */
  key(token: string, sessionId = ''): string {
    return `${tokenDigest(token)}:${sessionId}`;
  }

  /** The cached answer: a user, `null` for a known-bad token, `undefined` when not cached. */
  peek(key: string): HubUser | null | undefined {
    return this.lru?.get(key)?.user;
  }

  /**
   * The cached answer, or the result of `load()`; concurrent calls for one key share one `load()`.
   * Errors are not cached.
   */
  get(key: string, load: () => Promise<HubUser | null>): Promise<HubUser | null> {
    const hit = this.lru?.get(key);
    if (hit) return Promise.resolve(hit.user);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = load().then(
        (user) => {
          this.inflight.delete(key);
          this.set(key, user);
          return user;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Stores an answer (negative answers with the shorter lifetime). */
  set(key: string, user: HubUser | null): void {
    if (!this.lru) return;
    if (user === null) {
      if (this.negativeTtl > 0) this.lru.set(key, { user }, { ttl: this.negativeTtl });
    } else {
      this.lru.set(key, { user });
    }
  }

  /** Forgets every entry of a token, in any session. */
  deleteToken(token: string): number {
    if (!this.lru) return 0;
    const prefix = `${tokenDigest(token)}:`;
    let removed = 0;
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix) && this.lru.delete(key)) removed++;
    }
    return removed;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.lru?.size ?? 0;
  }

  /** Drops everything. */
  clear(): void {
    this.lru?.clear();
  }
}
