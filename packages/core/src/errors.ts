/**
 * Typed errors. Every error a request can meet carries a stable string `code`, the HTTP `status`
 * it should produce and the `headers` to send with it, so adapters only copy them onto a response.
 * Messages never contain a token, a cookie value or a secret.
 */

/** Headers an error asks the response to carry (lower-case names). */
export type ErrorHeaders = Readonly<Record<string, string>>;

/**
 * Every code a hubauth error can carry: the whole list. Match on these rather than on `instanceof`
 * (duplicate installs break that); {@link AnyHubAuthError} narrows `switch (err.code)` to the class.
 *
 * | code | class | status |
 * | --- | --- | --- |
 * | `ERR_HUBAUTH_CONFIG` | {@link ConfigError} | 500 |
 * | `ERR_HUBAUTH_INVALID_REQUEST` | {@link InvalidRequestError} | 400 |
 * | `ERR_HUBAUTH_UNAUTHENTICATED` | {@link UnauthenticatedError} | 401 |
 * | `ERR_HUBAUTH_FORBIDDEN` | {@link ForbiddenError} | 403 |
 * | `ERR_HUBAUTH_XSRF` | {@link XsrfError} | 403 |
 * | `ERR_HUBAUTH_HUB_UNAVAILABLE` | {@link HubUnavailableError} | 502 / 503 |
 * | `ERR_HUBAUTH_TOO_MANY_LOOKUPS` | {@link TooManyLookupsError} | 429 |
 * | `ERR_HUBAUTH_HUB_API` | {@link HubApiError} | 500 / 502 |
 * | `ERR_HUBAUTH_SERVICE_TOKEN` | {@link ServiceCredentialsError} | 500 |
 * | `ERR_HUBAUTH_OAUTH_CALLBACK` | {@link OAuthCallbackError} | 400 (or as given) |
 * | `ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_OAUTH_STATE_EXPIRED` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_OAUTH_STATE_OTHER_USER` | {@link OAuthStateError} | 403 |
 * | `ERR_HUBAUTH_SCOPE_SYNTAX` | {@link ScopeSyntaxError} | 500 |
 * | `ERR_HUBAUTH_INTERNAL` | {@link InternalError} | 500 |
 *
 * Each code has a section with causes and fixes in hubauth's errors page, `docs/errors.md`
 * ({@link HubAuthError.docs}).
 */
export type HubAuthErrorCode =
  | 'ERR_HUBAUTH_CONFIG'
  | 'ERR_HUBAUTH_INVALID_REQUEST'
  | 'ERR_HUBAUTH_UNAUTHENTICATED'
  | 'ERR_HUBAUTH_FORBIDDEN'
  | 'ERR_HUBAUTH_XSRF'
  | 'ERR_HUBAUTH_HUB_UNAVAILABLE'
  | 'ERR_HUBAUTH_TOO_MANY_LOOKUPS'
  | 'ERR_HUBAUTH_HUB_API'
  | 'ERR_HUBAUTH_SERVICE_TOKEN'
  | 'ERR_HUBAUTH_OAUTH_CALLBACK'
  | OAuthStateErrorCode
  | 'ERR_HUBAUTH_SCOPE_SYNTAX'
  | 'ERR_HUBAUTH_INTERNAL';

/** The OAuth state failure, one code per cause ({@link OAuthStateError}). */
export type OAuthStateErrorCode =
  | 'ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE'
  | 'ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN'
  | 'ERR_HUBAUTH_OAUTH_STATE_EXPIRED'
  | 'ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET'
  | 'ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE'
  | 'ERR_HUBAUTH_OAUTH_STATE_OTHER_USER';

/** Every error code, in the order of the errors page (`docs/errors.md`). */
export const ERROR_CODES: readonly HubAuthErrorCode[] = Object.freeze([
  'ERR_HUBAUTH_CONFIG',
  'ERR_HUBAUTH_INVALID_REQUEST',
  'ERR_HUBAUTH_UNAUTHENTICATED',
  'ERR_HUBAUTH_FORBIDDEN',
  'ERR_HUBAUTH_XSRF',
  'ERR_HUBAUTH_HUB_UNAVAILABLE',
  'ERR_HUBAUTH_HUB_API',
  'ERR_HUBAUTH_SERVICE_TOKEN',
  'ERR_HUBAUTH_OAUTH_CALLBACK',
  'ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE',
  'ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN',
  'ERR_HUBAUTH_OAUTH_STATE_EXPIRED',
  'ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET',
  'ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE',
  'ERR_HUBAUTH_OAUTH_STATE_OTHER_USER',
  'ERR_HUBAUTH_SCOPE_SYNTAX',
  'ERR_HUBAUTH_INTERNAL',
] satisfies readonly HubAuthErrorCode[]);

/**
 * Where a code is explained: its section of hubauth's errors page, e.g.
 * `docs/errors.md#err_hubauth_xsrf` (the page is in the repository, linked from the README).
 */
export function errorDocs(code: HubAuthErrorCode): string {
  return `docs/errors.md#${code.toLowerCase()}`;
}

/**
 * Base class of every error hubauth throws or hands to an adapter. Match a subclass by its `code`
 * (`err.code === 'ERR_HUBAUTH_FORBIDDEN'`, works across duplicate installs) or by `instanceof`.
 */
export class HubAuthError extends Error {
  /** Stable machine-readable code. */
  readonly code: HubAuthErrorCode;
  /** HTTP status this error should produce. */
  readonly status: number;
  /** Alias of {@link status}, for frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** Headers to send with the error response (e.g. `www-authenticate`, `retry-after`). */
  readonly headers: ErrorHeaders;
  /** Whether the message is safe to show to the client (true for all 4xx). */
  readonly expose: boolean;

  /** The section of the errors page that explains this code: causes and fixes ({@link errorDocs}). */
  get docs(): string {
    return errorDocs(this.code);
  }

  constructor(
    code: HubAuthErrorCode,
    status: number,
    message: string,
    options: { headers?: ErrorHeaders; cause?: unknown; expose?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.statusCode = status;
    this.headers = Object.freeze({ ...(options.headers ?? {}) });
    this.expose = options.expose ?? status < 500;
  }
}

/**
 * A configuration option (or the environment variable behind it) is missing or invalid. Thrown at
 * construction (`new HubAuth()`, `hubAuth()`), or by a guard used without `hubAuth()` before it.
 * Status 500, message not exposed. Code `ERR_HUBAUTH_CONFIG`.
 */
export class ConfigError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_CONFIG';
  /** The option at fault, e.g. `apiToken`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_HUBAUTH_CONFIG', 500, `hubauth: invalid option "${option}": ${message} (see ${errorDocs('ERR_HUBAUTH_CONFIG')})`, {
      expose: false,
    });
    this.option = option;
  }
}

function bearerChallenge(realm: string, params: Record<string, string> = {}): string {
  const quote = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
  const parts = [`realm=${quote(realm)}`, ...Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`)];
  return `Bearer ${parts.join(', ')}`;
}

/**
 * The request's credentials are malformed (RFC 6750 `invalid_request`): several `Authorization`
 * headers, a scheme with no or several tokens, an over-long token or forbidden characters. No Hub
 * call is made. Status 400 with `WWW-Authenticate`. Code `ERR_HUBAUTH_INVALID_REQUEST`.
 */
export class InvalidRequestError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_INVALID_REQUEST';
  constructor(message: string, realm = 'jupyterhub') {
    super('ERR_HUBAUTH_INVALID_REQUEST', 400, message, {
      headers: { 'www-authenticate': bearerChallenge(realm, { error: 'invalid_request', error_description: message }) },
    });
  }
}

/**
 * A guarded route was called without valid credentials (none, or a token the Hub does not know).
 * Status 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750). Code `ERR_HUBAUTH_UNAUTHENTICATED`.
 */
export class UnauthenticatedError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_UNAUTHENTICATED';
  constructor(message = 'Authentication required', options: { realm?: string; invalidToken?: boolean } = {}) {
    const realm = options.realm ?? 'jupyterhub';
    const params: Record<string, string> = options.invalidToken
      ? { error: 'invalid_token', error_description: 'The token is invalid or expired' }
      : {};
    super('ERR_HUBAUTH_UNAUTHENTICATED', 401, message, {
      headers: { 'www-authenticate': bearerChallenge(realm, params) },
    });
  }
}

/**
 * The caller is identified but not allowed here (scopes, `hubUsers`, `hubGroups`, `allowServices`,
 * blocked users, a post-auth hook's refusal). Never a redirect. Status 403 with RFC 6750
 * `insufficient_scope`. Code `ERR_HUBAUTH_FORBIDDEN`.
 */
export class ForbiddenError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_FORBIDDEN';
  constructor(message: string, options: { realm?: string; scopes?: readonly string[] } = {}) {
    const params: Record<string, string> = { error: 'insufficient_scope' };
    if (options.scopes?.length) params.scope = options.scopes.join(' ');
    super('ERR_HUBAUTH_FORBIDDEN', 403, message, {
      headers: { 'www-authenticate': bearerChallenge(options.realm ?? 'jupyterhub', params) },
    });
  }
}

/**
 * A cookie-authenticated request that needs the xsrf token (unsafe methods, a page's `fetch()`,
 * JupyterHub's rule) lacks a valid one, or a cookie-authenticated websocket comes from another origin.
 * Status 403. Code `ERR_HUBAUTH_XSRF`.
 */
export class XsrfError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_XSRF';
  constructor(message: string) {
    super('ERR_HUBAUTH_XSRF', 403, message);
  }
}

/**
 * The Hub could not answer: unreachable, timed out, 5xx, or an unreadable reply. Code
 * `ERR_HUBAUTH_HUB_UNAVAILABLE`; message not exposed (it names internal addresses).
 * An outage is not a logout, so this is never turned into "no user".
 * Unreachable or timed out → 503 with `Retry-After`; a bad reply → 502.
 */
export class HubUnavailableError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_HUB_UNAVAILABLE';
  constructor(message: string, options: { status?: 502 | 503; cause?: unknown; retryAfter?: number } = {}) {
    const status = options.status ?? 502;
    const headers: Record<string, string> = {};
    if (status === 503) headers['retry-after'] = String(options.retryAfter ?? 5);
    // Details name internal addresses: they go to logs, clients get a generic message.
    super('ERR_HUBAUTH_HUB_UNAVAILABLE', status, message, { headers, cause: options.cause, expose: false });
  }
}

/**
 * One client has too many lookups of unknown tokens waiting for the Hub
 * (`maxPendingLookupsPerClient`): a client sending unknown tokens faster than the Hub answers is
 * slowed down alone, and never delays callers whose identity is cached, comes from the login cookie
 * or was valid before. Status 429 with `Retry-After`. Code `ERR_HUBAUTH_TOO_MANY_LOOKUPS`.
 */
export class TooManyLookupsError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_TOO_MANY_LOOKUPS';
  constructor(message: string, options: { retryAfter?: number } = {}) {
    super('ERR_HUBAUTH_TOO_MANY_LOOKUPS', 429, message, { headers: { 'retry-after': String(options.retryAfter ?? 1) } });
  }
}

/**
 * A Hub API call returned an error status; `hubStatus` is what the Hub said. Code `ERR_HUBAUTH_HUB_API`.
 * Made with the service's own token ({@link HubAuth.apiRequest}, any error but 401/403), it is this
 * service's problem: 502 when the Hub failed (5xx), else 500, not exposed. Made as the caller
 * (`hubAuth.api`, `asCaller`), a 4xx is the Hub's answer to that caller and keeps its status and
 * message (403 beyond their scopes, 404 for another user's resource); a 5xx becomes 502.
 */
export class HubApiError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_HUB_API';
  /** Status the Hub answered. */
  readonly hubStatus: number;
  constructor(hubStatus: number, message: string, options: { asCaller?: boolean } = {}) {
    const passOn = options.asCaller === true && hubStatus >= 400 && hubStatus < 500;
    super('ERR_HUBAUTH_HUB_API', passOn ? hubStatus : hubStatus >= 500 ? 502 : 500, message, { expose: passOn });
    this.hubStatus = hubStatus;
  }
}

/**
 * The Hub rejected this service's own credentials (API token / OAuth client secret): thrown by
 * {@link HubAuth.apiRequest} and at the OAuth code exchange. Status 500, message not exposed (the
 * log says what to fix). Code `ERR_HUBAUTH_SERVICE_TOKEN`.
 */
export class ServiceCredentialsError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_SERVICE_TOKEN';
  constructor(message: string) {
    super('ERR_HUBAUTH_SERVICE_TOKEN', 500, message, { expose: false });
  }
}

/**
 * The OAuth callback request is invalid: the Hub reported an error, the code or state is missing,
 * or the Hub refused the code. Status 400 (unless given). Code `ERR_HUBAUTH_OAUTH_CALLBACK`.
 */
export class OAuthCallbackError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_OAUTH_CALLBACK';
  constructor(message: string, status = 400) {
    super('ERR_HUBAUTH_OAUTH_CALLBACK', status, message);
  }
}

/** Why an OAuth callback's state was refused. */
export type OAuthStateCause = 'no-cookie' | 'other-login' | 'expired' | 'foreign-secret' | 'duplicate-cookie' | 'other-user';

const STATE_CAUSES: Record<OAuthStateCause, { code: OAuthStateErrorCode; message: string }> = {
  'no-cookie': {
    code: 'ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE',
    message:
      'The browser sent no login-state cookie with the OAuth callback: cookies are blocked, or the login started ' +
      'on another host or outside the service prefix (the callback must be on the same host and under the prefix). Try logging in again.',
  },
  'other-login': {
    code: 'ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN',
    message:
      'The OAuth state belongs to another login of this browser (another tab, or a login already finished or replaced). ' +
      'Try logging in again.',
  },
  expired: {
    code: 'ERR_HUBAUTH_OAUTH_STATE_EXPIRED',
    message: 'The login took too long and has expired (stateMaxAge). Try logging in again.',
  },
  'foreign-secret': {
    code: 'ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET',
    message:
      'The OAuth state was sealed with another cookie secret: replicas of this service without one shared ' +
      'HUBAUTH_COOKIE_SECRET, a secret changed during the login, or a forged state. Try logging in again.',
  },
  'duplicate-cookie': {
    code: 'ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE',
    message:
      "The browser sent a login or state cookie of this service twice: one was planted by another site of this domain. Clear this site's cookies, then log in again.",
  },
  'other-user': {
    code: 'ERR_HUBAUTH_OAUTH_STATE_OTHER_USER',
    message: 'This browser is already logged in to this service as another user. Log out first to log in as someone else.',
  },
};

/**
 * At the OAuth callback, the state cannot finish a login; the code says why (`cause`): no state
 * cookie (`ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE`), the state of another login of the browser
 * (`…_OTHER_LOGIN`), too late (`…_EXPIRED`), sealed with another secret (`…_FOREIGN_SECRET`), a
 * cookie sent twice because another site planted one (`…_DUPLICATE_COOKIE`), or a browser already
 * logged in as another user (`…_OTHER_USER`);
 * `reason` names the cause.
 * Status 403.
 */
export class OAuthStateError extends HubAuthError {
  declare readonly code: OAuthStateErrorCode;
  /** Why the state was refused. */
  readonly reason: OAuthStateCause;
  constructor(reason: OAuthStateCause, message = STATE_CAUSES[reason].message) {
    super(STATE_CAUSES[reason].code, 403, message);
    this.reason = reason;
  }
}

/**
 * A scope string is not `base` or `base!kind=value`: thrown by {@link parseScope} and
 * {@link checkScopes} for required scopes, and reported as a {@link ConfigError} when it comes from
 * the configuration. Status 500, message not exposed. Code `ERR_HUBAUTH_SCOPE_SYNTAX`.
 */
export class ScopeSyntaxError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_SCOPE_SYNTAX';
  /** The offending scope, as given. */
  readonly scope: string;

  constructor(scope: unknown, reason: string) {
    const shown = typeof scope === 'string' ? JSON.stringify(scope) : String(scope);
    super('ERR_HUBAUTH_SCOPE_SYNTAX', 500, `Invalid scope ${shown}: ${reason}`, { expose: false });
    this.scope = typeof scope === 'string' ? scope : String(scope);
  }
}

/**
 * Stands for an error that is not a hubauth error (a bug, a throwing hook) when core renders it:
 * the client sees this code and a generic message, never the original. Status 500. Code
 * `ERR_HUBAUTH_INTERNAL`.
 */
export class InternalError extends HubAuthError {
  declare readonly code: 'ERR_HUBAUTH_INTERNAL';
  constructor(message = 'Authentication is temporarily unavailable', options: { cause?: unknown } = {}) {
    super('ERR_HUBAUTH_INTERNAL', 500, message, { cause: options.cause, expose: false });
  }
}

/**
 * Any hubauth error, as a union narrowed by `code`:
 *
 * @example
 * ```ts
 * import { isHubAuthError, type AnyHubAuthError } from '@hubauth/core';
 *
 * export function explain(err: unknown): string {
 *   if (!isHubAuthError(err)) return 'not from hubauth';
 *   const e = err as AnyHubAuthError;
 *   switch (e.code) {
 *     case 'ERR_HUBAUTH_HUB_API': return `the Hub answered ${e.hubStatus}`; // e is a HubApiError
 *     case 'ERR_HUBAUTH_CONFIG': return `fix the option ${e.option}`;      // e is a ConfigError
 *     default: return e.message;
 *   }
 * }
 * ```
 */
export type AnyHubAuthError =
  | ConfigError
  | InvalidRequestError
  | UnauthenticatedError
  | ForbiddenError
  | XsrfError
  | HubUnavailableError
  | TooManyLookupsError
  | HubApiError
  | ServiceCredentialsError
  | OAuthCallbackError
  | OAuthStateError
  | ScopeSyntaxError
  | InternalError;

/** True when `err` is a hubauth error (works across duplicate installs: checks the code). */
export function isHubAuthError(err: unknown): err is HubAuthError {
  return (
    err instanceof HubAuthError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code.startsWith('ERR_HUBAUTH_') &&
      typeof (err as { status?: unknown }).status === 'number')
  );
}
