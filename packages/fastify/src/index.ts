/**
 * `@hubauth/fastify`: JupyterHub authentication for Fastify 4 and 5.
 *
 * ```js
 * await app.register(hubAuth);              // identifies callers, serves /oauth_callback and /logout
 * app.get('/', { preHandler: hubAuthenticated() }, (request) => request.hubUser);
 * ```
 * @packageDocumentation
 * @module @hubauth/fastify
 */
import { ConfigError, type HubAuth, type HubResponse, type HubUser } from '@hubauth/core';
import { CARRIER, HubAuthFlow, HubCaller, NodeRequestView, carried, carry, freezeGuardOptions, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type HubRoute, type NodeRequestHooks, type RequestAuthState } from '@hubauth/core/adapter';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';

export * from '@hubauth/core';
export { requireHubUser } from './require-hub-user';

/** What {@link hubAuth} exposes as `fastify.hubAuth`. */
export interface FastifyHubAuth {
  /** The core authenticator (`HubAuth`, or `HubOAuth` with browser login). */
  readonly auth: HubAuth;
  /** The flow shared with the {@link hubAuthenticated} guards. */
  readonly flow: HubAuthFlow;
}

/** A route-level hook returned by {@link hubAuthenticated}: `{ preHandler: hubAuthenticated() }`. */
export type HubAuthGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when the Hub identified one; `null` otherwise (set by the `hubAuth` plugin). */
    hubUser: HubUser | null;
    /** The xsrf token for forms (`_xsrf` field) and scripts (`X-XSRFToken` header); browser sessions only. */
    xsrfToken: string | null;
    /** Acts for the caller: `request.hubAuth.api('GET', '/users/alice')` with their own token; `null` when anonymous. */
    hubAuth: HubCaller | null;
  }
  interface FastifyInstance {
    /** The authenticator in use (decorated by the `hubAuth` plugin). */
    hubAuth: FastifyHubAuth;
  }
}

/** `request.protocol` and `request.ip` honour `trustProxy`; the body is parsed by `preValidation`. */
const hooks: NodeRequestHooks<FastifyRequest> = {
  secure: (req) => req.protocol === 'https',
  ip: (req) => req.ip,
  body: (req) => req.body,
  requestId: (req) => String(req.id),
};
/** Without a logger of the application's own, a request's lines go to `request.log` (pino, with its `reqId`). */
const hooksWithRequestLog: NodeRequestHooks<FastifyRequest> = { ...hooks, log: (req) => req.log };

function send(reply: FastifyReply, response: HubResponse): FastifyReply {
  reply.code(response.status);
  // `reply.header('set-cookie', [...])` appends to cookies already set (and @fastify/cookie appends to ours).
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, Array.isArray(value) ? [...value] : value);
  return reply.send(response.body);
}

/** Mounts core's own routes (OAuth callback, logout) in the registering scope, so they are routed here. */
function mountOwnRoutes(fastify: FastifyInstance, routes: readonly HubRoute[]): void {
  const base = fastify.prefix.replace(/\/$/, '');
  // The preValidation hook answers these requests; the handler only runs for a method core does not serve.
  const handler = (_request: FastifyRequest, reply: FastifyReply): void => reply.callNotFound();
  for (const route of routes) {
    if (!route.path.startsWith(`${base}/`)) {
      throw new ConfigError('hubAuth', `${route.path} is outside the prefix "${fastify.prefix}" of the scope registering hubAuth; register it at the root`);
    }
    // Fastify adds HEAD to every GET route itself.
    fastify.route({ method: route.methods.filter((m) => m !== 'HEAD') as HTTPMethods[], url: route.path.slice(base.length), handler });
  }
}

async function plugin(fastify: FastifyInstance, options: HubAuthMiddlewareOptions): Promise<void> {
  if (fastify.hasDecorator('hubAuth')) throw new ConfigError('hubAuth', 'the plugin is already registered in this scope or a parent');
  // Fastify's own registration options arrive with ours.
  const flow = new HubAuthFlow({ ...options, logger: options.logger ?? fastify.log }, ['prefix', 'logLevel', 'logSerializers']);
  const requestHooks = options.logger === undefined && options.instance === undefined ? hooksWithRequestLog : hooks;
  fastify.decorate('hubAuth', { auth: flow.auth, flow });
  fastify.decorateRequest('hubUser', null);
  fastify.decorateRequest('xsrfToken', null);
  fastify.decorateRequest('hubAuth', null);
  fastify.decorateRequest(CARRIER, null);
  mountOwnRoutes(fastify, flow.routes);
  if (options.instance === undefined) fastify.addHook('onClose', async () => flow.auth.close());

  const remember = (request: FastifyRequest, reply: FastifyReply, state: RequestAuthState | null): void => {
    carry(request, flow, state);
    if (!state) return;
    request.hubUser = state.identity.user;
    request.hubAuth = state.identity.user ? new HubCaller(flow.auth, state.identity) : null;
    request.xsrfToken = state.identity.xsrfToken;
    if (state.identity.setCookies.length) reply.header('set-cookie', [...state.identity.setCookies]);
  };
  // preValidation: the body is parsed by then (an `_xsrf` form field counts), and guards run later, in
  // preHandler. Callback style, so that a cached token goes on without a promise.
  fastify.addHook('preValidation', (request, reply, done) => {
    const hubRequest = new NodeRequestView(request.raw, request, requestHooks, request.url, request.method);
    const cached = flow.identifyCached(hubRequest);
    if (cached) {
      remember(request, reply, cached);
      done();
      return;
    }
    flow.identify(hubRequest).then(({ step, state }) => {
      remember(request, reply, state);
      if (step.type === 'respond') send(reply, step.response);
      else done(step.type === 'error' ? step.error : undefined);
    }, done);
  });
}

/**
 * The plugin: identifies the caller of every request in the registering scope and its children
 * (without rejecting anyone), sets `request.hubUser` and `request.xsrfToken`, and serves
 * `<prefix>oauth_callback` and `<prefix>logout` when browser login is on. Uses `request.protocol`
 * (which honours `trustProxy`) for the Secure cookie decision and `fastify.log` for diagnostics (`request.log`, with its `reqId`, for a request's lines).
 *
 * @example
 * ```js service
 * import Fastify from 'fastify';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/fastify';
 *
 * const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
 * const app = Fastify();
 * await app.register(hubAuth); // browser login when JUPYTERHUB_CLIENT_ID is set; { oauth: false } for tokens only
 * app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => requireHubUser(request));
 * const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');
 * await app.listen({ host: hostname, port: Number(port) });
 * ```
 */
// Registration refuses the majors the adapter is not written for; the peer range (^4.19.0 || ^5.0.0)
// names the releases the test suites run on.
export const hubAuth: FastifyPluginAsync<HubAuthMiddlewareOptions> = fp(plugin, { name: '@hubauth/fastify', fastify: '4.x || 5.x' });

/**
 * Guards a route (`{ preHandler: hubAuthenticated() }`) or a whole scope
 * (`scope.addHook('preHandler', hubAuthenticated())`): lets allowed callers through; otherwise
 * redirects browsers to the Hub's login, answers 401 to API clients without valid credentials,
 * and 403 to identified callers who are not allowed (`hubUsers`, `hubGroups`, `scopes`, `allowServices`).
 * With `errors: 'throw'` failures go to `setErrorHandler` as typed `HubAuthError`s.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/fastify';
 *
 * const app = Fastify();
 * await app.register(hubAuth);
 * app.get('/services/notes/', { preHandler: hubAuthenticated() }, async (request) => ({ hello: requireHubUser(request).name }));
 * await app.register(async (admin) => {
 *   admin.addHook('preHandler', hubAuthenticated({ hubGroups: ['admins'] })); // every route of the scope
 *   admin.get('/services/notes/admin', async () => 'admins only');
 * });
 * ```
 */
export function hubAuthenticated(options: HubAuthenticatedOptions = {}): HubAuthGuard {
  const policy = freezeGuardOptions(options);
  return async (request, reply) => {
    const carrier = carried(request);
    if (!carrier) throw new ConfigError('hubAuthenticated', 'register the hubAuth plugin (fastify.register(hubAuth)) in this scope or a parent before using hubAuthenticated() guards');
    const step = carrier.flow.guard(carrier.state, policy);
    if (step.type === 'respond') return send(reply, step.response);
    if (step.type === 'error') throw step.error;
    return undefined;
  };
}

export default hubAuth;
