/**
 * `HubAuthProxy`: authenticates every request like the middleware, then proxies it (HTTP and
 * websockets) to the upstream app with the caller's identity in headers. Proxying itself is done by
 * `http-proxy-3`, the maintained rewrite of `http-proxy` that JupyterHub's own
 * configurable-http-proxy runs on.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { HubOAuth, UnauthenticatedError, isNavigation, type HubAuth, type HubResponse, type Identity } from '@hubauth/core';
import { HubAuthFlow, matchRoute, sendNode, type RequestAuthState } from '@hubauth/core/adapter';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { CredentialFilter, withoutXsrfCookie } from './credentials';
import { ForwardAuth } from './forward-auth';
import { IdentityHeaders } from './identity-headers';
import { PROXY_OPTION_NAMES, resolveProxyOptions, type HubAuthProxyOptions, type ResolvedProxyOptions } from './options';
import { OriginPolicy } from './origin';
import { NOT_FOUND, UPSTREAM_DOWN, UPSTREAM_TIMEOUT, crossOrigin, renderPage, type ProxyErrorPage } from './pages';
import { identificationView, pathOf, viewOf } from './request-view';

/** Per-request data the proxy events need (the library hands us only `req`). */
interface Pending {
  setCookies: string[];
  timedOut: boolean;
}
const PENDING = Symbol('hubauth.proxy.pending');
type ProxiedRequest = IncomingMessage & { [PENDING]?: Pending };

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/**
 * An authenticating reverse proxy in front of one upstream app.
 *
 * @example
 * ```ts
 * import { HubAuthProxy } from '@hubauth/proxy';
 * // JUPYTERHUB_* come from the Hub (a managed service) or from you (an external one).
 * const proxy = new HubAuthProxy({ upstream: 'http://127.0.0.1:8501', hubGroups: ['analysts'] });
 * const server = await proxy.listen(10101, '127.0.0.1');
 * ```
 */
export class HubAuthProxy {
  /** The request flow shared with the middleware (callback and logout routes, identification, guard). */
  readonly flow: HubAuthFlow;
  /** The validated proxy options. */
  readonly options: ResolvedProxyOptions;
  /** The service prefix, e.g. `/services/app/`. */
  readonly prefix: string;
  /** The forward-auth endpoint, for nginx, Traefik and Caddy. */
  readonly forwardAuth: ForwardAuth;
  private readonly proxy: ProxyServer;
  private readonly agent: http.Agent | null;
  private readonly identityHeaders: IdentityHeaders;
  private readonly credentials: CredentialFilter;
  private readonly origins: OriginPolicy;
  private readonly loginPath: string;
  private readonly upgradePolicy: ResolvedProxyOptions['policy'];
  private readonly servers = new Set<http.Server>();
  // Upgraded connections leave the server's bookkeeping: close() ends them from here.
  private readonly sockets = new Set<Duplex>();

  /** Validates every option (throws {@link ConfigError}) and prepares the proxy; nothing listens yet. */
  constructor(options: HubAuthProxyOptions = {}) {
    this.options = resolveProxyOptions(options);
    this.flow = new HubAuthFlow(options, PROXY_OPTION_NAMES);
    const config = this.flow.auth.config;
    this.prefix = config.servicePrefix;
    this.identityHeaders = new IdentityHeaders(this.options.identityHeaders);
    this.credentials = new CredentialFilter(this.flow.auth instanceof HubOAuth ? this.flow.auth.config.cookieName : '');
    this.origins = new OriginPolicy(config.publicUrl, this.options.allowedOrigins);
    this.loginPath = `${this.prefix}_hubauth/login`;
    this.upgradePolicy = Object.freeze({ ...this.options.policy, onUnauthenticated: 'reject' });
    this.forwardAuth = new ForwardAuth({
      auth: this.flow.auth,
      path: `${this.prefix}${this.options.forwardAuthPath}`,
      policy: this.options.policy,
      identityHeaders: this.identityHeaders,
      origins: this.origins,
      credentials: this.credentials,
    });
    const upstream = this.options.upstream;
    // Keep-alive connections to the upstream: a new TCP connection per request would cost more than authentication.
    this.agent = upstream ? new (upstream.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }) : null;
    const timeout = this.options.upstreamTimeoutMs;
    this.proxy = createProxyServer({
      ...(upstream ? { target: upstream } : {}),
      ...(this.agent ? { agent: this.agent } : {}),
      ws: true,
      xfwd: true,
    });
    this.proxy.on('proxyReq', (proxyReq, req) => {
      if (!timeout) return;
      proxyReq.setTimeout(timeout, () => {
        const pending = (req as ProxiedRequest)[PENDING];
        if (pending) pending.timedOut = true;
        proxyReq.destroy();
      });
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      // An upstream that breaks off mid-response: cut the client's connection too, or it would wait forever.
      proxyRes.once('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
      const cookies = (req as ProxiedRequest)[PENDING]?.setCookies;
      if (cookies?.length) {
        const theirs = proxyRes.headers['set-cookie'] ?? [];
        proxyRes.headers['set-cookie'] = [...theirs, ...cookies];
      }
    });
    this.proxy.on('error', (err, req, res) => this.upstreamFailed(err, req as ProxiedRequest, res));
  }

  /** The authenticator in use. */
  get auth(): HubAuth {
    return this.flow.auth;
  }

  /** Handles one HTTP request (use as the `request` listener of your own server). */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const path = pathOf(url);
    if (!path.startsWith(this.prefix)) {
      if (`${path}/` === this.prefix) {
        res.writeHead(302, { location: `${this.prefix}${url.slice(path.length)}`, 'cache-control': 'no-store' }).end();
      } else this.sendPage(req, res, NOT_FOUND);
      return;
    }
    // First of all: no header the client sent may pose as the identity we vouch for.
    this.identityHeaders.strip(req.headers);
    if (path === this.forwardAuth.path) {
      this.forwardAuth.handle(req, res);
      return;
    }
    if (path === this.loginPath) {
      this.startLogin(req, res);
      return;
    }
    const view = viewOf(req, url);
    const ownRoute = matchRoute(this.flow.routes, view) !== null;
    if (!ownRoute && !this.options.upstream) {
      this.sendPage(req, res, NOT_FOUND);
      return;
    }
    // Core's routes see the request as it is; everything else is identified without core's xsrf rules
    // (the origin check below stands in for them) and decided on the real request.
    const identifyWith = ownRoute ? view : identificationView(view);
    const proceed = (state: RequestAuthState): void => this.authorized(req, res, { request: view, identity: state.identity });
    const cached = this.flow.identifyCached(identifyWith);
    if (cached) {
      proceed(cached);
      return;
    }
    this.flow.identify(identifyWith).then(
      ({ step, state }) => {
        if (step.type === 'respond') this.send(res, step.response);
        else if (step.type === 'error') this.send(res, this.flow.auth.renderError(step.error, view));
        else if (state) proceed(state);
      },
      (err: unknown) => this.internalError(req, res, err),
    );
  };

  private authorized(req: IncomingMessage, res: ServerResponse, state: RequestAuthState): void {
    const { identity } = state;
    const setCookies = this.ownCookies(identity);
    if (identity.source === 'cookie' && identity.user && this.origins.needsCheck(state.request.method, req.headers)) {
      const refused = this.origins.check(req.headers);
      if (refused) {
        this.sendPage(req, res, crossOrigin(refused));
        return;
      }
    }
    const step = this.flow.guard(state, this.options.policy);
    if (step.type === 'respond') {
      this.send(res, step.response, setCookies);
      return;
    }
    if (step.type === 'error') {
      this.send(res, this.flow.auth.renderError(step.error, state.request), setCookies);
      return;
    }
    const user = identity.user;
    if (!user) {
      // The guard allows only identified callers; answered anyway rather than left hanging.
      this.internalError(req, res, new Error('the guard allowed a request without a user'));
      return;
    }
    (req as ProxiedRequest)[PENDING] = { setCookies, timedOut: false };
    req.url = this.outgoingUrl(req, identity);
    this.identityHeaders.set(req.headers, user);
    // The library emits no 'proxyReq' for `Expect: 100-continue`: its own timeout bounds those (502 instead of 504).
    if (req.headers.expect !== undefined && this.options.upstreamTimeoutMs) this.proxy.web(req, res, { proxyTimeout: this.options.upstreamTimeoutMs });
    else this.proxy.web(req, res);
  }

  /** Prepares headers and the target path of a request about to go upstream. */
  private outgoingUrl(req: IncomingMessage, identity: Identity): string {
    const url = this.credentials.apply(req.headers, req.url ?? '/', identity.source);
    if (this.prefix === '/') delete req.headers['x-forwarded-prefix'];
    else req.headers['x-forwarded-prefix'] = this.prefix.slice(0, -1);
    return this.options.stripPrefix ? url.slice(this.prefix.length - 1) : url;
  }

  /** The cookies core asks the response to carry (see {@link withoutXsrfCookie}). */
  private ownCookies(identity: Identity): string[] {
    return withoutXsrfCookie(identity.setCookies);
  }

  /** Handles a websocket upgrade (use as the `upgrade` listener of your own server). */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A client that goes away during authentication must not crash the process.
    socket.on('error', () => socket.destroy());
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const url = req.url ?? '/';
    if (!pathOf(url).startsWith(this.prefix) || !this.options.upstream) {
      this.refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    this.identityHeaders.strip(req.headers);
    const view = viewOf(req, url);
    const identifyWith = identificationView(view);
    const proceed = (identity: Identity): void => {
      const state = { request: view, identity };
      if (identity.source === 'cookie' && identity.user) {
        const refused = this.origins.check(req.headers);
        if (refused) {
          this.refuseUpgrade(socket, 403, refused);
          return;
        }
      }
      const step = this.flow.guard(state, this.upgradePolicy);
      if (step.type !== 'next' || !identity.user) {
        const status = step.type === 'respond' ? step.response.status : step.type === 'error' ? step.error.status : 401;
        this.refuseUpgrade(socket, status, step.type === 'error' ? step.error.message : '');
        return;
      }
      (req as ProxiedRequest)[PENDING] = { setCookies: [], timedOut: false };
      req.url = this.outgoingUrl(req, identity);
      this.identityHeaders.set(req.headers, identity.user);
      this.proxy.ws(req, socket, head);
    };
    const cached = this.flow.identifyCached(identifyWith);
    if (cached) {
      proceed(cached.identity);
      return;
    }
    this.flow.auth.authenticate(identifyWith).then(proceed, () => this.refuseUpgrade(socket, 500, ''));
  };

  private refuseUpgrade(socket: Duplex, status: number, message: string): void {
    if (socket.destroyed) return;
    // eslint-disable-next-line no-control-regex
    const body = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  /**
   * `<prefix>_hubauth/login?next=…` (or with `X-Original-URI`): starts a login, for front proxies
   * that send anonymous browsers here (nginx `error_page 401`).
   */
  private startLogin(req: IncomingMessage, res: ServerResponse): void {
    const auth = this.flow.auth;
    if (!(auth instanceof HubOAuth) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      this.sendPage(req, res, NOT_FOUND);
      return;
    }
    const url = req.url ?? '/';
    const view = viewOf(req, url);
    // An API call that reached here (nginx sends every 401 to this endpoint) gets a 401, not a login page.
    if (!isNavigation(view)) {
      this.send(res, auth.renderError(new UnauthenticatedError('Authentication required', { realm: this.prefix }), view));
      return;
    }
    // `next` from the query, or the original request's URI that nginx passes in a header (it cannot URL-encode it).
    const original = req.headers['x-original-uri'];
    const next = new URLSearchParams(url.slice(pathOf(url).length + 1)).get('next') ?? (typeof original === 'string' ? original : this.prefix);
    this.send(res, auth.beginLogin(view, next));
  }

  private upstreamFailed(err: Error, req: ProxiedRequest, res: ServerResponse | Duplex | undefined): void {
    if (!res) return;
    if (!(res instanceof http.ServerResponse)) {
      res.destroy();
      return;
    }
    const timedOut = req[PENDING]?.timedOut === true;
    if (res.headersSent) {
      // The upstream failed mid-response: all we can do is cut the connection so the client sees it.
      res.destroy();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code ?? err.message;
    this.flow.auth.config.logger.warn(`upstream ${timedOut ? 'timed out' : `failed (${code})`} for ${req.method ?? 'GET'} ${pathOf(req.url ?? '/')}`);
    this.sendPage(req, res, timedOut ? UPSTREAM_TIMEOUT : UPSTREAM_DOWN);
  }

  private internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.flow.auth.config.logger.error(`unexpected error: ${(err as Error)?.message ?? String(err)}`);
    if (res.headersSent) res.destroy();
    else this.sendPage(req, res, { status: 500, code: 'ERR_HUBAUTH_INTERNAL', title: '500 Internal Server Error', message: 'Something went wrong.' });
  }

  private sendPage(req: IncomingMessage, res: ServerResponse, page: ProxyErrorPage): void {
    const { headers, body } = renderPage(page, req.headers);
    res.writeHead(page.status, headers).end(req.method === 'HEAD' ? undefined : body);
  }

  private send(res: ServerResponse, response: HubResponse, extraCookies: readonly string[] = []): void {
    const headers: Record<string, string | string[]> = { ...response.headers };
    const cookies = [...withoutXsrfCookie((response.headers['set-cookie'] as string[] | undefined) ?? []), ...extraCookies];
    if (cookies.length) headers['set-cookie'] = cookies;
    else delete headers['set-cookie'];
    sendNode(res, { ...response, headers });
  }

  /**
   * Starts an HTTP server for this proxy and resolves once it listens. `host` defaults to
   * `127.0.0.1`: the proxy belongs behind the Hub's proxy (or another front proxy), not on every interface.
   */
  listen(port: number, host = '127.0.0.1'): Promise<http.Server> {
    const server = http.createServer(this.handleRequest);
    server.on('upgrade', this.handleUpgrade);
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    // Idle keep-alive connections are closed after 65 s (above the usual 60 s of front proxies).
    server.keepAliveTimeout = 65_000;
    this.servers.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** Stops the servers started by {@link listen}, closes every connection and the connections to the upstream and the Hub. */
  async close(): Promise<void> {
    // Upgraded connections still count for the listening socket: they go first, or close() would wait for them.
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      [...this.servers].map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.servers.clear();
    this.proxy.close();
    this.agent?.destroy();
    this.flow.auth.close();
  }
}
