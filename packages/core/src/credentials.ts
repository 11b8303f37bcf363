/**
 * Identification: the credential sources a request is read from, tried in order — an
 * `Authorization` (or allowed URL) token, then, with browser login, the login cookie — and the one
 * loop that turns the first credential found into an {@link Identity} (lookup, post-auth hook).
 */
import type { HubAuthConfig, HubOAuthConfig } from './config';
import { parseCookieHeader, sessionIdOf } from './cookies';
import { ForbiddenError, HubUnavailableError, XsrfError, isHubAuthError, type HubAuthError } from './errors';
import { attachCallerToken, CallerToken } from './hub-api';
import type { UserLookup } from './lookup';
import { isForeignWebsocketOrigin, isWebsocket, needsXsrfCheck, pathOf } from './request';
import type { Session } from './session';
import { extractToken, type TokenSource } from './token';
import type { HubRequest, HubUser } from './types';
import { deepFreeze } from './user-model';

/** How a request was identified. */
export type IdentitySource = TokenSource | 'cookie';

/** Who is calling, as far as the Hub says. Never throws: problems are reported in `error`. */
export interface Identity {
  /** The caller, or `null` when anonymous or not identifiable. */
  user: HubUser | null;
  /** Where the credential came from. */
  source: IdentitySource | null;
  /** Why the caller could not be identified: malformed credentials, an unreachable Hub, a failed xsrf check. */
  error: HubAuthError | null;
  /** A credential was presented and the Hub said it is not valid. */
  rejected: boolean;
  /** `Set-Cookie` values the response must carry (re-issued or cleared cookies, the xsrf cookie). */
  setCookies: string[];
  /** The xsrf token for forms and `fetch` calls (browser sessions only). */
  xsrfToken: string | null;
  /**
   * Set when the caller came with `?token=` on an HTML navigation and browser login is on: once the
   * guard lets them through, they are sent here (the same URL without the token) with a login
   * cookie, so that a shared link keeps working after its first request (Python's
   * `_persist_url_token_if_set`).
   */
  persistUrlToken?: UrlTokenPersistence;
  /**
   * The token the caller proved their identity with, for calls to the Hub on their behalf
   * (`HubAuth.apiRequestAs`); shown as `[redacted]` by `JSON.stringify` and not at all by
   * `util.inspect`. Absent for anonymous callers.
   */
  credential?: CallerToken;
}

/** The answer that turns a `?token=` navigation into a login cookie session. */
export interface UrlTokenPersistence {
  /** The same URL without the token. */
  location: string;
  /** The login and xsrf cookies for the token. */
  setCookies: string[];
}

/** Builds the {@link UrlTokenPersistence} for a URL token, or `null` when this request should keep it. */
export type UrlTokenPersister = (token: string, request: HubRequest) => UrlTokenPersistence | null;

/** A caller with no credential. */
export function anonymous(): Identity {
  return { user: null, source: null, error: null, rejected: false, setCookies: [], xsrfToken: null, credential: undefined };
}

/** One kind of credential a request may carry. */
export interface CredentialSource {
  /** Identifies the caller from this credential; `null` when the request carries none (the next source is tried). */
  identify(request: HubRequest, fail: (err: unknown) => HubAuthError): Promise<Identity | null>;
  /** The same from the cache, without waiting: `null` = no credential here, `undefined` = call {@link identify}. */
  cached(request: HubRequest): Identity | null | undefined;
}

/**
 * `Authorization: token|bearer <t>`, or `?token=` when allowed (always on websocket upgrades). With
 * `persist` (browser login), an allowed URL token on a navigation is offered a login cookie.
 */
export function headerToken(lookup: UserLookup, config: Pick<HubAuthConfig, 'allowTokenInUrl'>, persist?: UrlTokenPersister): CredentialSource {
  const { allowTokenInUrl } = config;
  return {
    async identify(request, fail) {
      const identity = anonymous();
      try {
        const found = extractToken(request, allowTokenInUrl);
        if (!found) return null;
        identity.source = found.source;
        const user = await lookup.user(found.token, sessionIdOf(request.headers), true, { client: request.ip });
        if (user) {
          identity.user = user;
          attachCallerToken(identity, found.token);
          if (found.source === 'url' && persist) {
            const persistence = persist(found.token, request);
            if (persistence) identity.persistUrlToken = persistence;
          }
        } else identity.rejected = true;
      } catch (err) {
        identity.error = fail(err);
      }
      return identity;
    },
    cached(request) {
      let found;
      try {
        found = extractToken(request, allowTokenInUrl);
      } catch {
        return undefined;
      }
      if (!found) return null;
      // A URL token that may become a login cookie takes the asynchronous path.
      if (found.source === 'url' && persist) return undefined;
      const user = lookup.cached(found.token, sessionIdOf(request.headers));
      if (user === undefined) return undefined;
      return {
        user,
        source: found.source,
        error: null,
        rejected: user === null,
        setCookies: [],
        xsrfToken: null,
        credential: user ? new CallerToken(found.token) : undefined,
      };
    },
  };
}

/**
 * Logs a cookie sent more than once where one is expected (its name and the path, never a value):
 * a sibling host or a longer Path planted one.
 */
export function warnDuplicateCookie(logger: HubAuthConfig['logger'], name: string, request: HubRequest): void {
  logger.warn(
    `Cookie ${name} was sent more than once on ${request.method.toUpperCase()} ${pathOf(request.url).slice(0, 200)}: ` +
      'treated as tampered (a sibling host or a longer Path can plant one; cookieHostPrefix prevents it)',
  );
}

/**
 * The login cookie set at the end of a browser login. Requests it authenticates pass the xsrf gate
 * (JupyterHub's rule), and websocket upgrades must come from this service's own pages (`Origin`).
 */
export function sessionCookie(
  session: Session,
  lookup: UserLookup,
  config: Pick<HubOAuthConfig, 'allowWebsocketCookieAuth' | 'publicUrl' | 'logger'>,
): CredentialSource {
  const skip = (request: HubRequest) => !config.allowWebsocketCookieAuth && isWebsocket(request);
  return {
    async identify(request, fail) {
      if (skip(request)) return null;
      const pairs = parseCookieHeader(request.headers.cookie);
      const opened = session.read(pairs);
      if (opened === null) return null;
      const identity = anonymous();
      if (opened === 'invalid' || opened === 'duplicate') {
        if (opened === 'duplicate') warnDuplicateCookie(config.logger, session.cookies.sessionName, request);
        identity.setCookies.push(session.cookies.clearSession(request));
        return identity;
      }
      identity.source = 'cookie';
      // Browsers send cookies with a websocket whatever page opened it: only our own pages may use them.
      if (isWebsocket(request) && isForeignWebsocketOrigin(request, config.publicUrl)) {
        identity.error = new XsrfError("Cross-origin websocket refused: its Origin is not this service's, and the login cookie only works for this service's own pages");
        return identity;
      }
      const xsrf = await session.checkXsrf(request, pairs, opened.token);
      identity.xsrfToken = xsrf.token;
      if (xsrf.setCookie) identity.setCookies.push(xsrf.setCookie);
      if (xsrf.error) {
        identity.error = xsrf.error;
        return identity;
      }
      try {
        // Our own sealed cookie: its lookup goes ahead of unknown tokens.
        const user = await lookup.user(opened.token, sessionIdOf(request.headers), true, { priority: true });
        if (!user) {
          identity.rejected = true;
          identity.xsrfToken = null;
          identity.setCookies = [session.cookies.clearSession(request)];
          return identity;
        }
        if (opened.stale) identity.setCookies.push(session.issue(opened.token, opened.remaining, request));
        identity.user = user;
        attachCallerToken(identity, opened.token);
      } catch (err) {
        identity.error = fail(err);
      }
      return identity;
    },
    cached(request) {
      if (request.headers.cookie === undefined || skip(request)) return null;
      const pairs = parseCookieHeader(request.headers.cookie);
      const opened = session.read(pairs);
      if (opened === null) return null;
      // The common case without waiting (and without opening the cookie twice): a valid, current
      // login cookie whose identity is cached, on a request the xsrf rule lets through without a
      // token. Anything else (a cookie to clear or re-issue, a websocket, an xsrf check, a lookup)
      // takes identify().
      if (typeof opened === 'string' || opened.stale || isWebsocket(request) || needsXsrfCheck(request)) return undefined;
      const user = lookup.cached(opened.token, sessionIdOf(request.headers));
      if (!user) return undefined;
      const xsrf = session.xsrfFor(request, pairs, opened.token);
      const identity: Identity = {
        user,
        source: 'cookie',
        error: null,
        rejected: false,
        setCookies: xsrf.setCookie ? [xsrf.setCookie] : [],
        xsrfToken: xsrf.token,
      };
      attachCallerToken(identity, opened.token);
      return identity;
    },
  };
}

/** The identification loop over the configured sources, with the post-auth hook run once. */
export class Identifier {
  constructor(
    private readonly sources: readonly CredentialSource[],
    private readonly config: Pick<HubAuthConfig, 'postAuthHook' | 'logger'>,
  ) {}

  /** Identifies the caller of `request` without rejecting anyone. */
  async identify(request: HubRequest): Promise<Identity> {
    for (const source of this.sources) {
      const identity = await source.identify(request, this.fail);
      if (identity) return this.config.postAuthHook && identity.user ? this.hook(identity, request) : identity;
    }
    return anonymous();
  }

  /** {@link identify} without waiting, when a credential's answer is cached and no hook runs; else `undefined`. */
  identifyCached(request: HubRequest): Identity | undefined {
    if (this.config.postAuthHook) return undefined;
    for (const source of this.sources) {
      const identity = source.cached(request);
      if (identity !== null) return identity;
    }
    // No credential at all: left to identify(), which subclasses may extend.
    return undefined;
  }

  /** Runs the post-auth hook: an enriched (frozen) model, or a refusal (403). */
  private async hook(identity: Identity, request: HubRequest): Promise<Identity> {
    const user = identity.user as HubUser;
    identity.user = null;
    try {
      const result = await (this.config.postAuthHook as NonNullable<HubAuthConfig['postAuthHook']>)(user, { request });
      if (result) identity.user = deepFreeze(result);
      else identity.error = new ForbiddenError(`${user.kind} ${user.name} is not allowed`);
    } catch (err) {
      identity.error = this.fail(err);
    }
    return identity;
  }

  /** Any failure as a {@link HubAuthError}; unexpected ones are logged and become a 502. */
  private readonly fail = (err: unknown): HubAuthError => {
    if (isHubAuthError(err)) return err;
    this.config.logger.error(`Unexpected error while authenticating: ${(err as Error)?.message ?? String(err)}`);
    return new HubUnavailableError('Authentication failed unexpectedly', { status: 502, cause: err });
  };
}
