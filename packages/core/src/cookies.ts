/**
 * Cookies, all of them: the names hubauth reads and writes, parsing (keeping duplicates, which
 * matter for concurrent logins and xsrf), serialising with safe attributes, the service's cookie
 * policy ({@link ServiceCookies}: names, paths, `Secure`), and a sealed codec — AES-256-GCM encryption
 * with a per-purpose key, then a `cookie-signature` HMAC over the cookie's name and value — with
 * secret rotation.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import signature from 'cookie-signature';
import type { ResolvedCookieOptions } from './cookie-options';
import { deriveKey, randomBytes } from './crypto';
import { isSecure } from './request';
import type { HubRequest, HubRequestHeaders } from './types';

/** Name of the Hub's login-session cookie, part of the cache key as in JupyterHub. */
export const SESSION_ID_COOKIE = 'jupyterhub-session-id';

/** Name of the xsrf cookie (readable by scripts, like the Hub's). */
export const XSRF_COOKIE = '_xsrf';

/** Name/value pairs in header order; a name may repeat. */
export type CookiePairs = ReadonlyArray<readonly [name: string, value: string]>;

/** Parses a `Cookie` header. Malformed pairs are skipped; values are %-decoded when valid. */
export function parseCookieHeader(header: string | readonly string[] | undefined): CookiePairs {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join('; ');
  const pairs: Array<readonly [string, string]> = [];
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (!name) continue;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        // keep the raw value: it will simply fail verification
      }
    }
    pairs.push([name, value]);
  }
  return pairs;
}

/** The first value of a cookie, if present. */
export function getCookie(pairs: CookiePairs, name: string): string | undefined {
  for (const [n, v] of pairs) if (n === name) return v;
  return undefined;
}

/** Attributes of a `Set-Cookie` header. */
export interface CookieAttributes {
  path: string;
  /** Seconds; 0 or negative expires the cookie now; undefined makes a session cookie. */
  maxAge?: number;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** `Domain` attribute (validated by `cookieOptions`); absent for a host-only cookie. */
  domain?: string | null;
}

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]*$/;
const SEALED = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Serialises a `Set-Cookie` value. Names and values are restricted to safe characters. */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  if (!NAME.test(name)) throw new TypeError(`Invalid cookie name: ${name}`);
  if (!VALUE.test(value)) throw new TypeError(`Invalid cookie value for ${name}`);
  let out = `${name}=${value}; Path=${attrs.path}`;
  if (attrs.domain) out += `; Domain=${attrs.domain}`;
  if (attrs.maxAge !== undefined) {
    const seconds = Math.max(0, Math.floor(attrs.maxAge));
    out += `; Max-Age=${seconds}`;
    if (seconds === 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  if (attrs.httpOnly) out += '; HttpOnly';
  if (attrs.secure) out += '; Secure';
  if (attrs.sameSite) out += `; SameSite=${attrs.sameSite}`;
  return out;
}

/** A `Set-Cookie` value that deletes `name` at `path`. */
export function clearCookie(name: string, path: string, secure = false, domain: string | null = null): string {
  // A cookie set with a Domain is only removed by a deletion that names the same Domain.
  return serializeCookie(name, '', { path, maxAge: 0, httpOnly: true, secure, sameSite: 'Lax', domain });
}

/** Result of opening a sealed cookie. */
export interface Opened {
  /** The decrypted payload. */
  payload: string;
  /** True when an older secret opened it, so the caller should re-issue it under the current one. */
  stale: boolean;
}

/**
 * Encrypts then signs small payloads for cookies. The first secret seals; every secret opens.
 * The cookie name is bound into both the encryption (as associated data) and the signature, so a
 * value cannot be moved to another cookie name.
 */
export class CookieSealer {
  private readonly keys: ReadonlyArray<{ secret: string; key: Buffer }>;

  constructor(secrets: readonly string[], purpose: string) {
    if (secrets.length === 0) throw new TypeError('CookieSealer needs at least one secret');
    this.keys = secrets.map((secret) => ({
      secret,
      key: deriveKey(secret, `cookie ${purpose}`),
    }));
  }

  /** Seals `payload` for the cookie `name`. The result is cookie-safe (base64url plus a dot). */
  seal(name: string, payload: string): string {
    const { secret, key } = this.keys[0] as { secret: string; key: Buffer };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([iv, cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    const signed = signature.sign(`${name}=${body.toString('base64url')}`, secret);
    return signed.slice(name.length + 1).replace(/\+/g, '-').replace(/\//g, '_');
  }

  /** Opens a sealed value of the cookie `name`; `null` for anything forged, truncated or foreign. */
  open(name: string, value: string): Opened | null {
    // Only the exact form seal() produces: base64url, one dot, base64url. Without this, a signature
    // re-spelt in standard base64 (`+` for `-`, `/` for `_`) would verify too: a malleable value.
    if (typeof value !== 'string' || value.length > 8192 || !SEALED.test(value)) return null;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    // The signature is standard base64 inside cookie-signature; it travels as base64url in the cookie.
    const signed = `${name}=${value.slice(0, dot)}.${value.slice(dot + 1).replace(/-/g, '+').replace(/_/g, '/')}`;
    for (let i = 0; i < this.keys.length; i++) {
      const { secret, key } = this.keys[i] as { secret: string; key: Buffer };
      if (signature.unsign(signed, secret) === false) continue;
      const body = Buffer.from(value.slice(0, dot), 'base64url');
      if (body.length < 12 + 16) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
        decipher.setAAD(Buffer.from(name, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        const payload = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString('utf8');
        return { payload, stale: i > 0 };
      } catch {
        return null;
      }
    }
    return null;
  }
}

/** The Hub login session id (the `jupyterhub-session-id` cookie), or `''` (also for an over-long value). */
export function sessionIdOf(headers: HubRequestHeaders): string {
  const cookie = headers.cookie;
  // Most API calls carry no cookie at all: nothing to parse.
  if (cookie === undefined) return '';
  const value = getCookie(parseCookieHeader(cookie), SESSION_ID_COOKIE) ?? '';
  return value.length <= 256 ? value : '';
}

/** What {@link ServiceCookies} needs from the configuration. */
export interface CookiePolicy {
  /** Name of the login cookie (the client id, `__Host-` prefixed when configured). */
  readonly cookieName: string;
  /** Path of the login and state cookies. */
  readonly cookiePath: string;
  /** Path of the xsrf cookie. */
  readonly servicePrefix: string;
  /** `Secure` as configured, or `null` to follow the request's protocol. */
  readonly cookieSecure: boolean | null;
  /** The `__Host-` prefix is on (always `Secure`). */
  readonly cookieHostPrefix: boolean;
  /** `cookieOptions`: SameSite, Domain and session-only (its `secure` is already in {@link cookieSecure}). */
  readonly cookieOptions: Pick<ResolvedCookieOptions, 'sameSite' | 'domain' | 'sessionOnly'>;
}

/** The cookies this service sets and clears: one place for their names, paths and attributes. */
export class ServiceCookies {
  /** Name of the login cookie. */
  readonly sessionName: string;
  /** Base name of the per-login state cookies (a second login in flight gets a suffixed name). */
  readonly stateName: string;

  constructor(private readonly policy: CookiePolicy) {
    this.sessionName = policy.cookieName;
    this.stateName = `${policy.cookieName}-oauth-state`;
  }

  /** Whether cookies set in the answer to `request` are `Secure`. */
  secure(request: HubRequest): boolean {
    return isSecure(request, this.policy.cookieSecure);
  }

  /**
   * The login cookie carrying `value` (sealed), for `maxAge` seconds — or, `sessionOnly`, until the
   * browser closes (the expiry sealed inside still ends the login with the token).
   */
  session(value: string, maxAge: number, request: HubRequest): string {
    const { sameSite, domain, sessionOnly } = this.policy.cookieOptions;
    return serializeCookie(this.sessionName, value, {
      path: this.policy.cookiePath,
      ...(sessionOnly ? {} : { maxAge }),
      httpOnly: true,
      secure: this.secure(request),
      sameSite,
      domain,
    });
  }

  /** Clears the login cookie (a cookie set with a Domain is only removed by a deletion naming it). */
  clearSession(request: HubRequest): string {
    return clearCookie(this.sessionName, this.policy.cookiePath, this.policy.cookieHostPrefix || this.secure(request), this.policy.cookieOptions.domain);
  }

  /** The xsrf cookie (a session cookie, readable by scripts). */
  xsrf(token: string, request: HubRequest): string {
    const { sameSite, domain } = this.policy.cookieOptions;
    return serializeCookie(XSRF_COOKIE, token, { path: this.policy.servicePrefix, secure: this.secure(request), sameSite, domain });
  }

  /** Clears the xsrf cookie. */
  clearXsrf(request: HubRequest): string {
    return clearCookie(XSRF_COOKIE, this.policy.servicePrefix, this.policy.cookieHostPrefix || this.secure(request), this.policy.cookieOptions.domain);
  }

  /** Whether `name` is one of this service's state cookies. */
  isState(name: string): boolean {
    return name === this.stateName || name.startsWith(`${this.stateName}-`);
  }

  /** A state cookie `name` carrying `value` (sealed), for `maxAge` seconds. */
  state(name: string, value: string, maxAge: number, request: HubRequest): string {
    // It must come back on the Hub's redirect to the callback, a top-level navigation from the Hub's
    // site, which `Strict` would not allow: Lax, or None where everything is None.
    const sameSite = this.policy.cookieOptions.sameSite === 'None' ? 'None' : 'Lax';
    return serializeCookie(name, value, {
      path: this.policy.cookiePath,
      maxAge,
      httpOnly: true,
      secure: this.secure(request),
      sameSite,
      domain: this.policy.cookieOptions.domain,
    });
  }

  /** Clears the state cookie `name`. */
  clearState(name: string, request: HubRequest): string {
    return clearCookie(name, this.policy.cookiePath, this.secure(request), this.policy.cookieOptions.domain);
  }
}
