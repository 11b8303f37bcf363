/**
 * The proxy's own options (what to proxy, how to present identity, which origins may use the
 * cookie), validated once at start-up. Authentication options are core's and validated by core.
 */
import { ConfigError, parseScope, type AccessPolicy, type Environment, type HubAuthMiddlewareOptions } from '@hubauth/core';

/** Names of the request headers that carry the caller's identity to the upstream; `null` sends none. */
export interface IdentityHeaderNames {
  /** The user (or service) name. Default `X-Hubauth-User`. */
  user?: string | null;
  /** Comma-separated group names. Default `X-Hubauth-Groups`. */
  groups?: string | null;
  /** The Hub's whole user model as JSON. Default `X-Hubauth-User-Model`. */
  model?: string | null;
}

/** Options of {@link HubAuthProxy}. Every authentication option of the middleware applies too. */
export interface HubAuthProxyOptions extends HubAuthMiddlewareOptions, Pick<AccessPolicy, 'hubUsers' | 'hubGroups' | 'scopes' | 'allowServices'> {
  /**
   * The app to put behind the Hub's login, e.g. `http://127.0.0.1:8501` (`HUBAUTH_PROXY_UPSTREAM`).
   * May carry a path, which is prepended to every proxied path. Omit it to serve only the
   * forward-auth endpoint (nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`).
   */
  upstream?: string | URL;
  /**
   * Remove the service prefix before proxying (default `true`): `/services/app/page` reaches the
   * upstream as `/page`. `false` keeps it, for apps configured with their base path (Streamlit's
   * `--server.baseUrlPath`, Grafana's `serve_from_sub_path`). Either way the prefix is sent in
   * `X-Forwarded-Prefix`.
   */
  stripPrefix?: boolean;
  /** Identity header names; unset entries keep their defaults, `null` disables one. */
  identityHeaders?: IdentityHeaderNames;
  /**
   * Origins (besides the service's own) whose pages may send cookie-authenticated state-changing
   * requests and websocket upgrades, e.g. `https://hub.example.org`. The service's own origin is
   * its public URL when configured, else the request's `Host`.
   */
  allowedOrigins?: readonly string[];
  /**
   * Milliseconds the upstream may stay silent (no response headers, or no data while streaming)
   * before the request is answered 504 and the connection closed (default 300,000). `0` disables.
   */
  upstreamTimeoutMs?: number;
  /** Path of the forward-auth endpoint, relative to the service prefix (default `_hubauth/auth`). */
  forwardAuthPath?: string;
  /** Environment to read instead of `process.env`. */
  env?: Environment;
}

/** The validated proxy options. */
/** The proxy's own option names (core checks all the others). */
export const PROXY_OPTION_NAMES: readonly string[] = Object.freeze(
  Object.keys({
    upstream: true,
    stripPrefix: true,
    identityHeaders: true,
    allowedOrigins: true,
    upstreamTimeoutMs: true,
    forwardAuthPath: true,
  } satisfies Record<Exclude<keyof HubAuthProxyOptions, keyof HubAuthMiddlewareOptions | 'hubUsers' | 'hubGroups' | 'scopes' | 'allowServices'>, true>),
);

/** {@link HubAuthProxyOptions} once validated, defaults and environment applied. */
export interface ResolvedProxyOptions {
  /** The app to proxy to; `null`: forward-auth only. */
  readonly upstream: URL | null;
  /** Whether the service prefix is removed from proxied paths. */
  readonly stripPrefix: boolean;
  /** Lower-case identity header names; each `null` when disabled. */
  readonly identityHeaders: {
    /** The header with the caller's name. */
    readonly user: string | null;
    /** The header with the caller's groups. */
    readonly groups: string | null;
    /** The header with the caller's whole model, as JSON. */
    readonly model: string | null;
  };
  /** Origins, besides the service's own, whose pages may use the login cookie. */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Milliseconds the upstream may take to answer. */
  readonly upstreamTimeoutMs: number;
  /** The forward-auth path relative to the prefix, without a leading slash. */
  readonly forwardAuthPath: string;
  /** Who is let through. */
  readonly policy: Readonly<AccessPolicy>;
}

/** Default identity header names. */
export const DEFAULT_IDENTITY_HEADERS = Object.freeze({
  /** The caller's name. */
  user: 'x-hubauth-user',
  /** The caller's groups, comma-separated. */
  groups: 'x-hubauth-groups',
  /** The caller's whole model, as JSON. */
  model: 'x-hubauth-user-model',
});

const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Headers the proxy itself or HTTP depends on: an identity header of that name would break requests.
const RESERVED_HEADERS = new Set([
  'host', 'connection', 'upgrade', 'content-length', 'transfer-encoding', 'cookie', 'authorization', 'origin',
  'te', 'trailer', 'keep-alive', 'proxy-authorization', 'x-forwarded-prefix', 'x-forwarded-for',
  'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'sec-websocket-key', 'sec-websocket-version',
  'sec-websocket-protocol', 'sec-websocket-extensions', 'sec-fetch-site', 'sec-fetch-mode',
]);

/** A header name as servers compare them: case-insensitive, and `_` equal to `-` (CGI, WSGI, PHP and nginx map both alike). */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

function headerName(value: string | null | undefined, key: keyof IdentityHeaderNames): string | null {
  if (value === undefined) return DEFAULT_IDENTITY_HEADERS[key];
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || !TOKEN_NAME.test(value)) {
    throw new ConfigError(`identityHeaders.${key}`, `"${String(value)}" is not a valid header name (--header-${key})`);
  }
  const canonical = canonicalHeaderName(value);
  if (RESERVED_HEADERS.has(canonical)) {
    throw new ConfigError(`identityHeaders.${key}`, `"${value}" is a header HTTP or the proxy needs; choose another name (--header-${key})`);
  }
  return canonical;
}

function originOf(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(option, `"${value}" is not an origin such as https://hub.example.org (--allow-origin)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(option, `"${value}" must be an http or https origin (--allow-origin)`);
  }
  return url.origin;
}

function names(list: readonly string[] | undefined, option: string, flag: string): readonly string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && n.trim() !== '')) {
    throw new ConfigError(option, `must be a list of non-empty names (${flag} a,b)`);
  }
  return Object.freeze(list.map((n) => n.trim()));
}

function scopeList(scopes: readonly string[]): readonly string[] {
  const list = names(scopes, 'scopes', '--scopes') ?? [];
  for (const scope of list) {
    try {
      parseScope(scope);
    } catch (err) {
      throw new ConfigError('scopes', `${(err as Error).message} (--scopes)`);
    }
  }
  return list;
}

/** Validates the proxy's own options. Throws {@link ConfigError} naming the option, flag and variable. */
export function resolveProxyOptions(options: HubAuthProxyOptions): ResolvedProxyOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object');
  const env = options.env ?? process.env;
  const rawUpstream = options.upstream ?? (env.HUBAUTH_PROXY_UPSTREAM || undefined);
  let upstream: URL | null = null;
  if (rawUpstream !== undefined) {
    try {
      upstream = new URL(String(rawUpstream));
    } catch {
      throw new ConfigError('upstream', `"${String(rawUpstream)}" is not an absolute URL such as http://127.0.0.1:8501 (--upstream, env HUBAUTH_PROXY_UPSTREAM)`);
    }
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
      throw new ConfigError('upstream', `"${upstream.href}" is not an http:// or https:// URL such as http://127.0.0.1:8501; websockets go to the same URL (--upstream)`);
    }
    if (upstream.username || upstream.password) {
      throw new ConfigError('upstream', 'must not contain credentials (--upstream)');
    }
    if (upstream.search || upstream.hash) {
      throw new ConfigError('upstream', `"${upstream.href}" must not have a query or fragment (--upstream)`);
    }
  }
  const stripPrefix = options.stripPrefix ?? true;
  if (typeof stripPrefix !== 'boolean') throw new ConfigError('stripPrefix', 'must be true or false (--strip-prefix / --keep-prefix)');

  const headers = options.identityHeaders ?? {};
  if (typeof headers !== 'object') throw new ConfigError('identityHeaders', 'must be an object');
  const identityHeaders = Object.freeze({
    user: headerName(headers.user, 'user'),
    groups: headerName(headers.groups, 'groups'),
    model: headerName(headers.model, 'model'),
  });
  const set = [identityHeaders.user, identityHeaders.groups, identityHeaders.model].filter((h) => h !== null);
  if (new Set(set).size !== set.length) {
    throw new ConfigError('identityHeaders', 'two identity headers have the same name (--header-user, --header-groups, --header-model)');
  }

  const origins = options.allowedOrigins ?? [];
  if (!Array.isArray(origins)) throw new ConfigError('allowedOrigins', 'must be a list of origins (--allow-origin)');
  const allowedOrigins = new Set(origins.map((o) => originOf(o, 'allowedOrigins')));

  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 300_000;
  if (typeof upstreamTimeoutMs !== 'number' || !Number.isInteger(upstreamTimeoutMs) || upstreamTimeoutMs < 0 || upstreamTimeoutMs > 86_400_000) {
    throw new ConfigError('upstreamTimeoutMs', `must be a whole number of milliseconds from 0 to 86400000, got ${String(upstreamTimeoutMs)} (--upstream-timeout, in seconds)`);
  }

  const forwardAuthPath = (options.forwardAuthPath ?? '_hubauth/auth').replace(/^\/+/, '');
  if (!/^[A-Za-z0-9._~\-/]+$/.test(forwardAuthPath) || forwardAuthPath.includes('..')) {
    throw new ConfigError('forwardAuthPath', `"${forwardAuthPath}" must be a plain relative path such as _hubauth/auth`);
  }

  if (options.allowServices !== undefined && typeof options.allowServices !== 'boolean') {
    throw new ConfigError('allowServices', 'must be true or false (--allow-services)');
  }
  const policy: AccessPolicy = Object.freeze({
    ...(options.hubUsers !== undefined ? { hubUsers: names(options.hubUsers, 'hubUsers', '--hub-users') } : {}),
    ...(options.hubGroups !== undefined ? { hubGroups: names(options.hubGroups, 'hubGroups', '--hub-groups') } : {}),
    ...(options.scopes !== undefined ? { scopes: scopeList(options.scopes) } : {}),
    ...(options.allowServices !== undefined ? { allowServices: options.allowServices } : {}),
  });
  return Object.freeze({ upstream, stripPrefix, identityHeaders, allowedOrigins, upstreamTimeoutMs, forwardAuthPath, policy });
}
