/**
 * The adversarial suite: hostile requests and a misbehaving Hub, played against one adapter's
 * contract app (test/contract/types.ts) over raw HTTP. Every adapter's `adversarial.test.ts` calls
 * `runAdversarial` unchanged, once per framework major.
 *
 * What it holds the adapters to:
 * - a login started from any request target ends on a same-origin path under the service prefix;
 * - a forged, foreign, replayed, expired, missing, duplicated or oversized login state is refused
 *   with a 4xx before any code exchange;
 * - a forged, truncated, foreign, rotated-out or revoked login cookie makes the caller anonymous;
 * - cookie-authenticated unsafe requests, and reads other than navigations, requests without fetch
 *   metadata and same-origin no-cors ones, need the session's xsrf token; header tokens win;
 * - malformed credentials get 400/401 (or Node's own 4xx) without a Hub call;
 * - a failing Hub gives 502/503 within the timeout, cached users keep working, and it recovers;
 * - no response, header or log line ever carries a token, the cookie secret or the API token.
 */
import { randomBytes } from 'node:crypto';
import { HubOAuth, type HubAuthLogger, type HubAuthMiddlewareOptions, type HubRequest } from '@hubauth/core';
import { startFakeHub, type Fault, type FakeHub, type FakeUser } from '@hubauth/testing';
import { USERS } from '../contract/scenarios';
import { PREFIX, type ContractApp, type ContractAppFactory } from '../contract/types';
import { RawJar, header, headerValues, rawRequest, type RawRequest, type RawResponse } from './http';
import { runHardening } from './hardening';
import { watchUnhandledRejections, type RejectionWatch } from './unhandled';
import { HEADER_VECTORS, NEXT_VECTORS, unsafeLocationReason, type HeaderVector } from './vectors';

type Pair = readonly [string, string | Buffer];

const NAVIGATE: Pair[] = [
  ['sec-fetch-mode', 'navigate'],
  ['sec-fetch-dest', 'document'],
  ['accept', 'text/html,application/xhtml+xml'],
];
const FETCH: Pair[] = [
  ['sec-fetch-mode', 'cors'],
  ['sec-fetch-site', 'same-origin'],
  ['accept', 'application/json'],
];
const API: Pair[] = [['accept', 'application/json']];

const COOKIE = 'service-whoami';
const STATE_COOKIE = `${COOKIE}-oauth-state`;
const CALLBACK = `${PREFIX}oauth_callback`;
/** Slack on top of requestTimeoutMs for a loaded CI machine. */
const MARGIN_MS = 1500;
const TIMEOUT_MS = 300;

function secret(): string {
  return `adversarial-${randomBytes(24).toString('hex')}`;
}

function withCookie(base: readonly Pair[], jar: RawJar | string): Pair[] {
  const cookie = typeof jar === 'string' ? jar : jar.header();
  return cookie ? [...base, ['cookie', cookie]] : [...base];
}

/** A page's own script reading with `fetch()`: the jar's cookies and its xsrf token, as JupyterHub's rule requires. */
function script(jar: RawJar): Pair[] {
  return [...withCookie(FETCH, jar), ['x-xsrftoken', jar.cookies.get('_xsrf') ?? '']];
}

/** Fails with the status and the start of the body when the status is not one of `allowed`. */
function expectStatus(res: RawResponse, allowed: readonly number[]): void {
  expect({ status: res.status, body: res.body.slice(0, 200) }).toEqual({
    status: allowed.includes(res.status) ? res.status : allowed.join(' or '),
    body: res.body.slice(0, 200),
  });
}

/** Flips one base64url character of `value` at `index` (counted from the start, or from the end if negative). */
function flip(value: string, index: number): string {
  const i = index < 0 ? value.length + index : index;
  const c = value[i] === 'A' ? 'B' : 'A';
  return value.slice(0, i) + c + value.slice(i + 1);
}

/** Declares the adversarial suite for one adapter/framework pair. */
export function runAdversarial(name: string, factory: ContractAppFactory): void {
  // The failing-Hub scenarios race a 300 ms Hub timeout against the machine's load, once per
  // framework release: a failing test is played once more, its first failure printed, so a real
  // regression still fails and a flake stays visible.
  jest.retryTimes(1, { logErrorsBeforeRetry: true });
  describe(`adversarial: ${name}`, () => {
    const SECRET = secret();
    const NEW_SECRET = secret();
    const logLines: string[] = [];
    const logger: HubAuthLogger = {
      warn: (m) => logLines.push(`warn: ${m}`),
      error: (m) => logLines.push(`error: ${m}`),
      info: (m) => logLines.push(`info: ${m}`),
    };
    /** Every response the adapters sent, as text. */
    const transcript: string[] = [];
    /** Tokens, secrets and API tokens that must never appear in the transcript or the logs. */
    const secrets = new Set<string>([SECRET, NEW_SECRET]);
    let rejections: RejectionWatch;

    let hub: FakeHub;
    /** A second Hub, whose client is another service (`service-other`) sharing the cookie secret. */
    let otherHub: FakeHub;
    /** A Hub that the fault tests make misbehave. */
    let faultHub: FakeHub;
    const hubs = (): FakeHub[] => [hub, otherHub, faultHub];
    const apps = new Map<string, ContractApp>();
    const replicas: HubOAuth[] = [];
    const tokens = {} as Record<'alice' | 'carol', string>;

    const baseOptions = (on: FakeHub = hub): HubAuthMiddlewareOptions => ({
      env: {},
      apiUrl: on.apiUrl,
      apiToken: on.serviceToken,
      clientId: on.clientId,
      serviceName: 'whoami',
      servicePrefix: PREFIX,
      publicHubUrl: `${on.url}/hub/`,
      cookieSecret: SECRET,
      cacheMaxAge: 0,
      requestTimeoutMs: 2000,
      logger,
    });

    async function app(key: string, options: () => HubAuthMiddlewareOptions = () => baseOptions()): Promise<ContractApp> {
      let existing = apps.get(key);
      if (!existing) {
        existing = await factory(options());
        apps.set(key, existing);
      }
      return existing;
    }
    const main = () => app('main');

    /**
     * Remembers as secrets every token the service showed a Hub (OAuth access tokens included) and
     * every PKCE verifier and client secret it sent to the token endpoint.
     */
    function harvest(): void {
      for (const h of hubs()) {
        for (const r of h.requests) {
          const auth = r.headers.authorization;
          for (const value of ([] as string[]).concat(auth ?? [])) {
            const token = value.replace(/^\S+\s+/, '');
            if (token.length >= 8) secrets.add(token);
          }
          if (r.path.startsWith('/hub/api/oauth2/token')) {
            const form = new URLSearchParams(r.body);
            for (const field of ['code_verifier', 'client_secret']) {
              const value = form.get(field);
              if (value && value.length >= 8) secrets.add(value);
            }
          }
        }
      }
    }
    function reset(on: FakeHub = hub): void {
      harvest();
      on.resetCounters();
    }

    async function send(target: ContractApp, req: RawRequest): Promise<RawResponse> {
      const res = await rawRequest(target.server, req);
      transcript.push(`${res.status} ${JSON.stringify(res.rawHeaders)} ${res.body}`);
      return res;
    }

    /** No response header was injected, and no header value carries a control character. */
    function expectNoInjection(res: RawResponse): void {
      expect(res.rawHeaders.filter(([n]) => n === 'injected')).toEqual([]);
      expect(headerValues(res, 'set-cookie').filter((c) => c.startsWith('injected'))).toEqual([]);
      // eslint-disable-next-line no-control-regex
      expect(res.rawHeaders.filter(([, v]) => /[\u0000-\u001f\u007f]/.test(v))).toEqual([]);
    }

    /** Follows the authorize redirect on `on` as a browser logged in there; returns the callback target. */
    async function atHub(authorizeUrl: string, user: FakeUser = USERS.alice, on: FakeHub = hub): Promise<string> {
      on.signInAtHub(user);
      const res = await fetch(authorizeUrl, { redirect: 'manual' });
      await res.arrayBuffer();
      const target = res.headers.get('location');
      if (res.status !== 302 || target === null) throw new Error(`the Hub answered ${res.status} to authorize`);
      return target;
    }

    /** Starts a login by navigating to `path`; returns the response (302 to the Hub) and updates the jar. */
    async function begin(target: ContractApp, path: string, jar: RawJar): Promise<RawResponse> {
      const res = await send(target, { target: path, headers: withCookie(NAVIGATE, jar) });
      expectStatus(res, [302]);
      jar.apply(res);
      return res;
    }

    /** A whole browser login on `target`; returns the jar holding the login and xsrf cookies. */
    async function login(target: ContractApp, user: FakeUser, jar = new RawJar(), on: FakeHub = hub): Promise<RawJar> {
      const start = await begin(target, PREFIX, jar);
      const callback = await atHub(header(start, 'location'), user, on);
      const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, jar) });
      expectStatus(done, [302]);
      jar.apply(done);
      expect([...jar.cookies.keys()].filter((n) => n.startsWith('service-') && !n.includes('oauth-state'))).toHaveLength(1);
      harvest();
      return jar;
    }

    const get = (target: ContractApp, path: string, headers: readonly Pair[]) => send(target, { target: path, headers: [...headers] });

    beforeAll(async () => {
      rejections = watchUnhandledRejections();
      hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: CALLBACK, requirePkce: true });
      otherHub = await startFakeHub({ clientId: 'service-other', redirectUri: CALLBACK, requirePkce: true });
      faultHub = await startFakeHub({ clientId: 'service-whoami', redirectUri: CALLBACK, requirePkce: true });
      for (const h of hubs()) secrets.add(h.serviceToken);
      tokens.alice = hub.issueToken(USERS.alice);
      tokens.carol = hub.issueToken(USERS.carol);
      for (const t of Object.values(tokens)) secrets.add(t);
    });

    afterAll(async () => {
      for (const r of replicas) r.close();
      await Promise.all([...apps.values()].map((a) => a.close()));
      await Promise.all(hubs().map((h) => h?.close()));
      rejections.stop();
    });

    /** Freezes the clock at `ms` here and in an app served by another process. */
    async function freezeClock(ms: number): Promise<void> {
      jest.spyOn(Date, 'now').mockReturnValue(ms);
      await (await main()).setClock?.(ms);
    }
    async function realClock(): Promise<void> {
      jest.restoreAllMocks();
      await Promise.all([...apps.values()].map((a) => a.setClock?.(null)));
    }

    afterEach(async () => {
      await realClock();
      harvest();
    });

    // -------------------------------------------------------------------------------------------
    describe('open redirects: a login started from a hostile request target ends under the prefix', () => {
      const reached = new Set<string>();

      test.each(NEXT_VECTORS.map((v) => [v.name, v] as const))('as routed by the framework: %s', async (_title, vector) => {
        const target = await main();
        const jar = new RawJar();
        reset();
        const first = await send(target, { target: vector.target.replace('{hub}', hub.url.slice('http://'.length)), headers: NAVIGATE });
        expectNoInjection(first);
        if (first.status !== 302) {
          // Not routed to a guarded page (404), or refused by the HTTP parser (400; Fastify 4 answers a
          // request line broken by a raw CR LF with 505): nothing to follow.
          expectStatus(first, [400, 404, 505]);
          expect(header(first, 'location')).toBe('');
          expect(hub.calls.user + hub.calls.token).toBe(0);
          return;
        }
        const authorize = header(first, 'location');
        expect(authorize.startsWith(`${hub.url}/hub/api/oauth2/authorize?`)).toBe(true);
        expect(new URL(authorize).searchParams.get('redirect_uri')).toBe(CALLBACK);
        jar.apply(first);
        const callback = await atHub(authorize);
        const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, jar) });
        expectNoInjection(done);
        expect(done.status).toBe(302);
        expect(unsafeLocationReason(header(done, 'location'))).toBeNull();
        expect(hub.calls.token).toBe(1);
        reached.add(vector.name);
      });

      test('enough vectors reach a guarded route for the check to mean something', () => {
        expect(reached.size).toBeGreaterThanOrEqual(8);
      });

      // A catch-all guarded route sees any target as its URL. A replica sharing the secret starts the
      // login exactly as such a route would; the adapter under test finishes it.
      test.each(NEXT_VECTORS.map((v) => [v.name, v] as const))('through a catch-all route: %s', async (_title, vector) => {
        const target = await main();
        const replica = new HubOAuth(baseOptions());
        replicas.push(replica);
        const url = vector.target.replace('{hub}', hub.url.slice('http://'.length));
        const request: HubRequest = { method: 'GET', url, headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } };
        const start = replica.beginLogin(request);
        expect(start.status).toBe(302);
        const jar = new RawJar().applySetCookie(start.headers['set-cookie']);
        reset();
        const callback = await atHub(String(start.headers.location));
        const done = await send(target, { target: callback, headers: withCookie(NAVIGATE, jar) });
        expectNoInjection(done);
        expect(done.status).toBe(302);
        expect(unsafeLocationReason(header(done, 'location'))).toBeNull();
        expect(hub.calls.token).toBe(1);
      });

      test('a spoofed Host or X-Forwarded-Host does not change where the browser returns', async () => {
        const target = await main();
        const jar = new RawJar();
        const start = await send(target, {
          target: `${PREFIX}api/me?x=1`,
          headers: [...NAVIGATE, ['host', 'evil.example'], ['x-forwarded-host', 'evil.example'], ['x-forwarded-proto', 'https']],
        });
        expect(start.status).toBe(302);
        expect(header(start, 'location').startsWith(`${hub.url}/hub/`)).toBe(true);
        jar.apply(start);
        const done = await send(target, { target: await atHub(header(start, 'location')), headers: [...withCookie(NAVIGATE, jar), ['host', 'evil.example']] });
        expect(done.status).toBe(302);
        expect(header(done, 'location')).toBe(`${PREFIX}api/me?x=1`);
      });

      test('logout goes to the Hub whatever next it is given', async () => {
        const res = await get(await main(), `${PREFIX}logout?next=//evil.example/&redirect=https://evil.example`, NAVIGATE);
        expect(res.status).toBe(302);
        expect(header(res, 'location')).toBe(`${hub.url}/hub/logout`);
      });

      test('an error description from the callback is shown escaped, never as markup or a header', async () => {
        const payload = encodeURIComponent('<script>alert(1)</script>\r\nSet-Cookie: injected=1');
        const target = `${CALLBACK}?error=access_denied&error_description=${payload}`;
        const page = await get(await main(), target, NAVIGATE);
        expect(page.status).toBe(400);
        expect(header(page, 'content-type')).toMatch(/^text\/html/);
        expect(page.body).not.toContain('<script>');
        expect(page.body).toContain('&#60;script&#62;');
        expectNoInjection(page);
        // API clients get JSON, which no browser renders as markup.
        const json = await get(await main(), target, API);
        expect(json.status).toBe(400);
        expect(header(json, 'content-type')).toMatch(/^application\/json/);
        expectNoInjection(json);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("login state: a 4xx before any code exchange, unless it is this browser's own live flow", () => {
      /** A started flow: the browser's jar and the callback target the Hub sent it to. */
      async function flow(jar = new RawJar(), path = PREFIX): Promise<{ jar: RawJar; callback: URL }> {
        const start = await begin(await main(), path, jar);
        const callback = new URL(await atHub(header(start, 'location')), 'http://service.invalid');
        return { jar, callback };
      }
      const targetOf = (url: URL) => url.pathname + url.search;
      function withState(callback: URL, state: string): string {
        const url = new URL(callback.href);
        url.searchParams.set('state', state);
        return targetOf(url);
      }

      async function expectRefused(target: string, cookie: string, status: number[] = [403]): Promise<RawResponse> {
        reset();
        const res = await send(await main(), { target, headers: withCookie(NAVIGATE, cookie) });
        expectStatus(res, status);
        expect(header(res, 'location')).toBe('');
        expect(headerValues(res, 'set-cookie').filter((c) => c.startsWith(`${COOKIE}=`) && !c.startsWith(`${COOKIE}=;`))).toEqual([]);
        expect(hub.calls.token).toBe(0);
        return res;
      }

      test('a state parameter with a tampered signature', async () => {
        const { jar, callback } = await flow();
        const state = callback.searchParams.get('state') as string;
        await expectRefused(withState(callback, flip(state, -3)), jar.header());
      });

      test('a state parameter with a tampered body', async () => {
        const { jar, callback } = await flow();
        const state = callback.searchParams.get('state') as string;
        await expectRefused(withState(callback, flip(state, 5)), jar.header());
      });

      test('a state cookie with a tampered signature', async () => {
        const { jar, callback } = await flow();
        jar.cookies.set(STATE_COOKIE, flip(jar.cookies.get(STATE_COOKIE) as string, -2));
        await expectRefused(targetOf(callback), jar.header());
      });

      test('states swapped between two browsers', async () => {
        const a = await flow();
        const b = await flow();
        // A's code and state delivered to B's browser, and the other way round.
        await expectRefused(targetOf(a.callback), b.jar.header());
        await expectRefused(targetOf(b.callback), a.jar.header());
        // A's state with B's code in B's browser.
        await expectRefused(withState(b.callback, a.callback.searchParams.get('state') as string), b.jar.header());
      });

      test('two flows of one browser keep apart: one flow cookie never finishes the other flow', async () => {
        const jar = new RawJar();
        const first = await flow(jar, `${PREFIX}?tab=1`);
        const second = await flow(jar, `${PREFIX}api/me?tab=2`);
        const names = [...jar.cookies.keys()].filter((n) => n.startsWith(STATE_COOKIE));
        expect(names).toHaveLength(2);
        const only = (n: string) => `${n}=${jar.cookies.get(n)}`;
        await expectRefused(targetOf(second.callback), only(names[0] as string));
        await expectRefused(targetOf(first.callback), only(names[1] as string));
      });

      test('a replayed callback: no second exchange, and no login for another browser', async () => {
        const { jar, callback } = await flow();
        const retained = jar.clone();
        const target = await main();
        const done = await send(target, { target: targetOf(callback), headers: withCookie(NAVIGATE, jar) });
        expect(done.status).toBe(302);
        jar.apply(done);
        // The same browser reloading the callback: already logged in, goes on without an exchange.
        reset();
        const again = await send(target, { target: targetOf(callback), headers: withCookie(NAVIGATE, jar) });
        expect(again.status).toBe(302);
        expect(unsafeLocationReason(header(again, 'location'))).toBeNull();
        expect(hub.calls.token).toBe(0);
        // Another browser replaying the URL: refused.
        await expectRefused(targetOf(callback), '');
        // Someone who kept the state cookie: the state is stateless, so the exchange is tried, and the
        // Hub refuses the used code. No login cookie either way.
        reset();
        const replay = await send(target, { target: targetOf(callback), headers: withCookie(NAVIGATE, retained.header()) });
        expect(replay.status).toBe(400);
        expect(headerValues(replay, 'set-cookie').filter((c) => c.startsWith(`${COOKIE}=`) && !c.startsWith(`${COOKIE}=;`))).toEqual([]);
        expect(hub.calls.user).toBe(0);
      });

      test('an expired flow', async () => {
        const { jar, callback } = await flow();
        await freezeClock(Date.now() + 11 * 60 * 1000);
        const res = await expectRefused(targetOf(callback), jar.header());
        expect(res.body).toMatch(/expired|took too long/i);
      });

      test('a flow dated in the future', async () => {
        await freezeClock(Date.now() + 5 * 60 * 1000);
        const { jar, callback } = await flow();
        await realClock();
        await expectRefused(targetOf(callback), jar.header());
      });

      test("another service's state cookie and parameter, under the same secret", async () => {
        const other = new HubOAuth({ ...baseOptions(otherHub), cookieSecret: SECRET });
        replicas.push(other);
        const start = other.beginLogin({ method: 'GET', url: PREFIX, headers: { 'sec-fetch-mode': 'navigate' } });
        const otherJar = new RawJar().applySetCookie(start.headers['set-cookie']);
        const otherState = new URL(String(start.headers.location)).searchParams.get('state') as string;
        const otherCookie = otherJar.cookies.get('service-other-oauth-state') as string;
        expect(otherCookie).toBeTruthy();
        // A real code of our Hub, carrying the other service's state.
        const ours = await flow();
        // As the other service's cookie name, and renamed to ours.
        await expectRefused(withState(ours.callback, otherState), `service-other-oauth-state=${otherCookie}`);
        await expectRefused(withState(ours.callback, otherState), `${STATE_COOKIE}=${otherCookie}`);
        // Our state with the other service's cookie renamed to ours.
        await expectRefused(targetOf(ours.callback), `${STATE_COOKIE}=${otherCookie}`);
      });

      test('no state cookie at all', async () => {
        const { callback } = await flow();
        await expectRefused(targetOf(callback), '');
        await expectRefused(targetOf(callback), 'unrelated=1; _xsrf=abc');
      });

      test('duplicated state cookies, none of them this flow', async () => {
        const a = await flow();
        const b = await flow();
        const foreign = b.jar.cookies.get(STATE_COOKIE) as string;
        await expectRefused(targetOf(a.callback), `${STATE_COOKIE}=${foreign}; ${STATE_COOKIE}=junk.junk; ${STATE_COOKIE}=${foreign}`);
      });

      // A second cookie of the flow's name can only have been planted: refused, whichever comes first.
      test('a duplicate beside the flow cookie, in either order: refused before any exchange', async () => {
        for (const junkFirst of [true, false]) {
          const { jar, callback } = await flow();
          const own = `${STATE_COOKIE}=${jar.cookies.get(STATE_COOKIE)}`;
          const junk = `${STATE_COOKIE}=${flip(jar.cookies.get(STATE_COOKIE) as string, 4)}`;
          const res = await expectRefused(targetOf(callback), junkFirst ? `${junk}; ${own}` : `${own}; ${junk}`);
          expect(headerValues(res, 'set-cookie').some((c) => c.startsWith(`${STATE_COOKIE}=;`))).toBe(true);
        }
      });

      test('an oversized state cookie, and an oversized Cookie header', async () => {
        const { callback } = await flow();
        await expectRefused(targetOf(callback), `${STATE_COOKIE}=${'A'.repeat(9000)}.${'B'.repeat(43)}`);
        // Node's and Bun's HTTP servers stop it at their 16 KB header limit (431); Deno's larger limit
        // lets it reach hubauth, which refuses the state (403). Either way nothing is exchanged.
        await expectRefused(targetOf(callback), `${STATE_COOKIE}=${'A'.repeat(20_000)}`, [/ on Deno\b/.test(name) ? 403 : 431]);
      });

      test('an oversized, empty, or repeated state parameter', async () => {
        const { jar, callback } = await flow();
        await expectRefused(withState(callback, 'A'.repeat(9000)), jar.header());
        await expectRefused(withState(callback, ''), jar.header(), [400]);
        const state = callback.searchParams.get('state') as string;
        // The first state parameter counts; a forged one first loses the flow.
        await expectRefused(`${CALLBACK}?code=${callback.searchParams.get('code')}&state=forged.forged&state=${state}`, jar.header());
      });

      test('a callback carrying a Hub error is refused even with a valid state', async () => {
        const { jar, callback } = await flow();
        await expectRefused(`${targetOf(callback)}&error=access_denied`, jar.header(), [400]);
      });

      // Abandoned logins (tabs left on the Hub's login page) must not grow the Cookie header past
      // Node's 16 KB limit: starting a login drops the oldest pending ones beyond a small bound.
      test('a browser with many unfinished logins can still finish the newest one', async () => {
        const target = await main();
        const jar = new RawJar();
        for (let i = 0; i < 70; i++) {
          const res = await send(target, { target: PREFIX, headers: withCookie(NAVIGATE, jar) });
          expectStatus(res, [302]);
          jar.apply(res);
        }
        expect([...jar.header().matchAll(/-oauth-state/g)].length).toBeLessThanOrEqual(5);
        const start = await begin(target, `${PREFIX}?latest=1`, jar);
        const done = await send(target, { target: await atHub(header(start, 'location')), headers: withCookie(NAVIGATE, jar) });
        expectStatus(done, [302]);
        expect(header(done, 'location')).toBe(`${PREFIX}?latest=1`);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('login cookie: anything but a live cookie of this service is anonymous, never a 5xx', () => {
      async function expectAnonymous(target: ContractApp, cookie: string, clears = true): Promise<void> {
        reset();
        const api = await send(target, { target: `${PREFIX}api/me`, headers: withCookie(API, cookie) });
        expectStatus(api, [401]);
        if (clears) expect(headerValues(api, 'set-cookie').some((c) => c.startsWith(`${COOKIE}=;`))).toBe(true);
        const nav = await send(target, { target: `${PREFIX}api/me`, headers: withCookie(NAVIGATE, cookie) });
        expect(nav.status).toBe(302);
        expect(header(nav, 'location').startsWith(`${hub.url}/hub/api/oauth2/authorize?`)).toBe(true);
      }

      test('a live cookie works (the control case)', async () => {
        const jar = await login(await main(), USERS.alice);
        const res = await get(await main(), `${PREFIX}api/me`, script(jar));
        expect(res.status).toBe(200);
        expect((JSON.parse(res.body) as { name: string }).name).toBe('alice');
      });

      test('a forged cookie', async () => {
        const forged = `${randomBytes(90).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
        await expectAnonymous(await main(), `${COOKIE}=${forged}`);
        expect(hub.calls.user).toBe(0);
      });

      test('a cookie with one character changed, anywhere', async () => {
        const jar = await login(await main(), USERS.alice);
        const value = jar.cookies.get(COOKIE) as string;
        for (const at of [0, 11, Math.floor(value.length / 2), value.indexOf('.') + 1, -1]) {
          await expectAnonymous(await main(), `${COOKIE}=${flip(value, at)}`);
          expect(hub.calls.user).toBe(0);
        }
      });

      test('a truncated cookie', async () => {
        const jar = await login(await main(), USERS.alice);
        const value = jar.cookies.get(COOKIE) as string;
        for (const keep of [value.length - 1, value.indexOf('.') + 1, value.indexOf('.'), 20, 1]) {
          await expectAnonymous(await main(), `${COOKIE}=${value.slice(0, keep)}`);
          expect(hub.calls.user).toBe(0);
        }
      });

      test('an oversized cookie', async () => {
        await expectAnonymous(await main(), `${COOKIE}=${'A'.repeat(9000)}.${'B'.repeat(43)}`);
        expect(hub.calls.user).toBe(0);
      });

      test('a cookie sealed under a secret that was removed', async () => {
        const jar = await login(await main(), USERS.alice);
        const rotatedOut = await app('rotated-out', () => ({ ...baseOptions(), cookieSecret: [NEW_SECRET] }));
        await expectAnonymous(rotatedOut, jar.header());
        expect(hub.calls.user).toBe(0);
        // While the old secret is still listed second, the cookie works and is re-issued under the new one.
        const rotating = await app('rotating', () => ({ ...baseOptions(), cookieSecret: [NEW_SECRET, SECRET] }));
        const res = await get(rotating, `${PREFIX}api/me`, script(jar));
        expect(res.status).toBe(200);
        const reissued = new RawJar().apply(res).cookies.get(COOKIE);
        expect(reissued).toBeTruthy();
        expect(reissued).not.toBe(jar.cookies.get(COOKIE));
        const after = await get(rotatedOut, `${PREFIX}api/me`, withCookie(API, `${COOKIE}=${reissued}`));
        expect(after.status).toBe(200);
      });

      test('a live cookie of another service (another client id), under the same secret', async () => {
        const other = await app('other-service', () => ({ ...baseOptions(otherHub), cookieSecret: SECRET }));
        const jar = await login(other, USERS.alice, new RawJar(), otherHub);
        const value = jar.cookies.get('service-other') as string;
        expect(value).toBeTruthy();
        // It works where it belongs...
        expect((await get(other, `${PREFIX}api/me`, script(jar))).status).toBe(200);
        // ...not here, under its own name (not ours: ignored) or renamed to ours (bound to its name).
        await expectAnonymous(await main(), `service-other=${value}`, false);
        await expectAnonymous(await main(), `${COOKIE}=${value}`);
        expect(hub.calls.user).toBe(0);
      });

      test('a token revoked at the Hub stops working once the cache entry expires', async () => {
        const cached = await app('short-cache', () => ({ ...baseOptions(), cacheMaxAge: 0.2, negativeCacheMaxAge: 0 }));
        const jar = await login(cached, USERS.alice);
        expect((await get(cached, `${PREFIX}api/me`, script(jar))).status).toBe(200);
        harvest();
        for (const r of hub.requests) {
          const auth = String(r.headers.authorization ?? '');
          if (r.path === '/hub/api/user' && !Object.values(tokens).includes(auth.slice(6))) hub.revokeToken(auth.slice(6));
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
        await expectAnonymous(cached, jar.header());
      });

      // A second cookie of our name can only have been planted (by a sibling host, or with a longer
      // Path): neither one is trusted, whichever comes first.
      test('duplicated login cookies, in either order: anonymous and cleared', async () => {
        const jar = await login(await main(), USERS.alice);
        const valid = `${COOKIE}=${jar.cookies.get(COOKIE)}`;
        const junk = `${COOKIE}=${flip(jar.cookies.get(COOKIE) as string, 3)}`;
        await expectAnonymous(await main(), `${valid}; ${junk}`);
        await expectAnonymous(await main(), `${junk}; ${valid}`);
        expect(hub.calls.user).toBe(0);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('xsrf: cookie-authenticated unsafe requests need the session token', () => {
      let alice: RawJar;
      let carol: RawJar;
      beforeAll(async () => {
        alice = await login(await main(), USERS.alice);
        carol = await login(await main(), USERS.carol);
      });
      const xsrfOf = (jar: RawJar) => jar.cookies.get('_xsrf') as string;

      for (const method of ['POST', 'DELETE'] as const) {
        test(`${method}: missing, wrong, or another session's token → 403 without a Hub call`, async () => {
          const target = await main();
          const cases: Array<[string, Pair[]]> = [
            ['missing', withCookie(FETCH, alice)],
            ['wrong', [...withCookie(FETCH, alice), ['x-xsrftoken', 'abc.def']]],
            ['empty', [...withCookie(FETCH, alice), ['x-xsrftoken', '']]],
            ['huge', [...withCookie(FETCH, alice), ['x-xsrftoken', `${'a'.repeat(4000)}.${'b'.repeat(43)}`]]],
            ["another session's", [...withCookie(FETCH, alice), ['x-xsrftoken', xsrfOf(carol)]]],
            ["another session's as cookie and header", [...withCookie(FETCH, `${COOKIE}=${alice.cookies.get(COOKIE)}; _xsrf=${xsrfOf(carol)}`), ['x-xsrftoken', xsrfOf(carol)]]],
            ['header matching no cookie', [...withCookie(FETCH, `${COOKIE}=${alice.cookies.get(COOKIE)}`), ['x-xsrftoken', xsrfOf(alice)]]],
          ];
          for (const [label, headers] of cases) {
            reset();
            const res = await send(target, { method, target: `${PREFIX}api/me`, headers });
            expect({ label, status: res.status }).toEqual({ label, status: 403 });
            expect(res.body).toMatch(/xsrf/i);
            expect(hub.calls.user).toBe(0);
          }
        });

        test(`${method}: the session's token in X-XSRFToken, X-CSRFToken or ?_xsrf= passes`, async () => {
          const target = await main();
          for (const [label, path, headers] of [
            ['X-XSRFToken', `${PREFIX}api/me`, [...withCookie(FETCH, alice), ['x-xsrftoken', xsrfOf(alice)]]],
            ['X-CSRFToken', `${PREFIX}api/me`, [...withCookie(FETCH, alice), ['x-csrftoken', xsrfOf(alice)]]],
            ['?_xsrf=', `${PREFIX}api/me?_xsrf=${encodeURIComponent(xsrfOf(alice))}`, withCookie(FETCH, alice)],
          ] as const) {
            const res = await send(target, { method, target: path, headers: [...headers] });
            expect({ label, status: res.status }).toEqual({ label, status: 200 });
            expect(JSON.parse(res.body)).toEqual({ ok: true, name: 'alice' });
          }
        });
      }

      test('a form POST navigation with a stale token is refused at once (no hang, no redirect)', async () => {
        const res = await send(await main(), {
          method: 'POST',
          target: `${PREFIX}api/me?_xsrf=stale`,
          headers: withCookie(NAVIGATE, `${COOKIE}=${alice.cookies.get(COOKIE)}`),
          timeoutMs: 3000,
        });
        expect(res.status).toBe(403);
        expect(header(res, 'location')).toBe('');
      });

      // JupyterHub's rule (_needs_check_xsrf): reads exempt only as navigations, without fetch
      // metadata, or as same-origin no-cors requests; a script's cors read needs the token.
      test('safe methods need no token as navigations or without fetch metadata; a cors read does', async () => {
        for (const method of ['GET', 'HEAD'] as const) {
          for (const client of [NAVIGATE, API]) {
            const res = await send(await main(), { method, target: `${PREFIX}api/me`, headers: withCookie(client, alice) });
            expect({ method, status: res.status }).toEqual({ method, status: 200 });
          }
          const cors = await send(await main(), { method, target: `${PREFIX}api/me`, headers: withCookie(FETCH, alice) });
          expect({ method, status: cors.status }).toEqual({ method, status: 403 });
          const withToken = await send(await main(), { method, target: `${PREFIX}api/me`, headers: script(alice) });
          expect({ method, status: withToken.status }).toEqual({ method, status: 200 });
        }
      });

      test('a header token wins over the cookie and is exempt from xsrf', async () => {
        for (const method of ['POST', 'DELETE'] as const) {
          const res = await send(await main(), {
            method,
            target: `${PREFIX}api/me`,
            headers: [...withCookie(FETCH, alice), ['authorization', `token ${tokens.carol}`]],
          });
          expect(res.status).toBe(200);
          expect(JSON.parse(res.body)).toEqual({ ok: true, name: 'carol' });
        }
      });

      test('a bad header token does not fall back to the cookie', async () => {
        const invalid = await send(await main(), {
          target: `${PREFIX}api/me`,
          headers: [...withCookie(FETCH, alice), ['authorization', `token unknown-${randomBytes(8).toString('hex')}`]],
        });
        expect(invalid.status).toBe(401);
        const malformed = await send(await main(), {
          method: 'POST',
          target: `${PREFIX}api/me`,
          headers: [...withCookie(FETCH, alice), ['x-xsrftoken', xsrfOf(alice)], ['authorization', 'token a b']],
        });
        expect(malformed.status).toBe(400);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('Authorization headers: malformed ones get 400/401 without a Hub call', () => {
      async function play(vector: HeaderVector): Promise<void> {
        const target = await main();
        const headers: Pair[] = [...API];
        for (const value of vector.authorization) {
          headers.push([
            'authorization',
            typeof value === 'string' ? value.replace('{alice}', tokens.alice).replace('{carol}', tokens.carol) : value,
          ]);
        }
        reset();
        const res = await send(target, { target: `${PREFIX}api/me`, headers });
        expectStatus(res, vector.status);
        if (!vector.hubCall) expect(hub.calls.user).toBe(0);
        const challenge = header(res, 'www-authenticate');
        // A 400 comes from core (with an invalid_request challenge) or from the HTTP parser, which
        // answers before any middleware: then nothing of ours is in the response.
        if (res.status === 400 && challenge === '') expect(headerValues(res, 'set-cookie')).toEqual([]);
        if (res.status === 400 && challenge !== '') expect(challenge).toMatch(/error="invalid_request"/);
        if (res.status === 401) expect(challenge).toMatch(/^Bearer realm=/);
      }

      test.each(HEADER_VECTORS.map((v) => [v.name, v] as const))('%s', async (_title, vector) => {
        await play(vector);
      });

      test('?token= is ignored unless allowed, even beside a malformed header', async () => {
        reset();
        const res = await get(await main(), `${PREFIX}api/me?token=${tokens.alice}`, [...API, ['authorization', 'Basic x']]);
        expect(res.status).toBe(401);
        expect(hub.calls.user).toBe(0);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('a failing Hub: 502/503 within the timeout, cached users go on, recovery by itself', () => {
      let cachedToken: string;
      /** A browser logged in to `uncached`, whose every request asks the Hub. */
      let session: RawJar;
      const faulty = () =>
        app('faulty', () => ({ ...baseOptions(faultHub), requestTimeoutMs: TIMEOUT_MS, cacheMaxAge: 60, negativeCacheMaxAge: 0 }));
      const uncached = () =>
        app('faulty-uncached', () => ({ ...baseOptions(faultHub), requestTimeoutMs: TIMEOUT_MS, cacheMaxAge: 0 }));
      const sessionCleared = (res: RawResponse) => headerValues(res, 'set-cookie').some((c) => c.startsWith(`${COOKIE}=;`));

      beforeAll(async () => {
        cachedToken = faultHub.issueToken(USERS.alice);
        secrets.add(cachedToken);
        const res = await get(await faulty(), `${PREFIX}api/me`, [...API, ['authorization', `token ${cachedToken}`]]);
        expect(res.status).toBe(200);
        session = await login(await uncached(), USERS.alice, new RawJar(), faultHub);
      });
      afterEach(() => faultHub.setFault(null));

      const FAULTS: ReadonlyArray<readonly [string, Fault, readonly number[]]> = [
        ['status 500', { type: 'status', status: 500 }, [502]],
        ['status 502', { type: 'status', status: 502 }, [502]],
        ['status 418', { type: 'status', status: 418 }, [502]],
        ['status 404', { type: 'status', status: 404 }, [502]],
        ['an HTML page', { type: 'html' }, [502]],
        ['garbage JSON', { type: 'garbage-json' }, [502]],
        ['a truncated reply', { type: 'truncated' }, [502, 503]],
        // 502 once 1 MB has arrived; on a loaded machine the timeout can come first (then 503).
        ['a huge reply (2 MB)', { type: 'huge', bytes: 2 * 1024 * 1024 }, [502, 503]],
        ['a hang', { type: 'hang' }, [503]],
        ['a connection reset', { type: 'reset' }, [502, 503]],
        ['a redirect loop', { type: 'redirect-loop' }, [502]],
      ];

      test.each(FAULTS.map(([label, fault, statuses]) => [label, fault, statuses] as const))('%s', async (_label, fault, statuses) => {
        const target = await faulty();
        const fresh = faultHub.issueToken(USERS.alice);
        secrets.add(fresh);
        faultHub.setFault(fault);
        for (const client of [API, NAVIGATE]) {
          const res = await send(target, { target: `${PREFIX}api/me`, headers: [...client, ['authorization', `token ${fresh}`]] });
          expectStatus(res, statuses);
          if (res.status === 503) expect(header(res, 'retry-after')).toMatch(/^\d+$/);
          expect(header(res, 'location')).toBe('');
          expect(res.elapsedMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
          if (client === NAVIGATE) expect(header(res, 'content-type')).toMatch(/text\/html/);
        }
        const cached = await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${cachedToken}`]]);
        expect(cached.status).toBe(200);
        // A browser session is not logged out by the outage: same failure, and its cookie is kept.
        for (const headers of [script(session), withCookie(NAVIGATE, session)]) {
          const browser = await send(await uncached(), { target: `${PREFIX}api/me`, headers });
          expectStatus(browser, statuses);
          expect(sessionCleared(browser)).toBe(false);
          expect(header(browser, 'location')).toBe('');
        }
        faultHub.setFault(null);
        const recovered = await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${fresh}`]]);
        expect(recovered.status).toBe(200);
        expect((await get(await uncached(), `${PREFIX}api/me`, script(session))).status).toBe(200);
      });

      // Documented: the Hub's 401 (like its 403) means "this token is not valid", not an outage. A
      // cookie session whose token the Hub refuses is therefore cleared: if something in front of the
      // Hub answered 401 to everything, browsers would go through the (automatic) login again.
      test('a Hub answering 401 says "not a valid token": 401, not an outage; cached users go on', async () => {
        const target = await faulty();
        const fresh = faultHub.issueToken(USERS.alice);
        secrets.add(fresh);
        faultHub.setFault({ type: 'status', status: 401 });
        const res = await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${fresh}`]]);
        expect(res.status).toBe(401);
        const browser = await get(await uncached(), `${PREFIX}api/me`, script(session.clone()));
        expect(browser.status).toBe(401);
        expect(sessionCleared(browser)).toBe(true);
        expect((await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${cachedToken}`]])).status).toBe(200);
        faultHub.setFault(null);
        expect((await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${fresh}`]])).status).toBe(200);
      });

      test('an unreachable Hub: 503 with Retry-After, quickly', async () => {
        const down = await app('down', () => ({ ...baseOptions(), apiUrl: 'http://127.0.0.1:9/hub/api', requestTimeoutMs: TIMEOUT_MS }));
        const res = await get(down, `${PREFIX}api/me`, [...API, ['authorization', `token ${tokens.alice}`]]);
        expect(res.status).toBe(503);
        expect(header(res, 'retry-after')).toMatch(/^\d+$/);
        expect(res.elapsedMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      });

      test('a user model with a non-string scope is a bad reply: 502', async () => {
        const target = await faulty();
        const odd = faultHub.issueToken({ ...USERS.alice, extra: { scopes: ['access:services!service=whoami', 42] } });
        secrets.add(odd);
        const res = await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${odd}`]]);
        expect(res.status).toBe(502);
      });

      // A newer Hub may send filter kinds this version does not know: such a scope grants nothing, the
      // others still count, and nothing escapes the guard as a 500.
      test('a held scope with an unknown filter kind grants nothing and breaks nothing', async () => {
        const target = await faulty();
        const odd = faultHub.issueToken({ ...USERS.alice, extra: { scopes: ['access:services!service=whoami', 'read:users!org=acme'] } });
        secrets.add(odd);
        const res = await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${odd}`]]);
        expect(res.status).toBe(200);
        const onlyOdd = faultHub.issueToken({ ...USERS.alice, extra: { scopes: ['read:users!org=acme', 'access:services!nope'] } });
        secrets.add(onlyOdd);
        expect((await get(target, `${PREFIX}api/me`, [...API, ['authorization', `token ${onlyOdd}`]])).status).toBe(403);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe('secrets never leak', () => {
      test('no response header, body or log line holds a token, a PKCE verifier, a cookie secret or an API token', () => {
        harvest();
        expect(transcript.length).toBeGreaterThan(100);
        // Tokens of OAuth logins and verifiers of code exchanges were collected too, not only ours.
        expect(secrets.size).toBeGreaterThan(40);
        expect(logLines.length).toBeGreaterThan(0);
        const everything = `${transcript.join('\n')}\n${logLines.join('\n')}`;
        const leaked = [...secrets].filter((s) => s.length >= 8 && everything.includes(s));
        expect(leaked).toEqual([]);
      });

      test('no promise rejection went unhandled', () => {
        expect(rejections.reasons).toEqual([]);
      });
    });
  });
  runHardening(name, factory);
}
