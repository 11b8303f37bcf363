/**
 * The request flow behind every adapter: {@link HubAuthFlow.identifyCached} (no waiting on a cache
 * hit), else {@link HubAuthFlow.identify} (core's own routes, then identification), then
 * {@link HubAuthFlow.guard} per guarded route. Each returns a {@link FlowStep} the adapter carries out.
 */
import { resolveOAuthEnabled, type HubAuthLogger, type HubAuthOptions, type HubOAuthOptions } from '../config';
import type { Identity } from '../credentials';
import { ConfigError, isHubAuthError, type HubAuthError } from '../errors';
import { HubAuth } from '../hub-auth';
import { HubOAuth } from '../hub-oauth';
import { freezePolicy, type AccessPolicy } from '../policy';
import { headerValue } from '../request';
import { matchRoute, type HubRoute } from '../routes';
import type { HubRequest, HubResponse } from '../types';
import { refuseUpgrade, upgradeRequest } from '../upgrade';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HubCaller } from './caller';

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
 * What the adapter must do next: `next` (go on to the application), `respond` (send core's
 * response), `error` (hand the error to the framework, `errors: 'throw'`).
 */
export type FlowStep =
  | {
      /** Go on to the application. */
      type: 'next';
    }
  | {
      /** Send core's response. */
      type: 'respond';
      /** The response (a redirect, the callback's result, a rendered error). */
      response: HubResponse;
    }
  | {
      /** Hand the error to the framework's error handling. */
      type: 'error';
      /** The error, with its `status`. */
      error: HubAuthError;
    };

/** The policy of an upgrade without one: the service's access rules only. */
const NO_POLICY: AccessPolicy = Object.freeze({});

// Upgrades never redirect: one derived (frozen) policy per guard policy, so decisions stay cached per object.
const upgradePolicies = new WeakMap<AccessPolicy, AccessPolicy>();
function upgradePolicy(policy: AccessPolicy): AccessPolicy {
  let derived = upgradePolicies.get(policy);
  if (!derived) {
    derived = freezePolicy({ ...policy, onUnauthenticated: 'reject' }, 'upgrade');
    upgradePolicies.set(policy, derived);
  }
  return derived;
}

/**
 * Validates a guard's options and returns a frozen copy. Adapters call it once, when a guard is
 * created (`hubAuthenticated(options)`), so that editing the options object later cannot give
 * callers different policies; a malformed option is a {@link ConfigError} at start-up.
 *
 * @example
 * ```ts
 * import type { IncomingMessage, ServerResponse } from 'node:http';
 * import { carried, freezeGuardOptions, sendNode, type HubAuthenticatedOptions } from '@hubauth/core/adapter';
 *
 * export function hubAuthenticated(options: HubAuthenticatedOptions = {}) {
 *   const policy = freezeGuardOptions(options); // validated once, at construction
 *   return (req: IncomingMessage, res: ServerResponse, next: (err?: Error) => void) => {
 *     const carrier = carried(req); // left on the request by the adapter's hubAuth()
 *     if (!carrier) return next(new Error('hubAuth() must run before hubAuthenticated()'));
 *     const step = carrier.flow.guard(carrier.state, policy);
 *     if (step.type === 'next') next();
 *     else if (step.type === 'respond') sendNode(res, step.response);
 *     else next(step.error);
 *   };
 * }
 * ```
 */
export function freezeGuardOptions(options: HubAuthenticatedOptions = {}): Readonly<HubAuthenticatedOptions> {
  const errors: unknown = (options as { errors?: unknown } | null)?.errors;
  if (errors !== undefined && errors !== 'respond' && errors !== 'throw') {
    throw new ConfigError('hubAuthenticated.errors', 'must be "respond" or "throw"');
  }
  return freezePolicy(options);
}

/** The common step, shared: it is returned on every allowed request. */
const NEXT: FlowStep = Object.freeze({ type: 'next' });

/**
 * Builds {@link HubOAuth} or {@link HubAuth} from adapter options.
 *
 * @example
 * ```ts
 * import { createHubAuth } from '@hubauth/core/adapter';
 *
 * const auth = createHubAuth({ oauth: false }); // token-only, configured from JUPYTERHUB_*
 * ```
 */
export function createHubAuth(options: HubAuthMiddlewareOptions = {}, ownOptionNames: readonly string[] = []): HubAuth {
  if (options.instance !== undefined) {
    if (!(options.instance instanceof HubAuth)) throw new ConfigError('instance', 'must be a HubAuth or HubOAuth');
    return options.instance;
  }
  // An adapter's own options (e.g. a proxy's `upstream`) are not core's: every other name is checked,
  // so that a typo is a ConfigError rather than a silently ignored option.
  let core: HubAuthMiddlewareOptions = options;
  if (ownOptionNames.length) {
    core = { ...options };
    for (const name of ownOptionNames) delete (core as Record<string, unknown>)[name];
  }
  return resolveOAuthEnabled(core) ? new HubOAuth(core) : new HubAuth(core as HubAuthOptions);
}

/** Per-request state an adapter keeps between `identify` and `guard`. */
export interface RequestAuthState {
  /** Core's view of the request. */
  request: HubRequest;
  /** Who is calling, and how they were identified (anonymous callers too). */
  identity: Identity;
}

/**
 * The framework-independent request flow behind every adapter.
 *
 * @example
 * ```ts
 * import type { HubRequest } from '@hubauth/core';
 * import { HubAuthFlow } from '@hubauth/core/adapter';
 *
 * const flow = new HubAuthFlow({ oauth: false });
 *
 * export async function staffOnly(view: HubRequest) {
 *   const state = flow.identifyCached(view) ?? (await flow.identify(view)).state;
 *   return flow.guard(state, { hubGroups: ['staff'] }); // next | respond | error
 * }
 * ```
 */
export class HubAuthFlow {
  /** The authenticator in use. */
  readonly auth: HubAuth;
  /** Default error mode. */
  readonly errors: ErrorMode;
  /** The routes core serves itself (OAuth callback, logout); an adapter that routes by path mounts these. */
  readonly routes: readonly HubRoute[];

  /**
   * @param options - The middleware's options.
   * @param ownOptionNames - Names of the adapter's own options in `options`, which core does not check.
   */
  constructor(options: HubAuthMiddlewareOptions = {}, ownOptionNames: readonly string[] = []) {
    const errors = options.errors ?? 'respond';
    if (errors !== 'respond' && errors !== 'throw') throw new ConfigError('errors', `must be "respond" or "throw", got ${JSON.stringify(String(errors))}`);
    this.errors = errors;
    this.auth = createHubAuth(options, ownOptionNames);
    this.routes = this.auth.routes;
  }

  /**
   * First step of every request: serves core's own routes, otherwise identifies the caller without
   * rejecting anyone.
   */
  async identify(request: HubRequest): Promise<{
    /** What to do next. */
    step: FlowStep;
    /** The caller's state for the guards; `null` when core answered (its own routes). */
    state: RequestAuthState | null;
  }> {
    const route = matchRoute(this.routes, request);
    if (route) {
      try {
        return { step: { type: 'respond', response: await route.handler(request) }, state: null };
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
    if (this.routes.length !== 0 && matchRoute(this.routes, request)) return undefined;
    const identity = this.auth.authenticateCached(request);
    return identity && { request, identity };
  }

  /** A guarded route: let through (`allow` → `next`), redirect to login (`redirect` → `respond`), or fail (`deny` → `respond`/`error`). */
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
  async upgrade(
    request: HubRequest,
    policy: HubAuthenticatedOptions = NO_POLICY,
  ): Promise<
    | {
        /** The caller, who passed the policy. */
        caller: HubCaller;
      }
    | {
        /** The refusal to write on the socket (401, 403, 503). */
        response: HubResponse;
      }
  > {
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
   * ```ts
   * import { createServer } from 'node:http';
   * import { WebSocketServer } from 'ws';
   * import { HubAuthFlow } from '@hubauth/core/adapter';
   *
   * const flow = new HubAuthFlow();
   * const wss = new WebSocketServer({ noServer: true });
   * const server = createServer((req, res) => res.end()).listen(10101, '127.0.0.1');
   * server.on('upgrade', async (req, socket, head) => {
   *   const caller = await flow.authenticateUpgrade(req, socket);
   *   if (caller) wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${caller.user?.name}`));
   * });
   * ```
   */
  async authenticateUpgrade(req: IncomingMessage, socket: Duplex, policy: HubAuthenticatedOptions = NO_POLICY): Promise<HubCaller | null> {
    const result = await this.upgrade(upgradeRequest(req), policy);
    if ('caller' in result) return result.caller;
    refuseUpgrade(socket, result.response);
    return null;
  }

  /** Turns an error into a response or hands it on, per the error mode. Non-hubauth errors are rethrown. */
  fail(err: unknown, request: HubRequest, mode: ErrorMode = this.errors): FlowStep {
    if (!isHubAuthError(err)) throw err;
    // Refusals are logged only in debug mode; the check comes first so that, off, no line is built.
    if (err.status < 500) {
      if (this.auth.config.debug) logDebug(request.log ?? this.auth.config.logger, logLine(err, request));
    } else if (mode === 'respond') {
      (request.log ?? this.auth.config.logger).warn(logLine(err, request));
    }
    if (mode === 'throw') return { type: 'error', error: err };
    return { type: 'respond', response: this.auth.renderError(err, request) };
  }
}

/** A request id from a client header is only shown when it is short and plainly printable (no log forging). */
const PRINTABLE_ID = /^[\x21-\x7e]{1,128}$/;

/** The request's id: the framework's, else a plain `X-Request-Id` header. */
function requestIdOf(request: HubRequest): string | undefined {
  if (request.requestId !== undefined) return request.requestId;
  const header = headerValue(request.headers, 'x-request-id');
  return header !== undefined && PRINTABLE_ID.test(header) ? header : undefined;
}

/**
 * One log line: code, message, request id. Error messages name what was required, never a token,
 * cookie or secret; the URL (which may carry `?token=`) is left out.
 */
function logLine(err: HubAuthError, request: HubRequest): string {
  const id = requestIdOf(request);
  return id === undefined ? `${err.code}: ${err.message}` : `${err.code}: ${err.message} (request ${id})`;
}

/** Debug level where the logger has it and lets it through (pino's level), else info. */
function logDebug(logger: HubAuthLogger, line: string): void {
  const leveled = logger as HubAuthLogger & { isLevelEnabled?: (level: string) => boolean };
  if (typeof logger.debug === 'function' && (typeof leveled.isLevelEnabled !== 'function' || leveled.isLevelEnabled('debug'))) logger.debug(line);
  else if (typeof logger.info === 'function') logger.info(line);
  else logger.warn(line);
}
