/**
 * `@hubauth/core`: framework-free JupyterHub service authentication.
 *
 * - {@link HubAuth}: token authentication (Python's `HubAuth` + `HubAuthenticated`).
 * - {@link HubOAuth}: browser login through the Hub's OAuth provider (Python's `HubOAuth`).
 * - {@link checkScopes}: the Hub's scope semantics.
 * - Adapter authors: `@hubauth/core/adapter` (the flow, request views, the per-request carrier).
 *
 * @packageDocumentation
 * @module @hubauth/core
 */
export { HubAuth, freezePolicy, isNavigation, isUnsafeMethod, SESSION_ID_COOKIE } from './hub-auth';
export { acceptsHtml, forwardedProto, isForeignWebsocketOrigin, needsXsrfCheck } from './request';
export type { AccessPolicy, GuardDecision, Identity, IdentitySource } from './hub-auth';
export { HubOAuth } from './hub-oauth';
export { resolveHubAuthConfig, resolveHubOAuthConfig } from './config';
export type { Environment, HubAuthConfig, HubAuthLogger, HubAuthOptions, HubOAuthConfig, HubOAuthOptions } from './config';
export * from './errors';
export { checkScopes, hasAccess, intersectScopes, parseScope, defaultAccessScopes } from './scopes';
export { extractToken, parseAuthorizationHeader, MAX_TOKEN_LENGTH } from './token';
export type { FoundToken, TokenSource } from './token';
export { safeNextUrl } from './oauth';
export type { SharedCacheOptions, SharedStore, SharedStoreListener } from './shared-store';
export { XSRF_COOKIE } from './cookies';
export type { HubRoute, HubRouteName } from './routes';
export type { HubRequest, HubRequestHeaders, HubResponse, HubServer, HubUser } from './types';
export { HubAuthFlow, createHubAuth, freezeGuardOptions } from './adapter/flow';
export type { ErrorMode, FlowStep, HubAuthenticatedOptions, HubAuthMiddlewareOptions, RequestAuthState } from './adapter/flow';
export { HubCaller } from './adapter/caller';
export { resolveCookieOptions } from './cookie-options';
export type { CookieOptions, ResolvedCookieOptions } from './cookie-options';
export { CallerToken } from './hub-api';
export type { HubApi, HubApiResponse } from './hub-api';
export { requestableScopeProblem, resolveOwnerScopes, resolveRequestedScopes } from './requested-scopes';
export { refuseUpgrade, upgradeRequest } from './upgrade';
export { WebHubRequest, clientAddress, identifyWebRequest, needsXsrfField, readXsrfField, splitAuthorization, toWebResponse, withSetCookies, finishWebResponse, MAX_XSRF_FORM_BYTES } from './adapter/web';
export type { WebRequestInit } from './adapter/web';
