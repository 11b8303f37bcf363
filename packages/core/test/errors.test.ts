/** The error list is the whole truth: every code has its class, and each class pins its code. */
import {
  ConfigError,
  ForbiddenError,
  HubApiError,
  HubAuthError,
  HubUnavailableError,
  InternalError,
  InvalidRequestError,
  OAuthCallbackError,
  OAuthStateError,
  ScopeSyntaxError,
  ServiceCredentialsError,
  TooManyLookupsError,
  UnauthenticatedError,
  XsrfError,
  isHubAuthError,
  type AnyHubAuthError,
  type HubAuthErrorCode,
} from '../src/errors';
import { renderError } from '../src/render';
import { parseScope } from '../src/scopes';
import { request } from './support';

const every: Array<[AnyHubAuthError, HubAuthErrorCode, number]> = [
  [new ConfigError('apiUrl', 'bad'), 'ERR_HUBAUTH_CONFIG', 500],
  [new InvalidRequestError('bad'), 'ERR_HUBAUTH_INVALID_REQUEST', 400],
  [new UnauthenticatedError(), 'ERR_HUBAUTH_UNAUTHENTICATED', 401],
  [new ForbiddenError('no'), 'ERR_HUBAUTH_FORBIDDEN', 403],
  [new XsrfError('no'), 'ERR_HUBAUTH_XSRF', 403],
  [new HubUnavailableError('down', { status: 503 }), 'ERR_HUBAUTH_HUB_UNAVAILABLE', 503],
  [new TooManyLookupsError('busy'), 'ERR_HUBAUTH_TOO_MANY_LOOKUPS', 429],
  [new HubApiError(404, 'missing'), 'ERR_HUBAUTH_HUB_API', 500],
  [new ServiceCredentialsError('refused'), 'ERR_HUBAUTH_SERVICE_TOKEN', 500],
  [new OAuthCallbackError('bad'), 'ERR_HUBAUTH_OAUTH_CALLBACK', 400],
  [new OAuthStateError('no-cookie'), 'ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE', 403],
  [new OAuthStateError('other-login'), 'ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN', 403],
  [new OAuthStateError('expired'), 'ERR_HUBAUTH_OAUTH_STATE_EXPIRED', 403],
  [new OAuthStateError('foreign-secret'), 'ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET', 403],
  [new OAuthStateError('duplicate-cookie'), 'ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE', 403],
  [new OAuthStateError('other-user'), 'ERR_HUBAUTH_OAUTH_STATE_OTHER_USER', 403],
  [new ScopeSyntaxError('!x', 'bad'), 'ERR_HUBAUTH_SCOPE_SYNTAX', 500],
  [new InternalError(), 'ERR_HUBAUTH_INTERNAL', 500],
];

/** Compile-time: `switch (err.code)` narrows to the class (a wrong branch would not type-check). */
function detail(err: AnyHubAuthError): string {
  switch (err.code) {
    case 'ERR_HUBAUTH_CONFIG':
      return err.option;
    case 'ERR_HUBAUTH_HUB_API':
      return String(err.hubStatus);
    case 'ERR_HUBAUTH_SCOPE_SYNTAX':
      return err.scope;
    default:
      return err.code;
  }
}

describe('hubauth errors', () => {
  it('cover every code of the union, each with its class and status', () => {
    const codes: Record<HubAuthErrorCode, true> = {
      ERR_HUBAUTH_CONFIG: true,
      ERR_HUBAUTH_INVALID_REQUEST: true,
      ERR_HUBAUTH_UNAUTHENTICATED: true,
      ERR_HUBAUTH_FORBIDDEN: true,
      ERR_HUBAUTH_XSRF: true,
      ERR_HUBAUTH_HUB_UNAVAILABLE: true,
      ERR_HUBAUTH_TOO_MANY_LOOKUPS: true,
      ERR_HUBAUTH_HUB_API: true,
      ERR_HUBAUTH_SERVICE_TOKEN: true,
      ERR_HUBAUTH_OAUTH_CALLBACK: true,
      ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE: true,
      ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN: true,
      ERR_HUBAUTH_OAUTH_STATE_EXPIRED: true,
      ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET: true,
      ERR_HUBAUTH_OAUTH_STATE_DUPLICATE_COOKIE: true,
      ERR_HUBAUTH_OAUTH_STATE_OTHER_USER: true,
      ERR_HUBAUTH_SCOPE_SYNTAX: true,
      ERR_HUBAUTH_INTERNAL: true,
    };
    expect(every.map(([, code]) => code).sort()).toEqual(Object.keys(codes).sort());
    // one class per code, except OAuthStateError, whose code names the cause
    expect(new Set(every.map(([err]) => err.constructor)).size).toBe(every.length - 5);
    for (const [err, code, status] of every) {
      expect(err).toBeInstanceOf(HubAuthError);
      expect(isHubAuthError(err)).toBe(true);
      expect([err.code, err.status, err.statusCode]).toEqual([code, status, status]);
      expect(err.name).toBe(err.constructor.name);
    }
  });

  it('narrow on code', () => {
    expect(every.map(([err]) => detail(err))).toContain('apiUrl');
    expect(detail(new HubApiError(502, 'x'))).toBe('502');
  });

  it('include ScopeSyntaxError, thrown by parseScope', () => {
    let caught: unknown;
    try {
      parseScope('read:users!user');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScopeSyntaxError);
    expect(caught).toBeInstanceOf(HubAuthError);
    expect(caught).toMatchObject({ code: 'ERR_HUBAUTH_SCOPE_SYNTAX', status: 500, expose: false, scope: 'read:users!user' });
  });

  it('render anything else as ERR_HUBAUTH_INTERNAL without its message', () => {
    const response = renderError(new Error('secret detail'), request('/api'));
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ status: 500, code: 'ERR_HUBAUTH_INTERNAL', message: 'Authentication is temporarily unavailable' });
    expect(response.body).not.toContain('secret detail');
  });
});
