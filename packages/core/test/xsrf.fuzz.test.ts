/**
 * The xsrf gate of HubOAuth.authenticate, fuzzed: for every unsafe method (PUT and PATCH included,
 * which the adapters' contract app does not route), wherever a token is submitted, only this
 * session's token lets a cookie-authenticated request through, and a refusal costs no Hub call.
 */
import fc from 'fast-check';
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { XsrfError } from '../src/errors';
import { HubOAuth } from '../src/hub-oauth';
import type { HubRequest } from '../src/types';
import { Browser, PREFIX, login, newSecret, oauthOptions } from './support';

const RUNS = { numRuns: 10_000 };
const alice: FakeUser = { name: 'alice', scopes: ['access:services!service=whoami'] };
const carol: FakeUser = { name: 'carol', scopes: ['access:services!service=whoami'] };

let hub: FakeHub;
let auth: HubOAuth;
const aliceBrowser = new Browser();
const carolBrowser = new Browser();
const xsrfOf = (b: Browser) => b.jar.get('_xsrf') as string;

beforeAll(async () => {
  hub = await startFakeHub({ requirePkce: true });
  // A long cache: a request that passes the gate is answered from it, so the fuzzing stays in memory.
  auth = new HubOAuth(oauthOptions(hub, { cookieSecret: newSecret(), cacheMaxAge: 3600, logger: { warn: () => undefined, error: () => undefined } }));
  await login(auth, hub, aliceBrowser, alice);
  await login(auth, hub, carolBrowser, carol);
  // Warm the cache for both sessions.
  await auth.authenticate(aliceBrowser.request(`${PREFIX}api`));
  await auth.authenticate(carolBrowser.request(`${PREFIX}api`));
});

afterAll(async () => {
  auth.close();
  await hub.close();
});

type Placement = 'x-xsrftoken' | 'x-csrftoken' | 'form' | 'query';

function submit(browser: Browser, method: string, placement: Placement, token: string | null): HubRequest {
  if (token === null) return browser.request(`${PREFIX}api`, { method });
  switch (placement) {
    case 'x-xsrftoken':
    case 'x-csrftoken':
      return browser.request(`${PREFIX}api`, { method, headers: { [placement]: token } });
    case 'form':
      return browser.request(`${PREFIX}api`, { method, body: { _xsrf: token } });
    case 'query':
      return browser.request(`${PREFIX}api?_xsrf=${encodeURIComponent(token)}`, { method });
  }
}

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
const PLACEMENTS: readonly Placement[] = ['x-xsrftoken', 'x-csrftoken', 'form', 'query'];

describe('HubOAuth xsrf gate on each unsafe method', () => {
  test.each(UNSAFE.flatMap((m) => PLACEMENTS.map((p) => [m, p] as const)))('%s with the token in %s: passes', async (method, placement) => {
    const identity = await auth.authenticate(submit(aliceBrowser, method, placement, xsrfOf(aliceBrowser)));
    expect(identity.error).toBeNull();
    expect(identity.user?.name).toBe('alice');
  });

  test.each(UNSAFE.flatMap((m) => [
    [m, 'no', null],
    [m, 'a wrong', 'abc.def'],
    [m, "another session's", 'carol'],
  ] as const))('%s with %s token: XsrfError 403, no Hub call', async (method, _label, token) => {
    hub.resetCounters();
    const submitted = token === 'carol' ? xsrfOf(carolBrowser) : token;
    const identity = await auth.authenticate(submit(aliceBrowser, method, 'x-xsrftoken', submitted));
    expect(identity.error).toBeInstanceOf(XsrfError);
    expect(identity.error?.status).toBe(403);
    expect(identity.user).toBeNull();
    expect(hub.calls.user).toBe(0);
  });

  test.each(UNSAFE)('%s with a header token and the cookie: the header token wins, no xsrf needed', async (method) => {
    const token = hub.issueToken(carol);
    const identity = await auth.authenticate(aliceBrowser.request(`${PREFIX}api`, { method, headers: { authorization: `token ${token}` } }));
    expect(identity.error).toBeNull();
    expect(identity.source).toBe('header');
    expect(identity.user?.name).toBe('carol');
  });
});

describe('HubOAuth xsrf gate, fuzzed', () => {
  const upperSafe = new Set(['GET', 'HEAD', 'OPTIONS']);
  const anyCase = (word: string) =>
    fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
  const unsafeMethod = fc
    .oneof(fc.constantFrom(...UNSAFE, 'PROPFIND', 'TRACE', 'CONNECT', 'MKCOL', 'PURGE').chain(anyCase), fc.stringMatching(/^[A-Za-z]{1,10}$/))
    .filter((m) => !upperSafe.has(m.toUpperCase()));
  const safeMethod = fc.constantFrom('GET', 'HEAD', 'OPTIONS').chain(anyCase);
  const placement = fc.constantFrom(...PLACEMENTS);

  /** Tokens that are not alice's: random text, carol's, and alice's with one character changed. */
  const wrongToken = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), minLength: 1, maxLength: 80 }),
    fc.constant(null).map(() => xsrfOf(carolBrowser)),
    fc.tuple(fc.nat(), fc.constantFrom(...'AB-_.x%+/= ')).map(([at, c]) => {
      const good = xsrfOf(aliceBrowser);
      const i = at % good.length;
      return good.slice(0, i) + (good[i] === c ? 'Z' : c) + good.slice(i + 1);
    }),
  );

  test('no unsafe method passes without this session’s token, wherever a token is put; no Hub call', async () => {
    hub.resetCounters();
    await fc.assert(
      fc.asyncProperty(unsafeMethod, placement, fc.option(wrongToken, { nil: null }), async (method, where, token) => {
        if (token === xsrfOf(aliceBrowser)) return true;
        const identity = await auth.authenticate(submit(aliceBrowser, method, where, token));
        return identity.error instanceof XsrfError && identity.user === null && identity.source === 'cookie';
      }),
      RUNS,
    );
    expect(hub.calls.user).toBe(0);
  });

  test('every unsafe method passes with the token, in any place; safe methods need none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(unsafeMethod, safeMethod), placement, fc.boolean(), async (method, where, withToken) => {
        const safe = upperSafe.has(method.toUpperCase());
        const identity = await auth.authenticate(submit(aliceBrowser, method, where, withToken || !safe ? xsrfOf(aliceBrowser) : null));
        return identity.error === null && identity.user?.name === 'alice';
      }),
      RUNS,
    );
  });
});
