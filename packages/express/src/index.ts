/**
 * `@hubauth/express`: JupyterHub authentication for Express 4 and 5.
 *
 * ```js
 * app.use(hubAuth());                       // identifies callers, serves /oauth_callback and /logout
 * app.get('/', hubAuthenticated(), (req, res) => res.json(req.hubUser));
 * ```
 * @packageDocumentation
 * @module @hubauth/express
 */
import { ConfigError, type HubAuth, type HubUser } from '@hubauth/core';
import { HubAuthFlow, NodeRequestView, freezeGuardOptions, appendSetCookie, carried, carry, sendNode, type HubCaller, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type NodeRequestHooks, type RequestAuthState } from '@hubauth/core/adapter';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { exposeRequestFields } from './request-fields';

export * from '@hubauth/core';
export { requireHubUser } from './require-hub-user';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The caller, when the Hub identified one (set by `hubAuth()`). */
      hubUser?: HubUser;
      /** Acts for the caller: `req.hubAuth.api('GET', '/users/alice')` with their own token (set by `hubAuth()`). */
      hubAuth?: HubCaller;
    }
    interface Locals {
      /** The xsrf token for forms (`_xsrf` field) and scripts (`X-XSRFToken` header). */
      xsrfToken?: string | null;
    }
  }
}

/** The middleware returned by {@link hubAuth}, with the authenticator it uses. */
export interface HubAuthMiddleware extends RequestHandler {
  /** The core authenticator (`HubAuth` or `HubOAuth`). */
  readonly auth: HubAuth;
  /** The flow shared with the guards. */
  readonly flow: HubAuthFlow;
  /**
   * Authenticates a websocket upgrade (`server.on('upgrade')`, e.g. for `ws`), which Express middleware
   * never sees: the token header, `?token=`, or the login cookie; `policy` as for
   * {@link hubAuthenticated}. Resolves with the caller, or writes the refusal (401, 403, 503) on the
   * socket and resolves with `null`.
   *
   * @example
   * ```js
   * import express from 'express';
   * import { WebSocketServer } from 'ws';
   * import { hubAuth } from '@hubauth/express';
   *
   * const app = express();
   * const auth = hubAuth();
   * app.use(auth);
   * const server = app.listen(10101, '127.0.0.1');
   * const wss = new WebSocketServer({ noServer: true });
   * server.on('upgrade', async (req, socket, head) => {
   *   const caller = await auth.upgrade(req, socket);
   *   if (caller) wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${caller.user?.name}`));
   * });
   * ```
   */
  upgrade(req: IncomingMessage, socket: Duplex, policy?: HubAuthenticatedOptions): Promise<HubCaller | null>;
}

/** `req.secure` and `req.ip` honour `trust proxy`; `req.body` is whatever body parser ran. */
const hooks: NodeRequestHooks<Request> = { secure: (req) => req.secure, ip: (req) => req.ip, body: (req) => req.body as unknown };

/**
 * Identifies the caller of every request (without rejecting anyone), sets `req.hubUser`, and serves
 * `<prefix>oauth_callback` and `<prefix>logout` when browser login is on. Works as app-level or
 * router-level middleware and honours Express's `trust proxy` for the Secure cookie decision.
 *
 * @example
 * ```js service
 * import express from 'express';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
 *
 * const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
 * const app = express();
 * app.use(hubAuth()); // browser login when JUPYTERHUB_CLIENT_ID is set; hubAuth({ oauth: false }) for tokens only
 * app.get(prefix, hubAuthenticated(), (req, res) => {
 *   res.json(requireHubUser(req));
 * });
 * const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');
 * app.listen(Number(port), hostname);
 * ```
 */
export function hubAuth(options: HubAuthMiddlewareOptions = {}): HubAuthMiddleware {
  const flow = new HubAuthFlow(options);
  // On res.locals, not req: see request-fields.ts. `req.hubUser` and `req.hubAuth` read it.
  const remember = (res: Response, state: RequestAuthState | null): void => {
    carry(res.locals, flow, state);
    if (!state) return;
    res.locals.xsrfToken = state.identity.xsrfToken;
    appendSetCookie(res, state.identity.setCookies);
  };
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    exposeRequestFields(req);
    const request = new NodeRequestView(req, req, hooks, req.originalUrl || req.url);
    // A cached token is answered without waiting; anything else takes the asynchronous path.
    const cached = flow.identifyCached(request);
    if (cached) {
      remember(res, cached);
      next();
      return;
    }
    flow.identify(request).then(({ step, state }) => {
      remember(res, state);
      if (step.type === 'respond') sendNode(res, step.response);
      else next(step.type === 'error' ? step.error : undefined);
    }, next);
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, policy?: HubAuthenticatedOptions) => flow.authenticateUpgrade(req, socket, policy);
  return Object.assign(middleware, { auth: flow.auth, flow, upgrade });
}

/**
 * Guards a route: lets allowed callers through; otherwise redirects browsers to the Hub's login,
 * answers 401 to API clients without valid credentials, and 403 to identified callers who are not
 * allowed (`hubUsers`, `hubGroups`, `scopes`, `allowServices`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
 *
 * const app = express();
 * app.use(hubAuth());
 * app.get('/services/notes/', hubAuthenticated(), (req, res) => {
 *   res.json({ hello: requireHubUser(req).name }); // any caller with the access scope
 * });
 * app.use('/services/notes/admin', hubAuthenticated({ hubGroups: ['admins'] })); // a whole sub-tree
 * ```
 */
export function hubAuthenticated(options: HubAuthenticatedOptions = {}): RequestHandler {
  const policy = freezeGuardOptions(options);
  return (req: Request, res: Response, next: NextFunction): void => {
    const carrier = carried(res.locals);
    if (!carrier) {
      next(new ConfigError('hubAuthenticated', 'app.use(hubAuth()) must run before hubAuthenticated() guards (and res.locals must not be replaced in between: hubAuth() leaves what it found there)'));
      return;
    }
    const step = carrier.flow.guard(carrier.state, policy);
    if (step.type === 'next') next();
    else if (step.type === 'respond') sendNode(res, step.response);
    else next(step.error);
  };
}
