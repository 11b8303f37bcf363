/**
 * The adapter kit: everything a framework adapter needs, so that `@hubauth/express`, `@hubauth/koa`
 * and `@hubauth/fastify` only translate requests and responses. They call {@link HubAuthFlow.identify}
 * once per request and {@link HubAuthFlow.guard} per guarded route, and carry out the step returned.
 */
import type { HubAuthOptions, HubOAuthOptions } from './config';
import { ConfigError, HubAuthError, isHubAuthError } from './errors';
import { HubAuth, freezePolicy, type AccessPolicy, type Identity } from './hub-auth';
import { HubOAuth } from './hub-oauth';
import type { HubRequest, HubResponse } from './types';

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

/**
 * Validates a guard's options and returns a frozen copy. Adapters call it once, when a guard is
 * created, so that editing the options object later cannot give callers different policies.
 */
export function freezeGuardOptions(options: HubAuthenticatedOptions = {}): Readonly<HubAuthenticatedOptions> {
  const errors: unknown = (options as { errors?: unknown } | null)?.errors;
  if (errors !== undefined && errors !== 'respond' && errors !== 'throw') {
    throw new ConfigError('hubAuthenticated.errors', 'must be "respond" or "throw"');
  }
  return freezePolicy(options);
}

/** What the adapter must do next. */
export type FlowStep =
  | { type: 'next' }
  | { type: 'respond'; response: HubResponse }
  | { type: 'error'; error: HubAuthError };

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
