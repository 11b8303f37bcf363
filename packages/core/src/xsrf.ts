/**
 * xsrf protection for cookie-authenticated requests: a double-submit token that is also signed and
 * bound to the login session, so it can neither be forged nor carried over from another session.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { tokenDigest } from './cache';
import type { CookiePairs } from './cookies';
import { safeEqual } from './oauth';
import { headerValue, queryParam } from './token';
import type { HubRequest } from './types';

/** Name of the xsrf cookie (readable by scripts, like the Hub's). */
export const XSRF_COOKIE = '_xsrf';

/** Issues and verifies xsrf tokens bound to a session credential. */
export class XsrfTokens {
  private readonly keys: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, 'hubauth', 'hubauth xsrf', 32)));
  }

  private mac(key: Buffer, binding: string, nonce: string): string {
    return createHmac('sha256', key).update(`${binding}|${nonce}`).digest('base64url');
  }

  /** A new token for the session whose credential is `sessionToken`. */
  issue(sessionToken: string): string {
    const nonce = randomBytes(12).toString('base64url');
    return `${nonce}.${this.mac(this.keys[0] as Buffer, tokenDigest(sessionToken), nonce)}`;
  }

  /** Whether `token` was issued (under any current secret) for this session. */
  verify(token: string, sessionToken: string): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const nonce = token.slice(0, dot);
    const mac = token.slice(dot + 1);
    const binding = tokenDigest(sessionToken);
    return this.keys.some((key) => safeEqual(mac, this.mac(key, binding, nonce)));
  }

  /** The first `_xsrf` cookie valid for this session, if any (several may be sent). */
  fromCookies(pairs: CookiePairs, sessionToken: string): string | null {
    for (const [name, value] of pairs) {
      if (name === XSRF_COOKIE && this.verify(value, sessionToken)) return value;
    }
    return null;
  }
}

/**
 * The xsrf token a request submits: the `X-XSRFToken` or `X-CSRFToken` header, else an `_xsrf`
 * field of an already-parsed form body, else `?_xsrf=`.
 */
export function submittedXsrfToken(request: HubRequest): string | null {
  const header = headerValue(request.headers, 'x-xsrftoken') ?? headerValue(request.headers, 'x-csrftoken');
  if (header) return header;
  const body = request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const field = (body as Record<string, unknown>)._xsrf;
    if (typeof field === 'string' && field) return field;
  }
  return queryParam(request.url, '_xsrf');
}
