/**
 * xsrf protection for cookie-authenticated requests: a double-submit token that is also signed and
 * bound to the login session, so it can neither be forged nor carried over from another session.
 */
import { XSRF_COOKIE, type CookiePairs } from './cookies';
import { deriveKey, digest, keyedDigest, randomBytes, safeEqual } from './crypto';
import { headerValue, queryParam } from './request';
import type { HubRequest } from './types';

export { XSRF_COOKIE };

/** Issues and verifies xsrf tokens bound to a session credential. */
export class XsrfTokens {
  private readonly keys: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((s) => deriveKey(s, 'xsrf'));
  }

  private mac(key: Buffer, binding: string, nonce: string): string {
    return keyedDigest(key, `${binding}|${nonce}`);
  }

  /** A new token for the session whose credential is `sessionToken`. */
  issue(sessionToken: string): string {
    const nonce = randomBytes(12).toString('base64url');
    return `${nonce}.${this.mac(this.keys[0] as Buffer, digest(sessionToken), nonce)}`;
  }

  /** Whether `token` was issued (under any current secret) for this session. */
  verify(token: string, sessionToken: string): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const nonce = token.slice(0, dot);
    const mac = token.slice(dot + 1);
    const binding = digest(sessionToken);
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

/** The `_xsrf` field of a parsed body: a plain object, `URLSearchParams` or `FormData`. */
function bodyField(body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const get = (body as { get?: unknown }).get;
  const field = typeof get === 'function' ? (get as (name: string) => unknown).call(body, '_xsrf') : (body as Record<string, unknown>)._xsrf;
  return typeof field === 'string' && field ? field : null;
}

/**
 * The xsrf token a request submits: the `X-XSRFToken` or `X-CSRFToken` header, else an `_xsrf`
 * field of an already-parsed form body, else `?_xsrf=`.
 */
export function submittedXsrfToken(request: HubRequest): string | null {
  const header = headerValue(request.headers, 'x-xsrftoken') ?? headerValue(request.headers, 'x-csrftoken');
  if (header) return header;
  return bodyField(request.body) ?? queryParam(request.url, '_xsrf');
}

/**
 * {@link submittedXsrfToken}, reading the body through {@link HubRequest.readBody} when the request
 * has no parsed body (a Web `Request`) and no xsrf header.
 */
export async function readSubmittedXsrfToken(request: HubRequest): Promise<string | null> {
  if (request.body !== undefined || typeof request.readBody !== 'function') return submittedXsrfToken(request);
  const header = headerValue(request.headers, 'x-xsrftoken') ?? headerValue(request.headers, 'x-csrftoken');
  if (header) return header;
  let body: unknown;
  try {
    body = await request.readBody();
  } catch {
    body = undefined;
  }
  return bodyField(body) ?? queryParam(request.url, '_xsrf');
}
