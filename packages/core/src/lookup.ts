/**
 * The lookup path: who owns a token, asked of the Hub (`GET {apiUrl}/user`) through the identity
 * cache (in-process, then the shared store when configured). Everything else in core reaches the
 * Hub's answer through {@link UserLookup} alone, so a different store or lookup policy plugs in here.
 */
import { IdentityCache, type LookupOptions } from './cache';
import type { HubAuthConfig } from './config';
import { HubUnavailableError } from './errors';
import { HubClient, type RequestLane } from './hub-client';
import { SharedTier } from './shared-store';
import { isWellFormedToken } from './token';
import type { HubUser } from './types';
import { toUserModel } from './user-model';

/** JupyterHub refuses to store tokens shorter than this, so it can never accept one. */
const MIN_HUB_TOKEN_LENGTH = 8;

/**
 * How long the store lock of a lookup lives: longer than everything its holder does under it (read
 * the store again, ask the Hub — at most `requestTimeoutMs` —, write the answer, release the lock),
 * plus a second for a busy event loop. Other replicas wait for the holder's answer that long at most.
 */
export function lockLifetime(requestTimeoutMs: number, storeTimeoutMs: number): number {
  return requestTimeoutMs + 3 * storeTimeoutMs + 1000;
}

/** Token lookups against the Hub, cached and coalesced. */
export class UserLookup {
  /** The Hub API client (also used for the OAuth code exchange and `apiRequest`). */
  readonly client: HubClient;
  private readonly cache: IdentityCache;

  constructor(private readonly config: HubAuthConfig) {
    this.client = new HubClient({
      apiUrl: config.apiUrl,
      tls: config.tls,
      timeoutMs: config.requestTimeoutMs,
      maxConcurrent: config.maxConcurrentLookups,
      maxPending: config.maxPendingLookups,
    });
    const shared = config.sharedCache;
    this.cache = new IdentityCache({
      maxAge: config.cacheMaxAge,
      negativeMaxAge: config.negativeCacheMaxAge,
      maxEntries: config.cacheMaxEntries,
      maxPendingPerClient: config.maxPendingLookupsPerClient,
      lockMs: shared ? lockLifetime(config.requestTimeoutMs, shared.timeoutMs) : config.requestTimeoutMs,
      shared: shared ? new SharedTier(shared.store, shared.secret, shared.timeoutMs, config.logger) : null,
    });
  }

  /**
   * The owner of `token` within the Hub login session `sessionId`: the frozen model, or `null` when
   * the Hub says the token is not valid. `lane` says who asks and whether the token is one we trust
   * (our own login cookie): see {@link LookupOptions}. Rejects with {@link HubUnavailableError}, or
   * {@link TooManyLookupsError} when the client has too many lookups of unknown tokens pending.
   */
  user(token: string, sessionId: string, useCache = true, lane: LookupOptions = {}): Promise<HubUser | null> {
    // No Hub has such a token (it stores none shorter than 8 characters); asking would cost a lookup
    // and a cache entry, and a control character would make Node throw a TypeError while writing the
    // header instead of answering "no user".
    if (!isWellFormedToken(token) || token.length < MIN_HUB_TOKEN_LENGTH) return Promise.resolve(null);
    const ask = (priority: boolean) => this.ask(token, { priority, client: lane.client });
    if (!useCache) return ask(lane.priority === true);
    return this.cache.get(this.cache.key(token, sessionId), ask, lane);
  }

  /** The cached answer for `token`: a model, `null` for a known-bad token, `undefined` when not cached. */
  cached(token: string, sessionId: string): HubUser | null | undefined {
    return this.cache.peek(this.cache.key(token, sessionId));
  }

  private async ask(token: string, lane: RequestLane): Promise<HubUser | null> {
    const reply = await this.client.request('GET', '/user', { headers: { authorization: `token ${token}` }, lane });
    if (reply.status === 200) return toUserModel(reply.text);
    if (reply.status === 401 || reply.status === 403) return null;
    if (reply.status === 404) {
      this.config.logger.error(`The Hub answered 404 for ${this.client.describe}/user: is JUPYTERHUB_API_URL right?`);
    } else {
      this.config.logger.warn(`The Hub answered ${reply.status} when identifying a token`);
    }
    throw new HubUnavailableError(`The Hub could not identify the token (status ${reply.status})`, { status: 502 });
  }

  /** Forgets a token's cached identity in every session, on every replica. Returns the entries removed here. */
  invalidate(token: string): number {
    return this.cache.deleteToken(token);
  }

  /** Refuses a token on every replica for `seconds`. Never rejects. */
  revoke(token: string, seconds: number): Promise<void> {
    if (!isWellFormedToken(token)) return Promise.resolve();
    return this.cache.revoke(token, seconds);
  }

  /** Hub lookups in flight. */
  get inFlight(): number {
    return this.client.inFlight;
  }

  /** Identities in the cache. */
  get size(): number {
    return this.cache.size;
  }

  /** Closes idle connections to the Hub. */
  close(): void {
    this.client.close();
  }
}
