/**
 * Attacks from a neighbour: a sibling host that can set cookies for ours, a TLS-terminating proxy,
 * cross-origin reads and websockets, junk cookies sent to amplify work, guard options edited at run
 * time, services named in user lists, and `Accept` headers that only look like a browser's.
 * SECURITY.md ("Threat model") lists each attack and the answer checked here.
 */
import type { HubAuthLogger, HubAuthMiddlewareOptions } from '@hubauth/core';
import { randomBytes } from 'node:crypto';
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { USERS } from '../contract/scenarios';
import { PREFIX, type ContractApp, type ContractAppFactory } from '../contract/types';
import { RawJar, header, headerValues, rawRequest, type RawRequest, type RawResponse } from './http';

type Pair = readonly [string, string];

const NAVIGATE: Pair[] = [
  ['sec-fetch-mode', 'navigate'],
  ['sec-fetch-site', 'none'],
  ['sec-fetch-dest', 'document'],
  ['accept', 'text/html,application/xhtml+xml'],
];
const COOKIE = 'service-whoami';
const STATE_COOKIE = `${COOKIE}-oauth-state`;
const CALLBACK = `${PREFIX}oauth_callback`;

const setsLogin = (res: RawResponse): boolean => headerValues(res, 'set-cookie').some((c) => c.startsWith(`${COOKIE}=`) && !c.startsWith(`${COOKIE}=;`));
const clears = (res: RawResponse, name: string): boolean => headerValues(res, 'set-cookie').some((c) => c.startsWith(`${name}=;`));
const cookieLine = (res: RawResponse, name: string): string => headerValues(res, 'set-cookie').find((c) => c.startsWith(`${name}=`)) ?? '';

/** Declares the neighbour attacks for one adapter/framework pair (called by `runAdversarial`). */
export function runHardening(name: string, factory: ContractAppFactory): void {
  describe(`hardening: ${name}`, () => {
    const SECRET = `hardening-${randomBytes(24).toString('hex')}`;
    const logLines: string[] = [];
    const logger: HubAuthLogger = {
      warn: (m) => logLines.push(`warn: ${m}`),
      error: (m) => logLines.push(`error: ${m}`),
      info: (m) => logLines.push(`info: ${m}`),
    };
    /** Where the log lines of the current check start. */
    let mark = 0;
    let hub: FakeHub;
    const apps = new Map<string, ContractApp>();
    const tokens = {} as Record<'alice' | 'carol' | 'cron', string>;

    const baseOptions = (): HubAuthMiddlewareOptions => ({
      env: {},
      apiUrl: hub.apiUrl,
      apiToken: hub.serviceToken,
      clientId: hub.clientId,
      serviceName: 'whoami',
      servicePrefix: PREFIX,
      publicHubUrl: `${hub.url}/hub/`,
      cookieSecret: SECRET,
      cacheMaxAge: 0,
      requestTimeoutMs: 2000,
      logger,
    });

    async function app(key: string, extra: HubAuthMiddlewareOptions = {}): Promise<ContractApp> {
      let existing = apps.get(key);
      if (!existing) {
        existing = await factory({ ...baseOptions(), ...extra });
        apps.set(key, existing);
      }
      return existing;
    }
    const main = () => app('main');

    const send = async (target: ContractApp, req: RawRequest): Promise<RawResponse> => rawRequest(target.server, req);
    const withCookie = (base: readonly Pair[], cookie: string): Pair[] => (cookie ? [...base, ['cookie', cookie]] : [...base]);
    const hostOf = (target: ContractApp): string => `127.0.0.1:${(target.server.address() as { port: number }).port}`;

    /** Starts a login on `target` as a browser holding `jar`; returns the callback target the Hub sends `user` to. */
    async function startLogin(target: ContractApp, jar: RawJar, user: FakeUser, extra: readonly Pair[] = []): Promise<{ callback: string; start: RawResponse }> {
      const start = await send(target, { target: PREFIX, headers: [...withCookie(NAVIGATE, jar.header()), ...extra] });
      expect(start.status).toBe(302);
      jar.apply(start);
      hub.signInAtHub(user);
      const res = await fetch(header(start, 'location'), { redirect: 'manual' });
      await res.arrayBuffer();
      return { callback: res.headers.get('location') as string, start };
    }

    async function login(target: ContractApp, user: FakeUser, jar = new RawJar()): Promise<RawJar> {
      const { callback } = await startLogin(target, jar, user);
      const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, jar.header()) });
      expect(done.status).toBe(302);
      jar.apply(done);
      expect(jar.cookies.has(COOKIE)).toBe(true);
      return jar;
    }

    /** Who `cookie` logs in as on `target`, asked the way a page's own script would (with its xsrf token). */
    async function whoIs(target: ContractApp, jar: RawJar): Promise<string | null> {
      const res = await send(target, {
        target: `${PREFIX}api/me`,
        headers: [
          ...withCookie([['sec-fetch-mode', 'cors'], ['sec-fetch-site', 'same-origin'], ['accept', 'application/json']], jar.header()),
          ['x-xsrftoken', jar.cookies.get('_xsrf') ?? ''],
        ],
      });
      return res.status === 200 ? (JSON.parse(res.body) as { name: string }).name : null;
    }

    beforeAll(async () => {
      hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: CALLBACK, requirePkce: true });
      tokens.alice = hub.issueToken(USERS.alice);
      tokens.carol = hub.issueToken(USERS.carol);
      tokens.cron = hub.issueToken(USERS.cron);
    });

    afterAll(async () => {
      await Promise.all([...apps.values()].map((a) => a.close()));
      await hub?.close();
    });

    afterEach(() => {
      jest.restoreAllMocks();
    });

    // -------------------------------------------------------------------------------------------
    describe('1. cookies tossed from a sibling host', () => {
      test('two login cookies (a planted one beside the real one, either order): anonymous, cleared, logged', async () => {
        const target = await main();
        const victim = await login(target, USERS.alice);
        const attacker = await login(target, USERS.carol);
        const real = `${COOKIE}=${victim.cookies.get(COOKIE)}`;
        const planted = `${COOKIE}=${attacker.cookies.get(COOKIE)}`;
        for (const cookie of [`${planted}; ${real}`, `${real}; ${planted}`, `${real}; ${real}`]) {
          mark = logLines.length;
          const api = await send(target, { target: `${PREFIX}api/me`, headers: withCookie([['accept', 'application/json']], `${cookie}; _xsrf=${victim.cookies.get('_xsrf')}`) });
          expect({ cookie, status: api.status }).toEqual({ cookie, status: 401 });
          expect(clears(api, COOKIE)).toBe(true);
          expect(logLines.slice(mark).join('\n')).toMatch(new RegExp(`${COOKIE}.*(twice|several|more than once)`));
          const nav = await send(target, { target: `${PREFIX}api/me`, headers: withCookie(NAVIGATE, cookie) });
          expect(nav.status).toBe(302);
          expect(header(nav, 'location').startsWith(`${hub.url}/hub/api/oauth2/authorize?`)).toBe(true);
        }
      });

      test("an attacker's state cookie planted beside the victim's own, with the attacker's callback: refused, no exchange", async () => {
        const target = await main();
        const attacker = new RawJar();
        const { callback } = await startLogin(target, attacker, USERS.carol);
        const victim = new RawJar();
        await startLogin(target, victim, USERS.alice);
        for (const order of ['planted first', 'planted last'] as const) {
          const planted = `${STATE_COOKIE}=${attacker.cookies.get(STATE_COOKIE)}`;
          const own = `${STATE_COOKIE}=${victim.cookies.get(STATE_COOKIE)}`;
          hub.resetCounters();
          mark = logLines.length;
          const res = await send(target, { target: callback, headers: withCookie(NAVIGATE, order === 'planted first' ? `${planted}; ${own}` : `${own}; ${planted}`) });
          expect({ order, status: res.status }).toEqual({ order, status: 403 });
          expect(hub.calls.token).toBe(0);
          expect(setsLogin(res)).toBe(false);
          expect(clears(res, STATE_COOKIE)).toBe(true);
          expect(logLines.slice(mark).join('\n')).toMatch(new RegExp(`${STATE_COOKIE}.*(twice|several|more than once)`));
        }
      });

      test("a callback never switches a logged-in browser to another user: the victim stays who they were", async () => {
        const target = await main();
        const victim = await login(target, USERS.alice);
        // The attacker starts a login of their own and plants its state cookie in the victim's browser.
        const attacker = new RawJar();
        const { callback } = await startLogin(target, attacker, USERS.carol);
        const cookie = `${victim.header()}; ${STATE_COOKIE}=${attacker.cookies.get(STATE_COOKIE)}`;
        mark = logLines.length;
        const res = await send(target, { target: callback, headers: withCookie(NAVIGATE, cookie) });
        expect(setsLogin(res)).toBe(false);
        expect(res.status).toBe(403);
        expect(res.body).toMatch(/already logged in/i);
        expect(logLines.slice(mark).join('\n')).toMatch(/alice.*carol|carol.*alice/);
        const after = victim.clone().apply(res);
        expect(await whoIs(target, after)).toBe('alice');
      });

      test('the same user logging in again still replaces the cookie (the control case)', async () => {
        const target = await main();
        const jar = await login(target, USERS.alice);
        const before = jar.cookies.get(COOKIE);
        // A second tab started a login before the first one finished.
        const tab = new RawJar();
        const { callback } = await startLogin(target, tab, USERS.alice);
        jar.cookies.set(STATE_COOKIE, tab.cookies.get(STATE_COOKIE) as string);
        const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, jar.header()) });
        expect(done.status).toBe(302);
        jar.apply(done);
        expect(jar.cookies.get(COOKIE)).not.toBe(before);
        expect(await whoIs(target, jar)).toBe('alice');
      });

      test('a browser whose login cookie no longer works can log in as someone else', async () => {
        const target = await main();
        const jar = await login(target, USERS.alice);
        jar.cookies.set(COOKIE, `${jar.cookies.get(COOKIE)?.slice(0, -2)}AA`);
        await login(target, USERS.carol, jar);
        expect(await whoIs(target, jar)).toBe('carol');
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('2. Secure behind a TLS-terminating proxy, without trust-proxy or a public URL', () => {
      const proxied: ReadonlyArray<readonly [string, Pair[]]> = [
        ['X-Forwarded-Proto: https', [['x-forwarded-proto', 'https']]],
        ['X-Forwarded-Proto: https, http', [['x-forwarded-proto', 'https, http']]],
        ['Forwarded: proto=https', [['forwarded', 'for=192.0.2.1;proto=https;host=example.org']]],
        ['Forwarded: "Proto=HTTPS"', [['forwarded', 'for="[2001:db8::1]";Proto=HTTPS, for=10.0.0.1;proto=http']]],
      ];

      test.each(proxied.map(([label, headers]) => [label, headers] as const))('%s: every cookie set is Secure', async (_label, headers) => {
        const target = await main();
        const jar = new RawJar();
        const { callback, start } = await startLogin(target, jar, USERS.alice, headers);
        expect(cookieLine(start, STATE_COOKIE)).toMatch(/; Secure/);
        const done = await send(target, { target: callback, headers: [...withCookie(NAVIGATE, jar.header()), ...headers] });
        expect(done.status).toBe(302);
        expect(cookieLine(done, COOKIE)).toMatch(/; Secure/);
        expect(cookieLine(done, '_xsrf')).toMatch(/; Secure/);
        expect(cookieLine(done, STATE_COOKIE)).toMatch(/; Secure/);
      });

      test('plain http, or a forwarded http, stays without Secure (the control case)', async () => {
        const target = await main();
        for (const headers of [[], [['x-forwarded-proto', 'http']], [['forwarded', 'proto=http']]] as Pair[][]) {
          const jar = new RawJar();
          const { start } = await startLogin(target, jar, USERS.alice, headers);
          expect(cookieLine(start, STATE_COOKIE)).not.toMatch(/Secure/);
        }
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("3. fetch metadata: the Hub's xsrf rule for cookie-authenticated reads, Origin on websockets", () => {
      let alice: RawJar;
      beforeAll(async () => {
        alice = await login(await main(), USERS.alice);
      });
      const read = async (headers: readonly Pair[], method = 'GET', path = `${PREFIX}api/me`) => {
        hub.resetCounters();
        return send(await main(), { method, target: path, headers: withCookie(headers, alice.header()) });
      };
      const xsrf = (): Pair => ['x-xsrftoken', alice.cookies.get('_xsrf') as string];

      const NEEDS_TOKEN: ReadonlyArray<readonly [string, Pair[]]> = [
        ['a cors GET (fetch from a page)', [['sec-fetch-mode', 'cors'], ['sec-fetch-site', 'same-origin']]],
        ['a cors GET from a sibling host', [['sec-fetch-mode', 'cors'], ['sec-fetch-site', 'same-site']]],
        ['a same-origin-mode GET', [['sec-fetch-mode', 'same-origin'], ['sec-fetch-site', 'same-origin']]],
        ['a no-cors GET from a sibling host (<script src>)', [['sec-fetch-mode', 'no-cors'], ['sec-fetch-site', 'same-site'], ['sec-fetch-dest', 'script']]],
        ['a no-cors GET from another site', [['sec-fetch-mode', 'no-cors'], ['sec-fetch-site', 'cross-site']]],
        ['a no-cors GET without Sec-Fetch-Site', [['sec-fetch-mode', 'no-cors']]],
      ];
      test.each(NEEDS_TOKEN.map(([label, headers]) => [label, headers] as const))('%s needs the xsrf token', async (_label, headers) => {
        for (const method of ['GET', 'HEAD']) {
          const without = await read(headers, method);
          expect({ method, status: without.status }).toEqual({ method, status: 403 });
          if (method === 'GET') expect(without.body).toMatch(/xsrf/i);
          expect(hub.calls.user).toBe(0);
          const withToken = await read([...headers, xsrf()], method);
          expect({ method, status: withToken.status }).toEqual({ method, status: 200 });
        }
      });

      const EXEMPT: ReadonlyArray<readonly [string, Pair[]]> = [
        ['a navigation', NAVIGATE],
        ['a request without fetch metadata', [['accept', 'application/json']]],
        ['a same-origin no-cors GET (<img>, <script> of our own pages)', [['sec-fetch-mode', 'no-cors'], ['sec-fetch-site', 'same-origin']]],
      ];
      test.each(EXEMPT.map(([label, headers]) => [label, headers] as const))('%s needs no token', async (_label, headers) => {
        for (const method of ['GET', 'HEAD']) {
          const res = await read(headers, method);
          expect({ method, status: res.status }).toEqual({ method, status: 200 });
        }
      });

      const websocket = (origin: string | null, host: string): Pair[] => [
        ['sec-fetch-mode', 'websocket'],
        ['sec-fetch-site', origin === null ? 'same-origin' : 'cross-site'],
        ['upgrade', 'websocket'],
        ['connection', 'Upgrade'],
        ['sec-websocket-version', '13'],
        ['sec-websocket-key', randomBytes(16).toString('base64')],
        ['host', host],
        ...(origin === null ? [] : ([['origin', origin]] as Pair[])),
      ];

      test('a websocket upgrade from a foreign Origin is not authenticated by the cookie', async () => {
        const target = await main();
        const host = hostOf(target);
        for (const origin of ['http://evil.example', `http://sibling.${host}`, `http://${host}.evil.example`, 'null', 'not a url']) {
          mark = logLines.length;
          const res = await read(websocket(origin, host));
          expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
          expect(res.body).toMatch(/origin/i);
          expect(hub.calls.user).toBe(0);
        }
      });

      test('a websocket upgrade from our own Origin, or without one (not a browser), is', async () => {
        const target = await main();
        const host = hostOf(target);
        for (const origin of [`http://${host}`, null]) {
          const res = await read(websocket(origin, host));
          expect({ origin, status: res.status }).toEqual({ origin, status: 200 });
        }
      });

      test('a websocket upgrade with a token in the URL needs no Origin check (not the cookie)', async () => {
        const target = await main();
        const res = await send(target, { target: `${PREFIX}api/me?token=${tokens.carol}`, headers: websocket('http://evil.example', hostOf(target)) });
        expect(res.status).toBe(200);
        expect((JSON.parse(res.body) as { name: string }).name).toBe('carol');
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('4. junk state cookies: bounded work and a bounded reply', () => {
      const junk = (n: number): string =>
        // Shaped like sealed values (base64url, a dot, base64url), so each one costs a signature check.
        Array.from({ length: n }, (_, i) => `${STATE_COOKIE}-${i.toString(36).padStart(8, 'a')}=${randomBytes(3).toString('base64url')}.${randomBytes(3).toString('base64url')}`).join('; ');

      test('an anonymous navigation with 300 junk state cookies: a few clearing Set-Cookies, not 300', async () => {
        const target = await main();
        const cookie = junk(300);
        expect(cookie.length).toBeLessThan(15_000);
        const res = await send(target, { target: `${PREFIX}api/me`, headers: withCookie(NAVIGATE, cookie) });
        expect(res.status).toBe(302);
        const lines = headerValues(res, 'set-cookie');
        expect(lines.length).toBeLessThanOrEqual(12);
        expect(lines.join('\n').length).toBeLessThan(4_000);
      });

      test('a callback and a logout with 250 junk state cookies: a bounded reply', async () => {
        const target = await main();
        const jar = new RawJar();
        const { callback } = await startLogin(target, jar, USERS.alice);
        const cookie = `${junk(250)}; ${jar.header()}`;
        const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, cookie) });
        expect(done.status).toBe(302);
        expect(setsLogin(done)).toBe(true);
        expect(headerValues(done, 'set-cookie').length).toBeLessThanOrEqual(14);
        const out = await send(target, { target: `${PREFIX}logout`, headers: withCookie(NAVIGATE, cookie) });
        expect(out.status).toBe(302);
        expect(headerValues(out, 'set-cookie').length).toBeLessThanOrEqual(14);
      });

      test('repeated navigations shrink the junk until a login fits (clearing goes on where it stopped)', async () => {
        const target = await main();
        const jar = new RawJar();
        for (const pair of junk(60).split('; ')) {
          const eq = pair.indexOf('=');
          jar.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        for (let i = 0; i < 10; i++) {
          const res = await send(target, { target: PREFIX, headers: withCookie(NAVIGATE, jar.header()) });
          jar.apply(res);
        }
        expect([...jar.cookies.keys()].filter((n) => n.startsWith(STATE_COOKIE)).length).toBeLessThanOrEqual(5);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('5. guard options are fixed when the guard is created', () => {
      test('editing the options object afterwards changes nothing, for cached and new callers alike', async () => {
        const target = await app('cached', { cacheMaxAge: 60 });
        const api = (token: string) => send(target, { target: `${PREFIX}team`, headers: [['accept', 'application/json'], ['authorization', `token ${token}`]] });
        expect((await api(tokens.alice)).status).toBe(200);
        expect((await api(tokens.carol)).status).toBe(403);
        // Edited in place, then replaced: neither reaches the guard, for a cached caller (carol) or a
        // caller seen for the first time (erin).
        (target.team.hubUsers as string[]).push('carol', 'erin');
        expect((await api(tokens.carol)).status).toBe(403);
        expect((await api(hub.issueToken({ ...USERS.alice, name: 'erin' }))).status).toBe(403);
        target.team.hubUsers = ['carol'];
        target.team.allowServices = true;
        expect((await api(tokens.alice)).status).toBe(200);
        expect((await api(tokens.carol)).status).toBe(403);
        expect((await api(tokens.cron)).status).toBe(403);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('6. services and the user lists', () => {
      const api = async (target: ContractApp, path: string, token: string) =>
        send(target, { target: `${PREFIX}${path}`, headers: [['accept', 'application/json'], ['authorization', `token ${token}`]] });

      test('a service named in blockedUsers is blocked, on every route', async () => {
        const target = await app('blocked-cron', { blockedUsers: ['cron'] });
        for (const path of ['api/me', 'services']) {
          const res = await api(target, path, tokens.cron);
          expect({ path, status: res.status }).toEqual({ path, status: 403 });
        }
        expect((await api(target, 'api/me', tokens.alice)).status).toBe(200);
      });

      test('with allowedUsers or usernamePattern, services pass only where a route allows services explicitly', async () => {
        for (const [key, extra] of [
          ['allowed-alice', { allowedUsers: ['alice', 'carol'] }],
          ['pattern', { usernamePattern: '[a-z]+' }],
        ] as const) {
          const target = await app(key, extra);
          expect({ key, status: (await api(target, 'api/me', tokens.cron)).status }).toEqual({ key, status: 403 });
          expect({ key, status: (await api(target, 'services', tokens.cron)).status }).toEqual({ key, status: 200 });
          expect({ key, status: (await api(target, 'api/me', tokens.alice)).status }).toEqual({ key, status: 200 });
        }
      });

      test('without user lists, services with the scope pass as before (the control case)', async () => {
        expect((await api(await main(), 'api/me', tokens.cron)).status).toBe(200);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('7. request classification honours q-values', () => {
      test.each([
        'application/json, text/html;q=0',
        'text/html;q=0, application/json',
        'TEXT/HTML ; Q=0.000, */*;q=0.1',
        'text/html;level=1;q=0',
      ])('Accept: %s is not a navigation: 401 JSON, no redirect', async (accept) => {
        const res = await send(await main(), { target: `${PREFIX}api/me`, headers: [['accept', accept]] });
        expect(res.status).toBe(401);
        expect(header(res, 'location')).toBe('');
        expect(header(res, 'content-type')).toMatch(/^application\/json/);
      });

      test.each(['text/html;q=0.5, application/json;q=0.9', 'text/html', 'application/xhtml+xml, text/html;q=0.9'])(
        'Accept: %s without fetch metadata is a navigation (the control case)',
        async (accept) => {
          const res = await send(await main(), { target: `${PREFIX}api/me`, headers: [['accept', accept]] });
          expect(res.status).toBe(302);
        },
      );

      test('Sec-Fetch-Mode decides over Accept', async () => {
        const cors = await send(await main(), { target: `${PREFIX}api/me`, headers: [['sec-fetch-mode', 'cors'], ['accept', 'text/html']] });
        expect(cors.status).toBe(401);
        const nav = await send(await main(), { target: `${PREFIX}api/me`, headers: [['sec-fetch-mode', 'navigate'], ['accept', 'text/html;q=0']] });
        expect(nav.status).toBe(302);
      });
    });

    describe('logs', () => {
      test('no secret or token reached a log line', () => {
        const everything = logLines.join('\n');
        expect(logLines.length).toBeGreaterThan(0);
        expect([SECRET, ...Object.values(tokens), hub.serviceToken].filter((s) => everything.includes(s))).toEqual([]);
      });
    });
  });
}
