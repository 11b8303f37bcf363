import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startFakeHub, type Fault, type FakeHub, type FakeUser } from '@hubauth/testing';
import type { HubAuthOptions } from '../src/config';
import { ForbiddenError, HubApiError, HubUnavailableError, ServiceCredentialsError, UnauthenticatedError } from '../src/errors';
import { HubAuth, SESSION_ID_COOKIE, type AccessPolicy, type Identity } from '../src/hub-auth';
import { MAX_REPLY_BYTES } from '../src/hub-client';
import type { HubRequest, HubUser } from '../src/types';
import { PREFIX, RecordingLogger, Transcript, delay, navigation, rejection, request } from './support';

const alice: FakeUser = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };
const bob: FakeUser = { name: 'bob', groups: ['students'], scopes: ['access:services'] };
const carol: FakeUser = { name: 'carol', groups: [], scopes: ['access:services!service=other'] };
const cron: FakeUser = { name: 'cron', kind: 'service', scopes: ['access:services!service=whoami'] };

let hub: FakeHub;
let logger: RecordingLogger;
const transcript = new Transcript();
const secrets: string[] = [];
const instances: HubAuth[] = [];

function makeAuth(options: HubAuthOptions = {}): HubAuth {
  const auth = new HubAuth({
    env: {},
    apiUrl: hub.apiUrl,
    apiToken: hub.serviceToken,
    serviceName: 'whoami',
    servicePrefix: PREFIX,
    logger,
    ...options,
  });
  instances.push(auth);
  return auth;
}

function issue(user: FakeUser = alice, sessionId?: string): string {
  const token = hub.issueToken(user, sessionId === undefined ? {} : { sessionId });
  secrets.push(token);
  return token;
}

function withToken(token: string, url = `${PREFIX}api`, headers: Record<string, string> = {}): HubRequest {
  return request(url, { headers: { authorization: `token ${token}`, ...headers } });
}

async function identify(auth: HubAuth, req: HubRequest): Promise<Identity> {
  const identity = await auth.authenticate(req);
  transcript.add(identity);
  if (identity.error) transcript.add(identity.error);
  return identity;
}

async function failure(promise: Promise<unknown>): Promise<HubUnavailableError> {
  const err = await rejection(promise);
  transcript.add(err);
  expect(err).toBeInstanceOf(HubUnavailableError);
  return err as HubUnavailableError;
}

function expectRetryAfterWhen503(err: HubUnavailableError): void {
  expect([502, 503]).toContain(err.status);
  if (err.status === 503) expect(Number(err.headers['retry-after'])).toBeGreaterThan(0);
  else expect(err.headers['retry-after']).toBeUndefined();
}

beforeAll(async () => {
  hub = await startFakeHub();
  secrets.push(hub.serviceToken);
});

beforeEach(() => {
  logger = new RecordingLogger();
  hub.setFault(null);
  hub.setLatency(0);
  hub.resetCounters();
});

afterEach(() => {
  transcript.add(logger.lines);
  for (const auth of instances.splice(0)) auth.close();
});

afterAll(async () => {
  await hub.close();
});

describe('userForToken', () => {
  it('returns the Hub model, frozen all the way down', async () => {
    const auth = makeAuth();
    const token = hub.issueToken({ ...alice, extra: { info: { nested: ['x'] } } });
    secrets.push(token);
    const user = await auth.userForToken(token);
    expect(user).toMatchObject({ kind: 'user', name: 'alice', admin: false, groups: ['staff'] });
    expect(user?.scopes).toEqual(['access:services!service=whoami']);
    if (!user) return;
    expect(Object.isFrozen(user)).toBe(true);
    expect(Object.isFrozen(user.scopes)).toBe(true);
    expect(Object.isFrozen(user.groups)).toBe(true);
    expect(Object.isFrozen(user.info)).toBe(true);
    expect(() => {
      (user as { name: string }).name = 'mallory';
    }).toThrow(TypeError);
    expect(() => (user.scopes as string[]).push('admin:users')).toThrow(TypeError);
    expect(() => (user.groups as string[]).push('admins')).toThrow(TypeError);
    expect(user.name).toBe('alice');
    // The cached model is the same frozen object, still intact.
    expect(await auth.userForToken(token)).toBe(user);
  });

  it('returns services with kind service and no groups', async () => {
    const auth = makeAuth();
    const user = await auth.userForToken(issue(cron));
    expect(user).toMatchObject({ kind: 'service', name: 'cron', groups: [], session_id: null });
  });

  it.each([401, 403])('returns null when the Hub answers %i', async (status) => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status });
    expect(await auth.userForToken('some-token-value')).toBeNull();
  });

  it('returns null for an unknown token', async () => {
    const auth = makeAuth();
    expect(await auth.userForToken('no-such-token')).toBeNull();
    expect(hub.calls.user).toBe(1);
  });

  it.each([
    ['an empty string', ''],
    ['a space', 'a b'],
    ['a newline', 'a\nb'],
    ['non-ASCII', 'tok\u00e9'],
    ['5,000 characters', 'x'.repeat(5000)],
  ])('answers null for a token with %s, which no Hub has, without asking the Hub', async (_label, token) => {
      const auth = makeAuth();
    expect(await auth.userForToken(token)).toBeNull();
    expect(hub.calls.user).toBe(0);
  });
});

describe('the identity cache', () => {
  it('serves a second lookup from the cache', async () => {
    const auth = makeAuth();
    const token = issue();
    const first = await auth.userForToken(token);
    const second = await auth.userForToken(token);
    expect(second).toBe(first);
    expect(hub.calls.user).toBe(1);
    expect(auth.cacheSize).toBe(1);
  });

  it('keys entries by a hash, never by the token itself', async () => {
    const auth = makeAuth();
    const token = issue();
    await auth.userForToken(token);
    const keys = [...(auth as unknown as { parts: { lookup: { cache: { lru: { keys(): Iterable<string> } } } } }).parts.lookup.cache.lru.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(token);
  });

  it('expires entries after cacheMaxAge', async () => {
    const auth = makeAuth({ cacheMaxAge: 0.2 });
    const token = issue();
    await auth.userForToken(token);
    await auth.userForToken(token);
    expect(hub.calls.user).toBe(1);
    await delay(260);
    await auth.userForToken(token);
    expect(hub.calls.user).toBe(2);
  });

  it('sees a revoked token once its entry expires', async () => {
    const auth = makeAuth({ cacheMaxAge: 0.2 });
    const token = issue();
    expect(await auth.userForToken(token)).not.toBeNull();
    hub.revokeToken(token);
    expect(await auth.userForToken(token)).not.toBeNull();
    await delay(260);
    expect(await auth.userForToken(token)).toBeNull();
  });

  it('keeps at most cacheMaxEntries, evicting the least recently used', async () => {
    const auth = makeAuth({ cacheMaxEntries: 2 });
    const [a, b, c] = [issue(alice), issue(bob), issue(carol)] as [string, string, string];
    await auth.userForToken(a);
    await auth.userForToken(b);
    await auth.userForToken(a); // a is now the most recent
    await auth.userForToken(c); // evicts b
    expect(auth.cacheSize).toBe(2);
    expect(hub.calls.user).toBe(3);
    await auth.userForToken(a);
    expect(hub.calls.user).toBe(3);
    await auth.userForToken(b);
    expect(hub.calls.user).toBe(4);
    expect(auth.cacheSize).toBe(2);
  });

  it('coalesces 1,000 concurrent lookups of one new token into one Hub call', async () => {
    const auth = makeAuth();
    const token = issue();
    hub.setLatency(20);
    const users = await Promise.all(Array.from({ length: 1000 }, () => auth.userForToken(token)));
    expect(hub.calls.user).toBe(1);
    expect(new Set(users).size).toBe(1);
    expect(users[0]?.name).toBe('alice');
  });

  it('coalesces concurrent lookups even with the cache disabled', async () => {
    const auth = makeAuth({ cacheMaxAge: 0 });
    const token = issue();
    hub.setLatency(20);
    await Promise.all(Array.from({ length: 50 }, () => auth.userForToken(token)));
    expect(hub.calls.user).toBe(1);
  });

  it('shares a failure among concurrent lookups, and does not cache it', async () => {
    const auth = makeAuth();
    const token = issue();
    hub.setLatency(20);
    hub.setFault({ type: 'status', status: 500 });
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => auth.userForToken(token)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof HubUnavailableError)).toBe(true);
    expect(hub.calls.user).toBe(1);
    hub.setFault(null);
    expect((await auth.userForToken(token))?.name).toBe('alice');
    expect(hub.calls.user).toBe(2);
  });

  it('caches "no such token" for the shorter negative lifetime', async () => {
    const auth = makeAuth({ cacheMaxAge: 5, negativeCacheMaxAge: 0.15 });
    const good = issue();
    await auth.userForToken(good);
    for (let i = 0; i < 3; i++) expect(await auth.userForToken('bad-token-1')).toBeNull();
    expect(hub.calls.user).toBe(2);
    await delay(220);
    expect(await auth.userForToken('bad-token-1')).toBeNull();
    expect(hub.calls.user).toBe(3);
    await auth.userForToken(good);
    expect(hub.calls.user).toBe(3);
  });

  it('does not cache negative answers with negativeCacheMaxAge 0', async () => {
    const auth = makeAuth({ negativeCacheMaxAge: 0 });
    await auth.userForToken('bad-token-2');
    await auth.userForToken('bad-token-2');
    expect(hub.calls.user).toBe(2);
  });

  it('cacheMaxAge 0 disables caching (it does not mean "forever")', async () => {
    const auth = makeAuth({ cacheMaxAge: 0 });
    const token = issue();
    await auth.userForToken(token);
    await auth.userForToken(token);
    await auth.userForToken('bad-token-3');
    await auth.userForToken('bad-token-3');
    expect(hub.calls.user).toBe(4);
    expect(auth.cacheSize).toBe(0);
  });

  it('useCache: false always asks the Hub and stores nothing', async () => {
    const auth = makeAuth();
    const token = issue();
    await auth.userForToken(token, { useCache: false });
    await auth.userForToken(token, { useCache: false });
    expect(hub.calls.user).toBe(2);
    expect(auth.cacheSize).toBe(0);
  });

  it('keys the cache by token AND the jupyterhub-session-id cookie', async () => {
    const auth = makeAuth();
    const token = issue(alice, 's1');
    const inSession = (sid: string) => withToken(token, `${PREFIX}api`, { cookie: `${SESSION_ID_COOKIE}=${sid}` });
    expect((await identify(auth, inSession('s1'))).user?.name).toBe('alice');
    expect((await identify(auth, inSession('s2'))).user?.name).toBe('alice');
    expect(hub.calls.user).toBe(2);
    await identify(auth, inSession('s1'));
    await identify(auth, inSession('s2'));
    expect(hub.calls.user).toBe(2);
    await identify(auth, withToken(token));
    expect(hub.calls.user).toBe(3);
    expect(auth.getSessionId(inSession('s1'))).toBe('s1');
    expect(auth.getSessionId(inSession('x'.repeat(300)))).toBe('');
  });

  it('invalidate(token) forgets the token in every session', async () => {
    const auth = makeAuth();
    const token = issue();
    const other = issue(bob);
    await auth.userForToken(token, { sessionId: 'a' });
    await auth.userForToken(token, { sessionId: 'b' });
    await auth.userForToken(other);
    expect(auth.invalidate(token)).toBe(2);
    expect(auth.invalidate(token)).toBe(0);
    expect(auth.cacheSize).toBe(1);
    hub.revokeToken(token);
    expect(await auth.userForToken(token, { sessionId: 'a' })).toBeNull();
    expect(hub.calls.user).toBe(4);
  });
});

describe('a failing Hub: HubUnavailableError, never null', () => {
  it.each([500, 502, 503, 504])('Hub status %i → 502', async (status) => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status });
    const err = await failure(auth.userForToken('some-token-4'));
    expect(err.status).toBe(502);
    expect(err.code).toBe('ERR_HUBAUTH_HUB_UNAVAILABLE');
    expect(err.message).toContain(String(status));
  });

  it.each([400, 404, 418, 302])('Hub status %i → 502 (not "no user")', async (status) => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status });
    expect((await failure(auth.userForToken('some-token-5'))).status).toBe(502);
  });

  it('logs a 404 as a wrong API URL', async () => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status: 404 });
    await failure(auth.userForToken('some-token-6'));
    expect(logger.lines.join('\n')).toMatch(/error: .*404.*JUPYTERHUB_API_URL/);
  });

  it.each<[string, Fault]>([
    ['garbage JSON', { type: 'garbage-json' }],
    ['an HTML page', { type: 'html' }],
    ['a truncated reply', { type: 'truncated' }],
    ['JSON that is not a user model', { type: 'huge', bytes: 100 }],
    ['a redirect loop', { type: 'redirect-loop' }],
    ['a model without scopes (JupyterHub < 2)', { type: 'status', status: 200, body: '{"kind":"user","name":"old"}' }],
    ['a JSON list', { type: 'status', status: 200, body: '[{"name":"x","scopes":[]}]' }],
    ['scopes that are not strings', { type: 'status', status: 200, body: '{"name":"x","scopes":["a",42]}' }],
    ['an empty scope', { type: 'status', status: 200, body: '{"name":"x","scopes":[""]}' }],
    ['an empty 200', { type: 'status', status: 200, body: '' }],
  ])('%s → 502', async (_label, fault) => {
    const auth = makeAuth();
    hub.setFault(fault);
    const err = await failure(auth.userForToken('some-token-7'));
    expect(err.status).toBe(502);
  });

  // Not a row above: the status alone would not tell the cap from a parse failure.
  it('a reply over 1 MB is cut off there, not read to its end', async () => {
    const auth = makeAuth();
    hub.setFault({ type: 'huge', bytes: 3 * 1024 * 1024 });
    const err = await failure(auth.userForToken('some-token-7b'));
    expect(err.status).toBe(502);
    expect(err.message).toContain(`exceeded ${MAX_REPLY_BYTES} bytes`);
  });

  it('a connection reset → 502 or 503 with Retry-After', async () => {
    const auth = makeAuth();
    hub.setFault({ type: 'reset' });
    expectRetryAfterWhen503(await failure(auth.userForToken('some-token-8')));
  });

  it('a hung Hub → 503 with Retry-After after requestTimeoutMs', async () => {
    const auth = makeAuth({ requestTimeoutMs: 100 });
    hub.setFault({ type: 'hang' });
    const started = Date.now();
    const err = await failure(auth.userForToken('some-token-9'));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toMatch(/^\d+$/);
    expect(err.message).toMatch(/100 ms/);
  });

  it('a slow Hub → 503 after requestTimeoutMs, and the next lookup works', async () => {
    const auth = makeAuth({ requestTimeoutMs: 100 });
    const token = issue();
    hub.setLatency(400);
    expect((await failure(auth.userForToken(token))).status).toBe(503);
    hub.setLatency(0);
    expect((await auth.userForToken(token))?.name).toBe('alice');
  });

  it('an unreachable Hub → 503 with Retry-After', async () => {
    const down = await startFakeHub();
    const apiUrl = down.apiUrl;
    await down.close();
    const auth = makeAuth({ apiUrl });
    const err = await failure(auth.userForToken('some-token-10'));
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBeDefined();
  });

  it('authenticate() never throws: the failure is in identity.error, and authorize denies with it', async () => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status: 500 });
    const identity = await identify(auth, withToken(issue()));
    expect(identity.user).toBeNull();
    expect(identity.rejected).toBe(false);
    expect(identity.error).toBeInstanceOf(HubUnavailableError);
    const decision = auth.authorize(identity, withToken('x'));
    expect(decision).toMatchObject({ action: 'deny' });
    if (decision.action === 'deny') expect(decision.error.status).toBe(502);
  });
});

describe('bounded concurrency', () => {
  it('never has more than maxConcurrentLookups requests at the Hub', async () => {
    const auth = makeAuth({ maxConcurrentLookups: 3 });
    const tokens = Array.from({ length: 20 }, () => issue());
    hub.setLatency(30);
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, auth.lookupsInFlight);
    }, 5);
    const users = await Promise.all(tokens.map((t) => auth.userForToken(t)));
    clearInterval(watch);
    expect(users.every((u) => u?.name === 'alice')).toBe(true);
    expect(hub.calls.user).toBe(20);
    expect(hub.maxInFlight).toBe(3);
    expect(peak).toBeLessThanOrEqual(3);
    expect(auth.lookupsInFlight).toBe(0);
  });

  it('answers 503 beyond maxPendingLookups waiting lookups', async () => {
    const auth = makeAuth({ maxConcurrentLookups: 1, maxPendingLookups: 2 });
    const tokens = Array.from({ length: 6 }, () => issue());
    hub.setLatency(50);
    const results = await Promise.allSettled(tokens.map((t) => auth.userForToken(t)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as HubUnavailableError] : []));
    expect(ok).toHaveLength(3);
    expect(failed).toHaveLength(3);
    for (const err of failed) {
      expect(err).toBeInstanceOf(HubUnavailableError);
      expect(err.status).toBe(503);
      expect(err.headers['retry-after']).toBe('1');
    }
    expect(hub.calls.user).toBe(3);
    expect(hub.maxInFlight).toBe(1);
  });
});

describe('access decisions', () => {
  function model(fields: Partial<HubUser> & { name: string }): HubUser {
    return Object.freeze({ kind: 'user', admin: false, groups: [], scopes: [], ...fields }) as HubUser;
  }

  const aliceM = model({ name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] });
  const bobM = model({ name: 'bob', groups: ['students'], scopes: ['access:services'] });
  const carolM = model({ name: 'carol', scopes: ['access:services!service=other'] });
  const svcM = model({ name: 'cron', kind: 'service', scopes: ['access:services!service=whoami'] });
  const foreignSvcM = model({ name: 'other', kind: 'service', scopes: ['access:servers!user=other'] });

  it('requires one of the access scopes, filters honoured, for users and services alike', () => {
    const auth = makeAuth();
    expect(auth.accessDenial(aliceM)).toBeNull();
    expect(auth.accessDenial(bobM)).toBeNull();
    expect(auth.accessDenial(svcM)).toBeNull();
    expect(auth.accessDenial(carolM)).toMatch(/user carol is not allowed: it lacks the scope access:services!service=whoami/);
    expect(auth.accessDenial(foreignSvcM)).toMatch(/service other is not allowed/);
  });

  it('policy.scopes replaces the service access scopes', () => {
    const auth = makeAuth();
    const policy: AccessPolicy = { scopes: ['custom:grades:read', 'access:services'] };
    expect(auth.accessDenial(bobM, policy)).toBeNull();
    expect(auth.accessDenial(aliceM, policy)).toMatch(/any of the scopes custom:grades:read, access:services/);
    expect(auth.accessDenial(model({ name: 'dan', scopes: ['custom:grades:read'] }), policy)).toBeNull();
  });

  it('an empty policy.scopes grants access to no one (it does not switch the check off)', () => {
    const auth = makeAuth();
    expect(auth.accessDenial(bobM, { scopes: [] })).toMatch(/user bob is not allowed: no scope grants access here/);
    expect(auth.accessDenial(svcM, { scopes: [] })).toMatch(/service cron is not allowed/);
    const open = makeAuth({ serviceName: undefined, allowAll: true });
    expect(open.accessDenial(bobM, { scopes: [] })).toMatch(/not allowed/);
    expect(open.accessDenial(bobM)).toBeNull();
  });

  it('hubUsers and hubGroups combine by OR, on top of the scope check', () => {
    const auth = makeAuth();
    const policy: AccessPolicy = { hubUsers: ['bob'], hubGroups: ['staff'] };
    expect(auth.accessDenial(aliceM, policy)).toBeNull();
    expect(auth.accessDenial(bobM, policy)).toBeNull();
    expect(auth.accessDenial(model({ name: 'eve', groups: ['students'], scopes: ['access:services'] }), policy)).toMatch(
      /user eve is not allowed/,
    );
    expect(auth.accessDenial(carolM, { hubUsers: ['carol'] })).toMatch(/lacks the scope/);
    expect(auth.accessDenial(aliceM, { hubUsers: [] })).toMatch(/not allowed/);
    expect(auth.accessDenial(aliceM, { hubGroups: ['staff'] })).toBeNull();
  });

  it('services pass by scope unless a name list is set or allowServices is false', () => {
    const auth = makeAuth();
    expect(auth.accessDenial(svcM, {})).toBeNull();
    expect(auth.accessDenial(svcM, { allowServices: false })).toMatch(/services are not allowed/);
    expect(auth.accessDenial(svcM, { hubUsers: ['cron'] })).toMatch(/services are not allowed/);
    expect(auth.accessDenial(svcM, { hubGroups: ['staff'], allowServices: true })).toBeNull();
    expect(auth.accessDenial(foreignSvcM, { allowServices: true })).toMatch(/lacks/);
  });

  it('allowedUsers, blockedUsers and usernamePattern restrict users; blockedUsers blocks services too', () => {
    const auth = makeAuth({ allowedUsers: ['alice', 'bob'], blockedUsers: ['bob', 'cron'], usernamePattern: '[a-z]{3,5}' });
    expect(auth.accessDenial(aliceM)).toBeNull();
    expect(auth.accessDenial(bobM)).toMatch(/user bob is not allowed \(blocked\)/);
    expect(auth.accessDenial(model({ name: 'frank', scopes: ['access:services'] }))).toMatch(/not allowed: not in allowedUsers$/);
    expect(auth.accessDenial(model({ name: 'alice2', scopes: ['access:services'] }))).toMatch(/name does not match/);
    // A block is never a no-op, whatever the kind, even where services are allowed.
    expect(auth.accessDenial(svcM)).toMatch(/service cron is not allowed \(blocked\)/);
    expect(auth.accessDenial(svcM, { allowServices: true })).toMatch(/\(blocked\)/);
  });

  it('with allowedUsers or usernamePattern, services pass only where allowServices is true', () => {
    for (const options of [{ allowedUsers: ['alice'] }, { usernamePattern: '[a-z]+' }, { allowedUsers: ['cron'] }]) {
      const auth = makeAuth(options);
      expect(auth.accessDenial(svcM)).toMatch(/services are not allowed here/);
      expect(auth.accessDenial(svcM, { allowServices: true })).toBeNull();
      expect(auth.accessDenial(foreignSvcM, { allowServices: true })).toMatch(/lacks/);
    }
    expect(makeAuth().accessDenial(svcM)).toBeNull();
  });

  it('allowedUsers does not bypass the scope check', () => {
    const auth = makeAuth({ allowedUsers: ['carol'] });
    expect(auth.accessDenial(carolM)).toMatch(/lacks/);
  });

  it('allowAll accepts every identity the Hub vouches for', () => {
    const auth = makeAuth({ serviceName: undefined, allowAll: true });
    expect(auth.accessDenial(carolM)).toBeNull();
    expect(auth.accessDenial(foreignSvcM)).toBeNull();
    expect(auth.accessDenial(carolM, { hubUsers: ['alice'] })).toMatch(/not allowed/);
  });

  it('checkScopes reports which required scopes are granted', () => {
    const auth = makeAuth();
    expect([...auth.checkScopes(['access:services!service=whoami', 'read:users'], aliceM)]).toEqual([
      'access:services!service=whoami',
    ]);
    expect(auth.checkScopes('access:services', aliceM).size).toBe(0);
  });

  describe('authorize()', () => {
    const anonymous: Identity = { user: null, source: null, error: null, rejected: false, setCookies: [], xsrfToken: null };

    it('allows an identified, permitted caller', async () => {
      const auth = makeAuth();
      const identity = await identify(auth, withToken(issue()));
      expect(auth.authorize(identity, withToken('x'))).toEqual({ action: 'allow', user: identity.user });
    });

    it.each(['auto', 'login', 'reject'] as const)(
      'answers 401 with a Bearer challenge to anonymous callers (onUnauthenticated %s): token-only HubAuth never redirects',
      (mode) => {
        const auth = makeAuth();
        const decision = auth.authorize(anonymous, navigation(`${PREFIX}page`), { onUnauthenticated: mode });
        expect(decision.action).toBe('deny');
        if (decision.action !== 'deny') return;
        expect(decision.error).toBeInstanceOf(UnauthenticatedError);
        expect(decision.error.status).toBe(401);
        expect(decision.error.headers['www-authenticate']).toBe(`Bearer realm="${PREFIX}"`);
      },
    );

    it('answers 403 insufficient_scope, never a redirect, to an identified caller who is not allowed', async () => {
      const auth = makeAuth();
      const identity = await identify(auth, withToken(issue(carol)));
      expect(identity.user?.name).toBe('carol');
      for (const mode of ['auto', 'login', 'reject'] as const) {
        const decision = auth.authorize(identity, navigation(`${PREFIX}page`), { onUnauthenticated: mode });
        expect(decision.action).toBe('deny');
        if (decision.action !== 'deny') continue;
        transcript.add(decision.error);
        expect(decision.error).toBeInstanceOf(ForbiddenError);
        expect(decision.error.status).toBe(403);
        expect(decision.error.headers['www-authenticate']).toBe(
          `Bearer realm="${PREFIX}", error="insufficient_scope", scope="access:services!service=whoami"`,
        );
      }
    });

    it('applies the route policy', async () => {
      const auth = makeAuth();
      const identity = await identify(auth, withToken(issue(bob)));
      expect(auth.authorize(identity, withToken('x'), { hubGroups: ['staff'] }).action).toBe('deny');
      expect(auth.authorize(identity, withToken('x'), { hubGroups: ['students'] }).action).toBe('allow');
      const svc = await identify(auth, withToken(issue(cron)));
      expect(auth.authorize(svc, withToken('x'), { hubGroups: ['students'] }).action).toBe('deny');
      expect(auth.authorize(svc, withToken('x')).action).toBe('allow');
    });
  });

  describe('postAuthHook', () => {
    it('may enrich the model, which stays frozen', async () => {
      const auth = makeAuth({
        postAuthHook: async (user, { request: req }) => ({ ...user, displayName: user.name.toUpperCase(), path: req.url }),
      });
      const identity = await identify(auth, withToken(issue()));
      expect(identity.user).toMatchObject({ name: 'alice', displayName: 'ALICE', path: `${PREFIX}api` });
      expect(Object.isFrozen(identity.user)).toBe(true);
      expect(auth.authorize(identity, withToken('x')).action).toBe('allow');
    });

    it.each([null, false] as const)('refuses the caller with 403 when it returns %s', async (verdict) => {
      const auth = makeAuth({ postAuthHook: () => verdict });
      const identity = await identify(auth, withToken(issue()));
      expect(identity.user).toBeNull();
      expect(identity.error).toBeInstanceOf(ForbiddenError);
      const decision = auth.authorize(identity, navigation(`${PREFIX}page`));
      expect(decision.action === 'deny' && decision.error.status).toBe(403);
    });

    it('turns a throwing hook into a logged 502', async () => {
      const auth = makeAuth({
        postAuthHook: () => {
          throw new Error('hook exploded');
        },
      });
      const identity = await identify(auth, withToken(issue()));
      expect(identity.error?.status).toBe(502);
      expect(logger.lines.join('\n')).toMatch(/error: Unexpected error while authenticating: hook exploded/);
    });

    it('is not called for unknown tokens', async () => {
      const hook = jest.fn((user: HubUser) => user);
      const auth = makeAuth({ postAuthHook: hook });
      await identify(auth, withToken('no-such-token-11'));
      expect(hook).not.toHaveBeenCalled();
    });
  });
});

describe('renderError', () => {
  it('renders JSON for API calls and escaped HTML for navigations', () => {
    const auth = makeAuth();
    const err = new ForbiddenError('user <b>x</b> is not allowed');
    const api = auth.renderError(err, request(`${PREFIX}api`));
    transcript.add(api);
    expect(api.status).toBe(403);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(api.headers['cache-control']).toBe('no-store');
    expect(api.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(JSON.parse(api.body ?? '')).toEqual({
      status: 403,
      code: 'ERR_HUBAUTH_FORBIDDEN',
      message: 'user <b>x</b> is not allowed',
      docs: 'docs/errors.md#err_hubauth_forbidden',
    });
    const page = auth.renderError(err, navigation(`${PREFIX}page`));
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('403 Forbidden');
    expect(page.body).toContain('&#60;b&#62;x&#60;/b&#62;');
    expect(page.body).not.toContain('<b>');
  });

  it('hides the details of unexposed 5xx errors and of foreign errors', () => {
    const auth = makeAuth();
    const creds = auth.renderError(new ServiceCredentialsError('details for the log only'), request('/x'));
    expect(creds.status).toBe(500);
    expect(creds.body).not.toContain('details for the log only');
    const foreign = auth.renderError(new Error('internal detail'), request('/x'));
    expect(foreign.status).toBe(500);
    expect(foreign.body).not.toContain('internal detail');
    expect(JSON.parse(foreign.body ?? '')).toMatchObject({ code: 'ERR_HUBAUTH_INTERNAL' });
  });

  it('carries Retry-After for a 503', () => {
    const auth = makeAuth();
    const res = auth.renderError(new HubUnavailableError('down', { status: 503, retryAfter: 7 }), request('/x'));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
  });
});

describe('apiRequest', () => {
  it("sends the service's own token and parses the reply", async () => {
    const auth = makeAuth();
    expect(await auth.apiRequest('get', '/')).toEqual({ status: 200, body: { version: '6.1.1' } });
    const sent = hub.requests.at(-1);
    expect(sent?.path).toBe('/hub/api/');
    expect(sent?.headers.authorization).toBe(`token ${hub.serviceToken}`);
  });

  it('sends a JSON body', async () => {
    const auth = makeAuth();
    const err = await rejection(auth.apiRequest('POST', 'users/alice/tokens', { note: 'x' }));
    transcript.add(err);
    const sent = hub.requests.at(-1);
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/hub/api/users/alice/tokens');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.body).toBe('{"note":"x"}');
  });

  it('403 → ServiceCredentialsError (500, not exposed)', async () => {
    const auth = makeAuth();
    // A revoked service token: /user answers 403.
    hub.revokeToken(hub.serviceToken);
    const err = await rejection(auth.apiRequest('GET', '/user')).finally(() =>
      hub.addToken(hub.serviceToken, { name: hub.serviceName, kind: 'service', scopes: [] }),
    );
    transcript.add(err);
    expect(err).toBeInstanceOf(ServiceCredentialsError);
    expect((err as ServiceCredentialsError).status).toBe(500);
    expect((err as ServiceCredentialsError).expose).toBe(false);
    expect(err.message).toMatch(/JUPYTERHUB_API_TOKEN/);
  });

  it('404 → HubApiError', async () => {
    const auth = makeAuth();
    const err = await rejection(auth.apiRequest('GET', '/no/such/endpoint'));
    transcript.add(err);
    expect(err).toBeInstanceOf(HubApiError);
    expect((err as HubApiError).hubStatus).toBe(404);
    expect((err as HubApiError).status).toBe(500);
  });

  it('a Hub 5xx → HubApiError 502', async () => {
    const auth = makeAuth();
    hub.setFault({ type: 'status', status: 503 });
    const err = await rejection(auth.apiRequest('GET', '/user'));
    expect(err).toBeInstanceOf(HubApiError);
    expect((err as HubApiError).status).toBe(502);
  });

  it('without an API token: ServiceCredentialsError and no Hub call', async () => {
    const auth = makeAuth({ apiToken: undefined });
    expect(await rejection(auth.apiRequest('GET', '/'))).toBeInstanceOf(ServiceCredentialsError);
    expect(hub.calls.other).toBe(0);
  });
});

describe('an http+unix:// API URL', () => {
  let dir: string;
  let server: Server;
  let socket: string;
  const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hubauth-unix-'));
    socket = join(dir, 'Hub API.sock');
    server = createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      if (req.url === '/hub/api/user' && req.headers.authorization === 'token unix-token-1') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'user', name: 'unixuser', admin: false, groups: [], scopes: ['access:services!service=whoami'] }));
      } else {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"status":403}');
      }
    });
    server.listen(socket);
    await once(server, 'listening');
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('talks to the Hub over the unix socket', async () => {
    const auth = makeAuth({ apiUrl: `http+unix://${encodeURIComponent(socket)}/hub/api` });
    expect((await auth.userForToken('unix-token-1'))?.name).toBe('unixuser');
    expect(await auth.userForToken('unix-token-2')).toBeNull();
    expect(seen.map((s) => s.url)).toEqual(['/hub/api/user', '/hub/api/user']);
  });

  it('reports a missing socket as 503', async () => {
    const auth = makeAuth({ apiUrl: `http+unix://${encodeURIComponent(join(dir, 'none.sock'))}/hub/api` });
    const err = await failure(auth.userForToken('unix-token-1'));
    expect(err.status).toBe(503);
    expect(err.message).toContain('none.sock');
  });
});

describe('no secret in anything produced', () => {
  it('holds for this file', () => {
    expect(transcript.size).toBeGreaterThan(30);
    expect(transcript.leaked(secrets)).toEqual([]);
  });
});
