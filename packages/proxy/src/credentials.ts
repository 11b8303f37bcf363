/**
 * What the upstream must not see: the credential hubauth authenticated the request with (the login
 * cookie, an `Authorization` token or a `?token=` parameter) and the cookies of unfinished logins.
 * The upstream gets the identity in headers instead; a token it never sees cannot leak from its logs
 * or be used by it to act as the user at the Hub.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { IdentitySource } from '@hubauth/core';
import { SESSION_ID_COOKIE, XSRF_COOKIE } from '@hubauth/core';

/** Removes hubauth's cookies and the token the request was authenticated with. */
export class CredentialFilter {
  private readonly loginCookie: string;
  private readonly statePrefix: string;

  /** @param loginCookie the login cookie's name (`service-<name>`, or `__Host-service-<name>`); empty for token-only services. */
  constructor(loginCookie: string) {
    this.loginCookie = loginCookie;
    this.statePrefix = loginCookie ? `${loginCookie}-oauth-state` : '';
  }

  private ours(name: string): boolean {
    if (name === SESSION_ID_COOKIE) return true;
    if (!this.loginCookie) return false;
    return name === this.loginCookie || name.startsWith(this.statePrefix);
  }

  /** The `Cookie` header without hubauth's cookies (`undefined` when none is left). */
  cookies(header: string): string | undefined {
    // Most requests carry cookies of the app only, or ours among them: a cheap test first.
    if (!header.includes(SESSION_ID_COOKIE) && (!this.loginCookie || !header.includes(this.loginCookie))) return header;
    const kept = header
      .split(';')
      .map((pair) => pair.trim())
      .filter((pair) => pair !== '' && !this.ours(pair.slice(0, Math.max(0, pair.indexOf('='))).trim() || pair));
    return kept.length ? kept.join('; ') : undefined;
  }

  /**
   * Strips credentials from outgoing headers and returns the request target to send (without
   * `token=` when the token came from the URL).
   */
  apply(headers: IncomingHttpHeaders, url: string, source: IdentitySource | null): string {
    if (headers.cookie !== undefined) {
      const cookie = this.cookies(headers.cookie);
      if (cookie === undefined) delete headers.cookie;
      else headers.cookie = cookie;
    }
    if (source === 'header') delete headers.authorization;
    return source === 'url' ? withoutTokenParam(url) : url;
  }
}

/** The request target without its `token` query parameters (other parameters keep their encoding). */
export function withoutTokenParam(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  // Keys are compared decoded, as the token was read (`%74oken=` is `token=` too).
  const kept = query.split('&').filter((part) => part !== '' && decodedKey(part) !== 'token');
  return url.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '') + (hash < 0 ? '' : url.slice(hash));
}

function decodedKey(part: string): string {
  const key = part.split('=', 1)[0] as string;
  return key.includes('%') || key.includes('+') ? new URLSearchParams(`${key}=`).keys().next().value ?? key : key;
}

/**
 * Core's cookies less its xsrf cookie: the proxy checks origins instead, and an `_xsrf` cookie of
 * ours could clash with the app's own (Tornado and Jupyter apps use that name).
 */
export function withoutXsrfCookie(cookies: string[]): string[] {
  return cookies.length ? cookies.filter((c) => !c.startsWith(`${XSRF_COOKIE}=`)) : cookies;
}
