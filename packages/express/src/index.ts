/**
 * `@hubauth/express`: JupyterHub authentication for Express 4 and 5.
 *
 * ```js
 * app.use(hubAuth());                       // identifies callers, serves /oauth_callback and /logout
 * app.get('/', hubAuthenticated(), (req, res) => res.json(req.hubUser));
 * ```
 * @packageDocumentation
 */
import { ConfigError, HubAuthFlow, type HubAuth, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type HubRequest, type HubResponse, type HubUser, type RequestAuthState } from '@hubauth/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export * from '@hubauth/core';
export { requireHubUser } from './require-hub-user';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The caller, when the Hub identified one (set by `hubAuth()`). */
      hubUser?: HubUser;
      /** @internal hubauth's per-request state. */
      hubAuthState?: RequestAuthState;
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
}

/** The request as core sees it. `secure`, `ip` and `body` are read lazily (a trust-proxy evaluation each). */
class ExpressHubRequest implements HubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Request['headers'];
  readonly rawHeaders: string[];
  constructor(private readonly req: Request) {
    this.method = req.method;
    this.url = req.originalUrl || req.url;
    this.headers = req.headers;
    this.rawHeaders = req.rawHeaders;
  }
  get secure(): boolean { return this.req.secure; }
  get ip(): string | undefined { return this.req.ip; }
  get body(): unknown { return this.req.body as unknown; }
}

function send(res: Response, response: HubResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'set-cookie') res.append('Set-Cookie', value);
    else res.setHeader(name, value);
  }
  res.end(response.body);
}

const FLOW = Symbol.for('hubauth.express.flow');
type WithFlow = Request & { [FLOW]?: HubAuthFlow };

/**
 * Identifies the caller of every request (without rejecting anyone), sets `req.hubUser`, and serves
 * `<prefix>oauth_callback` and `<prefix>logout` when browser login is on. Works as app-level or
 * router-level middleware and honours Express's `trust proxy` for the Secure cookie decision.
 */
export function hubAuth(options: HubAuthMiddlewareOptions = {}): HubAuthMiddleware {
  const flow = new HubAuthFlow(options);
  const remember = (req: Request, res: Response, state: RequestAuthState | null): void => {
    (req as WithFlow)[FLOW] = flow;
    if (!state) return;
    req.hubAuthState = state;
    if (state.identity.user) req.hubUser = state.identity.user;
    res.locals.xsrfToken = state.identity.xsrfToken;
    if (state.identity.setCookies.length) res.append('Set-Cookie', state.identity.setCookies);
  };
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const request = new ExpressHubRequest(req);
    // A cached token is answered without waiting; anything else takes the asynchronous path.
    const cached = flow.identifyCached(request);
    if (cached) {
      remember(req, res, cached);
      next();
      return;
    }
    flow.identify(request).then(({ step, state }) => {
      remember(req, res, state);
      if (step.type === 'respond') send(res, step.response);
      else if (step.type === 'error') next(step.error);
      else next();
    }, next);
  };
  return Object.assign(middleware, { auth: flow.auth, flow });
}

/**
 * Guards a route: lets allowed callers through; otherwise redirects browsers to the Hub's login,
 * answers 401 to API clients without valid credentials, and 403 to identified callers who are not
 * allowed (`hubUsers`, `hubGroups`, `scopes`, `allowServices`).
 */
export function hubAuthenticated(options: HubAuthenticatedOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const flow = (req as WithFlow)[FLOW];
    if (!flow) {
      next(new ConfigError('hubAuthenticated', 'app.use(hubAuth()) must run before hubAuthenticated() guards'));
      return;
    }
    const step = flow.guard(req.hubAuthState, options);
    if (step.type === 'next') next();
    else if (step.type === 'respond') send(res, step.response);
    else next(step.error);
  };
}
