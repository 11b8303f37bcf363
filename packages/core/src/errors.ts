/**
 * Typed errors. Every error a request can meet carries a stable string `code`, the HTTP `status`
 * it should produce and the `headers` to send with it, so adapters only copy them onto a response.
 * Messages never contain a token, a cookie value or a secret.
 */

/** Headers an error asks the response to carry (lower-case names). */
export type ErrorHeaders = Readonly<Record<string, string>>;

/** Stable error codes. Match on these rather than on `instanceof` (duplicate installs break that). */
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
  | 'ERR_HUBAUTH_OAUTH_STATE';

/** Base class of every error hubauth throws or hands to an adapter. */
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

/** A configuration option (or the environment variable behind it) is missing or invalid. */
export class ConfigError extends HubAuthError {
  /** The option at fault, e.g. `apiToken`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_HUBAUTH_CONFIG', 500, `hubauth: invalid option "${option}": ${message}`, { expose: false });
    this.option = option;
  }
}

function bearerChallenge(realm: string, params: Record<string, string> = {}): string {
  const quote = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
  const parts = [`realm=${quote(realm)}`, ...Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`)];
  return `Bearer ${parts.join(', ')}`;
}

/** The request's credentials are malformed (RFC 6750 `invalid_request`). No Hub call is made. */
export class InvalidRequestError extends HubAuthError {
  constructor(message: string, realm = 'jupyterhub') {
    super('ERR_HUBAUTH_INVALID_REQUEST', 400, message, {
      headers: { 'www-authenticate': bearerChallenge(realm, { error: 'invalid_request', error_description: message }) },
    });
  }
}

/** No valid credentials (RFC 6750: 401 with a `WWW-Authenticate` challenge). */
export class UnauthenticatedError extends HubAuthError {
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

/** The caller is identified but not allowed (RFC 6750 `insufficient_scope`). Never a redirect. */
export class ForbiddenError extends HubAuthError {
  constructor(message: string, options: { realm?: string; scopes?: readonly string[] } = {}) {
    const params: Record<string, string> = { error: 'insufficient_scope' };
    if (options.scopes?.length) params.scope = options.scopes.join(' ');
    super('ERR_HUBAUTH_FORBIDDEN', 403, message, {
      headers: { 'www-authenticate': bearerChallenge(options.realm ?? 'jupyterhub', params) },
    });
  }
}

/** A cookie-authenticated unsafe request lacks a valid xsrf token. */
export class XsrfError extends HubAuthError {
  constructor(message: string) {
    super('ERR_HUBAUTH_XSRF', 403, message);
  }
}

/**
 * The Hub could not answer: unreachable, timed out, 5xx, or an unreadable reply.
 * An outage is not a logout, so this is never turned into "no user".
 * Unreachable or timed out → 503 with `Retry-After`; a bad reply → 502.
 */
export class HubUnavailableError extends HubAuthError {
  constructor(message: string, options: { status?: 502 | 503; cause?: unknown; retryAfter?: number } = {}) {
    const status = options.status ?? 502;
    const headers: Record<string, string> = {};
    if (status === 503) headers['retry-after'] = String(options.retryAfter ?? 5);
    // Details name internal addresses: they go to logs, clients get a generic message.
    super('ERR_HUBAUTH_HUB_UNAVAILABLE', status, message, { headers, cause: options.cause, expose: false });
  }
}

/**
 * One client has too many token lookups waiting for the Hub (429 with `Retry-After`): a client
 * sending unknown tokens faster than the Hub answers is slowed down alone, and never delays callers
 * whose identity is cached or comes from the login cookie.
 */
export class TooManyLookupsError extends HubAuthError {
  constructor(message: string, options: { retryAfter?: number } = {}) {
    super('ERR_HUBAUTH_TOO_MANY_LOOKUPS', 429, message, { headers: { 'retry-after': String(options.retryAfter ?? 1) } });
  }
}

/** A Hub API call made with the service's own token returned an error status. */
export class HubApiError extends HubAuthError {
  /** Status the Hub answered. */
  readonly hubStatus: number;
  constructor(hubStatus: number, message: string) {
    super('ERR_HUBAUTH_HUB_API', hubStatus >= 500 ? 502 : 500, message, { expose: false });
    this.hubStatus = hubStatus;
  }
}

/** The Hub rejected this service's own credentials (API token / OAuth client secret). */
export class ServiceCredentialsError extends HubAuthError {
  constructor(message: string) {
    super('ERR_HUBAUTH_SERVICE_TOKEN', 500, message, { expose: false });
  }
}

/** The OAuth callback request is invalid: Hub error, missing code or state, rejected code. */
export class OAuthCallbackError extends HubAuthError {
  constructor(message: string, status = 400) {
    super('ERR_HUBAUTH_OAUTH_CALLBACK', status, message);
  }
}

/** The OAuth state does not match a state cookie of this browser, or has expired. */
export class OAuthStateError extends HubAuthError {
  constructor(message: string) {
    super('ERR_HUBAUTH_OAUTH_STATE', 403, message);
  }
}

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
