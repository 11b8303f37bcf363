/**
 * `@hubauth/koa`: JupyterHub authentication for Koa 2 and 3.
 *
 * ```js
 * app.use(hubAuth());                       // identifies callers, serves /oauth_callback and /logout
 * router.get('/', hubAuthenticated(), (ctx) => { ctx.body = ctx.state.hubUser; });
 * ```
 * @packageDocumentation
 * @module @hubauth/koa
 */
import { ConfigError, type HubAuth, type HubRequest, type HubResponse, type HubUser } from '@hubauth/core';
import { HubAuthFlow, HubCaller, NodeRequestView, carried, freezeGuardOptions, carry, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type NodeRequestHooks, type RequestAuthState } from '@hubauth/core/adapter';
import type { DefaultContext, ExtendableContext, Middleware, Next, ParameterizedContext } from 'koa';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export * from '@hubauth/core';
export { requireHubUser } from './require-hub-user';

/**
 * What `hubAuth()` puts in `ctx.state`. Use it as (part of) your state type, e.g.
 * `new Koa<HubAuthState>()` or `new Router<HubAuthState>()`, to get `ctx.state.hubUser` typed.
 */
export interface HubAuthState {
  /** The caller, when the Hub identified one. */
  hubUser?: HubUser;
  /** Acts for the caller: `ctx.state.hubAuth.api('GET', '/users/alice')` with their own token. */
  hubAuth?: HubCaller;
  /** The xsrf token for forms (`_xsrf` field) and scripts (`X-XSRFToken` header); `null` without a browser session. */
  xsrfToken?: string | null;
}

/** A Koa middleware that reads and writes {@link HubAuthState}. */
export type HubAuthKoaMiddleware<StateT extends HubAuthState = HubAuthState, ContextT = DefaultContext> = Middleware<StateT, ContextT, unknown>;

/** The middleware returned by {@link hubAuth}, with the authenticator it uses. */
export type HubAuthMiddleware<StateT extends HubAuthState = HubAuthState, ContextT = DefaultContext> = HubAuthKoaMiddleware<StateT, ContextT> & {
  /** The core authenticator (`HubAuth` or `HubOAuth`). */
  readonly auth: HubAuth;
  /** The flow shared with the guards. */
  readonly flow: HubAuthFlow;
  /**
   * Authenticates a websocket upgrade (`server.on('upgrade')`, e.g. for `ws`), which Koa middleware
   * never sees: the token header, `?token=`, or the login cookie; `policy` as for
   * {@link hubAuthenticated}. Resolves with the caller, or writes the refusal (401, 403, 503) on the
   * socket and resolves with `null`.
   *
   * @example
   * ```js
   * import Koa from 'koa';
   * import { WebSocketServer } from 'ws';
   * import { hubAuth } from '@hubauth/koa';
   *
   * const app = new Koa();
   * const auth = hubAuth();
   * const server = app.use(auth).listen(10101, '127.0.0.1');
   * const wss = new WebSocketServer({ noServer: true });
   * server.on('upgrade', async (req, socket, head) => {
   *   const caller = await auth.upgrade(req, socket);
   *   if (caller) wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${caller.user?.name}`));
   * });
   * ```
   */
  upgrade(req: IncomingMessage, socket: Duplex, policy?: HubAuthenticatedOptions): Promise<HubCaller | null>;
};

/** `ctx.secure` and `ctx.ip` honour `app.proxy`; `ctx.request.body` is whatever body parser ran. */
const hooks: NodeRequestHooks<ExtendableContext> = { secure: (ctx) => ctx.secure, ip: (ctx) => ctx.ip, body: (ctx) => (ctx.request as { body?: unknown }).body };

function send(ctx: ExtendableContext, response: HubResponse): void {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'set-cookie') ctx.append('Set-Cookie', value);
    else ctx.set(name, value);
  }
  // Koa turns an unset body into a text body, and a null one into a 204: send an empty one.
  ctx.body = response.body ?? '';
  if (response.body === undefined && response.headers['content-type'] === undefined) ctx.remove('Content-Type');
}

/**
 * Identifies the caller of every request (without rejecting anyone), sets `ctx.state.hubUser` and
 * `ctx.state.xsrfToken`, and serves `<prefix>oauth_callback` and `<prefix>logout` when browser login
 * is on. Honours `app.proxy` for the Secure cookie decision. With `errors: 'throw'`, failures are
 * thrown as {@link HubAuthError}s carrying `status`, `expose` and `headers`, which Koa renders.
 *
 * @example
 * ```js service
 * import Koa from 'koa';
 * import Router from '@koa/router';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/koa';
 *
 * const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
 * const app = new Koa();
 * const router = new Router();
 * router.get(prefix, hubAuthenticated(), (ctx) => {
 *   ctx.body = requireHubUser(ctx);
 * });
 * app.use(hubAuth()); // browser login when JUPYTERHUB_CLIENT_ID is set; hubAuth({ oauth: false }) for tokens only
 * app.use(router.routes());
 * const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');
 * app.listen(Number(port), hostname);
 * ```
 */
export function hubAuth<StateT extends HubAuthState = HubAuthState, ContextT = DefaultContext>(
  options: HubAuthMiddlewareOptions = {},
): HubAuthMiddleware<StateT, ContextT> {
  const flow = new HubAuthFlow(options);
  const remember = (ctx: ParameterizedContext<StateT, ContextT, unknown>, state: RequestAuthState): void => {
    carry(ctx, flow, state);
    const { user, xsrfToken, setCookies } = state.identity;
    if (user) {
      ctx.state.hubUser = user;
      ctx.state.hubAuth = new HubCaller(flow.auth, state.identity);
    }
    ctx.state.xsrfToken = xsrfToken;
    if (setCookies.length) ctx.append('Set-Cookie', setCookies);
  };
  const identify = async (ctx: ParameterizedContext<StateT, ContextT, unknown>, next: Next, request: HubRequest): Promise<void> => {
    const { step, state } = await flow.identify(request);
    if (state) remember(ctx, state);
    if (step.type === 'respond') send(ctx, step.response);
    else if (step.type === 'error') throw step.error;
    else await next();
  };
  // A cached token is answered without waiting; anything else takes the asynchronous path.
  const middleware = (ctx: ParameterizedContext<StateT, ContextT, unknown>, next: Next): Promise<void> => {
    const request = new NodeRequestView(ctx.req, ctx, hooks, ctx.originalUrl || ctx.url);
    const cached = flow.identifyCached(request);
    if (!cached) return identify(ctx, next, request);
    remember(ctx, cached);
    return next();
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, policy?: HubAuthenticatedOptions) => flow.authenticateUpgrade(req, socket, policy);
  return Object.assign(middleware, { auth: flow.auth, flow, upgrade });
}

/**
 * Guards a route: lets allowed callers through; otherwise redirects browsers to the Hub's login,
 * answers 401 to API clients without valid credentials, and 403 to identified callers who are not
 * allowed (`hubUsers`, `hubGroups`, `scopes`, `allowServices`). Works app-wide and per route
 * (`router.get('/x', hubAuthenticated(), handler)`); `app.use(hubAuth())` must run first.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import Router from '@koa/router';
 * import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthState } from '@hubauth/koa';
 *
 * const app = new Koa<HubAuthState>();
 * const router = new Router<HubAuthState>();
 * router.get('/services/notes/', hubAuthenticated(), (ctx) => {
 *   ctx.body = { hello: requireHubUser(ctx).name }; // any caller with the access scope
 * });
 * router.get('/services/notes/admin', hubAuthenticated({ hubGroups: ['admins'] }), (ctx) => {
 *   ctx.body = 'admins only';
 * });
 * app.use(hubAuth()).use(router.routes());
 * ```
 */
export function hubAuthenticated<StateT extends HubAuthState = HubAuthState, ContextT = DefaultContext>(
  options: HubAuthenticatedOptions = {},
): HubAuthKoaMiddleware<StateT, ContextT> {
  const policy = freezeGuardOptions(options);
  // Not async: an allowed request goes straight on (koa-compose turns a throw into a rejection).
  return (ctx: ParameterizedContext<StateT, ContextT, unknown>, next: Next): Promise<void> => {
    const carrier = carried(ctx);
    if (!carrier) throw new ConfigError('hubAuthenticated', 'app.use(hubAuth()) must run before hubAuthenticated() guards');
    const step = carrier.flow.guard(carrier.state, policy);
    if (step.type === 'next') return next();
    if (step.type === 'error') throw step.error;
    send(ctx, step.response);
    return Promise.resolve();
  };
}
