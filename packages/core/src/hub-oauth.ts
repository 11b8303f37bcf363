/**
 * `HubOAuth`: browser login through the Hub's OAuth provider, the counterpart of Python's `HubOAuth`
 * and `HubOAuthCallbackHandler`, made stateless (any replica sharing the secret finishes a flow),
 * with validated `next` URLs, encrypted cookies and explicit xsrf failures.
 */
import { randomBytes } from 'node:crypto';
import { resolveHubOAuthConfig, type HubOAuthConfig, type HubOAuthOptions } from './config';
import { CookieSealer, clearCookie, parseCookieHeader, serializeCookie, type CookiePairs } from './cookies';
import {
  ForbiddenError,
  type HubAuthError,
  HubUnavailableError,
  OAuthCallbackError,
  OAuthStateError,
  ServiceCredentialsError,
  XsrfError,
} from './errors';
import { isForeignWebsocketOrigin, needsXsrfCheck } from './fetch-metadata';
import { forwardedProto } from './forwarded';
import { HubAuth, type Identity } from './hub-auth';
import { StateCodec, safeEqual, safeNextUrl, type StateCookie } from './oauth';
import { isWebsocket, queryParam } from './token';
import type { HubRequest, HubResponse } from './types';
import { XSRF_COOKIE, XsrfTokens, submittedXsrfToken } from './xsrf';

/** Longest login-cookie lifetime honoured, whatever `expires_in` says (seconds). */
const MAX_SESSION_AGE = 365 * 86_400;
/** Most logins one browser may have in flight; starting another drops the oldest. */
const MAX_PENDING_LOGINS = 5;
/**
 * Most state cookies opened per request. More than a browser can have pending: anything beyond is
 * junk (planted, or sent to make every anonymous request decrypt hundreds of values).
 */
const MAX_STATE_COOKIES_READ = 8;
/** Most state cookies cleared per response, so junk cannot blow the reply past header limits. */
const MAX_STATE_COOKIES_CLEARED = 10;
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

  /**
   * Whether cookies get `Secure`: the configured public URL decides; without one, the connection as
   * the framework sees it, or a proxy forwarding https (adding `Secure` is safe without trusting it).
   */
  private secure(request: HubRequest): boolean {
    return this.config.cookieSecure ?? (request.secure === true || forwardedProto(request) === 'https');
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

  /**
   * Reads the login cookie: the Hub token inside, or why not. Two cookies of its name mean one was
   * planted (by a sibling host, or with a longer Path to shadow ours): neither is trusted.
   */
  private readSession(pairs: CookiePairs): { token: string; stale: boolean; remaining: number } | 'invalid' | 'duplicate' | null {
    const name = this.config.cookieName;
    let raw: string | undefined;
    for (const [n, v] of pairs) {
      if (n !== name) continue;
      if (raw !== undefined) return 'duplicate';
      raw = v;
    }
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
    if (session === 'invalid' || session === 'duplicate') {
      if (session === 'duplicate') this.warnDuplicate(this.config.cookieName, request);
      identity.setCookies.push(this.clearSession(request));
      return identity;
    }
    identity.source = 'cookie';

    // Browsers send cookies with a websocket whatever page opened it: only our own pages may use them.
    if (isWebsocket(request) && isForeignWebsocketOrigin(request, this.config.publicUrl)) {
      identity.error = new XsrfError("Cross-origin websocket refused: its Origin is not this service's, and the login cookie only works for this service's own pages");
      return identity;
    }

    // The xsrf gate runs before the Hub is asked: a forged request costs no lookup.
    const existing = this.xsrf.fromCookies(pairs, session.token);
    const xsrfToken = existing ?? this.xsrf.issue(session.token);
    if (!existing) identity.setCookies.push(this.xsrfCookie(xsrfToken, request));
    identity.xsrfToken = xsrfToken;
    if (needsXsrfCheck(request)) {
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
      const user = await this.userForToken(session.token, { sessionId: this.getSessionId(request) });
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

  /** Logs a cookie sent more than once where one is expected (names only, never values). */
  private warnDuplicate(name: string, request: HubRequest): void {
    this.config.logger.warn(
      `Cookie ${name} was sent more than once on ${request.method.toUpperCase()} ${pathOf(request.url).slice(0, 200)}: ` +
        'treated as tampered (a sibling host or a longer Path can plant one; cookieHostPrefix prevents it)',
    );
  }

  /**
   * Starts a login: a 302 to the Hub's authorize URL (with PKCE S256) and a per-flow state cookie.
   * `next` defaults to the request's own URL; it is validated to stay under the service prefix.
   */
  beginLogin(request: HubRequest, next: string = request.url): HubResponse {
    const c = this.config;
    const pairs = parseCookieHeader(request.headers.cookie);
    const { live, stale } = this.pendingLogins(pairs);
    // A login already in flight keeps its cookie, and a name sent twice cannot be trusted: this one
    // then gets a suffixed name.
    const base = this.stateCookieName;
    const taken = live.includes(base) || pairs.filter(([n]) => n === base).length > 1;
    const name = taken ? `${base}-${letters(8)}` : base;
    const flow = this.stateCodec.create(safeNextUrl(next, c.servicePrefix), Date.now(), name);
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
          ...stale
            .filter((n) => n !== name)
            .slice(0, MAX_STATE_COOKIES_CLEARED)
            .map((n) => clearCookie(n, c.cookiePath, this.secure(request))),
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

  private isStateCookie(name: string): boolean {
    return name === this.stateCookieName || name.startsWith(`${this.stateCookieName}-`);
  }

  /** This browser's state cookies by name, in header order, with every value sent under each name. */
  private stateCookies(pairs: CookiePairs): Map<string, string[]> {
    const byName = new Map<string, string[]>();
    for (const [name, value] of pairs) {
      if (!this.isStateCookie(name)) continue;
      const values = byName.get(name);
      if (values) values.push(value);
      else byName.set(name, [value]);
    }
    return byName;
  }

  /**
   * The logins in flight (`live`, newest first, at most {@link MAX_PENDING_LOGINS} - 1 kept) and the
   * state cookies to drop (`stale`): unreadable, expired, sent twice, the oldest beyond the bound,
   * and any beyond the first {@link MAX_STATE_COOKIES_READ}, which are not even opened.
   */
  private pendingLogins(pairs: CookiePairs): { live: string[]; stale: string[] } {
    const live: Array<{ name: string; issuedAt: number }> = [];
    const stale: string[] = [];
    let opened = 0;
    for (const [name, values] of this.stateCookies(pairs)) {
      if (values.length > 1 || opened >= MAX_STATE_COOKIES_READ) {
        stale.push(name);
        continue;
      }
      opened++;
      const flow = this.stateCodec.openCookie(values[0] as string);
      if (flow) live.push({ name, issuedAt: flow.issuedAt });
      else stale.push(name);
    }
    live.sort((a, b) => b.issuedAt - a.issuedAt);
    for (const { name } of live.slice(MAX_PENDING_LOGINS - 1)) stale.push(name);
    return { live: live.slice(0, MAX_PENDING_LOGINS - 1).map((l) => l.name), stale };
  }

  /** Clears `first` (when given) and up to {@link MAX_STATE_COOKIES_CLEARED} state cookies in all. */
  private clearStateCookies(pairs: CookiePairs, request: HubRequest, first?: string): string[] {
    const names = new Set<string>(first ? [first] : []);
    for (const name of this.stateCookies(pairs).keys()) {
      if (names.size >= MAX_STATE_COOKIES_CLEARED) break;
      names.add(name);
    }
    return [...names].map((n) => clearCookie(n, this.config.cookiePath, this.secure(request)));
  }

  /**
   * The state cookie of the flow `state` names: the flow, `'duplicate'` when its name was sent more
   * than once, or `null`. States from before the cookie name was sealed in look at the first few.
   */
  private flowCookie(pairs: CookiePairs, state: { id: string; cookie?: string }): { name: string; flow: StateCookie | 'duplicate' } | null {
    const cookies = this.stateCookies(pairs);
    const names = state.cookie !== undefined ? [state.cookie] : [...cookies.keys()].slice(0, MAX_STATE_COOKIES_READ);
    for (const name of names) {
      const values = this.isStateCookie(name) ? cookies.get(name) : undefined;
      if (!values) continue;
      if (values.length > 1) return { name, flow: 'duplicate' };
      const candidate = this.stateCodec.openCookie(values[0] as string);
      if (candidate && safeEqual(candidate.id, state.id)) return { name, flow: candidate };
    }
    return null;
  }

  /** A refusal answered here, so that it can clear cookies (a thrown error cannot carry them). */
  private refuse(error: HubAuthError, request: HubRequest, setCookies: string[]): HubResponse {
    const response = this.renderError(error, request);
    response.headers['set-cookie'] = setCookies;
    return response;
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
    const found = state ? this.flowCookie(pairs, state) : null;
    const clearStates = this.clearStateCookies(pairs, request, found?.name);
    if (found?.flow === 'duplicate') {
      this.warnDuplicate(found.name, request);
      return this.refuse(
        new OAuthStateError('This login was refused: its state cookie was sent twice, so one was planted by another site. Try logging in again.'),
        request,
        clearStates,
      );
    }
    const flow = found?.flow ?? null;
    if (!flow) {
      // A finished, stale (even expired) or unknown flow from a browser that is already logged in: just
      // go on, as the Hub's own service code does. Nothing is exchanged, so nothing can be forged here.
      const session = this.readSession(pairs);
      if (session && session !== 'invalid' && session !== 'duplicate') {
        const user = await this.userForToken(session.token, { sessionId: this.getSessionId(request) }).catch(() => null);
        if (user) return this.redirect(next, clearStates);
      }
      if (opened === null) throw new OAuthStateError('OAuth state is not valid for this service. Try logging in again.');
      if (opened === 'expired') throw new OAuthStateError('The login took too long and has expired. Try logging in again.');
      throw new OAuthStateError('OAuth state does not match this browser (the login was finished, expired, or started elsewhere). Try logging in again.');
    }

    const session = this.readSession(pairs);
    if (session === 'duplicate') {
      // Setting ours would still leave the planted one beside it: the browser would loop through logins.
      this.warnDuplicate(c.cookieName, request);
      return this.refuse(
        new OAuthStateError("This browser sends two login cookies for this service, one set by another site of this domain. Clear this site's cookies, then log in again."),
        request,
        [...clearStates, this.clearSession(request)],
      );
    }
    const { token, expiresIn } = await this.exchangeCode(code, flow.verifier);
    const sessionId = this.getSessionId(request);
    const user = await this.userForToken(token, { sessionId });
    if (!user) throw new HubUnavailableError('The Hub issued a token it then did not recognise', { status: 502 });
    // A login never switches a browser from one identity to another: a login started elsewhere (a
    // state cookie planted by a sibling host) must not silently replace the victim's session.
    const current = session && session !== 'invalid' ? await this.userForToken(session.token, { sessionId }) : null;
    if (current && (current.name !== user.name || current.kind !== user.kind)) {
      c.logger.warn(
        `Refused an OAuth callback for ${user.kind} ${user.name} in a browser logged in as ${current.kind} ${current.name}: ` +
          'a login does not switch users (log out first); a login started elsewhere may have been planted',
      );
      return this.refuse(
        new OAuthStateError('This browser is already logged in to this service as another user. Log out first to log in as someone else.'),
        request,
        clearStates,
      );
    }
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
    if (session && session !== 'invalid' && session !== 'duplicate') this.invalidate(session.token);
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
