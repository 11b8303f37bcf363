/**
 * `@hubauth/hono`: JupyterHub authentication middleware for Hono 4, on Node, Bun and Deno.
 *
 * ```ts
 * const app = new Hono<HubAuthEnv>();
 * app.use(hubAuth());                          // identifies callers, serves oauth_callback and logout
 * app.get('/services/whoami/', hubAuthenticated(), (c) => c.json(c.get('hubUser')));
 * ```
 * @packageDocumentation
 * @module @hubauth/hono
 */
import { ConfigError, type HubAuth, type HubUser } from '@hubauth/core';
import { HubAuthFlow, HubCaller, WebHubRequest, carried, carry, finishWebResponse, freezeGuardOptions, identifyWebView, needsFinishing, toWebResponse, type FlowStep, type RequestAuthState, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions } from '@hubauth/core/adapter';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export * from '@hubauth/core';
export { requireHubUser } from './require-hub-user';

/** The variables `hubAuth()` sets, for `new Hono<{ Variables: HubAuthVariables }>()`. */
export interface HubAuthVariables {
  /** The caller, when the Hub identified one. */
  hubUser: HubUser | undefined;
  /** The xsrf token for forms (`_xsrf` field) and scripts (`X-XSRFToken` header); `null` without a login cookie. */
  xsrfToken: string | null | undefined;
  /** Acts for the caller: `c.get('hubAuth')?.api('GET', '/users/alice')` with their own token. */
  hubAuth: HubCaller | undefined;
}

/** The Hono environment of an app using hubauth: `new Hono<HubAuthEnv>()`. */
export interface HubAuthEnv {
  /** What `c.get()` returns. */
  Variables: HubAuthVariables;
}

/**
 * The environment behind a {@link hubAuthenticated} guard: the caller is known. Hono merges it into
 * the handlers after the guard, so there `c.get('hubUser')` is a `HubUser`, without `!` or a check.
 */
export interface HubAuthGuardedEnv {
  /** What `c.get()` returns behind the guard. */
  Variables: Omit<HubAuthVariables, 'hubUser'> & {
    /** The caller, who passed the guard. */
    hubUser: HubUser;
  };
}

/** Options of {@link hubAuth}: those of every adapter, plus how to read the request. */
export interface HonoHubAuthOptions extends HubAuthMiddlewareOptions {
  /** Believe `X-Forwarded-Proto` for the Secure cookie decision (behind JupyterHub's proxy). Default `false`. */
  trustProxy?: boolean;
}

/** The middleware returned by {@link hubAuth}, with the authenticator it uses. */
export type HubAuthMiddleware = MiddlewareHandler<HubAuthEnv> & {
  /** The core authenticator (`HubAuth` or `HubOAuth`). */
  readonly auth: HubAuth;
  /** The flow shared with the guards. */
  readonly flow: HubAuthFlow;
};

/** Carries out a step: `undefined` to go on, a response to answer, or an `HTTPException` (errors: 'throw'). */
function settle(flow: HubAuthFlow, step: FlowStep, c: Context): Response | undefined {
  if (step.type === 'next') return undefined;
  if (step.type === 'respond') return toWebResponse(step.response);
  // Hono's error handling answers an HTTPException with its response; `cause` is the typed HubAuthError.
  const res = toWebResponse(flow.auth.renderError(step.error, new WebHubRequest(c.req.raw, { env: c.env })));
  throw new HTTPException(step.error.status as ContentfulStatusCode, { res, message: step.error.message, cause: step.error });
}

/**
 * Identifies the caller of every request (without rejecting anyone), sets `c.get('hubUser')` and
 * `c.get('xsrfToken')`, and serves `<prefix>oauth_callback` and `<prefix>logout` when browser login is on.
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { hubAuth, type HubAuthEnv } from '@hubauth/hono';
 *
 * const app = new Hono<HubAuthEnv>();
 * app.use(hubAuth({ trustProxy: true })); // behind JupyterHub's proxy: believe X-Forwarded-Proto
 * app.get('/services/whoami/', (c) => c.json({ caller: c.get('hubUser')?.name ?? null })); // HubUser | undefined here
 * ```
 */
export function hubAuth(options: HonoHubAuthOptions = {}): HubAuthMiddleware {
  const flow = new HubAuthFlow(options);
  const trustProxy = options.trustProxy === true;
  const remember = (c: Context<HubAuthEnv>, state: RequestAuthState | null): void => {
    carry(c, flow, state);
    if (!state) return;
    c.set('hubUser', state.identity.user ?? undefined);
    c.set('xsrfToken', state.identity.xsrfToken);
    c.set('hubAuth', state.identity.user ? new HubCaller(flow.auth, state.identity) : undefined);
  };
  const finish = async (c: Context<HubAuthEnv>, next: Next, cookies: readonly string[]): Promise<void> => {
    await next();
    const res = finishWebResponse(c.req.raw, c.res, cookies, c.env);
    if (res !== c.res) c.res = res;
  };
  const identify = async (c: Context<HubAuthEnv>, next: Next, view: WebHubRequest): Promise<Response | void> => {
    const { step, state } = await identifyWebView(flow, view);
    remember(c, state);
    const answer = settle(flow, step, c);
    if (answer) return finishWebResponse(c.req.raw, answer, [], c.env);
    return finish(c, next, state?.identity.setCookies ?? []);
  };
  // Not async: a cached caller whose response needs nothing added goes straight on, without a frame of ours to await.
  const middleware: MiddlewareHandler<HubAuthEnv> = (c, next) => {
    const view = new WebHubRequest(c.req.raw, { env: c.env, trustProxy });
    const cached = flow.identifyCached(view);
    if (!cached) return identify(c, next, view);
    remember(c, cached);
    if (cached.identity.setCookies.length === 0 && !needsFinishing(c.req.raw, c.env)) return next();
    return finish(c, next, cached.identity.setCookies);
  };
  return Object.assign(middleware, { auth: flow.auth, flow });
}

/**
 * Guards a route: lets allowed callers through; otherwise redirects browsers to the Hub's login,
 * answers 401 to API clients without valid credentials, and 403 to identified callers who are not
 * allowed (`hubUsers`, `hubGroups`, `scopes`, `allowServices`).
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { hubAuth, hubAuthenticated, type HubAuthEnv } from '@hubauth/hono';
 *
 * const app = new Hono<HubAuthEnv>();
 * app.use(hubAuth());
 * // Behind the guard, c.get('hubUser') is a HubUser: no `!`, no check.
 * app.get('/services/whoami/staff', hubAuthenticated({ hubGroups: ['staff'] }), (c) => c.text(`hello ${c.get('hubUser').name}`));
 * ```
 */
export function hubAuthenticated(options: HubAuthenticatedOptions = {}): MiddlewareHandler<HubAuthGuardedEnv> {
  const policy = freezeGuardOptions(options);
  // Not async: an allowed request goes straight on (Hono's compose turns a throw into its error handling).
  return (c, next) => {
    const carrier = carried(c);
    if (!carrier) throw new ConfigError('hubAuthenticated', 'app.use(hubAuth()) must run before hubAuthenticated() guards');
    const answer = settle(carrier.flow, carrier.flow.guard(carrier.state, policy), c);
    return answer ? Promise.resolve(answer) : next();
  };
}
