/**
 * The browser session: the sealed login cookie that carries the Hub OAuth token, and the xsrf gate
 * that cookie-authenticated requests pass by JupyterHub's rule.
 */
import type { HubOAuthConfig } from './config';
import { CookieSealer, type CookiePairs, type ServiceCookies } from './cookies';
import { safeEqual } from './crypto';
import { XsrfError } from './errors';
import { headerValue, needsXsrfCheck } from './request';
import type { HubRequest } from './types';
import { XsrfTokens, readSubmittedXsrfToken } from './xsrf';

/** What the login cookie holds (sealed). */
interface SessionPayload {
  /** The Hub OAuth access token. */
  t: string;
  /** Expiry, unix seconds. */
  e: number;
}

/** An opened login cookie. */
export interface OpenSession {
  /** The Hub OAuth token inside. */
  token: string;
  /** Sealed under an older secret: re-issue it under the current one. */
  stale: boolean;
  /** Seconds left. */
  remaining: number;
}

/** The outcome of the xsrf gate. */
export interface XsrfCheck {
  /** The session's xsrf token (for forms and scripts). */
  token: string;
  /** The xsrf cookie to set, when the browser had no valid one. */
  setCookie: string | null;
  /** Why the request is refused, if it is. */
  error: XsrfError | null;
}

/** Login cookie and xsrf tokens of one service. */
/**
 * A form submission whose body the framework never parsed (no body parser, or one registered after
 * hubAuth()): the `_xsrf` field is there, but unreadable. Web requests read their own body.
 */
function unparsedForm(request: HubRequest): boolean {
  if (request.body !== undefined || typeof request.readBody === 'function') return false;
  return /^\s*(?:application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(headerValue(request.headers, 'content-type') ?? '');
}

export class Session {
  private readonly sealer: CookieSealer;
  private readonly xsrf: XsrfTokens;

  constructor(
    config: HubOAuthConfig,
    /** The service's cookies (names, paths, `Secure`). */
    readonly cookies: ServiceCookies,
  ) {
    this.sealer = new CookieSealer(config.cookieSecrets, 'session');
    this.xsrf = new XsrfTokens(config.cookieSecrets);
  }

  /** The `Set-Cookie` value of a login cookie carrying `token` for `maxAge` seconds. */
  issue(token: string, maxAge: number, request: HubRequest): string {
    const payload: SessionPayload = { t: token, e: Math.floor(Date.now() / 1000) + maxAge };
    const name = this.cookies.sessionName;
    return this.cookies.session(this.sealer.seal(name, JSON.stringify(payload)), maxAge, request);
  }

  /**
   * Reads the login cookie: the Hub token inside, `'invalid'` (forged, expired, foreign), `null` when
   * absent, or `'duplicate'` when its name comes twice — one was planted (by a sibling host, or with
   * a longer Path to come first), and neither can be trusted.
   */
  read(pairs: CookiePairs): OpenSession | 'invalid' | 'duplicate' | null {
    const name = this.cookies.sessionName;
    let raw: string | undefined;
    for (const [n, v] of pairs) {
      if (n !== name) continue;
      if (raw !== undefined) return 'duplicate';
      raw = v;
    }
    if (raw === undefined) return null;
    const opened = this.sealer.open(name, raw);
    if (!opened) return 'invalid';
    try {
      const data = JSON.parse(opened.payload) as Partial<SessionPayload>;
      const remaining = (data.e ?? 0) - Math.floor(Date.now() / 1000);
      if (typeof data.t !== 'string' || typeof data.e !== 'number' || remaining <= 0) return 'invalid';
      return { token: data.t, stale: opened.stale, remaining };
    } catch {
      return 'invalid';
    }
  }

  /** A new xsrf cookie for the session of `token` (after a login). */
  issueXsrf(token: string, request: HubRequest): string {
    return this.cookies.xsrf(this.xsrf.issue(token), request);
  }

  /**
   * The session's xsrf token, and the xsrf cookie to set when the browser has no valid one; no
   * check. Enough for requests that JupyterHub's rule lets through without a token ({@link needsXsrfCheck}).
   */
  xsrfFor(request: HubRequest, pairs: CookiePairs, sessionToken: string): XsrfCheck {
    const existing = this.xsrf.fromCookies(pairs, sessionToken);
    const token = existing ?? this.xsrf.issue(sessionToken);
    return { token, setCookie: existing ? null : this.cookies.xsrf(token, request), error: null };
  }

  /**
   * The xsrf gate, run before the Hub is asked (a forged request costs no lookup): the session's
   * xsrf token (issued when the browser has no valid one) and, when JupyterHub's rule asks for it
   * ({@link needsXsrfCheck}: unsafe methods, a page's `fetch()`, `no-cors` loads from elsewhere),
   * whether the request submitted it.
   */
  async checkXsrf(request: HubRequest, pairs: CookiePairs, sessionToken: string): Promise<XsrfCheck> {
    const check = this.xsrfFor(request, pairs, sessionToken);
    const existing = check.setCookie === null ? check.token : null;
    if (!needsXsrfCheck(request)) return check;
    const submitted = await readSubmittedXsrfToken(request);
    const method = request.method.toUpperCase();
    if (!submitted && unparsedForm(request)) {
      check.error = new XsrfError(
        `The ${method} form's body was never parsed, so its _xsrf field cannot be read: register a body parser ` +
          '(express.urlencoded(), @koa/bodyparser, @fastify/formbody) before hubAuth(), or send the X-XSRFToken header',
      );
    } else if (!submitted) {
      check.error = new XsrfError(`'_xsrf' argument missing from ${method}: send the X-XSRFToken header or an _xsrf form field`);
    } else if (!existing || !safeEqual(submitted, existing)) {
      check.error = new XsrfError(`XSRF token does not match for ${method}: reload the page and try again`);
    }
    return check;
  }
}
