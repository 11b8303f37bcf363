/**
 * The forward-auth endpoint (`<prefix>_hubauth/auth`) for front proxies that ask before they serve:
 * nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`. The front proxy sends the
 * original request's headers (cookie, `Authorization`, `Origin`, …) and where it was going
 * (`X-Original-URI`/`X-Original-Method` from nginx, `X-Forwarded-Uri`/`X-Forwarded-Method` from
 * Traefik and Caddy). The answer:
 * - 200 with the identity headers: let it through (copy the headers to the upstream request), and
 *   the request's cookies without hubauth's in `X-Hubauth-Cookie`;
 * - 401 for anonymous callers (nginx turns it into a login redirect with `error_page 401`); with
 *   `?redirect=1`, browser navigations get the 302 to the Hub's login instead (Traefik and Caddy
 *   pass the auth server's answer to the browser as it is);
 * - 403 for callers who may not pass, or a request from another origin using the login cookie;
 * - 5xx when the Hub cannot be asked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessPolicy, HubAuth, HubResponse, Identity } from '@hubauth/core';
import type { IdentityHeaders } from './identity-headers';
import type { OriginPolicy } from './origin';
import { withoutXsrfCookie, type CredentialFilter } from './credentials';
import { identificationView, viewOf } from './request-view';

/** What {@link ForwardAuth} needs from the proxy. */
export interface ForwardAuthOptions {
  /** The authenticator that identifies the original request. */
  auth: HubAuth;
  /** Full path of the endpoint, e.g. `/services/app/_hubauth/auth`. */
  path: string;
  /** Who is let through. */
  policy: AccessPolicy;
  /** The identity headers the answer carries for the upstream. */
  identityHeaders: IdentityHeaders;
  /** Which origins may use the login cookie. */
  origins: OriginPolicy;
  /** Strips hubauth's credentials from what the upstream sees. */
  credentials: CredentialFilter;
}

/**
 * Header of a 200 answer carrying the request's `Cookie` header without hubauth's cookies, for
 * front proxies to send to the app instead (nginx: `proxy_set_header Cookie $hubauth_cookie`).
 */
export const UPSTREAM_COOKIE_HEADER = 'x-hubauth-cookie';

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Serves the forward-auth endpoint. */
export class ForwardAuth {
  /** Full path of the endpoint. */
  readonly path: string;
  private readonly policies: { readonly reject: AccessPolicy; readonly redirect: AccessPolicy };

  constructor(private readonly options: ForwardAuthOptions) {
    this.path = options.path;
    this.policies = {
      reject: Object.freeze({ ...options.policy, onUnauthenticated: 'reject' }),
      redirect: Object.freeze({ ...options.policy, onUnauthenticated: 'auto' }),
    };
  }

  /** The original request, as the front proxy describes it. */
  private original(req: IncomingMessage): { method: string; url: string } {
    const h = req.headers;
    // nginx's subrequest keeps the original method; the others send GET and name it in a header.
    const method = (first(h['x-original-method']) ?? first(h['x-forwarded-method']) ?? req.method ?? 'GET').toUpperCase();
    const url = first(h['x-original-uri']) ?? first(h['x-forwarded-uri']) ?? this.options.auth.config.servicePrefix;
    return { method: /^[A-Z]{1,16}$/.test(method) ? method : 'GET', url: url.startsWith('/') ? url : `/${url}` };
  }

  /** Answers one forward-auth request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const { auth } = this.options;
    const { method, url } = this.original(req);
    const redirect = /[?&]redirect=(1|true)(&|$)/.test(req.url ?? '');
    const view = viewOf(req, url, method);
    // The origin check below stands in for core's xsrf rules.
    const identifyWith = identificationView(view);
    const decide = (identity: Identity): void => {
      if (identity.source === 'cookie' && identity.user && this.options.origins.needsCheck(method, req.headers)) {
        const refused = this.options.origins.check(req.headers);
        if (refused) {
          this.answer(res, { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Refused: ${refused}.` });
          return;
        }
      }
      const cookies = withoutXsrfCookie(identity.setCookies);
      const decision = auth.authorize(identity, view, redirect ? this.policies.redirect : this.policies.reject);
      if (decision.action === 'allow') {
        const headers: Record<string, string | string[]> = {};
        for (const [name, value] of this.options.identityHeaders.of(decision.user)) headers[name] = value;
        const cookie = req.headers.cookie;
        headers[UPSTREAM_COOKIE_HEADER] = cookie === undefined ? '' : (this.options.credentials.cookies(cookie) ?? '');
        if (cookies.length) headers['set-cookie'] = cookies;
        this.answer(res, { status: 200, headers });
      } else if (decision.action === 'redirect') {
        this.answer(res, decision.response);
      } else {
        const response = auth.renderError(decision.error, view);
        if (cookies.length) response.headers['set-cookie'] = cookies;
        this.answer(res, response);
      }
    };
    const cached = auth.authenticateCached(identifyWith);
    if (cached) decide(cached);
    else auth.authenticate(identifyWith).then(decide, () => this.answer(res, { status: 500, headers: {} }));
  }

  private answer(res: ServerResponse, response: HubResponse): void {
    res.writeHead(response.status, { ...response.headers, 'cache-control': 'no-store' }).end(response.body);
  }
}
