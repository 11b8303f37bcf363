/**
 * Browser login through the Hub's OAuth provider: start (a redirect with PKCE and a per-flow state
 * cookie), the callback (state check, code exchange, login cookie) and logout. Stateless: any
 * replica sharing the cookie secret finishes a flow. The counterpart of Python's `HubOAuth` and
 * `HubOAuthCallbackHandler`.
 */
import type { HubOAuthConfig } from './config';
import { CookieSealer, parseCookieHeader, sessionIdOf, type CookiePairs, type ServiceCookies } from './cookies';
import { randomLetters, safeEqual } from './crypto';
import { warnDuplicateCookie } from './credentials';
import { HubUnavailableError, OAuthCallbackError, OAuthStateError, ServiceCredentialsError, type HubAuthError, type OAuthStateCause } from './errors';
import type { UserLookup } from './lookup';
import type { UrlTokenPersistence } from './credentials';
import { StateCodec, safeNextUrl, type StateCookie } from './oauth';
import { renderError } from './render';
import { isNavigation, pathOf, queryParam } from './request';
import type { HubRoute } from './routes';
import type { Session } from './session';
import type { HubRequest, HubResponse } from './types';

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

function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, max);
}

function redirect(location: string, setCookies: string[]): HubResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store', 'set-cookie': setCookies } };
}

/** The login flow of one service. */
export class Login {
  /** Path of the OAuth callback route. */
  readonly callbackPath: string;
  /** Path of the logout route. */
  readonly logoutPath: string;
  private readonly cookies: ServiceCookies;
  private readonly stateCodec: StateCodec;

  constructor(
    private readonly config: HubOAuthConfig,
    private readonly session: Session,
    private readonly lookup: UserLookup,
  ) {
    this.cookies = session.cookies;
    this.stateCodec = new StateCodec(new CookieSealer(config.cookieSecrets, 'oauth-state'), this.cookies.stateName, config.stateMaxAge);
    this.callbackPath = config.oauthRedirectUri.startsWith('/') ? pathOf(config.oauthRedirectUri) : new URL(config.oauthRedirectUri).pathname;
    this.logoutPath = `${config.servicePrefix}logout`;
  }

  /** The routes an adapter must serve for this flow. */
  routes(): HubRoute[] {
    return [
      { name: 'callback', methods: ['GET', 'HEAD'], path: this.callbackPath, handler: (request) => this.callback(request) },
      { name: 'logout', methods: ['GET', 'POST'], path: this.logoutPath, handler: (request) => Promise.resolve(this.logout(request)) },
    ];
  }

  /**
   * Starts a login: a 302 to the Hub's authorize URL (with PKCE S256) and a per-flow state cookie.
   * `next` is validated to stay under the service prefix.
   */
  begin(request: HubRequest, next: string): HubResponse {
    const c = this.config;
    const pairs = parseCookieHeader(request.headers.cookie);
    const { live, stale } = this.pendingLogins(pairs);
    // A login already in flight keeps its cookie, and a name sent twice cannot be trusted: this one
    // then gets a suffixed name. The name is sealed in the state, so the callback opens only that cookie.
    const base = this.cookies.stateName;
    const taken = live.includes(base) || pairs.filter(([n]) => n === base).length > 1;
    const name = taken ? `${base}-${randomLetters(8)}` : base;
    const flow = this.stateCodec.create(safeNextUrl(next, c.servicePrefix), Date.now(), name);
    const params = new URLSearchParams({
      client_id: c.clientId,
      redirect_uri: c.oauthRedirectUri,
      response_type: 'code',
      code_challenge: flow.challenge,
      code_challenge_method: 'S256',
      state: flow.state,
    });
    if (c.requestScopes.length > 0) params.set('scope', c.requestScopes.join(' '));
    return {
      status: 302,
      headers: {
        location: `${c.authorizeUrl}?${params.toString()}`,
        'cache-control': 'no-store',
        'set-cookie': [
          ...stale
            .filter((n) => n !== name)
            .slice(0, MAX_STATE_COOKIES_CLEARED)
            .map((n) => this.cookies.clearState(n, request)),
          this.cookies.state(name, flow.cookie, c.stateMaxAge, request),
        ],
      },
    };
  }

  /** This browser's state cookies by name, in header order, with every value sent under each name. */
  private stateCookies(pairs: CookiePairs): Map<string, string[]> {
    const byName = new Map<string, string[]>();
    for (const [name, value] of pairs) {
      if (!this.cookies.isState(name)) continue;
      const values = byName.get(name);
      if (values) values.push(value);
      else byName.set(name, [value]);
    }
    return byName;
  }

  /**
   * The logins in flight (`live`, newest first, at most {@link MAX_PENDING_LOGINS} - 1 kept, so
   * abandoned logins cannot grow the Cookie header without bound) and the state cookies to drop
   * (`stale`): unreadable, expired, sent twice, the oldest beyond the bound, and any beyond the first
   * {@link MAX_STATE_COOKIES_READ}, which are not even opened.
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
    return [...names].map((n) => this.cookies.clearState(n, request));
  }

  /**
   * The state cookie of the flow `state` names: the flow, `'duplicate'` when its name was sent more
   * than once, or `null`. States sealed before the cookie name was (older versions) look at the first few.
   */
  private flowCookie(pairs: CookiePairs, state: { id: string; cookie?: string }): { name: string; flow: StateCookie | 'duplicate' } | null {
    const cookies = this.stateCookies(pairs);
    const names = state.cookie !== undefined ? [state.cookie] : [...cookies.keys()].slice(0, MAX_STATE_COOKIES_READ);
    for (const name of names) {
      const values = this.cookies.isState(name) ? cookies.get(name) : undefined;
      if (!values) continue;
      if (values.length > 1) return { name, flow: 'duplicate' };
      const candidate = this.stateCodec.openCookie(values[0] as string);
      if (candidate && safeEqual(candidate.id, state.id)) return { name, flow: candidate };
    }
    return null;
  }

  /** A refusal answered here, so that it can clear cookies (a thrown error cannot carry them). */
  private refuse(error: HubAuthError, request: HubRequest, setCookies: string[]): HubResponse {
    const response = renderError(error, request);
    response.headers['set-cookie'] = setCookies;
    return response;
  }

  /**
   * Finishes a login at the callback: checks the state against this browser's state cookie,
   * exchanges the code (with the PKCE verifier), sets the login cookie and redirects to the flow's
   * own `next`. Rejects with a {@link HubAuthError}: 400 for a bad callback, 403 for a state that
   * does not match or has expired, 500 when the Hub refuses this service's credentials, 502/503 when
   * the Hub is unavailable.
   */
  async callback(request: HubRequest): Promise<HubResponse> {
    const c = this.config;
    const hubError = queryParam(request.url, 'error');
    if (hubError !== null) {
      const description = queryParam(request.url, 'error_description');
      if (hubError === 'invalid_scope') {
        c.logger.error(
          `The Hub refused the scopes this service asks for at login (requestScopes: ${c.requestScopes.join(' ') || 'none'}): ` +
            "add them to the service's oauth_client_allowed_scopes in jupyterhub_config.py, or request fewer",
        );
        throw new OAuthCallbackError(
          'The Hub refused the permissions this service asks for (invalid_scope); the service must be registered with them. Ask its administrator.',
          403,
        );
      }
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
      warnDuplicateCookie(c.logger, found.name, request);
      return this.refuse(
        new OAuthStateError('duplicate-cookie', 'This login was refused: its state cookie was sent twice, so one was planted by another site. Try logging in again.'),
        request,
        clearStates,
      );
    }
    const flow = found?.flow ?? null;
    const sessionId = sessionIdOf(request.headers);
    const current = this.session.read(pairs);
    if (!flow) {
      // A finished, stale (even expired) or unknown flow from a browser that is already logged in: just
      // go on, as the Hub's own service code does. Nothing is exchanged, so nothing can be forged here.
      if (current && current !== 'invalid' && current !== 'duplicate') {
        const user = await this.lookup.user(current.token, sessionId, true, { priority: true }).catch(() => null);
        if (user) return redirect(next, clearStates);
      }
      throw new OAuthStateError(this.stateFailure(opened, pairs));
    }

    if (current === 'duplicate') {
      // Setting ours would still leave the planted one beside it: the browser would loop through logins.
      warnDuplicateCookie(c.logger, this.cookies.sessionName, request);
      return this.refuse(
        new OAuthStateError('duplicate-cookie', "This browser sends two login cookies for this service, one set by another site of this domain. Clear this site's cookies, then log in again."),
        request,
        [...clearStates, this.cookies.clearSession(request)],
      );
    }
    const { token, expiresIn } = await this.exchangeCode(code, flow.verifier);
    const user = await this.lookup.user(token, sessionId, true, { priority: true });
    if (!user) throw new HubUnavailableError('The Hub issued a token it then did not recognise', { status: 502 });
    // A login never switches a browser from one identity to another: a login started elsewhere (a
    // state cookie planted by a sibling host) must not silently replace the victim's session.
    const previous = current && current !== 'invalid' ? await this.lookup.user(current.token, sessionId, true, { priority: true }) : null;
    if (previous && (previous.name !== user.name || previous.kind !== user.kind)) {
      c.logger.warn(
        `Refused an OAuth callback for ${user.kind} ${user.name} in a browser logged in as ${previous.kind} ${previous.name}: ` +
          'a login does not switch users (log out first); a login started elsewhere may have been planted',
      );
      return this.refuse(
        new OAuthStateError('other-user'),
        request,
        clearStates,
      );
    }
    // `expires_in: 0` is a token that never expires, not a login that ends in a second: treat it
    // (and any non-positive value) like a missing one.
    const lifetime = expiresIn !== undefined && expiresIn > 0 ? expiresIn : DEFAULT_SESSION_AGE;
    const maxAge = Math.min(Math.max(lifetime, 1), MAX_SESSION_AGE);
    return redirect(next, [...clearStates, this.session.issue(token, maxAge, request), this.session.issueXsrf(token, request)]);
  }

  /**
   * Why a callback's state finishes no login of this browser. A state parameter that does not open
   * was sealed with another secret (a replica without the shared secret) or forged; one that opens
   * finds either no state cookie at all (blocked cookies, or a callback on another host or path than
   * the login's start) or only the cookies of other logins (another tab, a finished login).
   */
  private stateFailure(opened: ReturnType<StateCodec['openParam']>, pairs: CookiePairs): OAuthStateCause {
    if (opened === 'expired') return 'expired';
    if (opened === null) return 'foreign-secret';
    return this.stateCookies(pairs).size === 0 ? 'no-cookie' : 'other-login';
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
    const reply = await this.lookup.client.request('POST', '/oauth2/token', {
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
   * Logs out at `<prefix>logout`: clears the login and xsrf cookies, refuses the login token on
   * every replica and redirects to the Hub's logout page (or the service prefix, per `logoutRedirect`).
   */
  /**
   * Turns a `?token=` on an HTML navigation (not a websocket, not a `fetch`) into a login cookie
   * session: the cookies, and the same URL without the token to go on to. `null` for any other
   * request. Python counts a request without `Sec-Fetch-Mode` as a navigation too; here it must then
   * accept HTML, so that `curl '…?token='` gets its answer rather than a redirect.
   */
  persistUrlToken(token: string, request: HubRequest): UrlTokenPersistence | null {
    if (!isNavigation(request)) return null;
    const q = request.url.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1));
    query.delete('token');
    const rest = query.toString();
    const location = safeNextUrl(`${pathOf(request.url)}${rest ? `?${rest}` : ''}`, this.config.servicePrefix);
    this.config.logger.info?.(`Storing the token from the URL in a login cookie (${pathOf(location)})`);
    return {
      location,
      setCookies: [this.session.issue(token, DEFAULT_SESSION_AGE, request), this.session.issueXsrf(token, request)],
    };
  }

  logout(request: HubRequest): HubResponse {
    const pairs = parseCookieHeader(request.headers.cookie);
    const current = this.session.read(pairs);
    // Refused at once, for as long as the cookie could live (at most a day): a copy of the cookie is
    // worthless from now on, even before the Hub forgets the token (or if the browser never gets there).
    if (current && current !== 'invalid' && current !== 'duplicate') void this.lookup.revoke(current.token, Math.min(current.remaining, 86_400));
    const c = this.config;
    return redirect(c.logoutRedirect === 'hub' ? c.hubLogoutUrl : c.servicePrefix, [
      this.cookies.clearSession(request),
      this.cookies.clearXsrf(request),
      ...this.clearStateCookies(pairs, request),
    ]);
  }
}
