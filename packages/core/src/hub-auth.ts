/**
 * `HubAuth`: token authentication against the Hub, the Node counterpart of Python's
 * `jupyterhub.services.auth.HubAuth` plus the access decisions of its `HubAuthenticated` mixin.
 *
 * A façade: it wires the parts (configuration, {@link UserLookup}, credential sources, access
 * policy, error rendering, and with browser login the login flow and its routes) and delegates to
 * them. ARCHITECTURE.md at the repository root maps which module owns what.
 */
import { resolveHubAuthConfig, type HubAuthConfig, type HubAuthOptions } from './config';
import { SESSION_ID_COOKIE, sessionIdOf } from './cookies';
import { headerToken, Identifier, type Identity, type IdentitySource } from './credentials';
import { ForbiddenError, UnauthenticatedError, type HubAuthError } from './errors';
import { callHubApi, callerToken, type HubApi, type HubApiResponse } from './hub-api';
import type { Login } from './login';
import { UserLookup } from './lookup';
import { accessDenial, DenialMemo, freezePolicy, type AccessPolicy } from './policy';
import { renderError } from './render';
import { isNavigation, isUnsafeMethod } from './request';
import { matchRoute, type HubRoute, type HubRouteName } from './routes';
import { checkScopes } from './scopes';
import { extractToken } from './token';
import type { HubRequest, HubResponse, HubUser } from './types';

export { freezePolicy, isNavigation, isUnsafeMethod, SESSION_ID_COOKIE };
export type { AccessPolicy, Identity, IdentitySource };

/** The outcome of a guard: let the request through, send a redirect, or fail with an error. */
export type GuardDecision =
  | {
      /** Let the request through. */
      action: 'allow';
      /** The caller, who passed the policy. */
      user: HubUser;
    }
  | {
      /** Send the browser to log in. */
      action: 'redirect';
      /** The redirect to send. */
      response: HubResponse;
    }
  | {
      /** Refuse the request. */
      action: 'deny';
      /** Why: its `status` is the answer's (401, 403, 503…). */
      error: HubAuthError;
    };

/** @internal What a façade is made of; {@link HubAuth.assemble} builds it. */
export interface HubAuthParts {
  config: HubAuthConfig;
  lookup: UserLookup;
  identifier: Identifier;
  /** Browser login, when enabled. */
  login: Login | null;
  /** The routes core serves itself (none without browser login). */
  routes: readonly HubRoute[];
}

/**
 * Token authentication against JupyterHub. Configuration comes from the options, else from the
 * `JUPYTERHUB_*` environment; it is validated here and a {@link ConfigError} names anything wrong.
 *
 * @example
 * ```ts
 * import { HubAuth } from '@hubauth/core';
 *
 * const auth = new HubAuth(); // JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN, ... from the environment
 * const user = await auth.userForToken(process.env.CALLER_TOKEN ?? ''); // HubUser | null
 * console.log(user?.name ?? 'not a valid token');
 * ```
 */
export class HubAuth {
  /** The validated configuration. */
  readonly config: HubAuthConfig;
  /** The routes an adapter must serve (the OAuth callback and logout with {@link HubOAuth}; none here). */
  readonly routes: readonly HubRoute[];
  /** @internal */ protected readonly parts: HubAuthParts;
  private readonly memo: DenialMemo;

  constructor(options: HubAuthOptions = {}) {
    // The subclass in use says what the façade is made of (HubOAuth adds browser login).
    this.parts = (new.target as typeof HubAuth).assemble(options);
    this.config = this.parts.config;
    this.routes = Object.freeze([...this.parts.routes]);
    this.memo = new DenialMemo(this.config);
  }

  /** @internal Token-only authentication: the `Authorization` header (or an allowed URL token). */
  protected static assemble(options: HubAuthOptions): HubAuthParts {
    const config = resolveHubAuthConfig(options);
    const lookup = new UserLookup(config);
    return { config, lookup, identifier: new Identifier([headerToken(lookup, config)], config), login: null, routes: [] };
  }

  /** Whether this instance can send browsers to the Hub's login (only {@link HubOAuth} can). */
  get oauthEnabled(): boolean {
    return this.parts.login !== null;
  }

  /** Hub lookups in flight right now. */
  get lookupsInFlight(): number {
    return this.parts.lookup.inFlight;
  }

  /** Number of identities in the cache. */
  get cacheSize(): number {
    return this.parts.lookup.size;
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
    return sessionIdOf(request.headers);
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
    const { client, priority } = options;
    return this.parts.lookup.user(token, options.sessionId ?? '', options.useCache !== false, { client, priority });
  }

  /**
   * Forgets a token's cached identity in every session, here and, with a `sharedCache`, on every
   * replica (the next request asks the Hub again). Returns the entries removed in this process.
   */
  invalidate(token: string): number {
    return this.parts.lookup.invalidate(token);
  }

  /**
   * Refuses a token here and, with a `sharedCache`, on every replica within milliseconds, for
   * `seconds` (default `cacheMaxAge`, at least 60), whatever the Hub says; logout does this for the
   * login cookie's token. Resolves when the shared store was told (or could not be); never rejects.
   *
   * @example
   * ```ts
   * import { HubAuth } from '@hubauth/core';
   *
   * const auth = new HubAuth();
   * export async function refuse(token: string) {
   *   await auth.revoke(token); // every replica now answers 401 for it
   * }
   * ```
   */
  revoke(token: string, options: { seconds?: number } = {}): Promise<void> {
    return this.parts.lookup.revoke(token, options.seconds ?? Math.max(60, this.config.cacheMaxAge));
  }

  /**
   * Calls the Hub API with this service's own token, e.g. `apiRequest('GET', '/users')`.
   * Resolves with `{ status, body }` (body parsed, `null` when empty).
   * Rejects with {@link ServiceCredentialsError} (401/403: the service's token or roles are wrong),
   * {@link HubApiError} (other 4xx/5xx; `hubStatus` says which) or {@link HubUnavailableError}.
   *
   * @example
   * ```ts
   * import { HubAuth } from '@hubauth/core';
   *
   * const auth = new HubAuth();
   * const { body: users } = await auth.apiRequest<{ name: string }[]>('GET', '/users');
   * console.log(users?.map((u) => u.name));
   * ```
   */
  apiRequest<T = unknown>(method: string, path: string, body?: unknown): Promise<HubApiResponse<T>> {
    return callHubApi<T>(this.parts.lookup.client, this.config.apiToken, 'service', method, path, body);
  }

  /**
   * Calls the Hub API as the caller identified in `identity`, with their own token (the OAuth token
   * of a browser login, the API token of a header or URL): the Hub decides what they may do. A 4xx
   * from the Hub rejects with a {@link HubApiError} of the same status (403 beyond their scopes).
   * Adapters expose this per request as `hubAuth.api(...)` (a `HubCaller`).
   */
  apiRequestAs<T = unknown>(identity: Identity, method: string, path: string, body?: unknown): Promise<HubApiResponse<T>> {
    return callHubApi<T>(this.parts.lookup.client, callerToken(identity) ?? '', 'caller', method, path, body);
  }

  /** {@link apiRequestAs} bound to one identity. */
  callerApi(identity: Identity): HubApi {
    return (method, path, body) => this.apiRequestAs(identity, method, path, body);
  }

  /**
   * The caller's Hub token, for code that must call the Hub (or pass the token on) itself. Keep it
   * on the server: never send it to the browser or write it to a log.
   */
  callerToken(identity: Identity): string | undefined {
    return callerToken(identity);
  }

  /**
   * The Hub's scope check: which of `required` the caller's scopes grant (empty set = none).
   * Filters (`!user=`, `!server=`, `!service=`, `!group=`) are honoured as the Hub does.
   */
  checkScopes(required: string | Iterable<string>, user: Pick<HubUser, 'scopes'>): Set<string> {
    return checkScopes(required, user.scopes);
  }

  /** Why `user` may not pass `policy`, or `null` when it may. */
  accessDenial(user: HubUser, policy: AccessPolicy = {}): string | null {
    return accessDenial(user, policy, this.config);
  }

  /**
   * Identifies the caller of `request` without rejecting anyone. Never throws for bad input or an
   * unavailable Hub: see {@link Identity.error}. With {@link HubOAuth}, a header (or allowed URL)
   * token first, else the login cookie, whose unsafe requests must carry a valid xsrf token.
   */
  authenticate(request: HubRequest): Promise<Identity> {
    return this.parts.identifier.identify(request);
  }

  /**
   * {@link authenticate} without waiting, for the common case: every answer needed is already
   * cached, and no post-auth hook runs. `undefined` means "take the asynchronous path".
   */
  authenticateCached(request: HubRequest): Identity | undefined {
    return this.parts.identifier.identifyCached(request);
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
      const { login } = this.parts;
      if (login && (mode === 'login' || (mode === 'auto' && isNavigation(request)))) {
        return { action: 'redirect', response: login.begin(request, request.url) };
      }
      // A 401 is an answer, not a fault: no stack trace is captured (under a flood of invalid tokens,
      // capturing it cost more than the rest of the refusal).
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        return {
          action: 'deny',
          error: new UnauthenticatedError(
            identity.rejected ? 'The token is invalid or expired' : 'Authentication required',
            { realm: this.config.servicePrefix, invalidToken: identity.rejected },
          ),
        };
      } finally {
        Error.stackTraceLimit = limit;
      }
    }
    const denial = this.memo.denial(user, policy);
    if (denial) {
      const scopes = policy.scopes ?? this.config.accessScopes ?? [];
      return { action: 'deny', error: new ForbiddenError(denial, { realm: this.config.servicePrefix, scopes }) };
    }
    if (identity.persistUrlToken) {
      // A shared link's `?token=`: the guard let the caller in, so the token becomes a login cookie.
      const { location, setCookies } = identity.persistUrlToken;
      return { action: 'redirect', response: { status: 302, headers: { location, 'cache-control': 'no-store', 'set-cookie': setCookies } } };
    }
    return { action: 'allow', user };
  }

  /**
   * Serves this library's own routes ({@link routes}: the OAuth callback and logout, {@link HubOAuth}
   * only). Returns `null` when the request is not one of them; rejects with a {@link HubAuthError}.
   */
  async route(request: HubRequest): Promise<HubResponse | null> {
    const route = matchRoute(this.routes, request);
    return route ? route.handler(request) : null;
  }

  /** Which of this library's own routes `request` is for, if any (a cheap, synchronous check). */
  ownRoute(request: HubRequest): HubRouteName | null {
    return matchRoute(this.routes, request)?.name ?? null;
  }

  /**
   * Renders an error as a response: a small HTML page for browser navigations, JSON otherwise.
   * 5xx details stay in the logs; the client sees a generic message.
   */
  renderError(err: unknown, request: HubRequest): HubResponse {
    return renderError(err, request);
  }

  /** Closes idle connections to the Hub. */
  close(): void {
    this.parts.lookup.close();
  }
}
