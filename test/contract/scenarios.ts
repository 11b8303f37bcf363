/**
 * The behavioural contract of every adapter, as one table. Each scenario is a request and what the
 * response must be; `run.ts` plays the table against Express, Koa and Fastify alike.
 */
import type { FakeUser } from '@hubauth/testing';
import { PREFIX } from './types';

export const USERS = {
  alice: { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami', 'read:users:name!user=alice'] },
  bob: { name: 'bob', groups: [], scopes: ['access:services!service=other'] },
  admin: { name: 'admin', admin: true, groups: [], scopes: ['access:services'] },
  carol: { name: 'carol', groups: ['staff'], scopes: ['access:services!service=whoami', 'custom:reports'] },
  cron: { name: 'cron', kind: 'service', scopes: ['access:services!service=whoami'] },
  strangerService: { name: 'other', kind: 'service', scopes: ['access:services!service=other'] },
} satisfies Record<string, FakeUser>;

export type UserKey = keyof typeof USERS;

/** How a scenario authenticates. */
export type Credential =
  | { type: 'none' }
  | { type: 'header'; user: UserKey; scheme?: string }
  | { type: 'raw-header'; value: string }
  | { type: 'bad-token'; scheme?: string }
  | { type: 'url'; user: UserKey };

/** Request flavours: a browser navigation, a script's fetch, or a plain API client. */
export type Client = 'navigate' | 'fetch' | 'api' | 'html-no-fetch-metadata';

export interface Expectation {
  status: number;
  /** Name of the user in the JSON body (200 only). */
  user?: string;
  /** The response must (true) or must not (false) set a cookie. */
  setsCookie?: boolean;
  /** For 302: the Location must start with this. */
  location?: string | RegExp;
  /** For 401/403: the WWW-Authenticate header must match. */
  challenge?: RegExp;
  /** Number of Hub lookups the request may cause (checked with the fake Hub's counter). */
  hubCalls?: number;
  /** Header that must be present. */
  header?: [string, RegExp];
}

export interface Scenario {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  credential: Credential;
  client?: Client;
  /** Extra adapter options for this scenario (a separate app is built). */
  options?: 'allow-token-in-url' | 'token-only' | 'hub-down';
  expect: Expectation;
}

const AUTHORIZE = /^http:\/\/127\.0\.0\.1:\d+\/hub\/api\/oauth2\/authorize\?client_id=service-whoami&redirect_uri=%2Fservices%2Fwhoami%2Foauth_callback&response_type=code&code_challenge=[\w-]{43}&code_challenge_method=S256&state=/;

export const SCENARIOS: Scenario[] = [
  // Token headers
  { name: 'token header', path: PREFIX, credential: { type: 'header', user: 'alice' }, expect: { status: 200, user: 'alice', setsCookie: false } },
  { name: 'bearer header', path: `${PREFIX}api/me`, credential: { type: 'header', user: 'alice', scheme: 'bearer' }, expect: { status: 200, user: 'alice' } },
  { name: 'upper-case scheme', path: `${PREFIX}api/me`, credential: { type: 'header', user: 'alice', scheme: 'BEARER' }, expect: { status: 200, user: 'alice' } },
  { name: 'token header on a navigation', path: PREFIX, client: 'navigate', credential: { type: 'header', user: 'alice' }, expect: { status: 200, user: 'alice', setsCookie: false } },
  { name: 'POST with a token header needs no xsrf', method: 'POST', path: `${PREFIX}api/me`, credential: { type: 'header', user: 'alice' }, expect: { status: 200 } },
  { name: 'DELETE with a token header', method: 'DELETE', path: `${PREFIX}api/me`, credential: { type: 'header', user: 'alice' }, expect: { status: 200 } },
  // No or bad credentials
  { name: 'no token, API client', path: `${PREFIX}api/me`, credential: { type: 'none' }, expect: { status: 401, challenge: /^Bearer realm="\/services\/whoami\/"$/, setsCookie: false, hubCalls: 0 } },
  { name: 'bad token', path: `${PREFIX}api/me`, credential: { type: 'bad-token' }, expect: { status: 401, challenge: /error="invalid_token"/, setsCookie: false, hubCalls: 1 } },
  { name: 'bad token on a navigation goes to login', path: PREFIX, client: 'navigate', credential: { type: 'bad-token' }, expect: { status: 302, location: AUTHORIZE, setsCookie: true } },
  { name: 'two tokens in one header', path: `${PREFIX}api/me`, credential: { type: 'raw-header', value: 'token abc def' }, expect: { status: 400, challenge: /error="invalid_request"/, hubCalls: 0 } },
  { name: 'scheme without token', path: `${PREFIX}api/me`, credential: { type: 'raw-header', value: 'Bearer ' }, expect: { status: 400, hubCalls: 0 } },
  { name: 'Basic scheme is not ours', path: `${PREFIX}api/me`, credential: { type: 'raw-header', value: 'Basic YWxpY2U6cHc=' }, expect: { status: 401, hubCalls: 0 } },
  { name: 'huge token', path: `${PREFIX}api/me`, credential: { type: 'raw-header', value: `token ${'a'.repeat(5000)}` }, expect: { status: 400, hubCalls: 0 } },
  // URL tokens
  { name: '?token= refused by default', path: `${PREFIX}api/me`, credential: { type: 'url', user: 'alice' }, expect: { status: 401, hubCalls: 0 } },
  { name: '?token= accepted when allowed', path: `${PREFIX}api/me`, options: 'allow-token-in-url', credential: { type: 'url', user: 'alice' }, expect: { status: 200, user: 'alice' } },
  { name: '?token= on a navigation, when allowed: a login cookie and the same URL without the token', path: `${PREFIX}api/me?x=1`, client: 'navigate', options: 'allow-token-in-url', credential: { type: 'url', user: 'alice' }, expect: { status: 302, location: `${PREFIX}api/me?x=1`, setsCookie: true } },
  { name: '?token= on a navigation, when not allowed: no cookie from it', path: `${PREFIX}api/me`, client: 'navigate', credential: { type: 'url', user: 'alice' }, expect: { status: 302, location: /\/hub\/api\/oauth2\/authorize/, hubCalls: 0 } },
  // Acting for the caller (hubAuth.api with the caller's own token)
  { name: 'hubAuth.api acts with the caller\'s token', path: `${PREFIX}act/alice`, credential: { type: 'header', user: 'alice' }, expect: { status: 200, user: 'alice' } },
  { name: 'hubAuth.api: another user\'s resource keeps the Hub\'s status', path: `${PREFIX}act/admin`, credential: { type: 'header', user: 'alice' }, expect: { status: 404 } },
  // Access decisions
  { name: 'user without access', path: `${PREFIX}api/me`, credential: { type: 'header', user: 'bob' }, expect: { status: 403, challenge: /insufficient_scope/ } },
  { name: 'user without access on a navigation: 403, no redirect', path: PREFIX, client: 'navigate', credential: { type: 'header', user: 'bob' }, expect: { status: 403, setsCookie: false } },
  { name: 'unfiltered access:services', path: PREFIX, credential: { type: 'header', user: 'admin' }, expect: { status: 200, user: 'admin' } },
  { name: 'hubUsers: listed', path: `${PREFIX}admins`, credential: { type: 'header', user: 'admin' }, expect: { status: 200, user: 'admin' } },
  { name: 'hubUsers: not listed', path: `${PREFIX}admins`, credential: { type: 'header', user: 'alice' }, expect: { status: 403 } },
  { name: 'hubGroups: member', path: `${PREFIX}staff`, credential: { type: 'header', user: 'alice' }, expect: { status: 200, user: 'alice' } },
  { name: 'hubGroups: not a member', path: `${PREFIX}staff`, credential: { type: 'header', user: 'admin' }, expect: { status: 403 } },
  { name: 'route scopes: held', path: `${PREFIX}custom`, credential: { type: 'header', user: 'carol' }, expect: { status: 200, user: 'carol' } },
  { name: 'route scopes: missing', path: `${PREFIX}custom`, credential: { type: 'header', user: 'alice' }, expect: { status: 403, challenge: /scope="custom:reports"/ } },
  // Services as callers
  { name: 'service token with access', path: PREFIX, credential: { type: 'header', user: 'cron' }, expect: { status: 200, user: 'cron' } },
  { name: 'service token without access', path: PREFIX, credential: { type: 'header', user: 'strangerService' }, expect: { status: 403 } },
  { name: 'service refused where allowServices is false', path: `${PREFIX}users-only`, credential: { type: 'header', user: 'cron' }, expect: { status: 403 } },
  { name: 'service refused by a hubUsers guard', path: `${PREFIX}admins`, credential: { type: 'header', user: 'cron' }, expect: { status: 403 } },
  // Browser navigation vs API calls
  { name: 'navigation without credentials goes to login', path: `${PREFIX}api/me?x=1`, client: 'navigate', credential: { type: 'none' }, expect: { status: 302, location: AUTHORIZE, setsCookie: true, hubCalls: 0 } },
  { name: 'html GET without fetch metadata goes to login', path: PREFIX, client: 'html-no-fetch-metadata', credential: { type: 'none' }, expect: { status: 302, location: AUTHORIZE, setsCookie: true } },
  { name: 'fetch() from a page gets 401 and no cookie', path: PREFIX, client: 'fetch', credential: { type: 'none' }, expect: { status: 401, setsCookie: false } },
  { name: 'POST navigation without credentials gets 401', method: 'POST', path: `${PREFIX}api/me`, client: 'navigate', credential: { type: 'none' }, expect: { status: 401, setsCookie: false } },
  { name: 'api-only guard never redirects', path: `${PREFIX}api-only`, client: 'navigate', credential: { type: 'none' }, expect: { status: 401, setsCookie: false } },
  { name: 'token-only mode answers 401 to navigations', path: PREFIX, client: 'navigate', options: 'token-only', credential: { type: 'none' }, expect: { status: 401, setsCookie: false } },
  { name: 'token-only mode accepts tokens', path: PREFIX, options: 'token-only', credential: { type: 'header', user: 'alice' }, expect: { status: 200, user: 'alice' } },
  // Unguarded routes identify without rejecting
  { name: 'open route, anonymous', path: `${PREFIX}open`, credential: { type: 'none' }, expect: { status: 200 } },
  { name: 'open route, bad token', path: `${PREFIX}open`, credential: { type: 'bad-token' }, expect: { status: 200 } },
  // The Hub is down: an outage is not a logout
  { name: 'Hub down → 503 with Retry-After', path: `${PREFIX}api/me`, options: 'hub-down', credential: { type: 'header', user: 'alice' }, expect: { status: 503, header: ['retry-after', /^\d+$/] } },
  { name: 'Hub down, navigation → 503 page, not a login loop', path: PREFIX, client: 'navigate', options: 'hub-down', credential: { type: 'header', user: 'alice' }, expect: { status: 503, header: ['content-type', /text\/html/] } },
  // Callback errors
  { name: 'callback with error from the Hub', path: `${PREFIX}oauth_callback?error=access_denied&error_description=User%20said%20no`, client: 'navigate', credential: { type: 'none' }, expect: { status: 400 } },
  { name: 'callback without code', path: `${PREFIX}oauth_callback?state=x`, client: 'navigate', credential: { type: 'none' }, expect: { status: 400 } },
  { name: 'callback without state', path: `${PREFIX}oauth_callback?code=x`, client: 'navigate', credential: { type: 'none' }, expect: { status: 400 } },
  { name: 'callback with a forged state', path: `${PREFIX}oauth_callback?code=x&state=forged.state`, client: 'navigate', credential: { type: 'none' }, expect: { status: 403, hubCalls: 0 } },
];
