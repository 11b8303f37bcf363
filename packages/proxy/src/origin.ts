/**
 * The proxy's answer to cross-site request forgery. hubauth's xsrf token cannot be used: the
 * upstream app's pages and scripts do not send it. Instead, a cookie-authenticated request that may
 * change state, and every cookie-authenticated websocket upgrade, must come from a page of the
 * service's own origin, as the browser reports it (`Sec-Fetch-Site`, else `Origin`, else `Referer`).
 * A request that says nothing about where it comes from is refused: every browser of the last
 * years sends `Origin` on such requests, and other clients should use a token.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Why a request was refused, or `null` when its origin is acceptable. */
export type OriginVerdict = string | null;

export class OriginPolicy {
  private readonly publicOrigin: string | null;

  /**
   * @param publicUrl the service's public URL (`JUPYTERHUB_PUBLIC_URL`), if known; without it, the
   *   request's `Host` header names the service's origin (browsers set it themselves).
   * @param allowed further origins whose pages may use the cookie.
   */
  constructor(publicUrl: string, private readonly allowed: ReadonlySet<string>) {
    this.publicOrigin = publicUrl ? new URL(publicUrl).origin : null;
  }

  private same(origin: string, headers: IncomingHttpHeaders): boolean {
    if (this.allowed.has(origin)) return true;
    if (this.publicOrigin !== null) return origin === this.publicOrigin;
    const host = headers.host?.toLowerCase();
    if (!host) return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    // Scheme is not compared: TLS is often ended by a proxy in front, which this hop cannot see.
    return url.host === host;
  }

  /** Checks a cookie-authenticated request that changes state or opens a websocket. */
  check(headers: IncomingHttpHeaders): OriginVerdict {
    const site = headers['sec-fetch-site'];
    if (site === 'same-origin') return null;
    const origin = headers.origin;
    if (typeof origin === 'string' && origin !== '') {
      if (origin !== 'null' && this.same(origin.toLowerCase(), headers)) return null;
      return `requests from ${origin === 'null' ? 'an opaque origin' : 'another origin'} may not use this service's login cookie`;
    }
    if (site !== undefined) return `a ${site} request may not use this service's login cookie`;
    const referer = headers.referer;
    if (typeof referer === 'string' && referer !== '') {
      try {
        if (this.same(new URL(referer).origin, headers)) return null;
      } catch {
        // not a URL: refused below
      }
      return "requests from another origin may not use this service's login cookie";
    }
    return "the request does not say which page sent it (no Origin header); send a token instead of the login cookie";
  }
}
