/**
 * The adapter kit: everything a framework adapter needs, so that `@hubauth/express`, `@hubauth/koa`
 * and `@hubauth/fastify` only translate requests and responses. They call {@link HubAuthFlow.identify}
 * once per request and {@link HubAuthFlow.guard} per guarded route, and carry out the step returned.
 */
import type { HubAuthOptions, HubOAuthOptions } from './config';
import { ConfigError, HubAuthError, isHubAuthError } from './errors';
import { HubAuth, type AccessPolicy, type Identity } from './hub-auth';
import { HubOAuth } from './hub-oauth';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubApi, HubApiResponse } from './hub-api';
import { refuseUpgrade, upgradeRequest } from './upgrade';
import type { HubRequest, HubResponse, HubUser } from './types';

/** How guards report failures: send core's response (JSON or HTML), or hand the error to the framework. */
export type ErrorMode = 'respond' | 'throw';

/** Options of every adapter's `hubAuth()`. */
export interface HubAuthMiddlewareOptions extends HubOAuthOptions {
  /**
   * Browser login through the Hub (`HubOAuthenticated`). Default: on when a client id is configured
   * (`JUPYTERHUB_CLIENT_ID`); `false` gives token-only authentication (`HubAuthenticated`).
   */
  oauth?: boolean;
  /** Use this instance instead of building one from the options. */
  instance?: HubAuth;
  /**
   * `respond` (default): failures are answered with core's response — JSON for API clients, a small
   * HTML page for browsers. `throw`: they go to the framework's error handling as typed
   * {@link HubAuthError}s (Express `next(err)`, Koa `throw`, Fastify `setErrorHandler`).
   */
  errors?: ErrorMode;
}

/** Options of every adapter's `hubAuthenticated()` guard. */
export interface HubAuthenticatedOptions extends AccessPolicy {
  /** Overrides the `errors` mode of `hubAuth()` for this route. */
  errors?: ErrorMode;
}

/** What the adapter must do next. */
export type FlowStep =
  | { type: 'next' }
  | { type: 'respond'; response: HubResponse }
  | { type: 'error'; error: HubAuthError };

// Upgrades never redirect: one derived policy per guard policy, so decisions stay cached per object.
const upgradePolicies = new WeakMap<AccessPolicy, AccessPolicy>();
function upgradePolicy(policy: AccessPolicy): AccessPolicy {
  let derived = upgradePolicies.get(policy);
  if (!derived) {
    derived = { ...policy, onUnauthenticated: 'reject' };
    upgradePolicies.set(policy, derived);
  }
  return derived;
}

/** The common step, shared: it is returned on every allowed request. */
const NEXT: FlowStep = Object.freeze({ type: 'next' });

/** Builds {@link HubOAuth} or {@link HubAuth} from adapter options. */
export function createHubAuth(options: HubAuthMiddlewareOptions = {}): HubAuth {
  if (options.instance !== undefined) {
    if (!(options.instance instanceof HubAuth)) throw new ConfigError('instance', 'must be a HubAuth or HubOAuth');
    return options.instance;
  }
  const env = options.env ?? process.env;
  const oauth = options.oauth ?? Boolean(options.clientId ?? env.JUPYTERHUB_CLIENT_ID);
  if (typeof oauth !== 'boolean') throw new ConfigError('oauth', 'must be true or false');
  return oauth ? new HubOAuth(options) : new HubAuth(options as HubAuthOptions);
}

/** Per-request state an adapter keeps between `identify` and `guard`. */
export interface RequestAuthState {
  request: HubRequest;
  identity: Identity;
}

/** The framework-independent request flow behind every adapter. */
export class HubAuthFlow {
  /** The authenticator in use. */
  readonly auth: HubAuth;
  /** Default error mode. */
  readonly errors: ErrorMode;

  constructor(options: HubAuthMiddlewareOptions = {}) {
    const errors = options.errors ?? 'respond';
    if (errors !== 'respond' && errors !== 'throw') throw new ConfigError('errors', 'must be "respond" or "throw"');
    this.errors = errors;
    this.auth = createHubAuth(options);
  }

  /**
   * First step of every request: serves the OAuth callback and logout routes, otherwise identifies
   * the caller without rejecting anyone.
   */
  async identify(request: HubRequest): Promise<{ step: FlowStep; state: RequestAuthState | null }> {
    if (this.auth.ownRoute(request)) {
      try {
        const routed = await this.auth.route(request);
        if (routed) return { step: { type: 'respond', response: routed }, state: null };
      } catch (err) {
        return { step: this.fail(err, request), state: null };
      }
    }
    const identity = await this.auth.authenticate(request);
    return { step: NEXT, state: { request, identity } };
  }

  /**
   * {@link identify} without waiting, when the caller's token is already in the cache (most
   * requests). `undefined` means: call {@link identify}.
   */
  identifyCached(request: HubRequest): RequestAuthState | undefined {
    if (this.auth.ownRoute(request)) return undefined;
    const identity = this.auth.authenticateCached(request);
    return identity && { request, identity };
  }

  /** A guarded route: let through, redirect to login, or fail (per the error mode). */
  guard(state: RequestAuthState | null | undefined, options: HubAuthenticatedOptions = {}): FlowStep {
    if (!state) {
      return {
        type: 'error',
        error: new ConfigError('hubAuthenticated', 'the hubAuth() middleware must run before hubAuthenticated() guards'),
      };
    }
    const decision = this.auth.authorize(state.identity, state.request, options);
    if (decision.action === 'allow') return NEXT;
    if (decision.action === 'redirect') return { type: 'respond', response: decision.response };
    return this.fail(decision.error, state.request, options.errors);
  }

  /**
   * A websocket upgrade: identification and `policy` as for any request, but never a login redirect
   * (an anonymous caller gets 401) and always a response, whatever the error mode. Resolves with
   * the caller, or with the response to refuse the upgrade with.
   */
  async upgrade(request: HubRequest, policy: HubAuthenticatedOptions = {}): Promise<{ caller: HubCaller } | { response: HubResponse }> {
    const { step, state } = await this.identify(request);
    if (step.type === 'respond') return { response: step.response };
    if (step.type === 'error' || !state) return { response: this.auth.renderError(step.type === 'error' ? step.error : null, request) };
    const decision = this.auth.authorize(state.identity, request, upgradePolicy(policy));
    if (decision.action === 'allow') return { caller: new HubCaller(this.auth, state.identity) };
    if (decision.action === 'redirect') return { response: decision.response };
    return { response: this.auth.renderError(decision.error, request) };
  }

  /**
   * {@link upgrade} for Node's `server.on('upgrade', (req, socket, head) => …)`: resolves with the
   * caller, or writes the refusal (401/403/503) on the socket and resolves with `null`.
   *
   * @example
   * ```js
   * server.on('upgrade', async (req, socket, head) => {
   *   const caller = await auth.flow.authenticateUpgrade(req, socket);
   *   if (caller) wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, caller));
   * });
   * ```
   */
  async authenticateUpgrade(req: IncomingMessage, socket: Duplex, policy: HubAuthenticatedOptions = {}): Promise<HubCaller | null> {
    const result = await this.upgrade(upgradeRequest(req), policy);
    if ('caller' in result) return result.caller;
    refuseUpgrade(socket, result.response);
    return null;
  }

  /** Turns an error into a response or hands it on, per the error mode. */
  fail(err: unknown, request: HubRequest, mode: ErrorMode = this.errors): FlowStep {
    if (isHubAuthError(err) && mode === 'throw') return { type: 'error', error: err as HubAuthError };
    if (!isHubAuthError(err)) throw err;
    const response = this.auth.renderError(err, request);
    if ((err as HubAuthError).status >= 500) {
      this.auth.config.logger.warn(`${(err as HubAuthError).code}: ${(err as HubAuthError).message}`);
    }
    return { type: 'respond', response };
  }
}

/**
 * What a handler gets per request to act as its caller (`req.hubAuth` in Express, `ctx.state.hubAuth`
 * in Koa, `request.hubAuth` in Fastify): the same shape in every adapter.
 *
 * @example
 * ```ts
 * app.get('/servers', hubAuthenticated({ requireScopes: ['read:servers!user'] }), async (req, res) => {
 *   const { body } = await req.hubAuth.api('GET', `/users/${req.hubUser.name}`);
 *   res.json(body.servers);
 * });
 * ```
 */
export class HubCaller {
  /** Calls the Hub API with the caller's own token; see {@link HubAuth.apiRequestAs}. */
  readonly api: HubApi;
  // Private fields stay out of JSON.stringify and util.inspect, so a logged carrier shows no token.
  readonly #auth: HubAuth;
  readonly #identity: Identity;

  constructor(auth: HubAuth, identity: Identity) {
    this.#auth = auth;
    this.#identity = identity;
    this.api = <T = unknown>(method: string, path: string, body?: unknown): Promise<HubApiResponse<T>> =>
      auth.apiRequestAs<T>(identity, method, path, body);
  }

  /** The caller, when the Hub identified one. */
  get user(): HubUser | null {
    return this.#identity.user;
  }

  /** The xsrf token for forms and scripts (browser sessions only). */
  get xsrfToken(): string | null {
    return this.#identity.xsrfToken;
  }

  /**
   * The caller's Hub token (OAuth token of a browser login, API token of a header or URL). For
   * server-side use only: never send it to the browser or write it to a log.
   */
  get token(): string | undefined {
    return this.#auth.callerToken(this.#identity);
  }

  /** Without the token: what `JSON.stringify` of the carrier shows. */
  toJSON(): { user: HubUser | null } {
    return { user: this.user };
  }
}
