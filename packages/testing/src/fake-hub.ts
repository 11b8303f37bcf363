/**
 * A loopback fake JupyterHub for tests: a real HTTP server on `127.0.0.1` (random port).
 *
 * It serves the parts of the Hub API that a service talks to:
 *
 * - `GET  /hub/api/user`             identify the owner of `Authorization: token|bearer <t>`
 * - `GET  /hub/api/`                 `{"version": ...}`
 * - `GET  /hub/api/oauth2/authorize` authorization-code grant, optional PKCE (S256 or plain)
 * - `POST /hub/api/oauth2/token`     code exchange (form-encoded, client secret in the body)
 * - `GET  /hub/login`                a placeholder login page (target of the authorize redirect)
 * - `GET  /hub/api/users/<name>`, `GET|POST /hub/api/users/<name>/tokens`,
 *   `DELETE /hub/api/users/<name>/tokens/<id>`: a user's own model and tokens; anyone else's is
 *   404 and `GET /hub/api/users` 403, as the Hub answers tokens with only `!user` scopes
 *
 * Answers follow JupyterHub 6.x (jupyterhub/apihandlers/users.py, jupyterhub/apihandlers/auth.py and
 * oauthlib's authorization-code grant), and the fake can be told to misbehave (`setFault`,
 * `setLatency`) to exercise error handling.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HubOAuthOptions } from '@hubauth/core';
import { loginThroughFlow, type BrowserSession } from './session';

/** A Hub user (or service) as the fake Hub reports it from `GET /hub/api/user`. */
export interface FakeUser {
  /** The user's (or service's) name. */
  name: string;
  /** `'user'` (default) or `'service'`; services have no `groups` and a null `session_id`. */
  kind?: 'user' | 'service';
  /** Whether the Hub reports the user as an admin (default false). */
  admin?: boolean;
  /** Group names (default none). */
  groups?: string[];
  /** The scopes `/hub/api/user` reports for tokens of this user (sorted and de-duplicated). */
  scopes: string[];
  /** Extra fields merged into the model last (they may override the standard ones). */
  extra?: Record<string, unknown>;
}

/** Options of {@link startFakeHub}. */
export interface FakeHubOptions {
  /**
   * Name of the service under test. Default `'whoami'`. It gives the defaults of `clientId`
   * (`service-<name>`), `redirectUri` (`/services/<name>/oauth_callback`) and the service prefix
   * (`/services/<name>/`).
   */
  service?: string;
  /** The service's API token, which is also its OAuth client secret. Default: random. */
  serviceToken?: string;
  /** OAuth client id. Default `'service-<service>'`. */
  clientId?: string;
  /** The registered redirect URI, compared character for character. Default `'/services/<service>/oauth_callback'`. */
  redirectUri?: string;
  /** The cookie secret {@link FakeHub.env} hands to the service (`HUBAUTH_COOKIE_SECRET`). Default: random, 64 hex digits. */
  cookieSecret?: string;
  /** Refuse authorize requests without a `code_challenge`. Default false. */
  requirePkce?: boolean;
  /**
   * `oauth_client_allowed_scopes`: an authorize request whose `scope` asks for anything else is
   * refused with `invalid_scope`; granted scopes are added to the token (`!user` resolved). Default: none.
   */
  allowedScopes?: string[];
  /** `expires_in` of issued OAuth tokens, in seconds; the tokens really expire then. Default 1209600 (14 days); 0 = never. */
  tokenExpiresIn?: number;
}

/**
 * Ways to make the fake Hub misbehave ({@link FakeHub.setFault}): an HTTP status (e.g. 500), an HTML
 * page instead of JSON, unparseable JSON, a body cut short, a huge body, no answer at all, a reset
 * connection, or a redirect to itself. For a Hub that is down (connection refused), see {@link FakeHub.down}.
 */
export type Fault =
  | {
      /** Answer with an HTTP status. */
      type: 'status';
      /** The status, e.g. 500. */
      status: number;
      /** The body (default: a JSON error message). */
      body?: string;
      /** The body's `Content-Type` (default JSON). */
      contentType?: string;
    }
  | {
      /** A 200 with an HTML page instead of JSON (a misrouted proxy's page). */
      type: 'html';
    }
  | {
      /** A 200 whose JSON does not parse. */
      type: 'garbage-json';
    }
  | {
      /** A body cut short: the connection closes before `Content-Length` bytes. */
      type: 'truncated';
    }
  | {
      /** A body far larger than any user model. */
      type: 'huge';
      /** Its size in bytes. */
      bytes: number;
    }
  | {
      /** No answer at all; the connection stays open. */
      type: 'hang';
    }
  | {
      /** The connection is reset. */
      type: 'reset';
    }
  | {
      /** A redirect to the same URL. */
      type: 'redirect-loop';
    };

/** Endpoints a fault applies to: `GET /hub/api/user` and `POST /hub/api/oauth2/token`. */
export type FaultEndpoint = 'user' | 'token';

/** Options of {@link FakeHub.issueToken} and {@link FakeHub.addToken}. */
export interface TokenOptions {
  /** The Hub login session the token belongs to (OAuth tokens have one; API tokens `null`, the default). */
  sessionId?: string | null;
  /** Scopes of this token, instead of the user's own `scopes`. */
  scopes?: readonly string[];
}

/** A user to add with {@link FakeHub.addUser}. */
export interface NewUser {
  /** The user's name. */
  name: string;
  /** Group names (default none). */
  groups?: string[];
  /** Whether the Hub reports the user as an admin (default false). */
  admin?: boolean;
  /** Default: the scope that grants access to the service under test, `access:services!service=<name>`. */
  scopes?: string[];
  /** Extra fields of the user model. */
  extra?: Record<string, unknown>;
}

/** Parameters of {@link FakeHub.authorizeUrl}. */
export interface AuthorizeParams {
  /** Default: the registered client id. */
  clientId?: string;
  /** Default: the registered redirect URI. */
  redirectUri?: string;
  /** Default `'code'`. */
  responseType?: string;
  /** The PKCE challenge (see {@link pkceChallenge}); without it, the login uses no PKCE. */
  codeChallenge?: string;
  /** Usually `'S256'`. */
  codeChallengeMethod?: string;
  /** The OAuth `state`, returned unchanged with the code. */
  state?: string;
}

/** A request the fake Hub received. */
export interface RecordedRequest {
  /** The HTTP method. */
  method: string;
  /** The request target: path and query string. */
  path: string;
  /** The request's headers, as Node parsed them. */
  headers: Record<string, string | string[] | undefined>;
  /** The request body as text (empty for none). */
  body: string;
}

/** How many requests each endpoint received. */
export interface FakeHubCalls {
  /** `GET /hub/api/user` */
  user: number;
  /** `POST /hub/api/oauth2/token` */
  token: number;
  /** `GET /hub/api/oauth2/authorize` */
  authorize: number;
  /** everything else */
  other: number;
}

/**
 * A running fake Hub. It serves the Hub API a service talks to, knows users with groups and tokens
 * with scopes, logs test clients in without a browser, and misbehaves on demand.
 */
export interface FakeHub {
  /** `http://127.0.0.1:<port>`: the Hub's public URL as well as its API origin. */
  readonly url: string;
  /** `${url}/hub/api` */
  readonly apiUrl: string;
  /** The service's API token (and OAuth client secret). */
  readonly serviceToken: string;
  /** The OAuth client id of the service under test (`service-<name>`). */
  readonly clientId: string;
  /** The registered redirect URI, compared character for character. */
  readonly redirectUri: string;
  /** The service name derived from the client id (`service-whoami` → `whoami`). */
  readonly serviceName: string;
  /** The service's URL prefix, `/services/<serviceName>/`. */
  readonly servicePrefix: string;
  /** The cookie secret handed to the service by {@link FakeHub.env}. */
  readonly cookieSecret: string;
  /** True between {@link FakeHub.down} and {@link FakeHub.up}. */
  readonly isDown: boolean;

  /**
   * The environment a managed service gets from the Hub, pointing at this fake: `JUPYTERHUB_API_URL`,
   * `JUPYTERHUB_API_TOKEN`, `JUPYTERHUB_CLIENT_ID`, `JUPYTERHUB_SERVICE_NAME`, `JUPYTERHUB_SERVICE_PREFIX`,
   * `JUPYTERHUB_OAUTH_CALLBACK_URL`, `JUPYTERHUB_OAUTH_ACCESS_SCOPES`, `JUPYTERHUB_PUBLIC_HUB_URL`,
   * `JUPYTERHUB_BASE_URL`, plus `HUBAUTH_COOKIE_SECRET`. Pass it as the `env` option of `hubAuth()`.
   * `overrides` are merged last; a value of `undefined` removes a variable.
   */
  env(overrides?: Record<string, string | undefined>): Record<string, string>;

  /** Adds a user (by default allowed to use the service) and returns its model. Replaces a user of the same name. */
  addUser(user: NewUser): FakeUser;
  /** A user added with {@link FakeHub.addUser}. Throws for an unknown name. */
  user(name: string): FakeUser;
  /** Registers `token` as a valid token of `user` (replacing any earlier registration of it). */
  addToken(token: string, user: FakeUser, opts?: TokenOptions): void;
  /** Registers a random token of `user` (or of the added user of that name) and returns it. */
  issueToken(user: FakeUser | string, opts?: TokenOptions): string;
  /** Forgets a token: from now on the Hub refuses it, as it refuses any unknown token. */
  revokeToken(token: string): void;
  /** Replaces the scopes reported for every registered token of `name` (and for the logged-in user, if it is `name`). */
  setUserScopes(name: string, scopes: string[]): void;

  /**
   * Logs `user` in to the service the way a browser would, without a browser: runs the OAuth flow
   * in-process (`@hubauth/core` starts the login, this Hub issues a code, core exchanges it) and
   * returns the login cookie and xsrf token the service would have set. The service must use this
   * Hub's {@link FakeHub.env} (or the same client id, cookie secret and prefix, passed as `options`).
   *
   * @example
   * ```ts run
   * import express from 'express';
   * import request from 'supertest';
   * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
   * import { startFakeHub } from '@hubauth/testing';
   *
   * const hub = await startFakeHub({ service: 'notes' });
   * const auth = hubAuth({ env: hub.env() }); // browser login: the fake Hub's client id and cookie secret
   * const app = express().use(express.json()).use(auth);
   * app.post('/services/notes/notes', hubAuthenticated(), (req, res) => res.status(201).json({ by: requireHubUser(req).name }));
   *
   * const session = await hub.loginAs(hub.addUser({ name: 'alice', groups: ['staff'] }));
   * await request(app).post('/services/notes/notes').set(session.headers).send({ text: 'hi' }).expect(201);
   * await hub.close();
   * ```
   */
  loginAs(user: FakeUser | string, opts?: { options?: HubOAuthOptions }): Promise<BrowserSession>;
  /** Who is logged in at the Hub when a browser reaches the authorize endpoint; null = nobody (the initial state). */
  signInAtHub(user: FakeUser | null, opts?: { sessionId?: string }): void;
  /** An absolute authorize URL; parameters in the order the Python service sends them. */
  authorizeUrl(params?: AuthorizeParams): string;

  /** How many requests each endpoint received so far. */
  readonly calls: FakeHubCalls;
  /** `GET /hub/api/user` requests currently being answered. */
  readonly inFlight: number;
  /** The highest `inFlight` seen since the start or the last `resetCounters()`. */
  readonly maxInFlight: number;
  /** The last 1000 requests, oldest first. */
  readonly requests: RecordedRequest[];
  /** Zeroes `calls`, sets `maxInFlight` to the current `inFlight` and empties `requests`. */
  resetCounters(): void;

  /** Makes `/hub/api/user` (and/or `/hub/api/oauth2/token`) misbehave; `null` restores normal answers. Default endpoints: `['user']`. */
  setFault(fault: Fault | null, endpoints?: FaultEndpoint[]): void;
  /** Delays every `/hub/api/user` answer by `ms` milliseconds (0 = none): a slow Hub. */
  setLatency(ms: number): void;
  /** Takes the Hub down: it stops listening (connections are refused) and drops open connections. */
  down(): Promise<void>;
  /** Brings the Hub back up on the same port. */
  up(): Promise<void>;

  /** Stops the server, destroying every open socket (including hung requests). */
  close(): Promise<void>;
}

/** base64url(SHA-256(verifier)) without padding: the S256 PKCE challenge. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * Starts a fake Hub on a random loopback port.
 *
 * @example
 * ```ts run
 * import express from 'express';
 * import request from 'supertest';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
 * import { startFakeHub } from '@hubauth/testing';
 *
 * const hub = await startFakeHub({ service: 'notes' });
 * const app = express().use(hubAuth({ env: hub.env() })); // your service, configured as the Hub would
 * app.get('/services/notes/', hubAuthenticated(), (req, res) => res.json(requireHubUser(req)));
 *
 * const token = hub.issueToken(hub.addUser({ name: 'alice', groups: ['staff'] }));
 * await request(app).get('/services/notes/').set('Authorization', `token ${token}`).expect(200);
 * await request(app).get('/services/notes/').expect(401);
 * await hub.close();
 * ```
 */
export async function startFakeHub(opts: FakeHubOptions = {}): Promise<FakeHub> {
  const hub = new FakeHubServer(opts);
  await hub.listen();
  return hub;
}

// ---------------------------------------------------------------------------------------------

const HUB_VERSION = '6.1.1';
const MAX_BODY = 1024 * 1024;
const MAX_LOG = 1000;
const CODE_LIFETIME_MS = 300_000;
const AUTH_HEADER = /^(?:token|bearer)\s+([^\s]+)$/i;

const USER_PATH = '/hub/api/user';
const TOKEN_PATH = '/hub/api/oauth2/token';
const AUTHORIZE_PATH = '/hub/api/oauth2/authorize';

interface TokenRecord {
  user: FakeUser;
  scopes: string[];
  sessionId: string | null;
  tokenId: string;
  expiresAt: number | null;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  user: FakeUser;
  sessionId: string;
  challenge: string | null;
  challengeMethod: string | null;
  expiresAt: number;
  /** Scopes asked for and granted at authorize. */
  granted: string[];
  /** Whether the exchange should note the issued token for an in-process login. */
  remember: boolean;
}

interface OAuthError {
  status: number;
  error: string;
  description?: string;
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function sortedScopes(scopes: Iterable<string>): string[] {
  return [...new Set(scopes)].sort();
}

function cloneUser(user: FakeUser): FakeUser {
  const copy: FakeUser = { name: user.name, scopes: [...user.scopes] };
  if (user.kind !== undefined) copy.kind = user.kind;
  if (user.admin !== undefined) copy.admin = user.admin;
  if (user.groups !== undefined) copy.groups = [...user.groups];
  if (user.extra !== undefined) copy.extra = { ...user.extra };
  return copy;
}

function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function appendQuery(uri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.append(key, value);
  }
  const qs = query.toString();
  if (!qs) return uri;
  return uri + (uri.includes('?') ? '&' : '?') + qs;
}

class FakeHubServer implements FakeHub {
  url = '';
  apiUrl = '';
  readonly serviceToken: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly serviceName: string;
  readonly servicePrefix: string;
  readonly cookieSecret: string;
  readonly calls: FakeHubCalls = { user: 0, token: 0, authorize: 0, other: 0 };
  inFlight = 0;
  maxInFlight = 0;
  readonly requests: RecordedRequest[] = [];

  private readonly requirePkce: boolean;
  private readonly tokenExpiresIn: number;
  private readonly allowedScopes: string[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly responses = new Set<ServerResponse>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private loggedIn: { user: FakeUser; sessionId: string } | null = null;
  private fault: Fault | null = null;
  private faultEndpoints = new Set<FaultEndpoint>();
  private latencyMs = 0;
  private tokenCounter = 0;
  private readonly users = new Map<string, FakeUser>();
  /** Tokens issued for codes of in-process logins ({@link FakeHub.loginAs}), until the login reads them. */
  private readonly issuedByCode = new Map<string, string>();
  private closed = false;
  private port = 0;
  isDown = false;

  constructor(opts: FakeHubOptions) {
    const service = opts.service ?? 'whoami';
    if (!/^[A-Za-z0-9._~-]+$/.test(service)) throw new TypeError(`fake hub: "${service}" is not a usable service name`);
    this.serviceToken = opts.serviceToken ?? randomHex(16);
    this.clientId = opts.clientId ?? `service-${service}`;
    this.redirectUri = opts.redirectUri ?? `/services/${service}/oauth_callback`;
    this.serviceName = this.clientId.startsWith('service-') ? this.clientId.slice('service-'.length) : this.clientId;
    this.servicePrefix = `/services/${this.serviceName}/`;
    this.cookieSecret = opts.cookieSecret ?? randomHex(32);
    // As at the Hub, the service's own token identifies the service.
    this.register(this.serviceToken, { name: this.serviceName, kind: 'service', scopes: [] }, [], null, null);
    this.requirePkce = opts.requirePkce ?? false;
    this.allowedScopes = opts.allowedScopes ?? [];
    this.tokenExpiresIn = opts.tokenExpiresIn ?? 1_209_600;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) {
          this.sendJson(res, 500, { status: 500, message: 'Internal Server Error' });
        } else {
          res.destroy();
        }
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A malformed request line or header must not take the process down.
    this.server.on('clientError', (_err: Error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  async listen(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.url}/hub/api`;
  }

  env(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const env: Record<string, string | undefined> = {
      JUPYTERHUB_API_URL: this.apiUrl,
      JUPYTERHUB_API_TOKEN: this.serviceToken,
      JUPYTERHUB_CLIENT_ID: this.clientId,
      JUPYTERHUB_SERVICE_NAME: this.serviceName,
      JUPYTERHUB_SERVICE_PREFIX: this.servicePrefix,
      JUPYTERHUB_OAUTH_CALLBACK_URL: this.redirectUri,
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([this.accessScope()]),
      JUPYTERHUB_PUBLIC_HUB_URL: `${this.url}/hub/`,
      JUPYTERHUB_BASE_URL: '/',
      HUBAUTH_COOKIE_SECRET: this.cookieSecret,
      ...overrides,
    };
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
    return out;
  }

  private accessScope(): string {
    return `access:services!service=${this.serviceName}`;
  }

  // --- down and up ---------------------------------------------------------------------------

  async down(): Promise<void> {
    if (this.isDown || this.closed) return;
    this.isDown = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async up(): Promise<void> {
    if (!this.isDown || this.closed) return;
    await this.listen();
    this.isDown = false;
  }

  // --- tokens and users ----------------------------------------------------------------------

  addUser(user: NewUser): FakeUser {
    if (!user || typeof user.name !== 'string' || !user.name) throw new TypeError('fake hub: a user needs a name');
    const model: FakeUser = {
      name: user.name,
      kind: 'user',
      admin: user.admin ?? false,
      groups: [...(user.groups ?? [])],
      scopes: [...(user.scopes ?? [this.accessScope()])],
    };
    if (user.extra !== undefined) model.extra = { ...user.extra };
    this.users.set(user.name, model);
    return cloneUser(model);
  }

  user(name: string): FakeUser {
    const found = this.users.get(name);
    if (!found) throw new Error(`fake hub: no user "${name}"; add it with addUser({ name: '${name}' })`);
    return cloneUser(found);
  }

  addToken(token: string, user: FakeUser, opts: TokenOptions = {}): void {
    this.register(token, user, [...(opts.scopes ?? user.scopes)], opts.sessionId ?? null, null);
  }

  issueToken(user: FakeUser | string, opts: TokenOptions = {}): string {
    const token = randomHex(16);
    this.addToken(token, typeof user === 'string' ? this.user(user) : user, opts);
    return token;
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  setUserScopes(name: string, scopes: string[]): void {
    for (const record of this.tokens.values()) {
      if (record.user.name === name) record.scopes = [...scopes];
    }
    if (this.loggedIn && this.loggedIn.user.name === name) this.loggedIn.user.scopes = [...scopes];
  }

  signInAtHub(user: FakeUser | null, opts: { sessionId?: string } = {}): void {
    this.loggedIn = user ? { user: cloneUser(user), sessionId: opts.sessionId ?? randomHex(16) } : null;
  }

  loginAs(user: FakeUser | string, opts: { options?: HubOAuthOptions } = {}): Promise<BrowserSession> {
    const who = typeof user === 'string' ? this.user(user) : cloneUser(user);
    return loginThroughFlow({
      options: { env: this.env(), ...opts.options },
      user: who.name,
      tokenIssuedFor: (code) => {
        const token = this.issuedByCode.get(code);
        this.issuedByCode.delete(code);
        return token;
      },
      authorize: (authorizeUrl) => {
        const url = new URL(authorizeUrl);
        const result = this.authorize(url.searchParams, { user: who, sessionId: randomHex(16) }, true);
        if ('page' in result) throw new Error(`fake hub: the authorize request was refused: ${result.page.message}`);
        return result.location;
      },
    });
  }

  authorizeUrl(params: AuthorizeParams = {}): string {
    return appendQuery(this.url + AUTHORIZE_PATH, {
      client_id: params.clientId ?? this.clientId,
      redirect_uri: params.redirectUri ?? this.redirectUri,
      response_type: params.responseType ?? 'code',
      code_challenge: params.codeChallenge,
      code_challenge_method: params.codeChallengeMethod,
      state: params.state,
    });
  }

  private register(
    token: string,
    user: FakeUser,
    scopes: string[],
    sessionId: string | null,
    expiresAt: number | null,
  ): void {
    if (!/^[^\s]+$/.test(token)) {
      throw new Error('fake hub: a token must be non-empty and contain no whitespace');
    }
    this.tokenCounter += 1;
    this.tokens.set(token, {
      user: cloneUser(user),
      scopes: [...scopes],
      sessionId,
      tokenId: `a${this.tokenCounter}`,
      expiresAt,
    });
  }

  // --- counters and faults -------------------------------------------------------------------

  resetCounters(): void {
    this.calls.user = 0;
    this.calls.token = 0;
    this.calls.authorize = 0;
    this.calls.other = 0;
    this.maxInFlight = this.inFlight;
    this.requests.length = 0;
  }

  setFault(fault: Fault | null, endpoints: FaultEndpoint[] = ['user']): void {
    if (fault?.type === 'status' && (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 999)) {
      throw new RangeError(`fake hub: fault status must be an integer in 200..999, got ${fault.status}`);
    }
    if (fault?.type === 'huge' && (!Number.isInteger(fault.bytes) || fault.bytes < 0)) {
      throw new RangeError(`fake hub: fault bytes must be a non-negative integer, got ${fault.bytes}`);
    }
    this.fault = fault;
    this.faultEndpoints = new Set(fault ? endpoints : []);
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    // Wait for the unfinished responses' 'close' events too, so that `inFlight` is settled.
    const responsesClosed = Promise.all([...this.responses].map((res) => once(res, 'close')));
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await serverClosed;
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([
      responsesClosed,
      new Promise<void>((resolve) => {
        guard = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(guard);
  }

  // --- request handling ----------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    let url: URL;
    try {
      url = new URL(target, 'http://fake-hub.invalid');
    } catch {
      url = new URL('http://fake-hub.invalid/');
    }
    const path = url.pathname;
    this.responses.add(res);
    res.once('close', () => this.responses.delete(res));

    const isUser = method === 'GET' && path === USER_PATH;
    if (isUser) this.calls.user += 1;
    else if (method === 'POST' && path === TOKEN_PATH) this.calls.token += 1;
    else if (method === 'GET' && path === AUTHORIZE_PATH) this.calls.authorize += 1;
    else this.calls.other += 1;

    if (isUser) {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.once('close', () => {
        this.inFlight -= 1;
      });
    }

    const body = await this.readBody(req);
    this.log({ method, path: target, headers: { ...req.headers }, body: body ?? '' });
    if (body === null) {
      if (!res.destroyed) {
        res.setHeader('Connection', 'close');
        this.sendJson(res, 413, { status: 413, message: 'Payload Too Large' });
      }
      return;
    }

    if (path === USER_PATH) {
      if (this.latencyMs > 0) await this.delay(this.latencyMs);
      if (res.destroyed || this.closed) return;
      if (this.faultEndpoints.has('user') && this.fault) return this.applyFault(this.fault, req, res);
      if (method !== 'GET') return this.methodNotAllowed(res);
      return this.handleUser(req, res);
    }
    if (path === TOKEN_PATH) {
      if (this.faultEndpoints.has('token') && this.fault) return this.applyFault(this.fault, req, res);
      if (method !== 'POST') return this.methodNotAllowed(res);
      return this.handleToken(req, url, body, res);
    }
    if (path === AUTHORIZE_PATH) {
      if (method !== 'GET') return this.methodNotAllowed(res);
      return this.handleAuthorize(target, url, res);
    }
    if (path === '/hub/api/users' && this.tokens.has(AUTH_HEADER.exec(String(req.headers.authorization ?? ''))?.[1] ?? '')) {
      return this.sendJson(res, 403, { status: 403, message: 'Action is not authorized with current scopes; requires any of [list:users]' });
    }
    const own = /^\/hub\/api\/users\/([^/]+)(\/tokens(?:\/([^/]+))?)?$/.exec(path);
    if (own) return this.handleOwn(req, method, decodeURIComponent(own[1] as string), own[2] !== undefined, own[3], body, res);
    if (path === '/hub/api' || path === '/hub/api/') {
      if (method !== 'GET') return this.methodNotAllowed(res);
      return this.sendJson(res, 200, { version: HUB_VERSION });
    }
    if (path === '/hub/login' && method === 'GET') {
      return this.sendHtml(res, 200, '<!DOCTYPE html><html><head><title>JupyterHub</title></head><body><form method="post"><input name="username"><input name="password" type="password"><button>Sign in</button></form></body></html>');
    }
    this.sendJson(res, 404, { status: 404, message: 'Not Found' });
  }

  /** A user's own model and tokens: allowed to that user's tokens only, as with the `self` role. */
  private handleOwn(
    req: IncomingMessage,
    method: string,
    name: string,
    tokens: boolean,
    tokenId: string | undefined,
    body: string,
    res: ServerResponse,
  ): void {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? AUTH_HEADER.exec(header) : null;
    const record = match?.[1] === undefined ? undefined : this.tokens.get(match[1]);
    if (!record) return this.sendJson(res, 403, { status: 403, message: 'Missing or invalid credentials.' });
    if (record.user.name !== name) {
      return this.sendJson(res, 404, { status: 404, message: 'No access to resources or resources not found' });
    }
    if (!tokens) {
      if (method !== 'GET') return this.methodNotAllowed(res);
      return this.sendJson(res, 200, { kind: 'user', name, admin: false, groups: [], servers: {} });
    }
    const mine = [...this.tokens.entries()].filter(([, r]) => r.user.name === name);
    if (tokenId === undefined && method === 'GET') {
      return this.sendJson(res, 200, { api_tokens: mine.map(([, r]) => ({ id: r.tokenId, kind: 'api_token' })) });
    }
    if (tokenId === undefined && method === 'POST') {
      let note: string | null = null;
      try {
        note = (JSON.parse(body || '{}') as { note?: string }).note ?? null;
      } catch {
        // no note
      }
      const token = this.issueToken(record.user);
      return this.sendJson(res, 201, { id: this.tokens.get(token)?.tokenId, token, note });
    }
    if (tokenId !== undefined && method === 'DELETE') {
      const found = mine.find(([, r]) => r.tokenId === tokenId);
      if (!found) return this.sendJson(res, 404, { status: 404, message: 'No such token' });
      this.tokens.delete(found[0]);
      res.writeHead(204);
      res.end();
      return;
    }
    this.methodNotAllowed(res);
  }

  private handleUser(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? AUTH_HEADER.exec(header) : null;
    const token = match?.[1];
    const record = token === undefined ? undefined : this.tokens.get(token);
    if (token === undefined || record === undefined) return this.forbidden(res);
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return this.forbidden(res);
    }
    const { user } = record;
    const scopes = sortedScopes(record.scopes);
    const model: Record<string, unknown> =
      user.kind === 'service'
        ? {
            kind: 'service',
            name: user.name,
            admin: user.admin ?? false,
            scopes,
            session_id: record.sessionId,
            token_id: record.tokenId,
            ...user.extra,
          }
        : {
            kind: 'user',
            name: user.name,
            admin: user.admin ?? false,
            groups: [...(user.groups ?? [])],
            scopes,
            session_id: record.sessionId,
            token_id: record.tokenId,
            user_info: null,
            ...user.extra,
          };
    this.sendJson(res, 200, model);
  }

  private handleAuthorize(target: string, url: URL, res: ServerResponse): void {
    // The Hub's authorize handler is @web.authenticated: the login redirect comes first.
    if (!this.loggedIn) {
      const location = `/hub/login?${new URLSearchParams({ next: target }).toString()}`;
      return this.redirect(res, location);
    }
    const result = this.authorize(url.searchParams, this.loggedIn);
    if ('page' in result) return this.errorPage(res, result.page.status, result.page.message);
    this.redirect(res, result.location);
  }

  /** The authorize decision for a logged-in user: a redirect location, or an error page. */
  private authorize(
    q: URLSearchParams,
    login: { user: FakeUser; sessionId: string },
    remember = false,
  ): { location: string } | { page: { status: number; message: string } } {
    // Errors that must not redirect (oauthlib FatalClientError): shown as a Hub error page.
    const clientId = q.get('client_id');
    if (!clientId) return { page: { status: 400, message: 'Missing client_id parameter.' } };
    if (clientId !== this.clientId) return { page: { status: 400, message: 'Invalid client_id parameter value.' } };
    const redirectUri = q.get('redirect_uri') ?? this.redirectUri;
    if (redirectUri !== this.redirectUri) return { page: { status: 400, message: 'Mismatching redirect URI.' } };

    const state = q.get('state') ?? undefined;
    const fail = (error: string, description: string) => ({
      location: appendQuery(redirectUri, { error, error_description: description, state }),
    });

    const responseType = q.get('response_type');
    if (!responseType) return fail('invalid_request', 'Missing response_type parameter.');
    if (responseType !== 'code') return fail('unsupported_response_type', '');
    const challenge = q.get('code_challenge');
    let challengeMethod: string | null = null;
    if (challenge) {
      challengeMethod = q.get('code_challenge_method') || 'plain';
      if (challengeMethod !== 'S256' && challengeMethod !== 'plain') {
        return fail('invalid_request', 'Transform algorithm not supported.');
      }
    } else if (this.requirePkce) {
      return fail('invalid_request', 'Code challenge required.');
    }

    const requested = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.some((scope) => !this.allowedScopes.includes(scope))) return fail('invalid_scope', '');
    const granted = requested.map((scope) => (scope.endsWith('!user') ? `${scope}=${login.user.name}` : scope));

    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, {
      granted,
      clientId,
      redirectUri,
      user: cloneUser(login.user),
      sessionId: login.sessionId,
      challenge: challenge || null,
      challengeMethod,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      remember,
    });
    return { location: appendQuery(redirectUri, { code, state }) };
  }

  private handleToken(req: IncomingMessage, url: URL, body: string, res: ServerResponse): void {
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    const form = contentType.includes('application/x-www-form-urlencoded') ? new URLSearchParams(body) : new URLSearchParams();
    const result = this.exchange(url, form);
    const headers = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
    if ('error' in result) {
      const errorBody: Record<string, string> = { error: result.error };
      if (result.description) errorBody.error_description = result.description;
      const extra: Record<string, string> =
        result.status === 401 ? { ...headers, 'WWW-Authenticate': `Bearer error="${result.error}"` } : headers;
      return this.sendJson(res, result.status, errorBody, extra);
    }
    this.sendJson(res, 200, result, headers);
  }

  /** The authorization-code grant, checked in oauthlib's order. */
  private exchange(
    url: URL,
    form: URLSearchParams,
  ): OAuthError | { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string } {
    if (url.search) return { status: 400, error: 'invalid_request', description: 'URL query parameters are not allowed' };
    if (form.get('grant_type') !== 'authorization_code') return { status: 400, error: 'unsupported_grant_type' };
    const code = form.get('code');
    if (!code) return { status: 400, error: 'invalid_request', description: 'Missing code parameter.' };
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.serviceToken) {
      return { status: 401, error: 'invalid_client' };
    }
    const record = this.codes.get(code);
    if (!record || record.clientId !== this.clientId) return { status: 400, error: 'invalid_grant' };
    if (record.expiresAt <= Date.now()) {
      this.codes.delete(code);
      return { status: 400, error: 'invalid_grant' };
    }
    if (record.challenge !== null) {
      const verifier = form.get('code_verifier');
      if (verifier === null) return { status: 400, error: 'invalid_request', description: 'Code verifier required.' };
      const computed = record.challengeMethod === 'S256' ? pkceChallenge(verifier) : verifier;
      if (computed !== record.challenge) return { status: 400, error: 'invalid_grant' };
    }
    // A verifier without a challenge is ignored, as Hubs before 6.0 do.
    const redirectUri = form.get('redirect_uri') ?? this.redirectUri;
    if (redirectUri !== record.redirectUri) {
      return { status: 400, error: 'invalid_request', description: 'Mismatching redirect URI.' };
    }

    this.codes.delete(code);
    const scopes = sortedScopes([...record.user.scopes, ...record.granted, `access:services!service=${this.serviceName}`]);
    const accessToken = randomHex(16);
    const expiresAt = this.tokenExpiresIn > 0 ? Date.now() + this.tokenExpiresIn * 1000 : null;
    this.register(accessToken, record.user, scopes, record.sessionId, expiresAt);
    if (record.remember) this.issuedByCode.set(code, accessToken);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenExpiresIn, scope: scopes.join(' ') };
  }

  private async applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (fault.type) {
      case 'status': {
        if (fault.status === 204 || fault.status === 304) {
          res.writeHead(fault.status);
          res.end();
          return;
        }
        const body = fault.body ?? JSON.stringify({ status: fault.status, message: STATUS_CODES[fault.status] ?? 'Unknown' });
        return this.send(res, fault.status, fault.contentType ?? 'application/json', body);
      }
      case 'html':
        return this.sendHtml(res, 200, '<!DOCTYPE html><html><head><title>Not the API</title></head><body><h1>Welcome to nginx!</h1></body></html>');
      case 'garbage-json':
        return this.send(res, 200, 'application/json', '{"kind": "user", "name": "alice", "scopes": [');
      case 'truncated': {
        const partial = '{"kind": "user", "name": "al';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(partial.length + 1000) });
        res.write(partial, () => {
          res.socket?.destroy();
        });
        return;
      }
      case 'huge':
        return this.sendHuge(res, fault.bytes);
      case 'hang':
        // Never answer; close() destroys the socket.
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'redirect-loop':
        return this.redirect(res, req.url ?? '/');
    }
  }

  private async sendHuge(res: ServerResponse, bytes: number): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes) });
    const head = '{"pad": "';
    const tail = '"}';
    let remaining = bytes;
    const chunks: Buffer[] = [];
    if (bytes >= head.length + tail.length) {
      chunks.push(Buffer.from(head));
      remaining -= head.length + tail.length;
    }
    const filler = Buffer.alloc(64 * 1024, 'x');
    const write = async (chunk: Buffer): Promise<boolean> => {
      if (res.destroyed) return false;
      if (!res.write(chunk)) {
        // Wait for drain or close, and remove the loser's listener so a long body leaks none.
        const done = new AbortController();
        const settle = (event: string) => once(res, event, { signal: done.signal }).catch(() => undefined);
        await Promise.race([settle('drain'), settle('close')]);
        done.abort();
      }
      return !res.destroyed;
    };
    for (const chunk of chunks) if (!(await write(chunk))) return;
    while (remaining > 0) {
      const n = Math.min(remaining, filler.length);
      if (!(await write(filler.subarray(0, n)))) return;
      remaining -= n;
    }
    if (bytes >= head.length + tail.length && !(await write(Buffer.from(tail)))) return;
    res.end();
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Reads the body as UTF-8; null when it is larger than MAX_BODY or the request was aborted. */
  private readBody(req: IncomingMessage): Promise<string | null> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) {
      req.resume();
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (value: string | null): void => {
        if (done) return;
        done = true;
        resolve(value);
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > MAX_BODY) {
          finish(null);
          return;
        }
        chunks.push(chunk);
      });
      // An aborted request keeps what arrived; nothing can be answered on it anyway.
      const partial = (): void => finish(Buffer.concat(chunks).toString('utf8'));
      req.once('end', partial);
      req.once('error', partial);
      req.once('close', partial);
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  private log(entry: RecordedRequest): void {
    this.requests.push(entry);
    if (this.requests.length > MAX_LOG) this.requests.splice(0, this.requests.length - MAX_LOG);
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return;
    const buffer = Buffer.from(body, 'utf8');
    res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(buffer.length) });
    res.end(buffer);
  }

  private sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(res, status, 'application/json', JSON.stringify(value), headers);
  }

  private sendHtml(res: ServerResponse, status: number, html: string): void {
    this.send(res, status, 'text/html; charset=UTF-8', html);
  }

  private errorPage(res: ServerResponse, status: number, message: string): void {
    const reason = STATUS_CODES[status] ?? 'Error';
    this.sendHtml(
      res,
      status,
      `<!DOCTYPE html><html><head><title>JupyterHub</title></head><body><h1>${status} : ${htmlEscape(reason)}</h1><p>${htmlEscape(message)}</p></body></html>`,
    );
  }

  private redirect(res: ServerResponse, location: string): void {
    this.send(res, 302, 'text/html; charset=UTF-8', '', { Location: location });
  }

  private forbidden(res: ServerResponse): void {
    this.sendJson(res, 403, { status: 403, message: 'Forbidden' });
  }

  private methodNotAllowed(res: ServerResponse): void {
    this.sendJson(res, 405, { status: 405, message: 'Method Not Allowed' });
  }
}
