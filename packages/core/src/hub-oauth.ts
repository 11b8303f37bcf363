/**
 * `HubOAuth`: browser login through the Hub's OAuth provider, the counterpart of Python's `HubOAuth`
 * and `HubOAuthCallbackHandler`, made stateless (any replica sharing the secret finishes a flow),
 * with validated `next` URLs, encrypted cookies and explicit xsrf failures. A {@link HubAuth} made of
 * one more credential source (the login cookie) and the login flow with its two routes.
 */
import { resolveHubOAuthConfig, type HubOAuthConfig, type HubOAuthOptions } from './config';
import { ServiceCookies } from './cookies';
import { headerToken, Identifier, sessionCookie } from './credentials';
import { HubAuth, type HubAuthParts } from './hub-auth';
import { Login } from './login';
import { UserLookup } from './lookup';
import { Session } from './session';
import type { HubRequest, HubResponse } from './types';

/**
 * Browser login plus token authentication. Mount its {@link HubAuth.routes} (or use an adapter) so
 * that `<prefix>oauth_callback` and `<prefix>logout` are served.
 *
 * @example
 * ```ts
 * import { HubOAuth, type HubRequest } from '@hubauth/core';
 *
 * const auth = new HubOAuth(); // JUPYTERHUB_CLIENT_ID, JUPYTERHUB_API_TOKEN, ... from the environment
 *
 * export async function caller(request: HubRequest) {
 *   const identity = await auth.authenticate(request); // header token, else the login cookie
 *   return identity.user; // HubUser | null
 * }
 * ```
 */
export class HubOAuth extends HubAuth {
  declare readonly config: HubOAuthConfig;
  /** Path of the OAuth callback route. */
  readonly callbackPath: string;
  /** Path of the logout route. */
  readonly logoutPath: string;
  private readonly login: Login;

  constructor(options: HubOAuthOptions = {}) {
    super(options);
    this.login = this.parts.login as Login;
    this.callbackPath = this.login.callbackPath;
    this.logoutPath = this.login.logoutPath;
  }

  /** @internal Header token, then login cookie; the login flow and its routes. */
  protected static override assemble(options: HubOAuthOptions): HubAuthParts {
    const config = resolveHubOAuthConfig(options);
    const lookup = new UserLookup(config);
    const session = new Session(config, new ServiceCookies(config));
    const login = new Login(config, session, lookup);
    // A `?token=` that lets a browser in becomes a login cookie (Python's `_persist_url_token_if_set`).
    const persist = (token: string, request: HubRequest) => login.persistUrlToken(token, request);
    const identifier = new Identifier([headerToken(lookup, config, persist), sessionCookie(session, lookup, config)], config);
    return { config, lookup, identifier, login, routes: login.routes() };
  }

  /**
   * Starts a login: a 302 to the Hub's authorize URL (with PKCE S256) and a per-flow state cookie.
   * `next` defaults to the request's own URL; it is validated to stay under the service prefix.
   */
  beginLogin(request: HubRequest, next: string = request.url): HubResponse {
    return this.login.begin(request, next);
  }

  /**
   * Finishes a login at `<prefix>oauth_callback`: checks the state against this browser's state
   * cookie, exchanges the code (with the PKCE verifier), sets the login cookie and redirects to the
   * flow's own `next`. Throws a {@link HubAuthError}: 400 for a bad callback, 403 for a state that
   * does not match or has expired, 500 when the Hub refuses this service's credentials, 502/503 when
   * the Hub is unavailable.
   */
  handleCallback(request: HubRequest): Promise<HubResponse> {
    return this.login.callback(request);
  }

  /**
   * Logs out at `<prefix>logout`: clears the login and xsrf cookies, forgets the cached identity and
   * redirects to the Hub's logout page (or the service prefix, per `logoutRedirect`).
   */
  logout(request: HubRequest): HubResponse {
    return this.login.logout(request);
  }
}
