/**
 * Browser sessions without a browser: the OAuth flow of `@hubauth/core` driven in-process, so the
 * login cookie and xsrf token are exactly the ones the service would set (same sealing, same secret).
 */
import { HubOAuth, XSRF_COOKIE, type HubAuthLogger, type HubOAuthOptions, type HubRequest } from '@hubauth/core';

/** What a test client needs to act as a logged-in browser. */
export interface BrowserSession {
  /** The user's name. */
  readonly user: string;
  /** A `Cookie` header value carrying the login cookie and the `_xsrf` cookie. */
  readonly cookie: string;
  /** The xsrf token to send with unsafe requests (`X-XSRFToken` header or `_xsrf` form field). */
  readonly xsrfToken: string;
  /** `{ cookie, 'x-xsrftoken' }`: headers for a request that should pass as this browser, unsafe methods included. */
  readonly headers: Readonly<{
    /** The browser's cookies for the service. */
    cookie: string;
    /** The xsrf token, as scripts send it. */
    'x-xsrftoken': string;
  }>;
  /** The Hub OAuth token sealed inside the login cookie (for assertions, or to revoke it). */
  readonly token: string;
  /** The cookies by name. */
  readonly cookies: Readonly<Record<string, string>>;
  /** The `Set-Cookie` values the service sent at the end of the login. */
  readonly setCookie: readonly string[];
}

/** @internal What the flow needs from the Hub: a code for an authorize URL. */
export interface FlowHub {
  options: HubOAuthOptions;
  /** The user who logs in. */
  user: string;
  /** Answers an authorize URL as the Hub would for a logged-in, consenting user: the redirect location. */
  authorize(authorizeUrl: string): string;
  /** The access token the Hub issued for an authorization code. */
  tokenIssuedFor(code: string): string | undefined;
}

const silent: HubAuthLogger = { warn: () => undefined, error: () => undefined, info: () => undefined };

function cookiePairs(setCookies: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of setCookies) {
    const pair = line.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    // A cleared cookie (empty value) is not part of the session.
    if (value) out[name] = value;
    else delete out[name];
  }
  return out;
}

function setCookieList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** @internal Runs begin-login → authorize → callback with core's own HubOAuth. */
export async function loginThroughFlow(hub: FlowHub): Promise<BrowserSession> {
  const auth = new HubOAuth({ logger: silent, ...hub.options });
  try {
    const prefix = auth.config.servicePrefix;
    const start: HubRequest = { method: 'GET', url: prefix, headers: {} };
    const begin = auth.beginLogin(start, prefix);
    const stateCookies = cookiePairs(setCookieList(begin.headers['set-cookie']));
    const location = begin.headers.location;
    if (typeof location !== 'string') throw new Error('hubauth testing: the login did not redirect to the Hub');

    const callbackLocation = hub.authorize(location);
    const callback = new URL(callbackLocation, 'http://service.invalid');
    const cookieHeader = Object.entries(stateCookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const done = await auth.handleCallback({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      headers: { cookie: cookieHeader },
    });
    const setCookie = setCookieList(done.headers['set-cookie']);
    const cookies = cookiePairs(setCookie);
    const login = cookies[auth.config.cookieName];
    const xsrfToken = cookies[XSRF_COOKIE];
    if (!login || !xsrfToken) throw new Error('hubauth testing: the login finished without a login cookie');
    const session = { [auth.config.cookieName]: login, [XSRF_COOKIE]: xsrfToken };
    const cookie = Object.entries(session)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const token = hub.tokenIssuedFor(callback.searchParams.get('code') ?? '');
    if (token === undefined) throw new Error('hubauth testing: the Hub issued no token for the login');
    return Object.freeze({
      user: hub.user,
      cookie,
      xsrfToken,
      headers: Object.freeze({ cookie, 'x-xsrftoken': xsrfToken }),
      token,
      cookies: Object.freeze(session),
      setCookie: Object.freeze([...setCookie]),
    });
  } finally {
    auth.close();
  }
}
