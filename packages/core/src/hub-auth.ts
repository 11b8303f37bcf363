/**
 * `HubAuth`: token authentication against the Hub, the Node counterpart of Python's
 * `jupyterhub.services.auth.HubAuth` plus the access decisions of its `HubAuthenticated` mixin.
 */
import { IdentityCache } from './cache';
import { SharedTier } from './shared-store';
import { resolveHubAuthConfig, type HubAuthConfig, type HubAuthOptions } from './config';
import { getCookie, parseCookieHeader } from './cookies';
import {
  ForbiddenError,
  HubApiError,
  HubAuthError,
  HubUnavailableError,
  ServiceCredentialsError,
  UnauthenticatedError,
  isHubAuthError,
} from './errors';
import { HubClient } from './hub-client';
import { checkScopes, parseScope } from './scopes';
import { extractToken, headerValue, isWellFormedToken, type TokenSource } from './token';
import type { HubRequest, HubResponse, HubUser } from './types';

/** How a request was identified. */
export type IdentitySource = TokenSource | 'cookie';

/** Who is calling, as far as the Hub says. Never throws: problems are reported in `error`. */
export interface Identity {
  /** The caller, or `null` when anonymous or not identifiable. */
  user: HubUser | null;
  /** Where the credential came from. */
  source: IdentitySource | null;
  /** Why the caller could not be identified: malformed credentials, an unreachable Hub, a failed xsrf check. */
  error: HubAuthError | null;
  /** A credential was presented and the Hub said it is not valid. */
  rejected: boolean;
  /** `Set-Cookie` values the response must carry (re-issued or cleared cookies, the xsrf cookie). */
  setCookies: string[];
  /** The xsrf token for forms and `fetch` calls (browser sessions only). */
  xsrfToken: string | null;
}

/** What a guarded route requires. Every list is optional; the service's access scopes always apply. */
export interface AccessPolicy {
  /** Scopes that grant access (any one), instead of the service's access scopes. */
  scopes?: readonly string[];
  /** Only these users (Python's `hub_users`). Combined with `hubGroups` by OR. */
  hubUsers?: readonly string[];
  /** Only members of these groups (Python's `hub_groups`). */
  hubGroups?: readonly string[];
  /**
   * Whether `kind: 'service'` callers may pass. Default: yes when their scopes allow it and no
   * `hubUsers`/`hubGroups` list is set; with such a list, only when this is `true`.
   */
  allowServices?: boolean;
  /**
   * What an anonymous caller gets: `auto` (default) sends browser navigations to the Hub's login
   * and answers 401 to everything else; `login` always redirects; `reject` always answers 401.
   */
  onUnauthenticated?: 'auto' | 'login' | 'reject';
}

/** The outcome of a guard: let the request through, send a redirect, or fail with an error. */
export type GuardDecision =
  | { action: 'allow'; user: HubUser }
  | { action: 'redirect'; response: HubResponse }
  | { action: 'deny'; error: HubAuthError };

/** JupyterHub refuses to store tokens shorter than this, so it can never accept one. */
const MIN_HUB_TOKEN_LENGTH = 8;

/** Name of the Hub's login-session cookie, part of the cache key as in JupyterHub. */
export const SESSION_ID_COOKIE = 'jupyterhub-session-id';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether an HTTP method may change state (needs xsrf protection under cookie auth). */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** A top-level browser navigation (redirect to login) rather than an API call (401). */
export function isNavigation(request: HubRequest): boolean {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  const mode = headerValue(request.headers, 'sec-fetch-mode');
  if (mode !== undefined) return mode === 'navigate';
  return /\btext\/html\b/i.test(headerValue(request.headers, 'accept') ?? '');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Checks the Hub's reply to `GET /user` and returns a frozen model (or throws 502). */
function toUserModel(text: string): HubUser {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HubUnavailableError('The Hub answered /user with something that is not JSON', { status: 502 });
  }
  if (!data || typeof data !== 'object' || Array.isArray(data) || typeof (data as { name?: unknown }).name !== 'string') {
    throw new HubUnavailableError('The Hub answered /user without a user model', { status: 502 });
  }
  const model = data as Record<string, unknown>;
  if (!Array.isArray(model.scopes)) {
    throw new HubUnavailableError('The Hub sent a user model without scopes (JupyterHub 2.0 or later is required)', {
      status: 502,
    });
  }
  // Checked here, where it is a bad reply (502), not later in authorize(), where the scope check would throw.
  if (!model.scopes.every((s) => typeof s === 'string' && s !== '')) {
    throw new HubUnavailableError('The Hub sent a user model with malformed scopes', { status: 502 });
  }
  const kind = model.kind === 'service' ? 'service' : 'user';
  return deepFreeze({
    ...model,
    kind,
    admin: model.admin === true,
    groups: Array.isArray(model.groups) ? model.groups : [],
    scopes: model.scopes,
  } as unknown as HubUser);
}

/**
 * Token authentication against JupyterHub. Configuration comes from the options, else from the
 * `JUPYTERHUB_*` environment; it is validated here and a {@link ConfigError} names anything wrong.
 *
 * @example
 * ```ts
 * const auth = new HubAuth();
 * const user = await auth.userForToken(token); // HubUser | null
 * ```
 */
export class HubAuth {
  /** The validated configuration. */
  readonly config: HubAuthConfig;
  /** @internal */ protected readonly client: HubClient;
  /** @internal */ protected readonly cache: IdentityCache;
  // Weak on both keys: decisions go away with the cached model or the guard.
  private readonly decisions = new WeakMap<HubUser, WeakMap<AccessPolicy, string | null>>();

  constructor(options: HubAuthOptions = {}) {
    this.config = this.resolveConfig(options);
    this.client = new HubClient({
      apiUrl: this.config.apiUrl,
      tls: this.config.tls,
      timeoutMs: this.config.requestTimeoutMs,
      maxConcurrent: this.config.maxConcurrentLookups,
      maxPending: this.config.maxPendingLookups,
    });
    const shared = this.config.sharedCache;
    this.cache = new IdentityCache({
      maxAge: this.config.cacheMaxAge,
      negativeMaxAge: this.config.negativeCacheMaxAge,
      maxEntries: this.config.cacheMaxEntries,
      maxPendingPerClient: this.config.maxPendingLookupsPerClient,
      lockMs: this.config.requestTimeoutMs,
      shared: shared ? new SharedTier(shared.store, shared.secret, shared.timeoutMs, this.config.logger) : null,
    });
  }

  /** @internal */
  protected resolveConfig(options: HubAuthOptions): HubAuthConfig {
    return resolveHubAuthConfig(options);
  }

  /** Whether this instance can send browsers to the Hub's login (only {@link HubOAuth} can). */
  get oauthEnabled(): boolean {
    return false;
  }

  /** Hub lookups in flight right now. */
  get lookupsInFlight(): number {
    return this.client.inFlight;
  }

  /** Number of identities in the cache. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * The request's token: `Authorization: token|bearer <t>`, then `?token=` when allowed (or on a
   * websocket upgrade). `null` when there is none; throws {@link InvalidRequestError} when malformed.
   */
  getToken(request: HubRequest): string | null {
    return extractToken(request, this.config.allowTokenInUrl)?.token ?? null;
  }

  /** The Hub login session id (the `jupyterhub-session-id` cookie), or `''`. */
  getSessionId(request: HubRequest): string {
    const value = getCookie(parseCookieHeader(request.headers.cookie), SESSION_ID_COOKIE) ?? '';
    return value.length <= 256 ? value : '';
  }

  /**
   * Asks the Hub who owns `token` (`GET {apiUrl}/user`), through the cache.
   * Resolves with the frozen model, or `null` when the Hub says the token is not valid (401/403).
   * Rejects with {@link HubUnavailableError} when the Hub is unreachable, slow, failing or unreadable.
   */
  userForToken(
    token: string,
    options: { sessionId?: string; useCache?: boolean; client?: string; priority?: boolean } = {},
  ): Promise<HubUser | null> {
    // No Hub has such a token (it refuses any shorter than 8 characters); asking would cost a lookup
    // and a cache entry, and a control character would make Node throw a TypeError while writing the
    // header instead of answering "no user".
    if (!isWellFormedToken(token) || token.length < MIN_HUB_TOKEN_LENGTH) return Promise.resolve(null);
    const lookup = (priority: boolean) => this.lookup(token, { priority, client: options.client });
    if (options.useCache === false) return lookup(options.priority === true);
    return this.cache.get(this.cache.key(token, options.sessionId ?? ''), lookup, options);
  }

  private async lookup(token: string, lane: { priority: boolean; client: string | undefined }): Promise<HubUser | null> {
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

  /**
   * Forgets a token's cached identity in every session, here and, with a `sharedCache`, on every
   * replica (the next request asks the Hub again). Returns the entries removed in this process.
   */
  invalidate(token: string): number {
    return this.cache.deleteToken(token);
  }

  /**
   * Refuses a token here and, with a `sharedCache`, on every replica within milliseconds, for
   * `seconds` (default `cacheMaxAge`, at least 60), whatever the Hub says; logout does this for the
   * login cookie's token. Resolves when the shared store was told (or could not be); never rejects.
   *
   * @example
   * ```ts
   * await auth.revoke(token); // every replica now answers 401 for it
   * ```
   */
  revoke(token: string, options: { seconds?: number } = {}): Promise<void> {
    if (!isWellFormedToken(token)) return Promise.resolve();
    return this.cache.revoke(token, options.seconds ?? Math.max(60, this.config.cacheMaxAge));
  }

  /**
   * Calls the Hub API with this service's own token, e.g. `apiRequest('GET', '/users')`.
   * Resolves with the parsed JSON body (or `null` for an empty reply).
   * Rejects with {@link ServiceCredentialsError} (401/403), {@link HubApiError} (other 4xx/5xx) or
   * {@link HubUnavailableError}.
   */
  async apiRequest<T = unknown>(method: string, path: string, body?: unknown): Promise<T | null> {
    if (!this.config.apiToken) {
      throw new ServiceCredentialsError('apiRequest needs the service API token (apiToken / JUPYTERHUB_API_TOKEN)');
    }
    const rel = path.startsWith('/') ? path : `/${path}`;
    const headers: Record<string, string> = { authorization: `token ${this.config.apiToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const reply = await this.client.request(method.toUpperCase(), rel, {
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (reply.status === 401 || reply.status === 403) {
      throw new ServiceCredentialsError(
        `The Hub refused this service's token for ${method.toUpperCase()} ${rel} (${reply.status}); check its roles and JUPYTERHUB_API_TOKEN`,
      );
    }
    if (reply.status >= 400) {
      throw new HubApiError(reply.status, `The Hub answered ${reply.status} to ${method.toUpperCase()} ${rel}`);
    }
    if (reply.text.trim() === '') return null;
    try {
      return JSON.parse(reply.text) as T;
    } catch {
      throw new HubUnavailableError(`The Hub answered ${method.toUpperCase()} ${rel} with something that is not JSON`);
    }
  }

  /**
   * The Hub's scope check: which of `required` the caller's scopes grant (empty set = none).
   * Filters (`!user=`, `!server=`, `!service=`, `!group=`) are honoured as the Hub does.
   */
  checkScopes(required: string | Iterable<string>, user: Pick<HubUser, 'scopes'>): Set<string> {
    return checkScopes(required, user.scopes);
  }

  /** Whether `held` grants any of `required`; held scopes this version cannot parse grant nothing. */
  private grants(required: readonly string[], held: readonly string[]): boolean {
    try {
      return checkScopes(required, held).size > 0;
    } catch {
      // A newer Hub may send filter kinds we do not know: ignore those scopes instead of failing.
      const known = held.filter((scope) => {
        try {
          parseScope(scope);
          return true;
        } catch {
          return false;
        }
      });
      return checkScopes(required, known).size > 0;
    }
  }

  /**
   * {@link accessDenial}, remembered per (identity, policy): cached models and guard options are
   * the same objects request after request, so the scope check runs once per cache entry and route.
   */
  private cachedDenial(user: HubUser, policy: AccessPolicy): string | null {
    let byPolicy = this.decisions.get(user);
    if (!byPolicy) {
      byPolicy = new WeakMap();
      this.decisions.set(user, byPolicy);
    }
    let denial = byPolicy.get(policy);
    if (denial === undefined) {
      denial = this.accessDenial(user, policy);
      byPolicy.set(policy, denial);
    }
    return denial;
  }

  /** Why `user` may not pass `policy`, or `null` when it may. */
  accessDenial(user: HubUser, policy: AccessPolicy = {}): string | null {
    const who = `${user.kind} ${user.name} is not allowed`;
    const { config } = this;
    if (user.kind === 'user') {
      if (config.blockedUsers.has(user.name)) return `${who} (blocked)`;
      if (config.usernamePattern && !config.usernamePattern.test(user.name)) return `${who} (name does not match)`;
      if (config.allowedUsers && !config.allowedUsers.has(user.name)) return who;
    }
    // Only allowAll (accessScopes null, no policy list) skips the check: an explicit empty list grants
    // access to no one, as any-one-of-nothing should, rather than silently admitting every Hub identity.
    const required = policy.scopes ?? config.accessScopes;
    if (required && required.length === 0) return `${who}: no scope grants access here`;
    if (required && !this.grants(required, user.scopes)) {
      return `${who}: it lacks ${required.length === 1 ? 'the scope' : 'any of the scopes'} ${required.join(', ')}`;
    }
    const named = policy.hubUsers !== undefined || policy.hubGroups !== undefined;
    if (user.kind === 'service') {
      if (policy.allowServices === false || (named && policy.allowServices !== true)) return `${who} (services are not allowed here)`;
      return null;
    }
    if (named) {
      const byName = policy.hubUsers?.includes(user.name) ?? false;
      const byGroup = policy.hubGroups?.some((g) => user.groups.includes(g)) ?? false;
      if (!byName && !byGroup) return who;
    }
    return null;
  }

  /**
   * Identifies the caller of `request` without rejecting anyone. Never throws for bad input or an
   * unavailable Hub: see {@link Identity.error}.
   */
  async authenticate(request: HubRequest): Promise<Identity> {
    const identity: Identity = { user: null, source: null, error: null, rejected: false, setCookies: [], xsrfToken: null };
    try {
      const found = extractToken(request, this.config.allowTokenInUrl);
      if (!found) return identity;
      identity.source = found.source;
      const user = await this.userForToken(found.token, { sessionId: this.getSessionId(request), client: request.ip });
      if (!user) {
        identity.rejected = true;
        return identity;
      }
      identity.user = this.config.postAuthHook ? await this.applyHooks(user, request) : user;
      if (!identity.user) identity.error = new ForbiddenError(`${user.kind} ${user.name} is not allowed`);
    } catch (err) {
      identity.error = this.asError(err);
    }
    return identity;
  }

  /**
   * {@link authenticate} without waiting, for the common case: a well-formed token whose answer is
   * already cached, and no post-auth hook. `undefined` means "take the asynchronous path".
   */
  authenticateCached(request: HubRequest): Identity | undefined {
    if (this.config.postAuthHook) return undefined;
    let found;
    try {
      found = extractToken(request, this.config.allowTokenInUrl);
    } catch {
      return undefined;
    }
    if (!found) return undefined;
    const user = this.cache.peek(this.cache.key(found.token, this.getSessionId(request)));
    if (user === undefined) return undefined;
    return { user, source: found.source, error: null, rejected: user === null, setCookies: [], xsrfToken: null };
  }

  /** @internal Runs the post-auth hook; `null` means refused. */
  protected async applyHooks(user: HubUser, request: HubRequest): Promise<HubUser | null> {
    const hook = this.config.postAuthHook;
    if (!hook) return user;
    const result = await hook(user, { request });
    return result ? deepFreeze(result) : null;
  }

  /** @internal */
  protected asError(err: unknown): HubAuthError {
    if (isHubAuthError(err)) return err as HubAuthError;
    this.config.logger.error(`Unexpected error while authenticating: ${(err as Error)?.message ?? String(err)}`);
    return new HubUnavailableError('Authentication failed unexpectedly', { status: 502, cause: err });
  }

  /**
   * Decides a guarded request: allow, redirect to login (browser navigations, OAuth only), or deny
   * with 401/403/502/503. Identified-but-not-allowed callers always get 403, never a redirect loop.
   */
  authorize(identity: Identity, request: HubRequest, policy: AccessPolicy = {}): GuardDecision {
    if (identity.error && identity.error.status !== 401) return { action: 'deny', error: identity.error };
    const user = identity.user;
    if (!user) {
      const mode = policy.onUnauthenticated ?? 'auto';
      if (this.oauthEnabled && (mode === 'login' || (mode === 'auto' && isNavigation(request)))) {
        return { action: 'redirect', response: this.loginRedirect(request) };
      }
      return {
        action: 'deny',
        error: new UnauthenticatedError(
          identity.rejected ? 'The token is invalid or expired' : 'Authentication required',
          { realm: this.config.servicePrefix, invalidToken: identity.rejected },
        ),
      };
    }
    const denial = this.cachedDenial(user, policy);
    if (denial) {
      const scopes = policy.scopes ?? this.config.accessScopes ?? [];
      return { action: 'deny', error: new ForbiddenError(denial, { realm: this.config.servicePrefix, scopes }) };
    }
    return { action: 'allow', user };
  }

  /**
   * Serves this library's own routes (the OAuth callback and logout, {@link HubOAuth} only).
   * Returns `null` when the request is not one of them.
   */
  async route(_request: HubRequest): Promise<HubResponse | null> {
    return null;
  }

  /** Which of this library's own routes `request` is for, if any (a cheap, synchronous check). */
  ownRoute(_request: HubRequest): 'callback' | 'logout' | null {
    return null;
  }

  /** @internal The login redirect; only {@link HubOAuth} has one. */
  protected loginRedirect(_request: HubRequest): HubResponse {
    throw new UnauthenticatedError('Browser login is not enabled');
  }

  /**
   * Renders an error as a response: a small HTML page for browser navigations, JSON otherwise.
   * 5xx details stay in the logs; the client sees a generic message.
   */
  renderError(err: unknown, request: HubRequest): HubResponse {
    const error = isHubAuthError(err) ? (err as HubAuthError) : null;
    const status = error?.status ?? 500;
    const message =
      error && error.expose
        ? error.message
        : error?.code === 'ERR_HUBAUTH_HUB_UNAVAILABLE'
          ? 'JupyterHub is unavailable right now; try again shortly'
          : 'Authentication is temporarily unavailable';
    const headers: Record<string, string | string[]> = { ...(error?.headers ?? {}), 'cache-control': 'no-store' };
    if (isNavigation(request)) {
      headers['content-type'] = 'text/html; charset=utf-8';
      const title = `${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status >= 500 ? 'Service unavailable' : 'Bad request'}`;
      return {
        status,
        headers,
        body: `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${escapeHtml(message)}</p></body></html>`,
      };
    }
    headers['content-type'] = 'application/json; charset=utf-8';
    return { status, headers, body: JSON.stringify({ status, code: error?.code ?? 'ERR_HUBAUTH_INTERNAL', message }) };
  }

  /** Closes idle connections to the Hub. */
  close(): void {
    this.client.close();
  }
}
