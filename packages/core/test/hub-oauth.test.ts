import { pkceChallenge, type FakeHub, type FakeUser } from '@hubauth/testing';
import {
  HubUnavailableError,
  OAuthCallbackError,
  OAuthStateError,
  ServiceCredentialsError,
  UnauthenticatedError,
  XsrfError,
  isHubAuthError,
  type HubAuthError,
} from '../src/errors';
import type { Identity } from '../src/hub-auth';
import { HubOAuth } from '../src/hub-oauth';
import type { HubRequest, HubResponse } from '../src/types';
import {
  Browser,
  HOSTILE_NEXT,
  PREFIX,
  authorizeAtHub,
  location,
  login,
  navigation,
  newSecret,
  parseSetCookie,
  request,
  setCookies,
  tokenInSessionCookie,
  type ParsedSetCookie,
} from './support';
import { SECRET, extraHub, hub, logger, oauth, secrets, tracked, transcript, useFakeHub } from './fake-hub-file';

const alice: FakeUser = { name: 'alice', groups: ['staff'], scopes: ['read:users:name!user=alice'] };
const bob: FakeUser = { name: 'bob', groups: ['students'], scopes: [] };

const OLD_SECRET = newSecret();
const COOKIE = 'service-whoami';
const STATE = `${COOKIE}-oauth-state`;
const EXPIRES_IN = 3600;

secrets.add(OLD_SECRET);
const knownSecrets = [SECRET, OLD_SECRET];
const makeOAuth = oauth;
const startHub = (options: Parameters<typeof extraHub>[0] = {}): Promise<FakeHub> => extraHub({ requirePkce: true, ...options });

/** Records a response (and any Hub token found in its login cookie, which then counts as a secret). */
function record<T extends HubResponse | Identity>(value: T): T {
  transcript.add(value);
  for (const header of setCookies(value)) {
    const cookie = parseSetCookie(header);
    for (const secret of knownSecrets) {
      const name = cookie.name;
      if (!name.endsWith(COOKIE) || !cookie.value) continue;
      const token = tokenInSessionCookie(secret, name, cookie.value);
      if (token) secrets.add(token);
    }
  }
  if ('error' in value && value.error) recordError(value.error);
  return value;
}

function recordError(err: unknown): HubAuthError {
  if (!isHubAuthError(err)) throw err;
  transcript.add(err);
  for (const instance of tracked().slice(0, 1)) {
    transcript.add(instance.renderError(err, navigation(`${PREFIX}x`)));
    transcript.add(instance.renderError(err, request(`${PREFIX}x`)));
  }
  return err;
}

async function callback(auth: HubOAuth, req: HubRequest): Promise<HubResponse> {
  try {
    return record(await auth.handleCallback(req));
  } catch (err) {
    throw recordError(err);
  }
}

async function callbackError(auth: HubOAuth, req: HubRequest): Promise<HubAuthError> {
  try {
    const res = await auth.handleCallback(req);
    record(res);
  } catch (err) {
    return recordError(err);
  }
  throw new Error('expected the callback to fail');
}

async function identify(auth: HubOAuth, req: HubRequest): Promise<Identity> {
  return record(await auth.authenticate(req));
}

function cookieNamed(response: HubResponse | Identity, name: string): ParsedSetCookie | undefined {
  return setCookies(response)
    .map(parseSetCookie)
    .find((c) => c.name === name);
}

function isCleared(cookie: ParsedSetCookie | undefined): boolean {
  return cookie !== undefined && cookie.value === '' && cookie.attributes.get('max-age') === '0';
}

/** Starts a login in `browser` and takes it through the Hub: returns the callback target. */
async function startFlow(auth: HubOAuth, browser: Browser, url: string, next?: string): Promise<string> {
  const start = record(next === undefined ? auth.beginLogin(browser.navigate(url)) : auth.beginLogin(browser.navigate(url), next));
  browser.apply(start);
  return authorizeAtHub(hub, location(start));
}

function xsrfOf(browser: Browser): string {
  const value = browser.jar.get('_xsrf');
  if (!value) throw new Error('no _xsrf cookie');
  return value;
}

useFakeHub({ requirePkce: true, tokenExpiresIn: EXPIRES_IN });

beforeEach(() => {
  hub.setFault(null);
  hub.setLatency(0);
  hub.signInAtHub(alice);
  hub.resetCounters();
});

afterEach(() => jest.restoreAllMocks());

describe('beginLogin', () => {
  it('redirects to the Hub authorize URL with PKCE S256 and a per-flow state cookie', () => {
    const auth = makeOAuth();
    const start = record(auth.beginLogin(navigation(`${PREFIX}page?x=1`)));
    expect(start.status).toBe(302);
    expect(start.headers['cache-control']).toBe('no-store');
    const url = new URL(location(start));
    expect(`${url.origin}${url.pathname}`).toBe(`${hub.url}/hub/api/oauth2/authorize`);
    expect([...url.searchParams.keys()]).toEqual([
      'client_id',
      'redirect_uri',
      'response_type',
      'code_challenge',
      'code_challenge_method',
      'state',
    ]);
    expect(url.searchParams.get('client_id')).toBe('service-whoami');
    expect(url.searchParams.get('redirect_uri')).toBe(`${PREFIX}oauth_callback`);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    // The next URL travels encrypted.
    expect(url.searchParams.get('state')).not.toContain('page');

    const cookies = setCookies(start).map(parseSetCookie);
    expect(cookies).toHaveLength(1);
    const [state] = cookies as [ParsedSetCookie];
    expect(state.name).toBe(STATE);
    expect(state.attributes.get('path')).toBe(PREFIX);
    expect(state.attributes.get('max-age')).toBe('600');
    expect(state.attributes.has('httponly')).toBe(true);
    expect(state.attributes.get('samesite')).toBe('Lax');
    expect(state.attributes.has('secure')).toBe(false);
  });

  it('gives the state cookie the configured lifetime', () => {
    const auth = makeOAuth({ stateMaxAge: 120 });
    expect(cookieNamed(record(auth.beginLogin(navigation(PREFIX))), STATE)?.attributes.get('max-age')).toBe('120');
  });
});

describe('a full login', () => {
  it('sets an encrypted HttpOnly login cookie and an _xsrf cookie, clears the state and returns to the page', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const start = record(auth.beginLogin(browser.navigate(`${PREFIX}page?x=1`)));
    browser.apply(start);
    const challenge = new URL(location(start)).searchParams.get('code_challenge');
    const target = await authorizeAtHub(hub, location(start));
    expect(target.startsWith(`${PREFIX}oauth_callback?code=`)).toBe(true);

    const done = await callback(auth, browser.navigate(target));
    expect(done.status).toBe(302);
    expect(location(done)).toBe(`${PREFIX}page?x=1`);
    expect(done.headers['cache-control']).toBe('no-store');

    expect(isCleared(cookieNamed(done, STATE))).toBe(true);
    expect(cookieNamed(done, STATE)?.attributes.get('path')).toBe(PREFIX);

    const session = cookieNamed(done, COOKIE);
    if (!session) throw new Error('no login cookie');
    expect(session.attributes.has('httponly')).toBe(true);
    expect(session.attributes.get('samesite')).toBe('Lax');
    expect(session.attributes.get('path')).toBe(PREFIX);
    expect(session.attributes.get('max-age')).toBe(String(EXPIRES_IN));
    expect(session.attributes.has('secure')).toBe(false);
    const token = tokenInSessionCookie(SECRET, COOKIE, session.value);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    if (!token) return;
    expect(session.value).not.toContain(token);
    expect(Buffer.from(session.value.split('.')[0] ?? '', 'base64url').toString('latin1')).not.toContain(token);

    const xsrf = cookieNamed(done, '_xsrf');
    expect(xsrf?.value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(xsrf?.attributes.get('path')).toBe(PREFIX);
    expect(xsrf?.attributes.has('httponly')).toBe(false);

    // The Hub verified the PKCE pair (requirePkce) and saw the Python service's exact form fields.
    expect(hub.calls.token).toBe(1);
    const exchange = hub.requests.find((r) => r.path === '/hub/api/oauth2/token');
    const form = new URLSearchParams(exchange?.body ?? '');
    expect([...form.keys()]).toEqual(['client_id', 'client_secret', 'grant_type', 'code', 'redirect_uri', 'code_verifier']);
    expect(pkceChallenge(form.get('code_verifier') ?? '')).toBe(challenge);
    expect(exchange?.headers['content-type']).toBe('application/x-www-form-urlencoded');

    browser.apply(done);
    expect([...browser.jar.keys()].sort()).toEqual(['_xsrf', COOKIE]);
    hub.resetCounters();
    const identity = await identify(auth, browser.navigate(`${PREFIX}page?x=1`));
    expect(identity.user).toMatchObject({ name: 'alice', kind: 'user' });
    expect(identity.user?.scopes).toContain('access:services!service=whoami');
    expect(identity.source).toBe('cookie');
    expect(identity.xsrfToken).toBe(xsrfOf(browser));
    expect(identity.setCookies).toEqual([]);
    // The callback's lookup filled the cache.
    expect(hub.calls.user).toBe(0);
    expect(auth.authorize(identity, browser.navigate(PREFIX))).toEqual({ action: 'allow', user: identity.user });
  });

  it('is served by route(): the callback and logout paths, nothing else', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}here`);
    const done = await auth.route(browser.navigate(target));
    expect(done && location(done)).toBe(`${PREFIX}here`);
    expect(await auth.route(navigation(`${PREFIX}page`))).toBeNull();
    expect(await auth.route(request(`${PREFIX}oauth_callback`, { method: 'POST' }))).toBeNull();
    expect(await auth.route(request(`${PREFIX}logout`, { method: 'PUT' }))).toBeNull();
    expect((await auth.route(request(`${PREFIX}logout`, { method: 'POST' })))?.status).toBe(302);
  });

  it("keeps the login as long as the Hub's token when the Hub says expires_in 0 (never expires)", async () => {
    const forever = await startHub({ tokenExpiresIn: 0 });
    const auth = makeOAuth({}, forever);
    const done = await login(auth, forever, new Browser(), alice);
    record(done);
    const maxAge = Number(cookieNamed(done, COOKIE)?.attributes.get('max-age'));
    expect(maxAge).toBe(14 * 86_400);
  });

  it('caps the login at a year whatever expires_in says', async () => {
    const long = await startHub({ tokenExpiresIn: 10 * 365 * 86_400 });
    const done = record(await login(makeOAuth({}, long), long, new Browser(), alice));
    expect(cookieNamed(done, COOKIE)?.attributes.get('max-age')).toBe(String(365 * 86_400));
  });
});

describe('two concurrent logins', () => {
  it.each([
    ['the first', 0],
    ['the second', 1],
  ])('finish in either order (%s first), each returning to its own page', async (_label, firstIndex) => {
    const auth = makeOAuth();
    const browser = new Browser();
    const s1 = record(auth.beginLogin(browser.navigate(`${PREFIX}one?a=1`)));
    browser.apply(s1);
    const s2 = record(auth.beginLogin(browser.navigate(`${PREFIX}two?b=2`)));
    browser.apply(s2);
    const name1 = parseSetCookie(setCookies(s1)[0] ?? '').name;
    const name2 = parseSetCookie(setCookies(s2)[0] ?? '').name;
    expect(name1).toBe(STATE);
    expect(name2).toMatch(new RegExp(`^${STATE}-[a-z]{8}$`));
    expect(cookieNamed(s2, name2)?.attributes.get('path')).toBe(PREFIX);
    expect(browser.jar.has(STATE) && browser.jar.has(name2)).toBe(true);

    const targets = [await authorizeAtHub(hub, location(s1)), await authorizeAtHub(hub, location(s2))];
    const pages = [`${PREFIX}one?a=1`, `${PREFIX}two?b=2`];
    const order = firstIndex === 0 ? [0, 1] : [1, 0];

    const first = await callback(auth, browser.navigate(targets[order[0] ?? 0] ?? ''));
    expect(location(first)).toBe(pages[order[0] ?? 0]);
    expect(isCleared(cookieNamed(first, STATE))).toBe(true);
    expect(isCleared(cookieNamed(first, name2))).toBe(true);
    expect(cookieNamed(first, COOKIE)?.value).toBeTruthy();
    browser.apply(first);
    expect([...browser.jar.keys()].filter((n) => n.startsWith(STATE))).toEqual([]);

    const second = await callback(auth, browser.navigate(targets[order[1] ?? 1] ?? ''));
    expect(location(second)).toBe(pages[order[1] ?? 1]);
    // Already logged in: short-circuited, no second code exchange, the login cookie is kept.
    expect(hub.calls.token).toBe(1);
    expect(cookieNamed(second, COOKIE)).toBeUndefined();
    browser.apply(second);
    expect([...browser.jar.keys()].sort()).toEqual(['_xsrf', COOKIE]);
  });
});

describe('state checks', () => {
  it('refuses a modified state parameter (403), without exchanging the code', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = new URL(await startFlow(auth, browser, `${PREFIX}p`), 'http://x');
    const state = target.searchParams.get('state') ?? '';
    for (const i of [0, Math.floor(state.length / 2), state.length - 1]) {
      const flipped = state.slice(0, i) + (state[i] === 'A' ? 'B' : 'A') + state.slice(i + 1);
      target.searchParams.set('state', flipped);
      const err = await callbackError(auth, browser.navigate(target.pathname + target.search));
      expect(err).toBeInstanceOf(OAuthStateError);
      expect(err.status).toBe(403);
    }
    expect(hub.calls.token).toBe(0);
  });

  it('refuses a state cookie with a modified signature (403)', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    const value = browser.jar.get(STATE) ?? '';
    browser.jar.set(STATE, value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA'));
    const err = await callbackError(auth, browser.navigate(target));
    expect(err).toBeInstanceOf(OAuthStateError);
    expect(err.status).toBe(403);
    expect(hub.calls.token).toBe(0);
  });

  it('refuses a callback from another browser (no state cookie, or the cookie of another flow)', async () => {
    const auth = makeOAuth();
    const victim = new Browser();
    const target = await startFlow(auth, victim, `${PREFIX}p`);
    expect(await callbackError(auth, navigation(target))).toBeInstanceOf(OAuthStateError);
    const attacker = new Browser();
    await startFlow(auth, attacker, `${PREFIX}q`);
    expect(await callbackError(auth, attacker.navigate(target))).toBeInstanceOf(OAuthStateError);
    expect(hub.calls.token).toBe(0);
  });

  describe('one code per cause, each with its hint', () => {
    it('no state cookie: cookies blocked, or another host or path', async () => {
      const auth = makeOAuth();
      const target = await startFlow(auth, new Browser(), `${PREFIX}p`);
      const err = (await callbackError(auth, navigation(target))) as OAuthStateError;
      expect({ code: err.code, reason: err.reason, status: err.status }).toEqual({
        code: 'ERR_HUBAUTH_OAUTH_STATE_NO_COOKIE',
        reason: 'no-cookie',
        status: 403,
      });
      expect(err.message).toMatch(/cookies are blocked, or the login started on another host or outside the service prefix/);
      expect(err.docs).toBe('docs/errors.md#err_hubauth_oauth_state_no_cookie');
    });

    it('the state of another login of this browser (another tab)', async () => {
      const auth = makeOAuth();
      const browser = new Browser();
      const first = await startFlow(auth, browser, `${PREFIX}p`);
      const tab = browser.clone();
      // The other tab's login finishes and takes its state cookie with it; this tab's one is gone.
      await startFlow(auth, tab, `${PREFIX}q`);
      tab.jar.delete(STATE);
      const err = (await callbackError(auth, tab.navigate(first))) as OAuthStateError;
      expect(err.code).toBe('ERR_HUBAUTH_OAUTH_STATE_OTHER_LOGIN');
      expect(err.message).toMatch(/another login of this browser \(another tab/);
    });

    it('expired', async () => {
      const auth = makeOAuth({ stateMaxAge: 10 });
      const browser = new Browser();
      const target = await startFlow(auth, browser, `${PREFIX}p`);
      jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 11_000);
      const err = (await callbackError(auth, browser.navigate(target))) as OAuthStateError;
      expect(err.code).toBe('ERR_HUBAUTH_OAUTH_STATE_EXPIRED');
      expect(err.message).toMatch(/stateMaxAge/);
    });

    it('sealed by another secret: replicas without a shared secret', async () => {
      const replicaA = makeOAuth({ cookieSecret: 'a'.repeat(16) + 'b'.repeat(16) });
      const replicaB = makeOAuth({ cookieSecret: 'c'.repeat(16) + 'd'.repeat(16) });
      const browser = new Browser();
      const target = await startFlow(replicaA, browser, `${PREFIX}p`);
      const err = (await callbackError(replicaB, browser.navigate(target))) as OAuthStateError;
      expect(err.code).toBe('ERR_HUBAUTH_OAUTH_STATE_FOREIGN_SECRET');
      expect(err.message).toMatch(/without one shared HUBAUTH_COOKIE_SECRET/);
      expect(hub.calls.token).toBe(0);
    });
  });

  it('does not exchange the code again when the callback is replayed after success', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    const before = browser.clone();
    browser.apply(await callback(auth, browser.navigate(target)));
    expect(hub.calls.token).toBe(1);

    // Replayed by the browser that logged in (reload, back button): just goes on.
    const replay = await callback(auth, browser.navigate(target));
    expect(location(replay)).toBe(`${PREFIX}p`);
    expect(cookieNamed(replay, COOKIE)).toBeUndefined();
    // Replayed elsewhere without the state cookie: refused.
    expect(await callbackError(auth, navigation(target))).toBeInstanceOf(OAuthStateError);
    expect(hub.calls.token).toBe(1);

    // Replayed with the state cookie captured before the callback: the Hub refuses the used code.
    const err = await callbackError(auth, before.navigate(target));
    expect(err).toBeInstanceOf(OAuthCallbackError);
    expect(err.status).toBe(400);
  });

  it('refuses an expired login (403) without asking the Hub', async () => {
    const auth = makeOAuth({ stateMaxAge: 10 });
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 11_000);
    const err = await callbackError(auth, browser.navigate(target));
    expect(err).toBeInstanceOf(OAuthStateError);
    expect(err.message).toMatch(/expired/);
    expect(hub.calls.token).toBe(0);
  });

  it('lets a logged-in browser reloading an old callback (stale tab) go on, without a code exchange', async () => {
    const auth = makeOAuth({ stateMaxAge: 10 });
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    browser.apply(await callback(auth, browser.navigate(target)));
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 60_000);
    const reload = await callback(auth, browser.navigate(target));
    expect(reload.status).toBe(302);
    expect(location(reload)).toBe(PREFIX);
    expect(cookieNamed(reload, COOKIE)).toBeUndefined();
    expect(hub.calls.token).toBe(1);
  });

  it('sends a logged-in browser with a forged state back to the service, without a code exchange', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    hub.resetCounters();
    const res = await callback(auth, browser.navigate(`${PREFIX}oauth_callback?code=abc&state=forged`));
    expect(location(res)).toBe(PREFIX);
    expect(hub.calls.token).toBe(0);
  });

  it('accepts a login finished just within stateMaxAge', async () => {
    const auth = makeOAuth({ stateMaxAge: 10 });
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 9_000);
    expect(location(await callback(auth, browser.navigate(target)))).toBe(`${PREFIX}p`);
  });

  it('refuses the state cookie or parameter of another client id, even under the same secret', async () => {
    const auth = makeOAuth();
    const other = makeOAuth({ clientId: 'service-other', serviceName: 'other', servicePrefix: '/services/other/' });
    const browser = new Browser();
    const target = new URL(await startFlow(auth, browser, `${PREFIX}p`), 'http://x');
    const otherStart = record(other.beginLogin(navigation('/services/other/p')));
    const otherCookie = parseSetCookie(setCookies(otherStart)[0] ?? '');
    expect(otherCookie.name).toBe('service-other-oauth-state');

    // Its cookie value under our cookie name.
    const moved = browser.clone();
    moved.jar.set(STATE, otherCookie.value);
    expect(await callbackError(auth, moved.navigate(target.pathname + target.search))).toBeInstanceOf(OAuthStateError);
    // Its cookie under its own name is not ours.
    const own = new Browser();
    own.jar.set(otherCookie.name, otherCookie.value);
    expect(await callbackError(auth, own.navigate(target.pathname + target.search))).toBeInstanceOf(OAuthStateError);
    // Its state parameter with our cookie.
    const swapped = new URL(target.href);
    swapped.searchParams.set('state', new URL(location(otherStart)).searchParams.get('state') ?? '');
    expect(await callbackError(auth, browser.navigate(swapped.pathname + swapped.search))).toBeInstanceOf(OAuthStateError);
    expect(hub.calls.token).toBe(0);
  });
});

describe('callback errors', () => {
  it('a Hub error → 400 with the Hub description, control characters removed', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await startFlow(auth, browser, `${PREFIX}p`);
    const err = await callbackError(
      auth,
      browser.navigate(`${PREFIX}oauth_callback?error=access_denied&error_description=You%20said%20no%0d%0aX-Injected:%201&state=x`),
    );
    expect(err).toBeInstanceOf(OAuthCallbackError);
    expect(err.status).toBe(400);
    expect(err.message).toBe('Error in oauth: You said no X-Injected: 1');
    expect((await callbackError(auth, navigation(`${PREFIX}oauth_callback?error=access_denied`))).message).toBe(
      'Error in oauth: access_denied',
    );
  });

  it('a login the Hub refuses for missing PKCE → 400 with its description', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const start = record(auth.beginLogin(browser.navigate(`${PREFIX}p`)));
    browser.apply(start);
    const url = new URL(location(start));
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const target = await authorizeAtHub(hub, url.href);
    const err = await callbackError(auth, browser.navigate(target));
    expect(err.status).toBe(400);
    expect(err.message).toBe('Error in oauth: Code challenge required.');
  });

  it.each([
    ['no code', 'state=abc'],
    ['an empty code', 'code=&state=abc'],
    ['no state', 'code=abc'],
    ['an empty state', 'code=abc&state='],
    ['nothing', ''],
  ])('%s → 400', async (_label, query) => {
    const auth = makeOAuth();
    const err = await callbackError(auth, navigation(`${PREFIX}oauth_callback?${query}`));
    expect(err).toBeInstanceOf(OAuthCallbackError);
    expect(err.status).toBe(400);
    expect(hub.calls.token).toBe(0);
  });

  it('a code the Hub does not know (invalid_grant) → 400', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = new URL(await startFlow(auth, browser, `${PREFIX}p`), 'http://x');
    target.searchParams.set('code', 'forged-code');
    const err = await callbackError(auth, browser.navigate(target.pathname + target.search));
    expect(err).toBeInstanceOf(OAuthCallbackError);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/invalid_grant/);
    expect(hub.calls.token).toBe(1);
  });

  it("a wrong client secret → ServiceCredentialsError 500, logged with a pointer to the service's token", async () => {
    const wrong = 'wrong-service-token-0123456789';
    secrets.add(wrong);
    const auth = makeOAuth({ apiToken: wrong });
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    const err = await callbackError(auth, browser.navigate(target));
    expect(err).toBeInstanceOf(ServiceCredentialsError);
    expect(err.status).toBe(500);
    expect(err.expose).toBe(false);
    const log = logger.lines.join('\n');
    expect(log).toMatch(/^error: .*JUPYTERHUB_API_TOKEN/m);
    expect(log).toMatch(/invalid_client/);
    const page = auth.renderError(err, browser.navigate(target));
    expect(page.status).toBe(500);
    expect(page.body).not.toMatch(/JUPYTERHUB_API_TOKEN|credentials/);
  });

  it.each([
    ['a 500', { type: 'status', status: 500 } as const, 502],
    ['garbage', { type: 'garbage-json' } as const, 502],
    ['an HTML page', { type: 'html' } as const, 502],
  ])('a token endpoint answering %s → %i', async (_label, fault, status) => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    hub.setFault(fault, ['token']);
    const err = await callbackError(auth, browser.navigate(target));
    expect(err).toBeInstanceOf(HubUnavailableError);
    expect(err.status).toBe(status);
  });

  it('a hung token endpoint → 503 with Retry-After', async () => {
    const auth = makeOAuth({ requestTimeoutMs: 100 });
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}p`);
    hub.setFault({ type: 'hang' }, ['token']);
    const err = await callbackError(auth, browser.navigate(target));
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBeDefined();
  });

  it('a Hub that went down → 503 with Retry-After', async () => {
    const doomed = await startHub();
    const auth = makeOAuth({}, doomed);
    const browser = new Browser();
    doomed.signInAtHub(alice);
    const start = record(auth.beginLogin(browser.navigate(`${PREFIX}p`)));
    browser.apply(start);
    const target = await authorizeAtHub(doomed, location(start));
    await doomed.close();
    const err = await callbackError(auth, browser.navigate(target));
    expect(err).toBeInstanceOf(HubUnavailableError);
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBeDefined();
  });
});

describe('open redirects through a whole login', () => {
  it.each(HOSTILE_NEXT)('%s as the next argument', async (_label, next) => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}start`, next);
    const dest = location(await callback(auth, browser.navigate(target)));
    expect(dest.startsWith(PREFIX)).toBe(true);
    expect(dest.startsWith('//')).toBe(false);
    expect(dest).toBe(PREFIX);
  });

  it.each(HOSTILE_NEXT)('%s as the request target', async (_label, url) => {
    const auth = makeOAuth();
    const browser = new Browser();
    const start = record(auth.beginLogin(browser.navigate(url)));
    browser.apply(start);
    const dest = location(await callback(auth, browser.navigate(await authorizeAtHub(hub, location(start)))));
    expect(dest.startsWith(PREFIX)).toBe(true);
    expect(dest.startsWith('//')).toBe(false);
  });

  it('keeps a legitimate deep link with its query', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(auth, browser, `${PREFIX}a/b%20c?x=1&y=%2F%2Fz`);
    expect(location(await callback(auth, browser.navigate(target)))).toBe(`${PREFIX}a/b%20c?x=1&y=%2F%2Fz`);
  });
});

describe('xsrf', () => {
  let auth: HubOAuth;
  let browser: Browser;

  beforeEach(async () => {
    auth = makeOAuth();
    browser = new Browser();
    await login(auth, hub, browser, alice);
    hub.resetCounters();
  });

  it('refuses a cookie-authenticated POST without a token (XsrfError 403), before any Hub call', async () => {
    auth.invalidate(tokenInSessionCookie(SECRET, COOKIE, browser.jar.get(COOKIE) ?? '') ?? '');
    const identity = await identify(auth, browser.request(`${PREFIX}api`, { method: 'POST' }));
    expect(identity.error).toBeInstanceOf(XsrfError);
    expect(identity.error?.status).toBe(403);
    expect(identity.error?.message).toMatch(/'_xsrf' argument missing from POST/);
    expect(identity.user).toBeNull();
    expect(hub.calls.user).toBe(0);
    const decision = auth.authorize(identity, browser.request(`${PREFIX}api`, { method: 'POST' }));
    expect(decision.action === 'deny' && decision.error.status).toBe(403);
  });

  it.each(['PUT', 'PATCH', 'DELETE', 'post'])('refuses %s without a token', async (method) => {
    const identity = await identify(auth, browser.request(`${PREFIX}api`, { method }));
    expect(identity.error).toBeInstanceOf(XsrfError);
  });

  it.each([
    ['the X-XSRFToken header', (t: string) => ({ headers: { 'x-xsrftoken': t } })],
    ['the X-CSRFToken header', (t: string) => ({ headers: { 'x-csrftoken': t } })],
    ['an _xsrf form field', (t: string) => ({ body: { _xsrf: t } })],
  ])('accepts a POST carrying the _xsrf cookie value in %s', async (_label, carry) => {
    const extra = carry(xsrfOf(browser));
    const identity = await identify(auth, browser.request(`${PREFIX}api`, { method: 'POST', ...extra }));
    expect(identity.error).toBeNull();
    expect(identity.user?.name).toBe('alice');
  });

  it('accepts ?_xsrf= in the URL', async () => {
    const identity = await identify(auth, browser.request(`${PREFIX}api?_xsrf=${xsrfOf(browser)}`, { method: 'POST' }));
    expect(identity.user?.name).toBe('alice');
  });

  it('refuses a wrong or forged token', async () => {
    const good = xsrfOf(browser);
    for (const bad of [`${good}x`, good.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), 'nonce.mac', 'x'.repeat(500)]) {
      const identity = await identify(auth, browser.request(`${PREFIX}api`, { method: 'POST', headers: { 'x-xsrftoken': bad } }));
      expect(identity.error).toBeInstanceOf(XsrfError);
      expect(identity.error?.message).toMatch(/does not match/);
    }
  });

  it("refuses another session's token, as header or as cookie", async () => {
    const other = new Browser();
    await login(auth, hub, other, bob);
    const theirs = xsrfOf(other);
    const asHeader = await identify(auth, browser.request(`${PREFIX}api`, { method: 'POST', headers: { 'x-xsrftoken': theirs } }));
    expect(asHeader.error).toBeInstanceOf(XsrfError);
    // Their cookie planted in this browser, with the matching header: not bound to this session.
    const planted = browser.clone();
    planted.jar.set('_xsrf', theirs);
    const asCookie = await identify(auth, planted.request(`${PREFIX}api`, { method: 'POST', headers: { 'x-xsrftoken': theirs } }));
    expect(asCookie.error).toBeInstanceOf(XsrfError);
  });

  it('finds the valid _xsrf cookie among several', async () => {
    const cookie = `_xsrf=planted.value; ${browser.cookieHeader() ?? ''}`;
    const identity = await identify(
      auth,
      request(`${PREFIX}api`, { method: 'POST', headers: { cookie, 'x-xsrftoken': xsrfOf(browser) } }),
    );
    expect(identity.user?.name).toBe('alice');
  });

  it('exempts requests authenticated by a header token', async () => {
    const token = hub.issueToken(bob);
    secrets.add(token);
    const identity = await identify(
      auth,
      browser.request(`${PREFIX}api`, { method: 'POST', headers: { authorization: `token ${token}` } }),
    );
    expect(identity.error).toBeNull();
    expect(identity.source).toBe('header');
    expect(identity.user?.name).toBe('bob');
  });

  // JupyterHub's _needs_check_xsrf: read-only navigations, requests without fetch metadata and
  // same-origin no-cors requests are exempt; a script's cors read is not.
  it.each(['GET', 'HEAD', 'OPTIONS'])('exempts %s as a navigation, without fetch metadata, or same-origin no-cors', async (method) => {
    for (const headers of [
      { 'sec-fetch-mode': 'navigate' },
      {},
      { 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'same-origin' },
    ]) {
      const identity = await identify(auth, browser.request(`${PREFIX}api`, { method, headers }));
      expect(identity.error).toBeNull();
      expect(identity.user?.name).toBe('alice');
    }
  });

  it.each(['GET', 'HEAD', 'OPTIONS'])('requires the token for a cors %s, which then passes', async (method) => {
    const denied = await identify(auth, browser.request(`${PREFIX}api`, { method, headers: { 'sec-fetch-mode': 'cors' } }));
    expect(denied.error?.code).toBe('ERR_HUBAUTH_XSRF');
    expect(denied.error?.message).toMatch(new RegExp(`from ${method}`));
    const xsrf = browser.jar.get('_xsrf') as string;
    const allowed = await identify(auth, browser.request(`${PREFIX}api`, { method, headers: { 'sec-fetch-mode': 'cors', 'x-xsrftoken': xsrf } }));
    expect(allowed.error).toBeNull();
    expect(allowed.user?.name).toBe('alice');
  });

  it('issues an _xsrf cookie on a GET when the browser has none, which then works', async () => {
    browser.jar.delete('_xsrf');
    const identity = await identify(auth, browser.navigate(`${PREFIX}page`));
    const issued = cookieNamed(identity, '_xsrf');
    expect(issued?.value).toBe(identity.xsrfToken);
    expect(issued?.attributes.get('path')).toBe(PREFIX);
    browser.apply(identity);
    const post = await identify(auth, browser.request(`${PREFIX}api`, { method: 'POST', headers: { 'x-xsrftoken': xsrfOf(browser) } }));
    expect(post.user?.name).toBe('alice');
  });
});

describe('the login cookie', () => {
  it('identifies a cached user without waiting, exactly as identify() does, when no xsrf check applies', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const page = browser.navigate(`${PREFIX}page`);
    // Not looked up yet (the login itself cached it): the same answer both ways.
    const slow = await identify(auth, page);
    const fast = auth.authenticateCached(page);
    expect(fast).toEqual(slow);
    expect(fast?.user?.name).toBe('alice');
    expect(fast?.source).toBe('cookie');
    expect(fast?.xsrfToken).toBe(xsrfOf(browser));
    // Without its xsrf cookie, the browser gets one, as from identify().
    const bare = new Browser();
    bare.jar.set(COOKIE, browser.jar.get(COOKIE) ?? '');
    const issued = auth.authenticateCached(bare.navigate(`${PREFIX}page`));
    expect(issued?.user?.name).toBe('alice');
    expect(cookieNamed(issued as Identity, '_xsrf')).toBeDefined();
    // A page's fetch() (xsrf check), an unsafe method, a websocket, or an identity not cached: identify().
    expect(auth.authenticateCached(browser.request(`${PREFIX}api`, { headers: { 'sec-fetch-mode': 'cors' } }))).toBeUndefined();
    expect(auth.authenticateCached(browser.request(`${PREFIX}api`, { method: 'POST' }))).toBeUndefined();
    expect(auth.authenticateCached(browser.request(`${PREFIX}ws`, { headers: { upgrade: 'websocket', connection: 'upgrade' } }))).toBeUndefined();
    auth.invalidate(tokenInSessionCookie(SECRET, COOKIE, browser.jar.get(COOKIE) ?? '') ?? '');
    expect(auth.authenticateCached(page)).toBeUndefined();
    // A forged cookie is never identified here.
    expect(auth.authenticateCached(request(`${PREFIX}page`, { headers: { cookie: `${COOKIE}=forged.value` } }))).toBeUndefined();
  });

  it('is cleared, without a Hub call, when forged', async () => {
    const auth = makeOAuth();
    const identity = await identify(auth, request(`${PREFIX}api`, { headers: { cookie: `${COOKIE}=forged.value` } }));
    expect(identity.user).toBeNull();
    expect(identity.source).toBeNull();
    expect(isCleared(cookieNamed(identity, COOKIE))).toBe(true);
    expect(hub.calls.user).toBe(0);
  });

  it('is cleared when the Hub no longer knows its token', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const token = tokenInSessionCookie(SECRET, COOKIE, browser.jar.get(COOKIE) ?? '') ?? '';
    hub.revokeToken(token);
    auth.invalidate(token);
    const identity = await identify(auth, browser.navigate(`${PREFIX}page`));
    expect(identity.rejected).toBe(true);
    expect(identity.user).toBeNull();
    expect(identity.xsrfToken).toBeNull();
    expect(identity.setCookies).toHaveLength(1);
    expect(isCleared(cookieNamed(identity, COOKIE))).toBe(true);
  });

  it('expires with its Max-Age even if the browser keeps it', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + (EXPIRES_IN + 5) * 1000);
    const identity = await identify(auth, browser.navigate(`${PREFIX}page`));
    expect(identity.user).toBeNull();
    expect(isCleared(cookieNamed(identity, COOKIE))).toBe(true);
  });

  it('is ignored on websocket upgrades when allowWebsocketCookieAuth is off', async () => {
    const on = makeOAuth();
    const off = makeOAuth({ allowWebsocketCookieAuth: false });
    const browser = new Browser();
    await login(on, hub, browser, alice);
    const ws = { 'sec-fetch-mode': 'websocket', upgrade: 'websocket' };
    expect((await identify(on, browser.request(`${PREFIX}ws`, { headers: ws }))).user?.name).toBe('alice');
    expect((await identify(off, browser.request(`${PREFIX}ws`, { headers: ws }))).user).toBeNull();
  });

  it('shows a revoked access scope once the cache entry is gone: 403, never a redirect', async () => {
    const auth = makeOAuth({ cacheMaxAge: 0.1 });
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    hub.setUserScopes('alice', ['read:users:name!user=alice']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const identity = await identify(auth, browser.navigate(`${PREFIX}page`));
    expect(identity.user?.name).toBe('alice');
    for (const mode of ['auto', 'login'] as const) {
      const decision = auth.authorize(identity, browser.navigate(`${PREFIX}page`), { onUnauthenticated: mode });
      expect(decision.action).toBe('deny');
      if (decision.action === 'deny') expect(decision.error.status).toBe(403);
    }
  });
});

describe('secret rotation', () => {
  it('accepts a cookie sealed under the old secret when it is second, and re-issues it', async () => {
    const before = makeOAuth({ cookieSecret: OLD_SECRET });
    const browser = new Browser();
    await login(before, hub, browser, alice);
    const oldCookie = browser.jar.get(COOKIE) ?? '';

    const rotated = makeOAuth({ cookieSecret: [SECRET, OLD_SECRET] });
    const identity = await identify(rotated, browser.navigate(`${PREFIX}page`));
    expect(identity.user?.name).toBe('alice');
    const reissued = cookieNamed(identity, COOKIE);
    expect(reissued?.value).toBeTruthy();
    expect(reissued?.value).not.toBe(oldCookie);
    expect(reissued?.attributes.has('httponly')).toBe(true);
    expect(Number(reissued?.attributes.get('max-age'))).toBeGreaterThan(EXPIRES_IN - 10);
    expect(Number(reissued?.attributes.get('max-age'))).toBeLessThanOrEqual(EXPIRES_IN);
    // The old secret's _xsrf token still verifies.
    expect(identity.xsrfToken).toBe(browser.jar.get('_xsrf'));
    const post = await identify(
      rotated,
      browser.request(`${PREFIX}api`, { method: 'POST', headers: { 'x-xsrftoken': xsrfOf(browser) } }),
    );
    expect(post.user?.name).toBe('alice');

    browser.apply(identity);
    const fresh = makeOAuth({ cookieSecret: SECRET });
    const again = await identify(fresh, browser.navigate(`${PREFIX}page`));
    expect(again.user?.name).toBe('alice');
    expect(cookieNamed(again, COOKIE)).toBeUndefined();
  });

  it('rejects and clears a cookie whose secret was removed', async () => {
    const before = makeOAuth({ cookieSecret: OLD_SECRET });
    const browser = new Browser();
    await login(before, hub, browser, alice);
    hub.resetCounters();
    const after = makeOAuth({ cookieSecret: SECRET });
    const identity = await identify(after, browser.navigate(`${PREFIX}page`));
    expect(identity.user).toBeNull();
    expect(isCleared(cookieNamed(identity, COOKIE))).toBe(true);
    expect(hub.calls.user).toBe(0);
    const decision = after.authorize(identity, browser.navigate(`${PREFIX}page`));
    expect(decision.action).toBe('redirect');
  });
});

describe('replicas', () => {
  it('finishes a login started on another instance sharing the secret', async () => {
    const a = makeOAuth();
    const b = makeOAuth();
    const browser = new Browser();
    const target = await startFlow(a, browser, `${PREFIX}from-a`);
    const done = await callback(b, browser.navigate(target));
    expect(location(done)).toBe(`${PREFIX}from-a`);
    browser.apply(done);
    expect((await identify(a, browser.navigate(`${PREFIX}page`))).user?.name).toBe('alice');
  });

  it('refuses it on an instance with another secret', async () => {
    const a = makeOAuth();
    const c = makeOAuth({ cookieSecret: newSecret() });
    const browser = new Browser();
    const target = await startFlow(a, browser, `${PREFIX}from-a`);
    expect(await callbackError(c, browser.navigate(target))).toBeInstanceOf(OAuthStateError);
    expect(hub.calls.token).toBe(0);
  });
});

describe('browser navigations vs API calls', () => {
  const anonymous = (): Identity => ({ user: null, source: null, error: null, rejected: false, setCookies: [], xsrfToken: null });

  it('redirects an anonymous navigation to the Hub, with a state cookie', async () => {
    const auth = makeOAuth();
    const req = navigation(`${PREFIX}page?x=1`);
    const identity = await identify(auth, req);
    const decision = auth.authorize(identity, req);
    expect(decision.action).toBe('redirect');
    if (decision.action !== 'redirect') return;
    record(decision.response);
    expect(location(decision.response).startsWith(`${hub.url}/hub/api/oauth2/authorize?`)).toBe(true);
    expect(cookieNamed(decision.response, STATE)).toBeDefined();
  });

  it('redirects a GET that accepts HTML when the browser sends no Sec-Fetch-Mode', () => {
    const auth = makeOAuth();
    const req = request(`${PREFIX}page`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(auth.authorize(anonymous(), req).action).toBe('redirect');
  });

  it.each([
    ['fetch (Sec-Fetch-Mode: cors)', request(`${PREFIX}api`, { headers: { 'sec-fetch-mode': 'cors', accept: 'text/html' } })],
    ['same-origin fetch', request(`${PREFIX}api`, { headers: { 'sec-fetch-mode': 'same-origin' } })],
    ['a client without Accept: text/html', request(`${PREFIX}api`, { headers: { accept: 'application/json' } })],
    ['a client with no headers at all', request(`${PREFIX}api`)],
    ['a form POST', request(`${PREFIX}api`, { method: 'POST', headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } })],
  ])('answers %s with 401 and a Bearer challenge, setting no cookie', async (_label, req) => {
    const auth = makeOAuth();
    const identity = await identify(auth, req);
    expect(identity.setCookies).toEqual([]);
    const decision = auth.authorize(identity, req);
    expect(decision.action).toBe('deny');
    if (decision.action !== 'deny') return;
    recordError(decision.error);
    expect(decision.error).toBeInstanceOf(UnauthenticatedError);
    expect(decision.error.status).toBe(401);
    expect(decision.error.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect(JSON.stringify(decision.error.headers)).not.toMatch(/set-cookie/i);
  });

  it('follows onUnauthenticated: login always redirects, reject always answers 401', () => {
    const auth = makeOAuth();
    expect(auth.authorize(anonymous(), request(`${PREFIX}api`), { onUnauthenticated: 'login' }).action).toBe('redirect');
    expect(auth.authorize(anonymous(), navigation(`${PREFIX}page`), { onUnauthenticated: 'reject' }).action).toBe('deny');
  });

  it('answers an identified caller who is not allowed with 403, never a redirect', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const identity = await identify(auth, browser.navigate(`${PREFIX}page`));
    for (const mode of ['auto', 'login', 'reject'] as const) {
      const decision = auth.authorize(identity, browser.navigate(`${PREFIX}page`), { hubUsers: ['bob'], onUnauthenticated: mode });
      expect(decision.action).toBe('deny');
      if (decision.action !== 'deny') continue;
      recordError(decision.error);
      expect(decision.error.status).toBe(403);
    }
  });
});

describe('logout', () => {
  it('clears the cookies, refuses the old cookie and sends the browser to the Hub logout', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const oldCookies = browser.clone();
    hub.resetCounters();
    await identify(auth, browser.navigate(`${PREFIX}page`));
    expect(hub.calls.user).toBe(0);

    const res = record(auth.logout(browser.navigate(`${PREFIX}logout`)));
    expect(res.status).toBe(302);
    expect(location(res)).toBe(`${hub.url}/hub/logout`);
    expect(isCleared(cookieNamed(res, COOKIE))).toBe(true);
    expect(cookieNamed(res, COOKIE)?.attributes.get('path')).toBe(PREFIX);
    expect(isCleared(cookieNamed(res, '_xsrf'))).toBe(true);
    browser.apply(res);
    expect(browser.jar.size).toBe(0);

    // A copy of the old cookie is refused at once, without asking the Hub (which still accepts the
    // token: the browser has not reached the Hub's logout yet).
    const identity = await identify(auth, oldCookies.navigate(`${PREFIX}page`));
    expect(hub.calls.user).toBe(0);
    expect(identity.user).toBeNull();
    expect(identity.rejected).toBe(true);
  });

  it('clears pending state cookies too', async () => {
    const auth = makeOAuth();
    const browser = new Browser();
    browser.apply(record(auth.beginLogin(browser.navigate(`${PREFIX}p`))));
    const res = record(auth.logout(browser.navigate(`${PREFIX}logout`)));
    expect(isCleared(cookieNamed(res, STATE))).toBe(true);
  });

  it("returns to the service prefix with logoutRedirect: 'service'", async () => {
    const auth = makeOAuth({ logoutRedirect: 'service' });
    const res = await auth.route(navigation(`${PREFIX}logout`));
    expect(res && location(res)).toBe(PREFIX);
  });
});

describe('cookie attributes', () => {
  it('uses __Host- names, Path=/ and Secure with cookieHostPrefix', async () => {
    const auth = makeOAuth({ cookieHostPrefix: true });
    const browser = new Browser();
    hub.signInAtHub(alice);
    const start = record(auth.beginLogin(browser.navigate(`${PREFIX}p`)));
    const state = cookieNamed(start, `__Host-${STATE}`);
    expect(state?.attributes.get('path')).toBe('/');
    expect(state?.attributes.has('secure')).toBe(true);
    browser.apply(start);
    const done = await callback(auth, browser.navigate(await authorizeAtHub(hub, location(start))));
    const session = cookieNamed(done, `__Host-${COOKIE}`);
    expect(session?.attributes.get('path')).toBe('/');
    expect(session?.attributes.has('secure')).toBe(true);
    expect(session?.attributes.has('domain')).toBe(false);
    const clearedState = cookieNamed(done, `__Host-${STATE}`);
    expect(isCleared(clearedState)).toBe(true);
    expect(clearedState?.attributes.has('secure')).toBe(true);
    expect(clearedState?.attributes.get('path')).toBe('/');
    expect(cookieNamed(done, '_xsrf')?.attributes.get('path')).toBe(PREFIX);
    browser.apply(done);
    expect((await identify(auth, browser.navigate(`${PREFIX}page`))).user?.name).toBe('alice');
    const out = record(auth.logout(browser.navigate(`${PREFIX}logout`)));
    const cleared = cookieNamed(out, `__Host-${COOKIE}`);
    expect(isCleared(cleared)).toBe(true);
    expect(cleared?.attributes.has('secure')).toBe(true);
    expect(cleared?.attributes.get('path')).toBe('/');
  });

  it.each([
    ['an https public URL', { publicUrl: 'https://hub.example.org/services/whoami/', hubHost: '' }, false, true],
    ['an https public URL, plain-http request', { publicUrl: 'https://hub.example.org/services/whoami/', hubHost: '' }, false, true],
    ['an http public URL, even on a secure request', { publicUrl: 'http://hub.example.org/services/whoami/', hubHost: '' }, true, false],
    ['no public URL, secure request', {}, true, true],
    ['no public URL, plain request', {}, false, false],
  ])('Secure with %s', async (_label, extra, secure, expected) => {
    const auth = makeOAuth(extra);
    const browser = new Browser();
    const start = record(auth.beginLogin(browser.request(`${PREFIX}p`, { secure })));
    expect(cookieNamed(start, STATE)?.attributes.has('secure')).toBe(expected);
    browser.apply(start);
    const target = await authorizeAtHub(hub, location(start));
    const done = await callback(auth, browser.request(target, { secure }));
    expect(cookieNamed(done, COOKIE)?.attributes.has('secure')).toBe(expected);
    expect(cookieNamed(done, '_xsrf')?.attributes.has('secure')).toBe(expected);
    expect(cookieNamed(done, STATE)?.attributes.has('secure')).toBe(expected);
  });
});

describe('no secret in anything produced', () => {
  it('holds for every response, error, rendered page and log line of this file', () => {
    // Several Hub tokens were issued through logins, and all of them are checked.
    expect(secrets.size).toBeGreaterThan(20);
    expect(transcript.size).toBeGreaterThan(200);
    expect(transcript.leaked(secrets)).toEqual([]);
  });
});
