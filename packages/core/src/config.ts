/**
 * Configuration: explicit options first, then the `JUPYTERHUB_*` environment the Hub gives a managed
 * service. Everything is validated once, here; errors name the option, the variable and the fix.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from './cookie-options';
import { ConfigError } from './errors';
import { resolveRequestedScopes } from './requested-scopes';
import { parseScope } from './scopes';
import type { SharedCacheOptions, SharedStore } from './shared-store';
import type { HubRequest, HubUser } from './types';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- referenced by TSDoc
import type { HubCaller } from './adapter';

/**
 * Where diagnostics go. Defaults to `console`; `console`, pino and winston loggers fit as they are.
 * Messages never contain tokens, cookies or secrets. Lines about a request start with the error code
 * (`ERR_HUBAUTH_FORBIDDEN: …`) and end with the request's id when there is one (`(request abc)`).
 * `debug` is optional: without it, debug lines (refusals, with {@link HubAuthOptions.debug}) go to `info`.
 */
export interface HubAuthLogger {
  /** Something to fix in the set-up, or a degraded Hub or shared cache; the service goes on. */
  warn(message: string): void;
  /** A failure that breaks requests until fixed (a wrong API URL), or an unexpected error while authenticating. */
  error(message: string): void;
  /** Informational lines; debug lines too when `debug` is missing. */
  info?(message: string): void;
  /** Refusals with their reason, only with {@link HubAuthOptions.debug} on. */
  debug?(message: string): void;
}

/** Environment variables, e.g. `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options of {@link HubAuth}. Every option falls back to the environment variable named in its doc. */
export interface HubAuthOptions {
  /** The service's API token (`JUPYTERHUB_API_TOKEN`). Required for OAuth and {@link @hubauth/core!HubAuth.apiRequest | HubAuth.apiRequest}. */
  apiToken?: string;
  /** The Hub's internal API URL (`JUPYTERHUB_API_URL`, default `http://127.0.0.1:8081/hub/api`); `http+unix://` is supported. */
  apiUrl?: string;
  /** This service's URL prefix (`JUPYTERHUB_SERVICE_PREFIX`, default `/`). */
  servicePrefix?: string;
  /** The Hub's public base path (`JUPYTERHUB_BASE_URL`, default `/`); the Hub lives at `<base>hub/`. */
  hubBaseUrl?: string;
  /** Service name (`JUPYTERHUB_SERVICE_NAME`); gives the default access scope. */
  serviceName?: string;
  /** OAuth client id (`JUPYTERHUB_CLIENT_ID`), `service-<name>` for services. */
  clientId?: string;
  /** Public origin of the Hub when it is on another host (`JUPYTERHUB_HOST`), e.g. `https://hub.example.org`. */
  hubHost?: string;
  /** Public URL of this service (`JUPYTERHUB_PUBLIC_URL`), e.g. `https://hub.example.org/services/x/`. */
  publicUrl?: string;
  /** Public URL of the Hub (`JUPYTERHUB_PUBLIC_HUB_URL`), e.g. `https://hub.example.org/hub/`. */
  publicHubUrl?: string;
  /**
   * Scopes that grant access, any one is enough (`JUPYTERHUB_OAUTH_ACCESS_SCOPES`, then
   * `JUPYTERHUB_OAUTH_SCOPES`, then `access:services!service=<serviceName>`).
   */
  accessScopes?: readonly string[];
  /**
   * Accept any identity the Hub vouches for, with no scope check. Off by default: when no access
   * scope can be determined, construction fails instead of silently allowing every Hub token.
   */
  allowAll?: boolean;
  /** Accept `?token=` in URLs (`JUPYTERHUB_ALLOW_TOKEN_IN_URL`, default false). Websocket upgrades always may. */
  allowTokenInUrl?: boolean;
  /** Client certificate for an internal-TLS Hub (`JUPYTERHUB_SSL_KEYFILE`, `_CERTFILE`, `_CLIENT_CA`). */
  tls?: {
    /** The client key, PEM (`JUPYTERHUB_SSL_KEYFILE`); needs `certFile`. */
    keyFile?: string;
    /** The client certificate, PEM (`JUPYTERHUB_SSL_CERTFILE`); needs `keyFile`. */
    certFile?: string;
    /** The authority the Hub's certificate must chain to, PEM (`JUPYTERHUB_SSL_CLIENT_CA`). */
    caFile?: string;
  };
  /** Seconds a Hub answer is cached (default 300). 0 disables the cache. */
  cacheMaxAge?: number;
  /** Seconds a "no such token" answer is cached (default 30, never above `cacheMaxAge`). */
  negativeCacheMaxAge?: number;
  /** Most identities kept in the cache (default 10,000). */
  cacheMaxEntries?: number;
  /** Milliseconds before a Hub request is abandoned (default 10,000). */
  requestTimeoutMs?: number;
  /** Most Hub lookups in flight at once (default 16). */
  maxConcurrentLookups?: number;
  /** Most lookups waiting for a slot; beyond this, requests get 503 (default 1,000). */
  maxPendingLookups?: number;
  /**
   * Most unanswered lookups of unknown tokens one client (by address) may have; beyond this, that
   * client gets 429 (default 100). Tokens from the login cookie and tokens valid before do not count.
   * Behind a reverse proxy, let the framework trust it (`trust proxy`) so that clients are told apart.
   */
  maxPendingLookupsPerClient?: number;
  /**
   * A second cache level shared by the replicas of this service, which also carries logouts and
   * {@link @hubauth/core!HubAuth.invalidate | HubAuth.invalidate} to every replica at once. See `@hubauth/redis`.
   *
   * @example
   * ```ts
   * import { HubOAuth } from '@hubauth/core';
   * import { redisStore } from '@hubauth/redis';
   *
   * const auth = new HubOAuth({ sharedCache: { store: redisStore({ url: 'redis://redis:6379' }) } });
   * ```
   */
  sharedCache?: SharedCacheOptions;
  /** Users allowed in, in addition to the scope check (oauthenticator's `allowed_users`). */
  allowedUsers?: readonly string[];
  /** Users never allowed in (oauthenticator's `blocked_users`). */
  blockedUsers?: readonly string[];
  /** User names must match this pattern (oauthenticator's `username_pattern`). */
  usernamePattern?: RegExp | string;
  /**
   * Runs on every identified request after the Hub's answer; may return an enriched model, or
   * `null`/`false` to refuse the caller (403). Runs per request: keep it cheap or memoise.
   */
  postAuthHook?: (user: HubUser, context: { request: HubRequest }) => HubUser | null | false | Promise<HubUser | null | false>;
  /** Where warnings go (default `console`). */
  logger?: HubAuthLogger;
  /**
   * Log every refusal (401, 403, 400) at debug level with its code and reason (`HUBAUTH_DEBUG=1`,
   * default off). Off, refusals cost no logging work at all.
   */
  debug?: boolean;
  /** Environment to read instead of `process.env` (tests, multi-tenant set-ups). */
  env?: Environment;
}

/** Options of {@link HubOAuth}: the token path plus browser login. */
export interface HubOAuthOptions extends HubAuthOptions {
  /** The registered redirect URI (`JUPYTERHUB_OAUTH_CALLBACK_URL`, default `<servicePrefix>oauth_callback`). */
  oauthRedirectUri?: string;
  /**
   * Secret(s) for signing and encrypting cookies (`HUBAUTH_COOKIE_SECRET`, comma-separated). The first
   * signs, all verify: put a new secret first to rotate. At least 32 characters each. Without one, a
   * random per-process secret is used and a warning says that replicas need a shared one.
   */
  cookieSecret?: string | readonly string[];
  /** Use the `__Host-` cookie prefix (`JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED`); forces path `/` and Secure. */
  cookieHostPrefix?: boolean;
  /** Seconds a login may take between the redirect and the callback (default 600). */
  stateMaxAge?: number;
  /** Where `<prefix>logout` sends the browser: the Hub's logout page (default) or this service's prefix. */
  logoutRedirect?: 'hub' | 'service';
  /** Accept the login cookie on websocket upgrades (`JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH`, default true). */
  allowWebsocketCookieAuth?: boolean;
  /**
   * Scopes to ask the Hub for at login (the authorize request's `scope`), e.g.
   * `['read:servers!user', 'tokens!user']`, so that `hubAuth.api(...)` (a {@link HubCaller}) may act for the user.
   * The service must be registered with them in `oauth_client_allowed_scopes`; what the Hub granted
   * is in `hubUser.scopes`. Default: the Hub's `JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES`, else none
   * (the Hub then grants what the registration allows).
   */
  requestScopes?: readonly string[];
  /**
   * Attributes of the login, login-state and xsrf cookies (`JUPYTERHUB_COOKIE_OPTIONS`, the JSON the
   * Hub passes from `cookie_options`): `sameSite`, `secure`, `domain`, `sessionOnly`.
   */
  cookieOptions?: CookieOptions;
}

/** Validated token-path configuration. */
export interface HubAuthConfig {
  /** The service's API token; empty when none was given (token checks work without it, browser login does not). */
  readonly apiToken: string;
  /** The Hub's internal API URL, without a trailing slash. */
  readonly apiUrl: string;
  /** This service's URL prefix, ending with `/`. */
  readonly servicePrefix: string;
  /** The Hub's own path (`<base>hub/`), for login and logout redirects. */
  readonly hubPrefix: string;
  /** The service's name; empty for an OAuth client without one. */
  readonly serviceName: string;
  /** The OAuth client id (`service-<name>` for services); it also names the login cookie. */
  readonly clientId: string;
  /** The Hub's public origin when it is on another host, without a trailing slash; empty when it shares this service's. */
  readonly hubHost: string;
  /** This service's public URL; empty when unknown. */
  readonly publicUrl: string;
  /** The Hub's public URL; empty when unknown. */
  readonly publicHubUrl: string;
  /** Required scopes (any one); `null` when {@link HubAuthOptions.allowAll} is on. */
  readonly accessScopes: readonly string[] | null;
  /** Whether `?token=` is accepted on ordinary requests (websocket upgrades always accept it). */
  readonly allowTokenInUrl: boolean;
  /** The client certificate for an internal-TLS Hub, read once at construction; `null` for plain HTTP. */
  readonly tls: {
    /** The client key, PEM. */
    readonly key: Buffer;
    /** The client certificate, PEM. */
    readonly cert: Buffer;
    /** The authority the Hub's certificate must chain to; the system's authorities without it. */
    readonly ca?: Buffer;
  } | null;
  /** Seconds a Hub answer is cached; 0: no cache. */
  readonly cacheMaxAge: number;
  /** Seconds a "no such token" answer is cached (at most `cacheMaxAge`). */
  readonly negativeCacheMaxAge: number;
  /** Most identities kept in the cache. */
  readonly cacheMaxEntries: number;
  /** Milliseconds before a Hub request is abandoned. */
  readonly requestTimeoutMs: number;
  /** Most Hub lookups in flight at once. */
  readonly maxConcurrentLookups: number;
  /** Most lookups waiting for a slot before requests get 503. */
  readonly maxPendingLookups: number;
  /** Most unanswered lookups of unknown tokens per client address before it gets 429. */
  readonly maxPendingLookupsPerClient: number;
  /** The shared cache level, validated; `null` without one. */
  readonly sharedCache: {
    /** Where the shared entries live. */
    readonly store: SharedStore;
    /** Seals the entries, so that the store never holds a token or an identity in the clear. */
    readonly secret: string;
    /** Milliseconds a store operation may take before it counts as a miss. */
    readonly timeoutMs: number;
  } | null;
  /** Users allowed in besides the scope check; `null`: no such list. */
  readonly allowedUsers: ReadonlySet<string> | null;
  /** Users never allowed in. */
  readonly blockedUsers: ReadonlySet<string>;
  /** The pattern user names must match (a string option is anchored); `null`: any name. */
  readonly usernamePattern: RegExp | null;
  /** The hook run on every identified request; `null` without one. */
  readonly postAuthHook: HubAuthOptions['postAuthHook'] | null;
  /** Where diagnostics go. */
  readonly logger: HubAuthLogger;
  /** Whether refusals are logged at debug level ({@link HubAuthOptions.debug}). */
  readonly debug: boolean;
}

/** Validated browser-login configuration. */
export interface HubOAuthConfig extends HubAuthConfig {
  /** The registered redirect URI the Hub sends the browser back to. */
  readonly oauthRedirectUri: string;
  /** The Hub's authorize endpoint, as the browser reaches it. */
  readonly authorizeUrl: string;
  /** The Hub's token endpoint, as this service reaches it (through the API URL). */
  readonly tokenUrl: string;
  /** The Hub's logout page, where `<prefix>logout` sends the browser by default. */
  readonly hubLogoutUrl: string;
  /** The cookie secrets: the first signs, all verify. */
  readonly cookieSecrets: readonly string[];
  /** Whether the secret is a random per-process one (no {@link HubOAuthOptions.cookieSecret}): logins then end with the process. */
  readonly cookieSecretIsRandom: boolean;
  /** The login cookie's name: the client id, with `__Host-` when {@link HubOAuthOptions.cookieHostPrefix} is on. */
  readonly cookieName: string;
  /** The login cookie's path: the service prefix, or `/` with the `__Host-` prefix. */
  readonly cookiePath: string;
  /** Whether the `__Host-` cookie prefix is in use. */
  readonly cookieHostPrefix: boolean;
  /** `true`/`false` when the public URL says; `null` to follow the request's protocol. */
  readonly cookieSecure: boolean | null;
  /** Seconds a login may take between the redirect and the callback. */
  readonly stateMaxAge: number;
  /** Where `<prefix>logout` sends the browser. */
  readonly logoutRedirect: 'hub' | 'service';
  /** Whether the login cookie is accepted on websocket upgrades. */
  readonly allowWebsocketCookieAuth: boolean;
  /** Scopes sent with every login (empty: none). */
  readonly requestScopes: readonly string[];
  /** Cookie attributes. */
  readonly cookieOptions: ResolvedCookieOptions;
}

type Source = { option: string; env?: string };

function where(src: Source): string {
  return src.env ? `option "${src.option}" (env ${src.env})` : `option "${src.option}"`;
}

function fail(src: Source, message: string): never {
  throw new ConfigError(src.option, `${message} [${where(src)}]`);
}

/** A value for a message, quoted: strings as JSON, anything else with its type. Never for secrets. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `"${String(value)}" (a ${typeof value})`;
}

/** The type of a value only: for secrets, whose values never appear in a message. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Option names every adapter accepts (the middleware's, a guard's policy, and adapter extras such as trustProxy). */
const ADAPTER_OPTIONS = ['oauth', 'instance', 'errors', 'trustProxy', 'scopes', 'requireScopes', 'hubUsers', 'hubGroups', 'hubServices', 'allowServices', 'onUnauthenticated'];

/** Every option name, checked at compile time against the option interfaces. */
const OPTION_NAMES: Record<keyof HubOAuthOptions, true> = {
  apiToken: true, apiUrl: true, servicePrefix: true, hubBaseUrl: true, serviceName: true, clientId: true, hubHost: true,
  publicUrl: true, publicHubUrl: true, accessScopes: true, allowAll: true, allowTokenInUrl: true, tls: true, cacheMaxAge: true,
  negativeCacheMaxAge: true, cacheMaxEntries: true, requestTimeoutMs: true, maxConcurrentLookups: true, maxPendingLookups: true,
  allowedUsers: true, blockedUsers: true, usernamePattern: true, postAuthHook: true, logger: true, env: true,
  oauthRedirectUri: true, cookieSecret: true, cookieHostPrefix: true, stateMaxAge: true, logoutRedirect: true,
  allowWebsocketCookieAuth: true, maxPendingLookupsPerClient: true, sharedCache: true, requestScopes: true, cookieOptions: true,
  debug: true,
};
const KNOWN_OPTIONS: readonly string[] = [...Object.keys(OPTION_NAMES), ...ADAPTER_OPTIONS];

/** Edit distance, for "did you mean": options are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known option closest to a misspelt one, if any is close. */
export function closestOption(name: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const known of KNOWN_OPTIONS) {
    const d = known.toLowerCase() === name.toLowerCase() ? 0 : distance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** A typo in an option name would otherwise be ignored silently (and a default used instead). */
function checkOptionNames(options: object): void {
  for (const name of Object.keys(options)) {
    if (KNOWN_OPTIONS.includes(name)) continue;
    const guess = closestOption(name);
    throw new ConfigError(name, guess ? `unknown option; did you mean "${guess}"?` : `unknown option; the options are ${KNOWN_OPTIONS.join(', ')}`);
  }
}

function str(value: string | undefined, env: Environment, src: Source): string | undefined {
  if (value !== undefined) {
    if (typeof value !== 'string') fail(src, `must be a string, got ${shown(value)}`);
    return value;
  }
  const fromEnv = src.env ? env[src.env] : undefined;
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Booleans as the Hub writes them, checked strictly: 1/0, true/false, yes/no, on/off. */
function bool(value: boolean | undefined, env: Environment, src: Source, fallback: boolean): boolean {
  if (value !== undefined) {
    if (typeof value !== 'boolean') fail(src, `must be true or false, got ${shown(value)}`);
    return value;
  }
  const raw = src.env ? env[src.env]?.trim().toLowerCase() : undefined;
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  return fail(src, `"${raw}" is not a boolean; use 1 or 0`);
}

function num(value: number | undefined, src: Source, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(src, `must be a number from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

function int(value: number | undefined, src: Source, fallback: number, min: number, max: number): number {
  const n = num(value, src, fallback, min, max);
  if (!Number.isInteger(n)) fail(src, `must be a whole number, got ${shown(n)}`);
  return n;
}

/** `/a/b` → `/a/b/`; `''` → `/`. */
function slashed(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

function validUrl(value: string, src: Source, protocols: readonly string[]): URL {
  // Messages end up in logs: a password in the URL's userinfo is masked.
  const shown = value.replace(/\/\/[^/]*@/, '//***@');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(src, `"${shown}" is not an absolute URL`);
  }
  if (!protocols.includes(url.protocol)) {
    fail(src, `"${shown}" must use ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')}`);
  }
  if (url.username || url.password) fail(src, 'must not contain credentials');
  return url;
}

function readScopes(env: Environment, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail({ option: 'accessScopes', env: name }, 'must be a JSON list of scope strings, e.g. ["access:services"]');
  }
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
    fail({ option: 'accessScopes', env: name }, 'must be a JSON list of scope strings');
  }
  // Checked here so that an error names the variable the list came from (either of two).
  return checkScopeList(parsed as string[], { option: 'accessScopes', env: name });
}

function checkScopeList(scopes: readonly string[], src: Source): string[] {
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) fail(src, 'must be a list of strings');
  for (const scope of scopes) {
    try {
      parseScope(scope);
    } catch (err) {
      fail(src, (err as Error).message);
    }
  }
  return [...scopes];
}

function readFile(path: string, src: Source): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(src, `cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

const consoleLogger: HubAuthLogger = {
  warn: (m) => console.warn(`[hubauth] ${m}`),
  error: (m) => console.error(`[hubauth] ${m}`),
  info: (m) => console.info(`[hubauth] ${m}`),
  debug: (m) => console.debug(`[hubauth] ${m}`),
};

/**
 * Resolves and validates the token-path configuration. Throws {@link ConfigError}.
 *
 * @example
 * ```ts run
 * import { resolveHubAuthConfig } from '@hubauth/core';
 *
 * // Validates options and the JUPYTERHUB_* environment without starting anything (e.g. at deploy time).
 * const config = resolveHubAuthConfig({ env: { JUPYTERHUB_SERVICE_NAME: 'notes', JUPYTERHUB_API_TOKEN: 'secret' } });
 * console.log(config.accessScopes); // ['access:services!service=notes']
 * ```
 */
export function resolveHubAuthConfig(options: HubAuthOptions = {}): HubAuthConfig {
  const env = checkOptionsShape(options);
  const hub = resolveHubApi(options, env);
  const service = resolveService(options, env);
  const accessScopes = resolveAccessScopes(options, env, service.serviceName);
  const tls = resolveTls(options.tls ?? {}, env);
  const cacheMaxAge = num(options.cacheMaxAge, { option: 'cacheMaxAge' }, 300, 0, 86_400 * 30);
  const negativeCacheMaxAge = Math.min(
    num(options.negativeCacheMaxAge, { option: 'negativeCacheMaxAge' }, 30, 0, 86_400),
    cacheMaxAge,
  );
  const usernamePattern = resolveUsernamePattern(options.usernamePattern);
  if (options.postAuthHook !== undefined && typeof options.postAuthHook !== 'function') {
    fail({ option: 'postAuthHook' }, 'must be a function');
  }

  return Object.freeze({
    ...hub,
    ...service,
    accessScopes,
    allowTokenInUrl: bool(options.allowTokenInUrl, env, { option: 'allowTokenInUrl', env: 'JUPYTERHUB_ALLOW_TOKEN_IN_URL' }, false),
    tls,
    cacheMaxAge,
    negativeCacheMaxAge,
    cacheMaxEntries: int(options.cacheMaxEntries, { option: 'cacheMaxEntries' }, 10_000, 1, 10_000_000),
    requestTimeoutMs: int(options.requestTimeoutMs, { option: 'requestTimeoutMs' }, 10_000, 1, 600_000),
    maxConcurrentLookups: int(options.maxConcurrentLookups, { option: 'maxConcurrentLookups' }, 16, 1, 10_000),
    maxPendingLookups: int(options.maxPendingLookups, { option: 'maxPendingLookups' }, 1_000, 0, 1_000_000),
    maxPendingLookupsPerClient: int(options.maxPendingLookupsPerClient, { option: 'maxPendingLookupsPerClient' }, 100, 1, 1_000_000),
    sharedCache: resolveSharedCache(options, env),
    allowedUsers: names(options.allowedUsers, 'allowedUsers'),
    blockedUsers: names(options.blockedUsers, 'blockedUsers') ?? new Set<string>(),
    usernamePattern,
    postAuthHook: options.postAuthHook ?? null,
    logger: options.logger ?? consoleLogger,
    debug: bool(options.debug, env, { option: 'debug', env: 'HUBAUTH_DEBUG' }, false),
  });
}

/** The options object itself, its option names, `env` and `logger`; returns the environment to read. */
function checkOptionsShape(options: HubAuthOptions): Environment {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', `must be an object, got ${shown(options)}`);
  }
  checkOptionNames(options);
  if (options.env !== undefined && (options.env === null || typeof options.env !== 'object')) {
    throw new ConfigError('env', `must be an object of environment variables (e.g. process.env), got ${shown(options.env)}`);
  }
  const logger = options.logger;
  if (logger !== undefined && (logger === null || typeof logger !== 'object' || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    throw new ConfigError('logger', 'must have warn() and error() methods (console, a pino or winston logger)');
  }
  if (logger?.debug !== undefined && typeof logger.debug !== 'function') throw new ConfigError('logger', 'debug must be a method when present');
  return options.env ?? process.env;
}

/** Where the Hub's REST API is, and the service's token for it. */
function resolveHubApi(options: HubAuthOptions, env: Environment): Pick<HubAuthConfig, 'hubPrefix' | 'apiUrl' | 'apiToken'> {
  const hubBase = slashed(str(options.hubBaseUrl, env, { option: 'hubBaseUrl', env: 'JUPYTERHUB_BASE_URL' }) ?? '/');
  const hubPrefix = `${hubBase}hub/`;

  const apiUrlSrc = { option: 'apiUrl', env: 'JUPYTERHUB_API_URL' };
  const apiUrlRaw = str(options.apiUrl, env, apiUrlSrc) ?? `http://127.0.0.1:8081${hubPrefix}api`;
  validUrl(apiUrlRaw, apiUrlSrc, ['http:', 'https:', 'http+unix:']);
  const apiUrl = apiUrlRaw.replace(/\/+$/, '');

  const apiToken = str(options.apiToken, env, { option: 'apiToken', env: 'JUPYTERHUB_API_TOKEN' }) ?? '';
  // It travels in an Authorization header; otherwise every Hub call would throw a TypeError instead.
  if (!/^[\x21-\x7e]*$/.test(apiToken)) {
    fail(
      { option: 'apiToken', env: 'JUPYTERHUB_API_TOKEN' },
      'contains spaces, control or non-ASCII characters (a trailing newline from a secret file?)',
    );
  }
  return { hubPrefix, apiUrl, apiToken };
}

/** Who this service is to the Hub, and where it and the Hub are seen from outside. */
function resolveService(
  options: HubAuthOptions,
  env: Environment,
): Pick<HubAuthConfig, 'servicePrefix' | 'serviceName' | 'clientId' | 'hubHost' | 'publicUrl' | 'publicHubUrl'> {
  const servicePrefix = slashed(
    str(options.servicePrefix, env, { option: 'servicePrefix', env: 'JUPYTERHUB_SERVICE_PREFIX' }) ?? '/',
  );
  // `;` and controls would end or bend the cookies' Path attribute, which the prefix becomes.
  // eslint-disable-next-line no-control-regex
  if (/[\s\\?#;\u0000-\u001f\u007f]/.test(servicePrefix) || servicePrefix.startsWith('//')) {
    fail({ option: 'servicePrefix', env: 'JUPYTERHUB_SERVICE_PREFIX' }, `"${servicePrefix}" is not a URL path`);
  }
  const serviceName = str(options.serviceName, env, { option: 'serviceName', env: 'JUPYTERHUB_SERVICE_NAME' }) ?? '';
  const clientId = str(options.clientId, env, { option: 'clientId', env: 'JUPYTERHUB_CLIENT_ID' }) ?? '';

  const hostSrc = { option: 'hubHost', env: 'JUPYTERHUB_HOST' };
  const hubHost = (str(options.hubHost, env, hostSrc) ?? '').replace(/\/+$/, '');
  if (hubHost) validUrl(hubHost, hostSrc, ['http:', 'https:']);
  const publicSrc = { option: 'publicUrl', env: 'JUPYTERHUB_PUBLIC_URL' };
  const publicUrl = str(options.publicUrl, env, publicSrc) ?? '';
  if (publicUrl) validUrl(publicUrl, publicSrc, ['http:', 'https:']);
  const publicHubSrc = { option: 'publicHubUrl', env: 'JUPYTERHUB_PUBLIC_HUB_URL' };
  const publicHubUrl = str(options.publicHubUrl, env, publicHubSrc) ?? '';
  if (publicHubUrl) validUrl(publicHubUrl, publicHubSrc, ['http:', 'https:']);
  return { servicePrefix, serviceName, clientId, hubHost, publicUrl, publicHubUrl };
}

/**
 * The scopes that grant access to this service: the option, else the Hub's, else the service's own
 * (`access:services!service=<name>`); `null` with `allowAll`. Never an empty list by accident: a
 * service that would accept any valid Hub token fails to start instead.
 */
function resolveAccessScopes(options: HubAuthOptions, env: Environment, serviceName: string): readonly string[] | null {
  let accessScopes: string[] | undefined =
    options.accessScopes !== undefined
      ? checkScopeList(options.accessScopes, { option: 'accessScopes' })
      : (readScopes(env, 'JUPYTERHUB_OAUTH_ACCESS_SCOPES') ?? readScopes(env, 'JUPYTERHUB_OAUTH_SCOPES'));
  if ((!accessScopes || accessScopes.length === 0) && serviceName) {
    accessScopes = [`access:services!service=${serviceName}`];
  }
  const allowAll = options.allowAll ?? false;
  if (typeof allowAll !== 'boolean') fail({ option: 'allowAll' }, 'must be true or false');
  if (!allowAll && (!accessScopes || accessScopes.length === 0)) {
    if (options.clientId ?? env.JUPYTERHUB_CLIENT_ID) {
      // An OAuth client without a name: the set-up of an external service (JupyterHub's launch-service
      // recipe). The Hub's tokens for it carry access:services!service=<name>, so the name is all that is missing.
      fail(
        { option: 'serviceName', env: 'JUPYTERHUB_SERVICE_NAME' },
        'no access scope is configured: set JUPYTERHUB_SERVICE_NAME to the "name" of this service in ' +
          "the Hub's c.JupyterHub.services (it gives the access scope access:services!service=<name>)",
      );
    }
    fail(
      { option: 'accessScopes', env: 'JUPYTERHUB_OAUTH_ACCESS_SCOPES' },
      'no access scope is configured, so any valid Hub token would be accepted. Run the service under ' +
        'JupyterHub (which sets JUPYTERHUB_OAUTH_ACCESS_SCOPES), set accessScopes / JUPYTERHUB_SERVICE_NAME, ' +
        'or pass allowAll: true to accept every identity the Hub vouches for',
    );
  }
  return allowAll ? null : Object.freeze(accessScopes ?? []);
}

/** Internal TLS to the Hub (`internal_ssl`): the key, certificate and CA files the Hub gives, read once. */
function resolveTls(tlsOpt: NonNullable<HubAuthOptions['tls']>, env: Environment): HubAuthConfig['tls'] {
  const keySrc = { option: 'tls.keyFile', env: 'JUPYTERHUB_SSL_KEYFILE' };
  const certSrc = { option: 'tls.certFile', env: 'JUPYTERHUB_SSL_CERTFILE' };
  const caSrc = { option: 'tls.caFile', env: 'JUPYTERHUB_SSL_CLIENT_CA' };
  const keyFile = str(tlsOpt.keyFile, env, keySrc);
  const certFile = str(tlsOpt.certFile, env, certSrc);
  const caFile = str(tlsOpt.caFile, env, caSrc);
  if (Boolean(keyFile) !== Boolean(certFile)) {
    fail(keyFile ? certSrc : keySrc, 'internal TLS needs both a key file and a certificate file');
  }
  if (!keyFile || !certFile) return null;
  return {
    key: readFile(keyFile, keySrc),
    cert: readFile(certFile, certSrc),
    ...(caFile ? { ca: readFile(caFile, caSrc) } : {}),
  };
}

/** `usernamePattern` as a stateless RegExp (a string must match the whole name). */
function resolveUsernamePattern(pattern: HubAuthOptions['usernamePattern']): RegExp | null {
  if (pattern === undefined) return null;
  // `g` and `y` make test() stateful (lastIndex): the same name would pass, then fail, then pass.
  if (pattern instanceof RegExp) return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
  if (typeof pattern !== 'string') fail({ option: 'usernamePattern' }, 'must be a RegExp or a string');
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    fail({ option: 'usernamePattern' }, `is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** A list of user names as a set; `null` when not given. */
function names(list: readonly string[] | undefined, option: string): Set<string> | null {
  if (list === undefined) return null;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) fail({ option }, 'must be a list of names');
  return new Set(list);
}

const STORE_METHODS = ['getMany', 'set', 'setIfAbsent', 'delete', 'publish', 'subscribe'] as const;

/** Validates `sharedCache`; its secret defaults to the cookie secret. */
function resolveSharedCache(options: HubAuthOptions, env: Environment): HubAuthConfig['sharedCache'] {
  const shared = options.sharedCache;
  if (shared === undefined) return null;
  const src = { option: 'sharedCache' };
  if (shared === null || typeof shared !== 'object') fail(src, 'must be an object such as { store: redisStore({ url }) }');
  const store = shared.store as unknown as Record<string, unknown> | undefined;
  const missing = STORE_METHODS.filter((m) => typeof store?.[m] !== 'function');
  if (!store || missing.length > 0) {
    fail({ option: 'sharedCache.store' }, `must be a shared store such as redisStore({ url }) from @hubauth/redis (missing: ${missing.join(', ')})`);
  }
  const secretSrc = { option: 'sharedCache.secret', env: 'HUBAUTH_COOKIE_SECRET' };
  const given = shared.secret ?? (options as HubOAuthOptions).cookieSecret;
  const list =
    given === undefined
      ? (env.HUBAUTH_COOKIE_SECRET ?? '').split(',').map((x) => x.trim()).filter(Boolean)
      : typeof given === 'string'
        ? [given]
        : [...given];
  const secret = list[0];
  if (typeof secret !== 'string' || secret.length < 32) {
    fail(
      secretSrc,
      'the shared cache needs a secret of at least 32 characters that every replica shares (the cookie secret is used ' +
        'when set); generate one with `openssl rand -hex 32` and give it to every replica',
    );
  }
  const timeoutMs = int(shared.timeoutMs, { option: 'sharedCache.timeoutMs' }, 250, 1, 60_000);
  return Object.freeze({ store: shared.store, secret, timeoutMs });
}

/**
 * Whether adapter options ask for browser login: `oauth` when given, else whether a client id is
 * configured (`clientId` / `JUPYTERHUB_CLIENT_ID`). Throws {@link ConfigError}.
 */
export function resolveOAuthEnabled(options: HubAuthOptions & { oauth?: boolean }): boolean {
  const env: Environment = options.env ?? process.env;
  const oauth = options.oauth ?? Boolean(options.clientId ?? env.JUPYTERHUB_CLIENT_ID);
  if (typeof oauth !== 'boolean') throw new ConfigError('oauth', 'must be true or false');
  return oauth;
}

/**
 * Resolves and validates the browser-login configuration. Throws {@link ConfigError}.
 *
 * @example
 * ```ts
 * import { ConfigError, resolveHubOAuthConfig } from '@hubauth/core';
 *
 * try {
 *   const config = resolveHubOAuthConfig(); // from the JUPYTERHUB_* environment
 *   console.log(`login callback: ${config.oauthRedirectUri}`);
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.message); // names the option, the variable and the fix
 *   else throw err;
 * }
 * ```
 */
export function resolveHubOAuthConfig(options: HubOAuthOptions = {}): HubOAuthConfig {
  const base = resolveHubAuthConfig(options);
  const env: Environment = options.env ?? process.env;
  checkOAuthClient(base);
  const oauthRedirectUri = resolveRedirectUri(options, env, base);
  // Browsers go to the public Hub; the code exchange goes server-to-server through the API URL.
  const publicHub = base.publicHubUrl ? base.publicHubUrl.replace(/\/?$/, '/') : `${base.hubHost}${base.hubPrefix}`;
  const { secrets, random: cookieSecretIsRandom } = resolveCookieSecrets(options, env, base.logger);
  const cookieHostPrefix = bool(
    options.cookieHostPrefix,
    env,
    { option: 'cookieHostPrefix', env: 'JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED' },
    false,
  );
  const cookieOptions = resolveCookieOptions(options.cookieOptions, env.JUPYTERHUB_COOKIE_OPTIONS, {
    hostPrefix: cookieHostPrefix,
    warn: (m) => base.logger.warn(m),
  });
  const cookieSecure =
    cookieOptions.secure ?? (cookieHostPrefix ? true : base.publicUrl ? base.publicUrl.startsWith('https:') : null);
  const logoutRedirect = options.logoutRedirect ?? 'hub';
  if (logoutRedirect !== 'hub' && logoutRedirect !== 'service') {
    fail({ option: 'logoutRedirect' }, 'must be "hub" or "service"');
  }

  return Object.freeze({
    ...base,
    oauthRedirectUri,
    authorizeUrl: `${publicHub}api/oauth2/authorize`,
    tokenUrl: `${base.apiUrl}/oauth2/token`,
    hubLogoutUrl: `${publicHub}logout`,
    cookieSecrets: Object.freeze(secrets),
    cookieSecretIsRandom,
    cookieName: cookieHostPrefix ? `__Host-${base.clientId}` : base.clientId,
    cookiePath: cookieHostPrefix ? '/' : base.servicePrefix,
    cookieHostPrefix,
    cookieSecure,
    stateMaxAge: int(options.stateMaxAge, { option: 'stateMaxAge' }, 600, 10, 86_400),
    logoutRedirect,
    allowWebsocketCookieAuth: bool(
      options.allowWebsocketCookieAuth,
      env,
      { option: 'allowWebsocketCookieAuth', env: 'JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH' },
      true,
    ),
    requestScopes: resolveRequestedScopes({
      option: options.requestScopes,
      allowedEnv: env.JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES,
    }),
    cookieOptions,
  });
}

/** Browser login needs an OAuth client: its id (which also names cookies) and its secret, the API token. */
function checkOAuthClient(base: HubAuthConfig): void {
  if (!base.clientId) {
    fail(
      { option: 'clientId', env: 'JUPYTERHUB_CLIENT_ID' },
      'browser login needs the OAuth client id the Hub registered for this service (service-<name>); ' +
        'set it, or use token-only authentication (oauth: false)',
    );
  }
  // The client id names the login and state cookies; otherwise every login would throw a TypeError.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(base.clientId)) {
    fail({ option: 'clientId', env: 'JUPYTERHUB_CLIENT_ID' }, `"${base.clientId}" cannot be used as a cookie name`);
  }
  if (!base.apiToken) {
    fail(
      { option: 'apiToken', env: 'JUPYTERHUB_API_TOKEN' },
      "browser login needs the service's API token (it is the OAuth client secret)",
    );
  }
}

/** The OAuth callback: a path under the service prefix by default, or the absolute URL an external service registered. */
function resolveRedirectUri(options: HubOAuthOptions, env: Environment, base: HubAuthConfig): string {
  const redirectSrc = { option: 'oauthRedirectUri', env: 'JUPYTERHUB_OAUTH_CALLBACK_URL' };
  const oauthRedirectUri = str(options.oauthRedirectUri, env, redirectSrc) ?? `${base.servicePrefix}oauth_callback`;
  const redirectIsAbsolute = !oauthRedirectUri.startsWith('/') || oauthRedirectUri.startsWith('//');
  if (redirectIsAbsolute) {
    validUrl(oauthRedirectUri, redirectSrc, ['http:', 'https:']);
    return oauthRedirectUri;
  }
  // The Hub sends the browser to the redirect URI as registered: a path lands on the Hub's own
  // origin, which is right behind the Hub's proxy and wrong for a service with an origin of its own.
  // JUPYTERHUB_HOST says the Hub is on a host of its own (the external-service recipe, sub-domains).
  const hubOrigin = base.hubHost ? new URL(base.hubHost).origin : '';
  const serviceOrigin = base.publicUrl ? new URL(base.publicUrl).origin : '';
  if (hubOrigin && serviceOrigin && serviceOrigin !== hubOrigin) {
    fail(
      redirectSrc,
      `"${oauthRedirectUri}" is a path, but this service (${serviceOrigin}) is not at the Hub's origin (${hubOrigin}); ` +
        `use the absolute URL registered as the service's oauth_redirect_uri, e.g. ${serviceOrigin}${oauthRedirectUri}`,
    );
  }
  return oauthRedirectUri;
}

/**
 * The cookie secrets (the first seals, all open: rotation), each at least 32 characters; a random
 * one for this process, with a warning, when none is configured.
 */
function resolveCookieSecrets(options: HubOAuthOptions, env: Environment, logger: HubAuthLogger): { secrets: string[]; random: boolean } {
  const secretSrc = { option: 'cookieSecret', env: 'HUBAUTH_COOKIE_SECRET' };
  let secrets: string[];
  const given: unknown = options.cookieSecret;
  if (given !== undefined) {
    // The value is a secret: messages say its type, never its value.
    if (typeof given === 'string') secrets = [given];
    else if (Array.isArray(given)) secrets = [...(given as unknown[])] as string[];
    else fail(secretSrc, `must be a string or a list of strings, got ${kindOf(given)}`);
  } else {
    secrets = (env.HUBAUTH_COOKIE_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  }
  const notString = (secrets as unknown[]).findIndex((s) => typeof s !== 'string');
  if (notString >= 0) fail(secretSrc, `secret #${notString + 1} must be a string, got ${kindOf((secrets as unknown[])[notString])}`);
  const weak = secrets.findIndex((s) => s.length < 32);
  if (weak >= 0) {
    fail(secretSrc, `secret #${weak + 1} is shorter than 32 characters; generate one with \`openssl rand -hex 32\``);
  }
  if (secrets.length > 0) return { secrets, random: false };
  logger.warn(
    'WARNING: no cookie secret configured (cookieSecret / HUBAUTH_COOKIE_SECRET); using a random one for this ' +
      'process. Logins will not survive a restart, and replicas of this service MUST share one secret ' +
      '(`openssl rand -hex 32`).',
  );
  return { secrets: [randomBytes(32).toString('hex')], random: true };
}
