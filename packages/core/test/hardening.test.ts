/**
 * Core-level checks behind the adversarial suite's neighbour attacks (test/adversarial/hardening.ts):
 * work bounds that HTTP cannot observe, old states, guard policies, and the callback's refusals.
 */
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { freezeGuardOptions } from '../src/adapter';
import { CookieSealer } from '../src/cookies';
import { ConfigError } from '../src/errors';
import { HubAuth, freezePolicy, type AccessPolicy } from '../src/hub-auth';
import { HubOAuth } from '../src/hub-oauth';
import { StateCodec } from '../src/oauth';
import type { HubUser } from '../src/types';
import { Browser, PREFIX, RecordingLogger, authorizeAtHub, location, login, newSecret, oauthOptions, setCookies } from './support';

const alice: FakeUser = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };
const carol: FakeUser = { name: 'carol', groups: [], scopes: ['access:services!service=whoami'] };
const STATE = 'service-whoami-oauth-state';

let hub: FakeHub;
let auth: HubOAuth;
let logger: RecordingLogger;

beforeAll(async () => {
  hub = await startFakeHub({ requirePkce: true });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(() => {
  logger = new RecordingLogger();
  auth = new HubOAuth(oauthOptions(hub, { cookieSecret: newSecret(), logger, cacheMaxAge: 0 }));
});
afterEach(() => {
  auth.close();
  jest.restoreAllMocks();
});

describe('junk state cookies', () => {
  const junk = (n: number) => Array.from({ length: n }, (_, i) => `${STATE}-${String(i).padStart(8, '0')}=AAAA.BBBB`).join('; ');

  it('a login opens at most 8 state cookies and clears at most 10, however many are sent', () => {
    const open = jest.spyOn(CookieSealer.prototype, 'open');
    const start = auth.beginLogin({ method: 'GET', url: PREFIX, headers: { cookie: junk(400), 'sec-fetch-mode': 'navigate' } });
    expect(open.mock.calls.length).toBeLessThanOrEqual(8);
    const cleared = setCookies(start).filter((c) => /Max-Age=0/.test(c));
    expect(cleared).toHaveLength(10);
    expect(setCookies(start)).toHaveLength(11);
  });

  it('a callback opens only the state cookie its state names', async () => {
    const browser = new Browser();
    hub.signInAtHub(alice);
    const start = auth.beginLogin(browser.navigate(PREFIX));
    browser.apply(start);
    const target = await authorizeAtHub(hub, location(start));
    const open = jest.spyOn(CookieSealer.prototype, 'open');
    const request = browser.navigate(target);
    const done = await auth.handleCallback({ ...request, headers: { ...request.headers, cookie: `${junk(300)}; ${browser.cookieHeader()}` } });
    expect(done.status).toBe(302);
    // The state parameter and the flow's own cookie (a stale login cookie would be a third).
    expect(open.mock.calls.length).toBeLessThanOrEqual(3);
    expect(setCookies(done).filter((c) => c.startsWith(`${STATE}`))).toHaveLength(10);
  });
});

describe('the callback', () => {
  it('refuses a browser sending the login cookie twice, clearing it (no loop through logins)', async () => {
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const planted = browser.jar.get('service-whoami');
    const fresh = new Browser();
    hub.signInAtHub(carol);
    const start = auth.beginLogin(fresh.navigate(PREFIX));
    fresh.apply(start);
    const target = await authorizeAtHub(hub, location(start));
    const before = hub.calls.token;
    const request = fresh.navigate(target);
    const res = await auth.handleCallback({ ...request, headers: { ...request.headers, cookie: `service-whoami=${planted}; service-whoami=${planted}; ${fresh.cookieHeader()}` } });
    expect(res.status).toBe(403);
    expect(hub.calls.token).toBe(before);
    expect(setCookies(res).some((c) => c.startsWith('service-whoami=;'))).toBe(true);
    expect(logger.lines.join('\n')).toMatch(/service-whoami was sent more than once/);
  });

  it('refuses to switch users and keeps the session; the same user may log in again', async () => {
    const browser = new Browser();
    await login(auth, hub, browser, alice);
    const session = browser.jar.get('service-whoami');
    const other = new Browser();
    hub.signInAtHub(carol);
    const start = auth.beginLogin(other.navigate(PREFIX));
    other.apply(start);
    const target = await authorizeAtHub(hub, location(start));
    const victim = browser.clone();
    victim.jar.set(STATE, other.jar.get(STATE) as string);
    const res = await auth.handleCallback(victim.navigate(target));
    expect(res.status).toBe(403);
    victim.apply(res);
    expect(victim.jar.get('service-whoami')).toBe(session);
    expect(logger.lines.join('\n')).toMatch(/user carol in a browser logged in as user alice/);
  });

  it('finishes a login whose state was sealed without a cookie name (before this version)', async () => {
    const browser = new Browser();
    hub.signInAtHub(alice);
    const start = auth.beginLogin(browser.navigate(PREFIX));
    browser.apply(start);
    const target = new URL(await authorizeAtHub(hub, location(start)), 'http://x');
    // Re-seal the state without its cookie name, as an older version did.
    const sealer = new CookieSealer(auth.config.cookieSecrets, 'oauth-state');
    const opened = new StateCodec(sealer, STATE, 600).openParam(target.searchParams.get('state') as string);
    if (opened === null || opened === 'expired') throw new Error('the state does not open');
    expect(opened.cookie).toBe(STATE);
    const { cookie: _cookie, ...old } = opened;
    target.searchParams.set('state', sealer.seal(`${STATE}:param`, JSON.stringify(old)));
    const done = await auth.handleCallback(browser.navigate(target.pathname + target.search));
    expect(done.status).toBe(302);
  });
});

describe('guard policies', () => {
  const user = (name: string, kind: 'user' | 'service' = 'user'): HubUser =>
    Object.freeze({ name, kind, admin: false, groups: [], scopes: ['access:services!service=whoami'] });

  it('are copied and frozen: edits to the original reach nobody', () => {
    const options: AccessPolicy & { hubUsers: string[] } = { hubUsers: ['alice'] };
    const policy = freezePolicy(options);
    options.hubUsers.push('carol');
    options.hubGroups = ['staff'];
    expect(Object.isFrozen(policy) && Object.isFrozen(policy.hubUsers)).toBe(true);
    expect(policy.hubUsers).toEqual(['alice']);
    expect(policy.hubGroups).toBeUndefined();
    expect(() => (policy.hubUsers as string[]).push('x')).toThrow(TypeError);
    expect(freezePolicy(policy)).toBe(policy);
  });

  it('a mutable policy given to authorize is read afresh on every call (no stale remembered decision)', () => {
    const plain = new HubAuth({ ...oauthOptions(hub), cacheMaxAge: 60 });
    const policy: AccessPolicy & { hubUsers: string[] } = { hubUsers: ['alice'] };
    const carolModel = user('carol');
    const identity = { user: carolModel, source: 'header' as const, error: null, rejected: false, setCookies: [], xsrfToken: null };
    const request = { method: 'GET', url: PREFIX, headers: {} };
    expect(plain.authorize(identity, request, policy).action).toBe('deny');
    policy.hubUsers.push('carol');
    expect(plain.authorize(identity, request, policy).action).toBe('allow');
    plain.close();
  });

  it.each([
    [{ hubUsers: 'alice' }, /hubAuthenticated\.hubUsers/],
    [{ hubGroups: [''] }, /hubAuthenticated\.hubGroups/],
    [{ scopes: ['access:services!'] }, /hubAuthenticated\.scopes/],
    [{ allowServices: 'yes' }, /hubAuthenticated\.allowServices/],
    [{ onUnauthenticated: 'redirect' }, /hubAuthenticated\.onUnauthenticated/],
    [{ errors: 'log' }, /hubAuthenticated\.errors/],
    [null, /hubAuthenticated/],
  ])('are validated when the guard is created: %j', (options, message) => {
    expect(() => freezeGuardOptions(options as never)).toThrow(ConfigError);
    expect(() => freezeGuardOptions(options as never)).toThrow(message);
  });
});
