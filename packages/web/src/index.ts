/**
 * `@hubauth/web`: JupyterHub authentication for Web-standard `fetch` handlers — `Bun.serve`,
 * `Deno.serve`, Next.js route handlers, `@hono/node-server` — the counterpart of Python's
 * `HubAuthenticated`/`HubOAuthenticated` for `(request: Request) => Response`.
 *
 * ```js
 * Bun.serve({ fetch: hubAuthenticated((request, { hubUser }) => Response.json(hubUser)) });
 * ```
 * @packageDocumentation
 * @module @hubauth/web
 */
import type { HubAuth, HubUser } from '@hubauth/core';
import { HubAuthFlow, HubCaller, WebHubRequest, finishWebResponse, freezeGuardOptions, identifyWebRequest, identifyWebView, toWebResponse, type FlowStep, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type RequestAuthState } from '@hubauth/core/adapter';

export * from '@hubauth/core';

/** Options of {@link hubAuth}: those of every adapter's `hubAuth()`, plus how to read a Web request. */
export interface WebHubAuthOptions extends HubAuthMiddlewareOptions {
  /** Believe `X-Forwarded-Proto` for the Secure cookie decision (behind JupyterHub's proxy). Default `false`. */
  trustProxy?: boolean;
}

/** Options of {@link hubAuthenticated}: {@link WebHubAuthOptions} plus the guard's access policy. */
export interface HubAuthenticatedWebOptions extends WebHubAuthOptions, HubAuthenticatedOptions {}

/** What a handler learns besides the request. */
export interface HubContext<User extends HubUser | null = HubUser> {
  /** The caller (`null` only in {@link WebHubAuth.open} handlers, for anonymous callers). */
  hubUser: User;
  /** The xsrf token for forms (`_xsrf` field) and scripts (`X-XSRFToken` header); `null` without a login cookie. */
  xsrfToken: string | null;
  /** The runtime's second argument (Bun's `Server`, Deno's `ServeHandlerInfo`, Next.js's route context). */
  env: unknown;
  /**
   * Acts for the caller: `hubAuth.api('GET', '/users/alice')` with their own token (`null` only in
   * {@link WebHubAuth.open} handlers, for anonymous callers).
   */
  hubAuth: User extends HubUser ? HubCaller : HubCaller | null;
}

/** An application handler. */
export type HubHandler<User extends HubUser | null = HubUser> = (request: Request, context: HubContext<User>) => Response | Promise<Response>;
/**
 * A `fetch` handler, as `Bun.serve`, `Deno.serve` and Next.js route handlers take it. A cached caller
 * whose handler answers synchronously is answered synchronously; anything else is a promise.
 */
export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/** Whether a handler's answer is still to come. */
function isPromiseLike(value: Response | Promise<Response>): value is Promise<Response> {
  return typeof (value as { then?: unknown }).then === 'function';
}
/** The first step of a request: an answer (callback, logout, an error) or the caller's state. */
export type Identification =
  | {
      /** The answer to send. */
      response: Response;
      /** No caller state: core answered. */
      state: null;
    }
  | {
      /** No answer: go on. */
      response: null;
      /** The caller's state, for {@link WebHubAuth.guard}. */
      state: RequestAuthState;
    };

/** The lower-level pieces, for composing routes differently (see the README's Next.js recipe). */
export interface WebHubAuth {
  /** The core authenticator (`HubAuth` or `HubOAuth`) and the flow around it. */
  readonly auth: HubAuth;
  /** The flow, as in {@link WebHubAuth.auth}. */
  readonly flow: HubAuthFlow;
  /** Serves `<prefix>oauth_callback` and `<prefix>logout`, otherwise identifies the caller without rejecting anyone. */
  identify(request: Request, env?: unknown): Promise<Identification>;
  /** `null` when the policy lets the caller through, else the answer (a login redirect, 401, 403, 503). */
  guard(state: RequestAuthState, policy?: HubAuthenticatedOptions): Response | null;
  /** A guarded handler (serving the callback and logout routes too). */
  protect(handler: HubHandler, policy?: HubAuthenticatedOptions): FetchHandler;
  /** A handler that identifies callers without guarding (`hubUser` may be `null`). */
  open(handler: HubHandler<HubUser | null>): FetchHandler;
  /** Serves only the callback and logout routes (404 otherwise): mount it at `<prefix>oauth_callback` and `<prefix>logout`. */
  readonly routes: FetchHandler;
}

/**
 * The authenticator for several handlers that share one login (one callback, one cookie).
 * @example
 * ```ts
 * import { hubAuth } from '@hubauth/web';
 *
 * // Several handlers, one login (in Next.js, make it at the first request: see the README's recipe).
 * const hub = hubAuth();
 * export const me = hub.protect((request, { hubUser }) => Response.json(hubUser));
 * export const staff = hub.protect(() => new Response('hello staff'), { hubGroups: ['staff'] });
 * ```
 */
export function hubAuth(options: WebHubAuthOptions = {}): WebHubAuth {
  const flow = new HubAuthFlow(options);
  const trustProxy = options.trustProxy === true;
  const notFound = () => new Response('Not Found', { status: 404 });
  const settle = (step: FlowStep): Response | null => {
    if (step.type === 'next') return null;
    if (step.type === 'respond') return toWebResponse(step.response);
    throw step.error;
  };
  /** Core's first step as an answer to send or the caller's state. */
  const identification = ({ step, state }: { step: FlowStep; state: RequestAuthState | null }): Identification => {
    const response = settle(step);
    return response || !state ? { response: response ?? notFound(), state: null } : { response: null, state };
  };
  const identify = async (request: Request, env?: unknown): Promise<Identification> =>
    identification(await identifyWebRequest(flow, request, { env, trustProxy }));
  const guard = (state: RequestAuthState, policy?: HubAuthenticatedOptions): Response | null => settle(flow.guard(state, policy));
  /** The guard, then the handler, for an identified caller: synchronous when the handler is. */
  const serve = (handler: HubHandler<HubUser | null>, policy: HubAuthenticatedOptions | null, request: Request, env: unknown, state: RequestAuthState): Response | Promise<Response> => {
    const { user, xsrfToken, setCookies } = state.identity;
    const denied = policy && guard(state, policy);
    if (denied) return finishWebResponse(request, denied, setCookies, env);
    const hubAuth = user ? new HubCaller(flow.auth, state.identity) : null;
    const answer = handler(request, { hubUser: user, xsrfToken, env, hubAuth } as HubContext<HubUser | null>);
    return isPromiseLike(answer) ? Promise.resolve(answer).then((response) => finishWebResponse(request, response, setCookies, env)) : finishWebResponse(request, answer, setCookies, env);
  };
  const wrap = (handler: HubHandler<HubUser | null>, policy: HubAuthenticatedOptions | null): FetchHandler => {
    const identifyThenServe = async (view: WebHubRequest, env: unknown): Promise<Response> => {
      const { response, state } = identification(await identifyWebView(flow, view));
      return state ? serve(handler, policy, view.request, env, state) : finishWebResponse(view.request, response, [], env);
    };
    // A cached caller is answered without a promise of hubauth's own: runtimes (`@hono/node-server`
    // among them) send a Response returned synchronously by a shorter path than an awaited one.
    return (request, env) => {
      try {
        const view = new WebHubRequest(request, { env, trustProxy });
        const state = flow.identifyCached(view);
        return state ? serve(handler, policy, request, env, state) : identifyThenServe(view, env);
      } catch (err) {
        // Errors reach the runtime as they would from an async handler: as a rejection.
        return Promise.reject(err);
      }
    };
  };
  return {
    auth: flow.auth,
    flow,
    identify,
    guard,
    protect: (handler, policy = {}) => wrap(handler as HubHandler<HubUser | null>, freezeGuardOptions(policy)),
    open: (handler) => wrap(handler, null),
    routes: async (request, env) => finishWebResponse(request, (await identify(request, env)).response ?? notFound(), [], env),
  };
}

/**
 * One function that is a whole service: serves `<prefix>oauth_callback` and `<prefix>logout`, sends
 * browsers without a login to the Hub, answers 401/403 to callers who may not pass, and calls
 * `handler` with the caller otherwise.
 * @example
 * ```ts
 * import { hubAuthenticated } from '@hubauth/web';
 *
 * // Bun; on Deno: Deno.serve(handler)
 * const handler = hubAuthenticated((request, { hubUser }) => new Response(`Hello ${hubUser.name}`), { hubGroups: ['staff'] });
 * Bun.serve({ port: 10101, fetch: (request) => handler(request) });
 * ```
 */
export function hubAuthenticated(handler: HubHandler, options: HubAuthenticatedWebOptions = {}): FetchHandler {
  const { scopes, requireScopes, hubUsers, hubGroups, hubServices, allowServices, onUnauthenticated, errors } = options;
  return hubAuth(options).protect(handler, { scopes, requireScopes, hubUsers, hubGroups, hubServices, allowServices, onUnauthenticated, errors });
}
