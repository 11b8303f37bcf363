/**
 * The proxy's answer to cross-site request forgery. hubauth's xsrf token cannot be used: the
 * upstream app's pages and scripts do not send it. Instead, cookie-authenticated requests that the
 * Hub would make show an xsrf token — state-changing methods, websocket upgrades, and reads made by
 * scripts or embeds (`Sec-Fetch-Mode` other than `navigate`) — must come from a page of the
 * service's own origin, as the browser reports it (`Sec-Fetch-Site`, else `Origin`, else `Referer`).
 * Top-level navigations, and reads from clients that send no fetch metadata, need no check, as in
 * the Hub. A checked request that says nothing about where it comes from is refused: every browser
 * of the last years sends `Origin` on such requests, and other clients should use a token.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isUnsafeMethod } from '@hubauth/core';
import { isWebsocketRequest } from './request-view';

/** Why a request was refused, or `null` when its origin is acceptable. */
export type OriginVerdict = string | null;

/** Decides whether a cookie-authenticated request comes from a page of the service's own origin. */
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

  /** Whether a cookie-authenticated request with this method and these headers must pass {@link check}. */
  needsCheck(method: string, headers: IncomingHttpHeaders): boolean {
    if (isUnsafeMethod(method) || isWebsocketRequest(headers)) return true;
    const mode = headers['sec-fetch-mode'];
    return mode !== undefined && mode !== 'navigate' && headers['sec-fetch-site'] !== 'same-origin';
  }

  /** Checks a cookie-authenticated request that {@link needsCheck}: `null` when it comes from an acceptable origin, else why not. */
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
