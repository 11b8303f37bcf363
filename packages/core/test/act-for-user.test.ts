/**
 * Acting for the caller and the rest of Python's service-auth surface, against the fake Hub: the
 * per-request Hub API client, requested scopes, `requireScopes`/`hubServices`, `?token=` turned
 * into a login cookie, `cookieOptions`, and the configuration of a service on its own origin.
 */
import { inspect } from 'node:util';
import type { FakeUser } from '@hubauth/testing';
import { HubCaller } from '../src/adapter';
import { ConfigError, HubApiError, InvalidRequestError } from '../src/errors';
import { HubAuth, type Identity } from '../src/hub-auth';
import { HubOAuth } from '../src/hub-oauth';
import {
  Browser,
  PREFIX,
  authorizeAtHub,
  location,
  login,
  navigation,
  oauthOptions,
  parseSetCookie,
  rejection,
  request,
  setCookies,
} from './support';
import { SECRET, hub, logger, oauth, secrets, track, transcript, useFakeHub } from './fake-hub-file';

const alice: FakeUser = { name: 'alice', scopes: ['access:services!service=whoami', 'read:users:name!user=alice'] };
const bob: FakeUser = { name: 'bob', scopes: ['access:services!service=whoami'] };
const robot: FakeUser = { name: 'robot', kind: 'service', scopes: ['access:services!service=whoami'] };
const ALLOWED = ['read:tokens!user', 'tokens!user', 'read:users:name!user'];

useFakeHub({ allowedScopes: ALLOWED });

function issue(user: FakeUser): string {
  const token = hub.issueToken(user);
  secrets.add(token);
  return token;
}

function cookieOf(response: { headers: Record<string, string | string[]> }, name: string) {
  return setCookies(response).map(parseSetCookie).find((c) => c.name === name);
}

async function identified(auth: HubAuth, req: Parameters<HubAuth['authenticate']>[0]): Promise<Identity> {
  const identity = await auth.authenticate(req);
  transcript.add(identity);
  expect(identity.error).toBeNull();
  expect(identity.user).not.toBeNull();
  return identity;
}

describe('acting for the caller', () => {
  it("uses the caller's API token for a header-authenticated request", async () => {
    const auth = oauth();
    const token = issue(alice);
    const identity = await identified(auth, request(`${PREFIX}x`, { headers: { authorization: `token ${token}` } }));
    const caller = new HubCaller(auth, identity);
    const reply = await caller.api<{ name: string }>('GET', `/users/alice`);
    expect(reply).toEqual({ status: 200, body: expect.objectContaining({ name: 'alice' }) });
    expect(hub.requests.at(-1)?.headers.authorization).toBe(`token ${token}`);
    expect(caller.token).toBe(token);
  });

  it("uses the caller's OAuth token for a cookie session, with the scopes granted at login", async () => {
    const auth = oauth({ requestScopes: ['tokens!user', 'read:tokens!user'] });
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const identity = await identified(auth, browser.navigate(`${PREFIX}x`));
    expect(identity.source).toBe('cookie');
    expect(identity.user?.scopes).toEqual(expect.arrayContaining(['tokens!user=alice', 'read:tokens!user=alice']));
    const caller = new HubCaller(auth, identity);
    const created = await caller.api<{ id: string; token: string }>('POST', '/users/alice/tokens', { note: 'dashboard' });
    expect(created.status).toBe(201);
    secrets.add(created.body?.token ?? '');
    const listed = await caller.api<{ api_tokens: Array<{ id: string }> }>('GET', '/users/alice/tokens');
    expect(listed.body?.api_tokens.map((t) => t.id)).toContain(created.body?.id);
    expect(await caller.api('DELETE', `/users/alice/tokens/${created.body?.id ?? ''}`)).toEqual({ status: 204, body: null });
    const sessionToken = caller.token ?? '';
    secrets.add(sessionToken);
    expect(hub.requests.at(-1)?.headers.authorization).toBe(`token ${sessionToken}`);
  });

  it("passes the Hub's refusals on with their status and reason: 403 beyond the caller's scopes, 404 for another user's tokens", async () => {
    const auth = oauth();
    const identity = await identified(auth, request(`${PREFIX}x`, { headers: { authorization: `token ${issue(alice)}` } }));
    const caller = new HubCaller(auth, identity);
    const err = await rejection(caller.api('GET', '/users'));
    transcript.add(err);
    expect(err).toBeInstanceOf(HubApiError);
    expect((err as HubApiError).status).toBe(403);
    expect((err as HubApiError).hubStatus).toBe(403);
    expect((err as HubApiError).expose).toBe(true);
    expect(err.message).toMatch(/^The Hub answered 403 to GET \/users: Action is not authorized/);
    expect(auth.renderError(err, request('/x')).status).toBe(403);
    const hidden = await rejection(caller.api('GET', '/users/bob/tokens'));
    expect((hidden as HubApiError).status).toBe(404);
    expect(hidden.message).toContain('No access to resources or resources not found');
  });

  it('turns a failing Hub into a 502 and refuses paths outside the API', async () => {
    const auth = oauth();
    const identity = await identified(auth, request(`${PREFIX}x`, { headers: { authorization: `token ${issue(alice)}` } }));
    const caller = new HubCaller(auth, identity);
    for (const path of ['https://evil.example/', '//evil.example/x', '/users/../../admin', '/users/a b', '/x#y', '/users/%0a\n']) {
      expect(await rejection(caller.api('GET', path))).toBeInstanceOf(InvalidRequestError);
    }
    expect(await rejection(caller.api('TRACE', '/users/alice'))).toBeInstanceOf(InvalidRequestError);
    const missing = await rejection(caller.api('GET', '/no/such/thing'));
    expect((missing as HubApiError).status).toBe(404);
  });

  it('an anonymous identity has no token to act with: 401', async () => {
    const auth = oauth();
    const identity = await auth.authenticate(request(`${PREFIX}x`));
    const err = await rejection(auth.apiRequestAs(identity, 'GET', '/users/alice'));
    expect((err as HubApiError).status).toBe(401);
    expect(hub.requests.at(-1)?.path).not.toBe('/hub/api/users/alice');
  });

  it('never shows the token through JSON, inspect or the identity', async () => {
    const auth = oauth();
    const token = issue(alice);
    const identity = await identified(auth, request(`${PREFIX}x`, { headers: { authorization: `token ${token}` } }));
    const caller = new HubCaller(auth, identity);
    expect(JSON.stringify(caller)).not.toContain(token);
    expect(inspect(caller, { depth: 5, showHidden: true })).not.toContain(token);
    expect(JSON.stringify(identity)).not.toContain(token);
    expect(inspect(identity, { depth: 5, showHidden: true })).not.toContain(token);
    expect(caller.token).toBe(token);
  });
});

describe('apiRequest with the service token', () => {
  it('returns status and body; a refused service token is a 500 naming the fix', async () => {
    const auth = oauth();
    expect(await auth.apiRequest('GET', '/')).toEqual({ status: 200, body: { version: expect.any(String) } });
    const bad = track(new HubAuth({ ...oauthOptions(hub), apiToken: 'not-the-token', logger }));
    const err = await rejection(bad.apiRequest('GET', '/users/alice'));
    expect((err as HubApiError).code).toBe('ERR_HUBAUTH_SERVICE_TOKEN');
    expect((err as HubApiError).status).toBe(500);
    expect(err.message).toContain('JUPYTERHUB_API_TOKEN');
  });
});

describe('requested scopes', () => {
  it('sends the scopes on the authorize request', () => {
    const auth = oauth({ requestScopes: ['read:tokens!user', 'tokens!user'] });
    const start = auth.beginLogin(navigation(`${PREFIX}p`));
    expect(new URL(location(start)).searchParams.get('scope')).toBe('read:tokens!user tokens!user');
    expect(new URL(location(oauth().beginLogin(navigation(`${PREFIX}p`)))).searchParams.has('scope')).toBe(false);
  });

  it('requests what the Hub allows (JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES) by default', () => {
    const auth = oauth({ env: { JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: JSON.stringify(['read:tokens!user']) } });
    expect(new URL(location(auth.beginLogin(navigation(`${PREFIX}p`)))).searchParams.get('scope')).toBe('read:tokens!user');
  });

  it.each([
    ['an unknown scope', ['read:everything'], /"read:everything" is not a JupyterHub scope/],
    ['a malformed filter', ['read:tokens!colour=red'], /unknown filter kind "colour"/],
    ['identify', ['identify'], /no longer a scope/],
    ['not a list', 'tokens' as unknown as string[], /must be a list/],
  ])('refuses %s with a ConfigError naming requestScopes', (_label, requestScopes, message) => {
    const err = (() => {
      try {
        oauth({ requestScopes });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('constructed');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.option).toBe('requestScopes');
    expect(err.message).toMatch(message);
  });

  it('refuses at start-up to ask for more than the Hub allows, naming the scope and the fix', () => {
    expect(() =>
      oauth({ requestScopes: ['tokens!user', 'admin:users'], env: { JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '["tokens!user"]' } }),
    ).toThrow(/asks for admin:users, which the Hub does not allow.*oauth_client_allowed_scopes/);
  });

  it("explains the Hub's invalid_scope at the callback (403) and logs the fix", async () => {
    const auth = oauth({ requestScopes: ['admin:users'] });
    const browser = new Browser();
    hub.signInAtHub(alice);
    const start = auth.beginLogin(browser.navigate(`${PREFIX}p`));
    browser.apply(start);
    const target = await authorizeAtHub(hub, location(start));
    expect(target).toContain('error=invalid_scope');
    const err = await rejection(auth.handleCallback(browser.navigate(target)));
    transcript.add(err);
    expect((err as HubApiError).status).toBe(403);
    expect(err.message).toContain('invalid_scope');
    expect(logger.lines.join('\n')).toMatch(/requestScopes: admin:users.*oauth_client_allowed_scopes/);
  });
});

describe('guards: requireScopes and hubServices', () => {
  const decide = async (auth: HubAuth, token: string, policy: Parameters<HubAuth['authorize']>[2]) => {
    const req = request(`${PREFIX}x`, { headers: { authorization: `token ${token}` } });
    return auth.authorize(await auth.authenticate(req), req, policy);
  };

  it('requireScopes: all of them, !user meaning the caller, on top of the access scopes', async () => {
    const auth = oauth();
    const policy = { requireScopes: ['read:users:name!user'] };
    expect((await decide(auth, issue(alice), policy)).action).toBe('allow');
    const denied = await decide(auth, issue(bob), policy);
    expect(denied.action).toBe('deny');
    expect(denied.action === 'deny' && denied.error.status).toBe(403);
    expect(denied.action === 'deny' && denied.error.message).toContain('read:users:name!user=bob');
    // A service is never "the user".
    expect((await decide(auth, issue(robot), policy)).action).toBe('deny');
    expect(() => auth.accessDenial({ kind: 'user', name: 'x', admin: false, groups: [], scopes: [] }, { requireScopes: ['nope'] })).toThrow(ConfigError);
  });

  it('hubServices: only the services named, their scopes still checked, beside hubUsers', async () => {
    const auth = oauth();
    expect((await decide(auth, issue(robot), { hubServices: ['robot'] })).action).toBe('allow');
    expect((await decide(auth, issue(robot), { hubServices: ['other'] })).action).toBe('deny');
    expect((await decide(auth, issue(robot), { hubUsers: ['alice'], hubServices: ['robot'] })).action).toBe('allow');
    expect((await decide(auth, issue(alice), { hubUsers: ['alice'], hubServices: ['robot'] })).action).toBe('allow');
    expect((await decide(auth, issue(robot), { hubServices: ['robot'], allowServices: false })).action).toBe('deny');
    expect((await decide(auth, issue(robot), { hubServices: ['robot'], scopes: ['custom:x'] })).action).toBe('deny');
  });
});

describe('?token= on a navigation', () => {
  const withToken = (token: string, extra = '') => navigation(`${PREFIX}page?a=1&token=${token}${extra}`);

  it('starts a login cookie session and redirects to the same URL without the token', async () => {
    const auth = oauth({ allowTokenInUrl: true });
    const token = issue(alice);
    const req = withToken(token, '&b=2');
    const decision = auth.authorize(await auth.authenticate(req), req);
    expect(decision.action).toBe('redirect');
    const response = decision.action === 'redirect' ? decision.response : null;
    transcript.add(response);
    expect(response?.status).toBe(302);
    expect(location(response!)).toBe(`${PREFIX}page?a=1&b=2`);
    expect(cookieOf(response!, 'service-whoami')?.attributes.has('httponly')).toBe(true);
    expect(cookieOf(response!, '_xsrf')).toBeDefined();
    // The cookie alone now identifies the browser.
    const browser = new Browser();
    browser.apply(response!);
    const next = browser.navigate(location(response!));
    const identity = await auth.authenticate(next);
    expect(identity.source).toBe('cookie');
    expect(identity.user?.name).toBe('alice');
    expect(auth.authorize(identity, next).action).toBe('allow');
  });

  it('never when URL tokens are off, on a fetch, on a websocket, or for a caller the guard refuses', async () => {
    const token = issue(alice);
    const off = oauth({ allowTokenInUrl: false });
    const offReq = withToken(token);
    const offDecision = off.authorize(await off.authenticate(offReq), offReq);
    // Not identified by the URL: the browser is sent to the Hub's login instead.
    expect(offDecision.action === 'redirect' && location(offDecision.response)).toContain('/hub/api/oauth2/authorize');

    const on = oauth({ allowTokenInUrl: true });
    const fetchReq = request(`${PREFIX}page?token=${token}`, { headers: { 'sec-fetch-mode': 'cors' } });
    expect(on.authorize(await on.authenticate(fetchReq), fetchReq).action).toBe('allow');
    const ws = request(`${PREFIX}ws?token=${token}`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-fetch-mode': 'websocket' } });
    expect(on.authorize(await on.authenticate(ws), ws).action).toBe('allow');
    const refused = withToken(token);
    expect(on.authorize(await on.authenticate(refused), refused, { hubUsers: ['bob'] }).action).toBe('deny');
    // Token-only authentication has no cookie to start.
    const plain = track(new HubAuth({ ...oauthOptions(hub), allowTokenInUrl: true, logger }));
    const plainReq = withToken(token);
    expect(plain.authorize(await plain.authenticate(plainReq), plainReq).action).toBe('allow');
    expect(plain.authenticateCached(plainReq)?.user?.name).toBe('alice');
    expect(on.authenticateCached(withToken(token))).toBeUndefined();
  });

  it('keeps the redirect on the service even for a hostile request path', async () => {
    const auth = oauth({ allowTokenInUrl: true });
    const req = navigation(`//evil.example/?token=${issue(alice)}`);
    const decision = auth.authorize(await auth.authenticate(req), req);
    expect(decision.action === 'redirect' && location(decision.response)).toBe(PREFIX);
  });
});

describe('cookieOptions and JUPYTERHUB_COOKIE_OPTIONS', () => {
  async function loginCookies(extra: Parameters<typeof oauthOptions>[1]) {
    const auth = oauth(extra);
    const browser = new Browser();
    hub.signInAtHub(alice);
    const start = auth.beginLogin(browser.navigate(`${PREFIX}p`, {}), `${PREFIX}p`);
    browser.apply(start);
    const done = await auth.handleCallback(browser.navigate(await authorizeAtHub(hub, location(start))));
    transcript.add(done);
    return { auth, start, done, logout: auth.logout(browser.navigate(`${PREFIX}logout`)) };
  }

  it('applies SameSite, Secure, Domain and session-only to the login and xsrf cookies', async () => {
    const { start, done, logout } = await loginCookies({
      cookieOptions: { sameSite: 'Strict', secure: true, domain: 'Example.org', sessionOnly: true },
    });
    const session = cookieOf(done, 'service-whoami');
    expect(session?.attributes.get('samesite')).toBe('Strict');
    expect(session?.attributes.has('secure')).toBe(true);
    expect(session?.attributes.get('domain')).toBe('example.org');
    expect(session?.attributes.has('max-age')).toBe(false);
    expect(cookieOf(done, '_xsrf')?.attributes.get('samesite')).toBe('Strict');
    // The state cookie must come back on the Hub's redirect: Strict would drop it.
    expect(cookieOf(start, 'service-whoami-oauth-state')?.attributes.get('samesite')).toBe('Lax');
    // Deleting a Domain cookie needs the same Domain.
    expect(cookieOf(logout, 'service-whoami')?.attributes.get('domain')).toBe('example.org');
  });

  it("reads the Hub's JSON (Tornado's set_cookie arguments); expires_days null is a session cookie", async () => {
    const { done } = await loginCookies({
      env: { JUPYTERHUB_COOKIE_OPTIONS: JSON.stringify({ samesite: 'None', secure: true, expires_days: null, httponly: false }) },
    });
    const session = cookieOf(done, 'service-whoami');
    expect(session?.attributes.get('samesite')).toBe('None');
    expect(session?.attributes.has('secure')).toBe(true);
    expect(session?.attributes.has('httponly')).toBe(true);
    expect(session?.attributes.has('max-age')).toBe(false);
    expect(logger.lines.join('\n')).toContain('"httponly" is ignored');
  });

  it.each([
    ['SameSite=None without Secure', { cookieOptions: { sameSite: 'None' as const } }, /SameSite=None cookies must be Secure/],
    ['a Domain with a scheme', { cookieOptions: { domain: 'https://example.org' } }, /domain must be a host name/],
    ['a Domain with the __Host- prefix', { cookieOptions: { domain: 'example.org' }, cookieHostPrefix: true }, /forbids a Domain/],
    ['an unknown key', { cookieOptions: { sameSite: 'Lax' as const, path: '/' } as never }, /unknown key path/],
    ['a SameSite browsers do not know', { cookieOptions: { sameSite: 'Sometimes' as never } }, /SameSite must be/],
    ['the env without Secure', { env: { JUPYTERHUB_COOKIE_OPTIONS: '{"samesite": "None"}' } }, /env JUPYTERHUB_COOKIE_OPTIONS/],
    ['the env not JSON', { env: { JUPYTERHUB_COOKIE_OPTIONS: 'samesite=None' } }, /must be a JSON object/],
  ])('refuses %s', (_label, extra, message) => {
    let err: unknown;
    try {
      oauth(extra);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe('cookieOptions');
    expect((err as Error).message).toMatch(message);
  });
});

describe('a service on its own origin (JupyterHub as an OAuth provider)', () => {
  // The environment of JupyterHub's examples/external-oauth/launch-service.sh.
  const recipe = (hubUrl: string): Record<string, string> => ({
    JUPYTERHUB_API_TOKEN: hub.serviceToken,
    JUPYTERHUB_CLIENT_ID: hub.clientId,
    JUPYTERHUB_SERVICE_PREFIX: '/',
    JUPYTERHUB_SERVICE_URL: 'http://127.0.0.1:5555',
    JUPYTERHUB_OAUTH_CALLBACK_URL: 'http://127.0.0.1:5555/oauth_callback',
    JUPYTERHUB_HOST: hubUrl,
    JUPYTERHUB_API_URL: hub.apiUrl,
  });

  it('fails at start-up naming exactly the one variable to add: JUPYTERHUB_SERVICE_NAME', () => {
    let err: unknown;
    try {
      new HubOAuth({ env: recipe(hub.url), cookieSecret: SECRET, logger });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe('serviceName');
    const mentioned = new Set((err as Error).message.match(/JUPYTERHUB_[A-Z_]+/g));
    expect([...mentioned]).toEqual(['JUPYTERHUB_SERVICE_NAME']);
  });

  it('works with that variable: absolute callback on its own origin, the Hub at another', async () => {
    const auth = track(new HubOAuth({ env: { ...recipe(hub.url), JUPYTERHUB_SERVICE_NAME: hub.serviceName }, cookieSecret: SECRET, logger }));
    expect(auth.callbackPath).toBe('/oauth_callback');
    expect(auth.ownRoute(navigation('/oauth_callback?code=x&state=y'))).toBe('callback');
    const start = auth.beginLogin(navigation('/page?x=1'));
    const authorize = new URL(location(start));
    expect(authorize.origin).toBe(hub.url);
    expect(authorize.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:5555/oauth_callback');
    expect(auth.logout(navigation('/logout')).headers.location).toBe(`${hub.url}/hub/logout`);
  });

  it('refuses a relative callback for a service whose public URL is not at the Hub origin', () => {
    expect(() =>
      new HubOAuth({
        ...oauthOptions(hub, { cookieSecret: SECRET, logger }),
        publicUrl: 'https://service.example.org/',
        oauthRedirectUri: '/oauth_callback',
      }),
    ).toThrow(/oauthRedirectUri.*is a path, but this service \(https:\/\/service.example.org\) is not at the Hub's origin.*https:\/\/service.example.org\/oauth_callback/);
  });
});

describe('no secret in anything produced', () => {
  it('holds for every response, error and log line of this file', () => {
    expect(transcript.leaked(secrets)).toEqual([]);
  });
});
