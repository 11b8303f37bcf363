/**
 * `@hubauth/proxy`: put any web app behind JupyterHub login. `hubauth-proxy` (the CLI) or
 * {@link HubAuthProxy} authenticates every request like `@hubauth/express` does, then proxies HTTP
 * and websockets to the app with the caller's identity in headers. A forward-auth endpoint serves
 * nginx `auth_request`, Traefik `ForwardAuth` and Caddy `forward_auth`.
 *
 * ```sh
 * hubauth-proxy --upstream http://127.0.0.1:8501 --hub-groups analysts
 * hubauth-proxy -- streamlit run app.py --server.port {port} --server.headless true
 * ```
 * @packageDocumentation
 * @module @hubauth/proxy
 */
export { HubAuthProxy } from './proxy';
export { ForwardAuth, UPSTREAM_COOKIE_HEADER } from './forward-auth';
export type { ForwardAuthOptions } from './forward-auth';
export { DEFAULT_IDENTITY_HEADERS, canonicalHeaderName, resolveProxyOptions } from './options';
export type { HubAuthProxyOptions, IdentityHeaderNames, ResolvedProxyOptions } from './options';
export { asciiJson, headerText, IdentityHeaders } from './identity-headers';
export { OriginPolicy } from './origin';
export { CredentialFilter, withoutTokenParam, withoutXsrfCookie } from './credentials';
export type { OriginVerdict } from './origin';
export { AppProcess, freePort } from './app-process';
export type { AppProcessOptions } from './app-process';
export { main, parseCommandLine } from './cli';
export type { CliPlan } from './cli';
export { ConfigError, HubAuthError } from '@hubauth/core';
export type { HubUser } from '@hubauth/core';
