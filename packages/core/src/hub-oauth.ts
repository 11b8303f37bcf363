/**
 * `HubOAuth`: browser login through the Hub's OAuth provider, the counterpart of Python's `HubOAuth`
 * and `HubOAuthCallbackHandler`, made stateless (any replica sharing the secret finishes a flow),
 * with validated `next` URLs, encrypted cookies and explicit xsrf failures.
 */
import { randomBytes } from 'node:crypto';
import { resolveHubOAuthConfig, type HubOAuthConfig, type HubOAuthOptions } from './config';
import { CookieSealer, clearCookie, getCookie, parseCookieHeader, serializeCookie, type CookiePairs } from './cookies';
import {
  ForbiddenError,
  HubUnavailableError,
  OAuthCallbackError,
  OAuthStateError,
  ServiceCredentialsError,
  XsrfError,
} from './errors';
import { HubAuth, isUnsafeMethod, type Identity } from './hub-auth';
import { StateCodec, safeEqual, safeNextUrl } from './oauth';
import { isWebsocket, queryParam } from './token';
import type { HubRequest, HubResponse } from './types';
import { XSRF_COOKIE, XsrfTokens, submittedXsrfToken } from './xsrf';

/** Longest login-cookie lifetime honoured, whatever `expires_in` says (seconds). */
const MAX_SESSION_AGE = 365 * 86_400;
/** Most logins one browser may have in flight; starting another drops the oldest. */
const MAX_PENDING_LOGINS = 5;
/** Lifetime when the Hub does not say (its own default, 14 days). */
const DEFAULT_SESSION_AGE = 14 * 86_400;

interface SessionPayload {
  /** The Hub OAuth access token. */
  t: string;
  /** Expiry, unix seconds. */
  e: number;
}

function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

function letters(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(n), (b) => alphabet[b % 26]).join('');
}

function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, max);
}

/**
 * Browser login plus token authentication. Mount {@link HubOAuth.route} (or an adapter) so that
 * `<prefix>oauth_callback` and `<prefix>logout` are served.
 */
export class HubOAuth extends HubAuth {
  declare readonly config: HubOAuthConfig;
  private readonly sessionSealer: CookieSealer;
  private readonly stateCodec: StateCodec;
  private readonly xsrf: XsrfTokens;
  /** Path of the OAuth callback route. */
  readonly callbackPath: string;
  /** Path of the logout route. */
  readonly logoutPath: string;
  private readonly stateCookieName: string;

  constructor(options: HubOAuthOptions = {}) {
    super(options);
    const c = this.config;
    this.sessionSealer = new CookieSealer(c.cookieSecrets, 'session');
    this.stateCookieName = `${c.cookieName}-oauth-state`;
    this.stateCodec = new StateCodec(new CookieSealer(c.cookieSecrets, 'oauth-state'), this.stateCookieName, c.stateMaxAge);
    this.xsrf = new XsrfTokens(c.cookieSecrets);
    this.callbackPath = c.oauthRedirectUri.startsWith('/') ? pathOf(c.oauthRedirectUri) : new URL(c.oauthRedirectUri).pathname;
    this.logoutPath = `${c.servicePrefix}logout`;
  }

  /** @internal */
  protected override resolveConfig(options: HubOAuthOptions): HubOAuthConfig {
    return resolveHubOAuthConfig(options);
  }

  override get oauthEnabled(): boolean {
    return true;
  }

  private secure(request: HubRequest): boolean {
    return this.config.cookieSecure ?? request.secure === true;
  }

  private sessionCookie(token: string, maxAge: number, request: HubRequest): string {
    const payload: SessionPayload = { t: token, e: Math.floor(Date.now() / 1000) + maxAge };
    return serializeCookie(this.config.cookieName, this.sessionSealer.seal(this.config.cookieName, JSON.stringify(payload)), {
      path: this.config.cookiePath,
      maxAge,
      httpOnly: true,
      secure: this.secure(request),
      sameSite: 'Lax',
    });
  }

  private xsrfCookie(token: string, request: HubRequest): string {
    return serializeCookie(XSRF_COOKIE, token, {
      path: this.config.servicePrefix,
      secure: this.secure(request),
      sameSite: 'Lax',
    });
  }

  private clearSession(request: HubRequest): string {
    return clearCookie(this.config.cookieName, this.config.cookiePath, this.config.cookieHostPrefix || this.secure(request));
  }

  /** Reads the login cookie: the Hub token inside, or why not. */
  private readSession(pairs: CookiePairs): { token: string; stale: boolean; remaining: number } | 'invalid' | null {
    const raw = getCookie(pairs, this.config.cookieName);
    if (raw === undefined) return null;
    const opened = this.sessionSealer.open(this.config.cookieName, raw);
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

  /**
   * Identifies the caller: a header (or allowed URL) token first, else the login cookie. Cookie-
   * authenticated unsafe requests must carry a valid xsrf token, or `error` is an {@link XsrfError}.
   */
  override async authenticate(request: HubRequest): Promise<Identity> {
    const byToken = await super.authenticate(request);
    if (byToken.source !== null || byToken.error) return byToken;

    const identity: Identity = byToken;
    const pairs = parseCookieHeader(request.headers.cookie);
    if (isWebsocket(request) && !this.config.allowWebsocketCookieAuth) return identity;
    const session = this.readSession(pairs);
    if (session === null) return identity;
    if (session === 'invalid') {
      identity.setCookies.push(this.clearSession(request));
      return identity;
    }
    identity.source = 'cookie';

    // The xsrf gate runs before the Hub is asked: a forged request costs no lookup.
    const existing = this.xsrf.fromCookies(pairs, session.token);
    const xsrfToken = existing ?? this.xsrf.issue(session.token);
    if (!existing) identity.setCookies.push(this.xsrfCookie(xsrfToken, request));
    identity.xsrfToken = xsrfToken;
    if (isUnsafeMethod(request.method)) {
      const submitted = submittedXsrfToken(request);
      if (!submitted) {
        identity.error = new XsrfError(`'_xsrf' argument missing from ${request.method.toUpperCase()}: send the X-XSRFToken header or an _xsrf form field`);
        return identity;
      }
      if (!existing || !safeEqual(submitted, existing)) {
        identity.error = new XsrfError(`XSRF token does not match for ${request.method.toUpperCase()}: reload the page and try again`);
        return identity;
      }
    }

    try {
      // Our own sealed cookie: its lookup goes ahead of unknown tokens.
      const user = await this.userForToken(session.token, { sessionId: this.getSessionId(request), priority: true });
      if (!user) {
        identity.rejected = true;
        identity.xsrfToken = null;
        identity.setCookies = [this.clearSession(request)];
        return identity;
      }
      if (session.stale) identity.setCookies.push(this.sessionCookie(session.token, session.remaining, request));
      identity.user = this.config.postAuthHook ? await this.applyHooks(user, request) : user;
      if (!identity.user) identity.error = new ForbiddenError(`${user.kind} ${user.name} is not allowed`);
    } catch (err) {
      identity.error = this.asError(err);
    }
    return identity;
  }

  /**
   * Starts a login: a 302 to the Hub's authorize URL (with PKCE S256) and a per-flow state cookie.
   * `next` defaults to the request's own URL; it is validated to stay under the service prefix.
   */
  beginLogin(request: HubRequest, next: string = request.url): HubResponse {
    const c = this.config;
    const pairs = parseCookieHeader(request.headers.cookie);
    const flow = this.stateCodec.create(safeNextUrl(next, c.servicePrefix));
    const stale = this.staleStateCookies(pairs);
    // A login already in flight keeps its cookie; this one gets a suffixed name.
    const taken = pairs.some(([n]) => n === this.stateCookieName) && !stale.includes(this.stateCookieName);
    const name = taken ? `${this.stateCookieName}-${letters(8)}` : this.stateCookieName;
    const params = new URLSearchParams({
      client_id: c.clientId,
      redirect_uri: c.oauthRedirectUri,
      response_type: 'code',
      code_challenge: flow.challenge,
      code_challenge_method: 'S256',
      state: flow.state,
    });
    return {
      status: 302,
      headers: {
        location: `${c.authorizeUrl}?${params.toString()}`,
        'cache-control': 'no-store',
        'set-cookie': [
          ...stale.filter((n) => n !== name).map((n) => clearCookie(n, c.cookiePath, this.secure(request))),
          serializeCookie(name, flow.cookie, {
            path: c.cookiePath,
            maxAge: c.stateMaxAge,
            httpOnly: true,
            secure: this.secure(request),
            sameSite: 'Lax',
          }),
        ],
      },
    };
  }

  /** @internal */
  protected override loginRedirect(request: HubRequest): HubResponse {
    return this.beginLogin(request);
  }

  private stateCookies(pairs: CookiePairs): Array<readonly [string, string]> {
    return pairs.filter(([n]) => n === this.stateCookieName || n.startsWith(`${this.stateCookieName}-`));
  }

  /**
   * State cookies to drop when a new login starts: unreadable or expired ones, and the oldest beyond
   * {@link MAX_PENDING_LOGINS} - 1, so abandoned logins cannot grow the Cookie header without bound.
   */
  private staleStateCookies(pairs: CookiePairs): string[] {
    const live: Array<{ name: string; issuedAt: number }> = [];
    const stale: string[] = [];
    for (const [name, value] of this.stateCookies(pairs)) {
      const flow = this.stateCodec.openCookie(value);
      if (flow) live.push({ name, issuedAt: flow.issuedAt });
      else stale.push(name);
    }
    live.sort((a, b) => b.issuedAt - a.issuedAt);
    for (const { name } of live.slice(MAX_PENDING_LOGINS - 1)) stale.push(name);
    return stale;
  }

  private clearStateCookies(pairs: CookiePairs, request: HubRequest): string[] {
    const names = new Set(this.stateCookies(pairs).map(([n]) => n));
    return [...names].map((n) => clearCookie(n, this.config.cookiePath, this.secure(request)));
  }

  private redirect(location: string, setCookies: string[]): HubResponse {
    return { status: 302, headers: { location, 'cache-control': 'no-store', 'set-cookie': setCookies } };
  }

  /**
   * Finishes a login at `<prefix>oauth_callback`: checks the state against this browser's state
   * cookie, exchanges the code (with the PKCE verifier), sets the login cookie and redirects to the
   * flow's own `next`. Throws a {@link HubAuthError}: 400 for a bad callback, 403 for a state that
   * does not match or has expired, 500 when the Hub refuses this service's credentials, 502/503 when
   * the Hub is unavailable.
   */
  async handleCallback(request: HubRequest): Promise<HubResponse> {
    const c = this.config;
    const hubError = queryParam(request.url, 'error');
    if (hubError !== null) {
      const description = queryParam(request.url, 'error_description');
      throw new OAuthCallbackError(`Error in oauth: ${oneLine(description || hubError)}`);
    }
    const code = queryParam(request.url, 'code');
    if (!code) throw new OAuthCallbackError('OAuth callback made without a code. Try logging in again.');
    const stateParam = queryParam(request.url, 'state');
    if (!stateParam) throw new OAuthCallbackError('OAuth state is missing. Try logging in again.');

    const opened = this.stateCodec.openParam(stateParam);
    const state = opened === null || opened === 'expired' ? null : opened;
    const next = state ? safeNextUrl(state.next, c.servicePrefix) : c.servicePrefix;

    const pairs = parseCookieHeader(request.headers.cookie);
    let flow: { verifier: string } | null = null;
    if (state) {
      for (const [, value] of this.stateCookies(pairs)) {
        const candidate = this.stateCodec.openCookie(value);
        if (candidate && safeEqual(candidate.id, state.id)) {
          flow = candidate;
          break;
        }
      }
    }
    const clearStates = this.clearStateCookies(pairs, request);
    if (!flow) {
      // A finished, stale (even expired) or unknown flow from a browser that is already logged in: just
      // go on, as the Hub's own service code does. Nothing is exchanged, so nothing can be forged here.
      const session = this.readSession(pairs);
      if (session && session !== 'invalid') {
        const user = await this.userForToken(session.token, { sessionId: this.getSessionId(request) }).catch(() => null);
        if (user) return this.redirect(next, clearStates);
      }
      if (opened === null) throw new OAuthStateError('OAuth state is not valid for this service. Try logging in again.');
      if (opened === 'expired') throw new OAuthStateError('The login took too long and has expired. Try logging in again.');
      throw new OAuthStateError('OAuth state does not match this browser (the login was finished, expired, or started elsewhere). Try logging in again.');
    }

    const { token, expiresIn } = await this.exchangeCode(code, flow.verifier);
    const user = await this.userForToken(token, { sessionId: this.getSessionId(request) });
    if (!user) throw new HubUnavailableError('The Hub issued a token it then did not recognise', { status: 502 });
    // `expires_in: 0` is a token that never expires, not a login that ends in a second: treat it
    // (and any non-positive value) like a missing one.
    const lifetime = expiresIn !== undefined && expiresIn > 0 ? expiresIn : DEFAULT_SESSION_AGE;
    const maxAge = Math.min(Math.max(lifetime, 1), MAX_SESSION_AGE);
    return this.redirect(next, [
      ...clearStates,
      this.sessionCookie(token, maxAge, request),
      this.xsrfCookie(this.xsrf.issue(token), request),
    ]);
  }

  /** Exchanges an authorization code at `{apiUrl}/oauth2/token`. */
  private async exchangeCode(code: string, verifier: string): Promise<{ token: string; expiresIn: number | undefined }> {
    const c = this.config;
    const form = new URLSearchParams({
      client_id: c.clientId,
      client_secret: c.apiToken,
      grant_type: 'authorization_code',
      code,
      redirect_uri: c.oauthRedirectUri,
      code_verifier: verifier,
    }).toString();
    const reply = await this.client.request('POST', '/oauth2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `token ${c.apiToken}` },
      body: form,
      lane: { priority: true },
    });
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(reply.text);
      if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
    } catch {
      // handled by status below
    }
    const oauthError = typeof data.error === 'string' ? oneLine(data.error, 64) : '';
    if (reply.status === 401 || reply.status === 403 || oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
      c.logger.error(
        `The Hub rejected this service's OAuth client credentials (status ${reply.status}${oauthError ? `, ${oauthError}` : ''}): ` +
          'JUPYTERHUB_API_TOKEN or JUPYTERHUB_CLIENT_ID is wrong for this service',
      );
      throw new ServiceCredentialsError("The Hub rejected this service's credentials");
    }
    if (reply.status >= 400 && reply.status < 500) {
      throw new OAuthCallbackError(`The Hub did not accept the login (${oauthError || `status ${reply.status}`}). Try logging in again.`);
    }
    if (reply.status !== 200) {
      throw new HubUnavailableError(`The Hub's token endpoint answered ${reply.status}`, { status: 502 });
    }
    const token = data.access_token;
    if (typeof token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(token)) {
      throw new HubUnavailableError("The Hub's token endpoint sent no usable access_token", { status: 502 });
    }
    const expiresIn = typeof data.expires_in === 'number' && Number.isFinite(data.expires_in) ? data.expires_in : undefined;
    return { token, expiresIn };
  }

  /**
   * Logs out at `<prefix>logout`: clears the login and xsrf cookies, forgets the cached identity and
   * redirects to the Hub's logout page (or the service prefix, per `logoutRedirect`).
   */
  logout(request: HubRequest): HubResponse {
    const pairs = parseCookieHeader(request.headers.cookie);
    const session = this.readSession(pairs);
    // Refused on every replica at once, for as long as the cookie could live (at most a day): a copy
    // of the cookie is worthless from now on, even before the Hub forgets the token.
    if (session && session !== 'invalid') void this.revoke(session.token, { seconds: Math.min(session.remaining, 86_400) });
    const secure = this.config.cookieHostPrefix || this.secure(request);
    return this.redirect(this.config.logoutRedirect === 'hub' ? this.config.hubLogoutUrl : this.config.servicePrefix, [
      this.clearSession(request),
      clearCookie(XSRF_COOKIE, this.config.servicePrefix, secure),
      ...this.clearStateCookies(pairs, request),
    ]);
  }

  /**
   * Serves this library's own routes: `GET <callback>` and `<prefix>logout`. Returns `null` for any
   * other request. Errors are thrown as {@link HubAuthError}s for the framework to render.
   */
  override async route(request: HubRequest): Promise<HubResponse | null> {
    switch (this.ownRoute(request)) {
      case 'callback':
        return this.handleCallback(request);
      case 'logout':
        return this.logout(request);
      default:
        return null;
    }
  }

  override ownRoute(request: HubRequest): 'callback' | 'logout' | null {
    const path = pathOf(request.url);
    if (path !== this.callbackPath && path !== this.logoutPath) return null;
    const method = request.method.toUpperCase();
    if (path === this.callbackPath && (method === 'GET' || method === 'HEAD')) return 'callback';
    if (path === this.logoutPath && (method === 'GET' || method === 'POST')) return 'logout';
    return null;
  }
}
