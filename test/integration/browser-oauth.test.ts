/**
 * Browser login (OAuth) against a real JupyterHub (6.x and 5.x), through its real proxy, in headless
 * Chromium, for the Express, Koa, Fastify and Hono whoami-oauth examples and the fetch-handler one on
 * Bun (managed), the same example run as
 * an external service, and the guard services (managed, 1 s identity cache). Scenarios (after
 * jupyterhub/tests/test_services_auth.py), in the order they run:
 *
 * 5. the full flow: service → Hub login form → consent page → our callback → whoami JSON; the login
 *    cookie's attributes, and that it does not hold the token; PKCE S256 in the authorize request,
 *    and what each Hub does with it;
 * 6. two concurrent logins in two tabs, finished in either order, each landing on its own URL;
 * 9. API call vs navigation in the browser: `fetch()` without a login → 401, navigation → the Hub;
 * 10. xsrf on cookie-authenticated fetch(): no `X-XSRFToken` → 403 (GET and POST), the `_xsrf` cookie's value → 200;
 * 7. logout at the Hub (`/hub/logout`): the Hub deletes the OAuth tokens of its session and clears
 *    its session-id cookie; the services' login cookies stay. A service's cached identity is keyed
 *    on the token AND the Hub session id (as in JupyterHub), so:
 *    - with the browser's cookies as the logout left them, the next navigation goes back to the Hub
 *      login at once, even for a service with the default 300 s cache;
 *    - with the old session-id cookie put back (as test_oauth_logout does), the cached identity still
 *      answers until the cache TTL: the whoami-oauth example (300 s) still says alice, the guard
 *      service (1 s) sends the next navigation back to the Hub login once its TTL has passed;
 * 7b. logout at the service (`<prefix>logout`): our cookies are cleared, the cached identity is
 *    forgotten (the old cookies put back no longer answer from the cache), and the browser goes on
 *    to the Hub's logout;
 * 8. revocation: a user whose access role came from a group is removed from it
 *    (`DELETE /groups/members/users`); after the guard service's cache TTL, their cookie and their
 *    API token both get 403 (a page, not a redirect to the Hub: no login loop).
 *
 * Hub 5.5.4 vs 6.1.1, as seen here:
 * - PKCE: both accept the authorize request with `code_challenge`/`code_challenge_method=S256` and
 *   the flow succeeds. Hub 6 verifies it: when the challenge is altered on the way to the Hub, the
 *   code exchange fails (`invalid_grant`) and our callback answers 400. Hub 5 ignores it: the same
 *   altered flow still logs in.
 * - The user model behind the login has `user_info` (null) in 6 only.
 * - Everything else here (redirects, consent page, token expiry of 14 days, cookies, logout deleting
 *   the session's tokens, revocation through a group) behaves the same.
 * - Not a version difference, but seen on both: with consent pages pending in two tabs, the Hub's
 *   own xsrf check may refuse (403) the form rendered first once the Hub has re-issued its `_xsrf`
 *   cookie (its value carries a timestamp in seconds) for the other tab. Scenario 6 therefore lets
 *   one tab finish before the other continues.
 */
import { httpRequest, HUB_VERSIONS, type HubVersion } from '../hub';
import type { Cookie, Page } from '../hub/browser';
import { approveConsent } from '../hub/browser';
import {
  AUTHORIZE_PATH,
  loginIfAsked,
  loginThroughService,
  pageFetch,
  pageJson,
  resetBrowser,
  serviceTokensOf,
  watchAuthorize,
} from './support/browser-flows';
import { HubFixture } from './support/fixture';
import {
  FRAMEWORKS,
  GUARD_CACHE_SECONDS,
  MEMBERS_GROUP,
  apiService,
  daveOf,
  externalService,
  guardService,
  oauthService,
  type Framework,
} from './support/hub-setup';

jest.setTimeout(120_000);

interface Model {
  name?: string;
  /** the guard services answer { route, user } */
  user?: { name?: string };
  kind?: string;
  scopes?: string[];
  token_id?: string;
  session_id?: string | null;
  user_info?: unknown;
}

const DAY = 86_400;
const SESSION_COOKIE = 'jupyterhub-session-id';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const isStateCookie = (name: string, service: string): boolean => name.startsWith(`service-${service}-oauth-state`);

describe.each(HUB_VERSIONS.map((v) => [v] as [HubVersion]))('JupyterHub %s: browser login', (version) => {
  const fx = new HubFixture(version, { browser: true });
  beforeAll(() => fx.start());
  afterAll(() => fx.stop());

  const freshBrowser = (): Promise<Page> => {
    if (!fx.browserSession || !fx.ix) throw new Error('no browser');
    return resetBrowser(fx.browserSession, fx.ix);
  };

  describe('5. the full OAuth flow', () => {
    test.each(FRAMEWORKS)('%s: service → Hub login → consent → callback → whoami; cookie attributes; PKCE S256', (fw) =>
      fx.run(async ({ ix, hub, browser }) => {
        const page = await freshBrowser();
        const service = oauthService(fw);
        const url = ix.url(service);
        const t0 = Date.now() / 1000;
        const flow = await loginThroughService(page, ix, url, 'alice');
        expect(flow).toEqual(expect.objectContaining({ loginForm: true, consent: true }));
        expect(page.url()).toBe(url);
        const model = await pageJson<Model>(page);
        expect(model).toEqual(expect.objectContaining({ name: 'alice', kind: 'user' }));
        expect(model.scopes).toContain(`access:services!service=${service}`);
        expect('user_info' in model).toBe(version === '6');
        expect(model.session_id).toEqual(expect.any(String)); // an OAuth token belongs to the Hub session

        // the authorize request: our client, our callback, PKCE S256
        expect(flow.authorizeUrls.length).toBeGreaterThanOrEqual(1);
        const authorize = flow.authorizeUrls[0] as URL;
        expect(Object.fromEntries(authorize.searchParams)).toEqual(
          expect.objectContaining({
            client_id: `service-${service}`,
            redirect_uri: `${ix.prefix(service)}oauth_callback`,
            response_type: 'code',
            code_challenge_method: 'S256',
            code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
            state: expect.any(String),
          }),
        );

        // cookies: the login cookie, the xsrf cookie, no state cookie left
        const cookies = await browser.cookies(url);
        const login = cookies.find((c) => c.name === `service-${service}`) as Cookie;
        expect(login).toEqual(
          expect.objectContaining({ httpOnly: true, sameSite: 'Lax', path: ix.prefix(service), secure: false }),
        );
        // Max-Age follows the token's expires_in: the Hub's default is its cookie lifetime, 14 days
        expect(login.expires).toBeGreaterThan(t0 + 14 * DAY - 60);
        expect(login.expires).toBeLessThan(t0 + 14 * DAY + 60);
        expect(cookies.filter((c) => isStateCookie(c.name, service))).toEqual([]);
        const xsrf = cookies.find((c) => c.name === '_xsrf' && c.path === ix.prefix(service));
        expect(xsrf).toEqual(expect.objectContaining({ httpOnly: false, sameSite: 'Lax' }));

        // the Hub issued exactly one token to this client: the one behind the page, expiring with the cookie
        const issued = await serviceTokensOf(ix, 'alice', service);
        expect(issued.map((t) => t.id)).toEqual([model.token_id]);
        expect(issued[0]?.session_id).toBe(model.session_id);
        expect(Math.abs(Date.parse(issued[0]?.expires_at ?? '') / 1000 - login.expires)).toBeLessThan(5);

        // ...and the cookie does not contain it: Hub tokens are 32 hex digits, nothing like that is in
        // the cookie or in any base64url-decoded part of it, and the cookie is no token either
        const parts = [login.value, ...login.value.split(/[.|:]/)];
        for (const part of parts) {
          expect(part).not.toMatch(/[0-9a-f]{32}/);
          expect(Buffer.from(part, 'base64url').toString('latin1')).not.toMatch(/[0-9a-f]{32}/);
        }
        expect((await hub.api('GET', '/user', undefined, login.value)).status).toBe(403);
      }),
    );

    test.each(FRAMEWORKS)('%s: the same example as an external service (started by the test, registered by URL)', (fw) =>
      fx.run(async ({ ix, browser }) => {
        const page = await freshBrowser();
        const service = externalService(fw);
        const flow = await loginThroughService(page, ix, ix.url(service, '?from=test'), 'alice');
        expect(flow).toEqual(expect.objectContaining({ loginForm: true, consent: true }));
        expect(flow.authorizeUrls[0]?.searchParams.get('client_id')).toBe(`service-${service}`);
        expect(await pageJson<Model>(page)).toEqual(expect.objectContaining({ name: 'alice', kind: 'user' }));
        const names = (await browser.cookies(ix.url(service))).map((c) => c.name);
        expect(names).toContain(`service-${service}`);
        // a second visit: straight to the page, no Hub round trip
        const watch = watchAuthorize(page);
        await page.goto(ix.url(service));
        watch.stop();
        expect(watch.urls).toEqual([]);
        expect(await pageJson<Model>(page)).toEqual(expect.objectContaining({ name: 'alice' }));
      }),
    );

    test.each(FRAMEWORKS)(
      `%s: PKCE — an altered code_challenge makes ${version === '6' ? 'Hub 6 refuse the code exchange (400)' : 'no difference to Hub 5'}`,
      (fw) =>
        fx.run(async ({ ix }) => {
          const page = await freshBrowser();
          const service = oauthService(fw);
          const altered = 'A'.repeat(43);
          const seen: string[] = [];
          // Playwright routes no redirect hops: alter the challenge in the service's own 302 instead
          const url = ix.url(service);
          await page.route(url, async (route) => {
            const response = await route.fetch({ maxRedirects: 0 });
            const headers = response.headers();
            const location = new URL(headers.location ?? '', url);
            seen.push(`${response.status()} ${location.searchParams.get('code_challenge_method')}`);
            location.searchParams.set('code_challenge', altered);
            await route.fulfill({ response, headers: { ...headers, location: location.toString() } });
          });
          const watch = watchAuthorize(page);
          try {
            await page.goto(url);
            await loginIfAsked(page, ix, 'alice');
            await approveConsent(page);
          } finally {
            watch.stop();
            await page.unroute(url);
          }
          expect(seen).toEqual(['302 S256']);
          expect(watch.urls.length).toBeGreaterThan(0);
          for (const u of watch.urls) expect(u.searchParams.get('code_challenge')).toBe(altered);
          const landed = new URL(page.url());
          if (version === '6') {
            expect(landed.pathname).toBe(`${ix.prefix(service)}oauth_callback`);
            const text = await page.locator('body').innerText();
            expect(text).toMatch(/400 Bad request/);
            expect(text).toMatch(/did not accept the login \(invalid_grant\)/);
          } else {
            expect(page.url()).toBe(ix.url(service));
            expect(await pageJson<Model>(page)).toEqual(expect.objectContaining({ name: 'alice' }));
          }
        }),
    );
  });

  describe('6. two concurrent logins in two tabs', () => {
    const cases = FRAMEWORKS.flatMap((fw) => [
      [fw, 'the first tab'],
      [fw, 'the second tab'],
    ]) as Array<[Framework, string]>;

    test.each(cases)('%s: both tabs start before the login; %s finishes first; each lands on its own URL', (fw, first) =>
      fx.run(async ({ ix, browser }) => {
        const page1 = await freshBrowser();
        const page2 = await browser.newPage();
        const service = oauthService(fw);
        const url1 = ix.url(service, '?tab=1');
        const url2 = ix.url(service, '?tab=2');
        await page1.goto(url1);
        await page2.goto(url2);
        for (const p of [page1, page2]) expect(new URL(p.url()).pathname).toBe('/hub/login');
        // two flows, two state cookies: the second one got a suffixed name
        const states = (await browser.cookies(url1)).filter((c) => isStateCookie(c.name, service));
        expect(states.map((c) => c.name).sort()).toEqual([
          `service-${service}-oauth-state`,
          expect.stringMatching(new RegExp(`^service-${service}-oauth-state-[a-z]{8}$`)),
        ]);
        const now = Date.now() / 1000;
        for (const c of states) {
          expect(c.path).toBe(ix.prefix(service));
          expect(c.expires).toBeGreaterThan(now + 600 - 30);
          expect(c.expires).toBeLessThan(now + 600 + 30);
        }

        // One tab logs in at the Hub and approves; the other, still on the Hub's login form with its own
        // flow, is reloaded: the Hub sends it on (no consent: a token of this client now exists) to our
        // callback, whose state cookie is gone with the first login — the browser is logged in, so it
        // goes on to its own URL. (Two consent pages pending at once are not used: the Hub's own xsrf
        // check may refuse the older form once the Hub re-issues its _xsrf cookie, on 5 and 6 alike.)
        const [a, b] = first === 'the first tab' ? [page1, page2] : [page2, page1];
        const [urlA, urlB] = a === page1 ? [url1, url2] : [url2, url1];
        expect(await loginIfAsked(a, ix, 'alice')).toBe(true);
        expect(await approveConsent(a)).toBe(true);
        expect(a.url()).toBe(urlA);
        expect((await browser.cookies(url1)).filter((c) => isStateCookie(c.name, service))).toEqual([]);
        const callbacks: string[] = [];
        b.on('request', (r) => {
          if (new URL(r.url()).pathname.endsWith('/oauth_callback')) callbacks.push(r.url());
        });
        await b.reload();
        expect(await approveConsent(b)).toBe(false);
        expect(b.url()).toBe(urlB);
        expect(callbacks).toHaveLength(1); // it did finish its own flow at our callback
        for (const p of [a, b]) expect(await pageJson<Model>(p)).toEqual(expect.objectContaining({ name: 'alice' }));
        const left = await browser.cookies(url1);
        expect(left.filter((c) => isStateCookie(c.name, service))).toEqual([]);
        expect(left.filter((c) => c.name === `service-${service}`)).toHaveLength(1);
        await page2.close();
      }),
    );
  });

  describe('9. API call vs navigation in the browser', () => {
    test.each(FRAMEWORKS)('%s: fetch() without a login → 401 and no cookie; navigation → the Hub', (fw) =>
      fx.run(async ({ ix, browser }) => {
        const page = await freshBrowser();
        // a page on the same origin, without any login
        await page.goto(`${ix.hub.publicUrl}/hub/login`);
        for (const service of [oauthService(fw), guardService(fw), apiService(fw)]) {
          const res = await pageFetch(page, ix.prefix(service));
          expect({ service, status: res.status, redirected: res.redirected }).toEqual({ service, status: 401, redirected: false });
          expect(res.wwwAuthenticate).toMatch(/^Bearer realm=/);
          expect(JSON.parse(res.body)).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_UNAUTHENTICATED' }));
          // an API call starts no login: no state cookie
          expect(await browser.cookies(ix.url(service))).toEqual([]);
        }

        // a navigation to the OAuth service goes to the Hub (and on to its login form)
        const service = oauthService(fw);
        const response = await page.goto(ix.url(service, '?via=navigation'));
        let first = response?.request();
        while (first?.redirectedFrom()) first = first.redirectedFrom() ?? undefined;
        expect(first?.url()).toBe(ix.url(service, '?via=navigation'));
        expect((await first?.response())?.status()).toBe(302);
        const landed = new URL(page.url());
        expect(landed.pathname).toBe('/hub/login');
        const next = new URL(landed.searchParams.get('next') ?? '', ix.hub.publicUrl);
        expect(next.pathname).toBe(AUTHORIZE_PATH);
        expect(next.searchParams.get('client_id')).toBe(`service-${service}`);
        // the token-only example has no browser login: a navigation gets a 401 page, not a redirect
        const apiPage = await page.goto(ix.url(apiService(fw)));
        expect(apiPage?.status()).toBe(401);
        expect(page.url()).toBe(ix.url(apiService(fw)));
        expect(await page.locator('h1').innerText()).toBe('401 Unauthorized');
      }),
    );
  });

  describe('10. xsrf on cookie-authenticated fetch()', () => {
    test.each(FRAMEWORKS)('%s: GET or POST without X-XSRFToken → 403; with the _xsrf cookie value → 200', (fw) =>
      fx.run(async ({ ix }) => {
        const page = await freshBrowser();
        const service = oauthService(fw);
        await loginThroughService(page, ix, ix.url(service), 'alice');
        const echo = `${ix.prefix(service)}echo`;

        // JupyterHub's rule: a script's fetch() is a cors request, which needs the token even for GET
        const bare = await pageFetch(page, ix.prefix(service));
        expect(bare.status).toBe(403);
        expect(JSON.parse(bare.body)).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_XSRF' }));
        const get = await pageFetch(page, ix.prefix(service), { xsrf: 'from-cookie' });
        expect(get.status).toBe(200);
        const missing = await pageFetch(page, echo, { method: 'POST' });
        expect(missing.status).toBe(403);
        expect(JSON.parse(missing.body)).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_XSRF' }));
        const wrong = await pageFetch(page, echo, { method: 'POST', xsrf: 'not-the-token' });
        expect(wrong.status).toBe(403);
        const ok = await pageFetch(page, echo, { method: 'POST', xsrf: 'from-cookie' });
        expect({ status: ok.status, body: JSON.parse(ok.body) as unknown }).toEqual({ status: 200, body: { ok: true, name: 'alice' } });
      }),
    );
  });

  /** Waits until the guard service's cache entry written at `since` (ms) has expired. */
  const afterGuardTtl = async (since: number): Promise<void> => {
    const wait = since + GUARD_CACHE_SECONDS * 1000 + 500 - Date.now();
    if (wait > 0) await sleep(wait);
  };

  /** Asserts that `page` was sent to the Hub's login form on its way to `service`'s authorize URL. */
  const expectAtHubLogin = (page: Page, service: string): void => {
    const at = new URL(page.url());
    expect(at.pathname).toBe('/hub/login');
    const next = new URL(at.searchParams.get('next') ?? '', at.origin);
    expect(next.pathname).toBe(AUTHORIZE_PATH);
    expect(next.searchParams.get('client_id')).toBe(`service-${service}`);
  };

  describe('7. logout at the Hub', () => {
    test.each(FRAMEWORKS)('%s: tokens deleted; cached identity until the TTL only with the old Hub session; then the Hub login', (fw) =>
      fx.run(async ({ ix, browser }) => {
        const page = await resetBrowser(browser, ix);
        const longCache = oauthService(fw); // the example: default cache, 300 s
        const shortCache = guardService(fw); // cache GUARD_CACHE_SECONDS
        await loginThroughService(page, ix, ix.url(longCache), 'alice');
        await loginThroughService(page, ix, ix.url(shortCache), 'alice');
        expect((await serviceTokensOf(ix, 'alice')).length).toBe(2);
        const hubCookies = await browser.cookies(`${ix.hub.publicUrl}/hub/`);
        const session = hubCookies.find((c) => c.name === SESSION_COOKIE) as Cookie;
        expect(session).toBeDefined();
        // both services know alice in this Hub session (and have cached it)
        await page.goto(ix.url(longCache));
        expect(await pageJson<Model>(page)).toEqual(expect.objectContaining({ name: 'alice' }));
        await page.goto(ix.url(shortCache));
        expect((await pageJson<Model>(page)).user?.name).toBe('alice');
        const lastGuardLookup = Date.now();

        await page.goto(`${ix.hub.publicUrl}/hub/logout`);
        // the Hub deleted the session's OAuth tokens and its session-id cookie; our cookies stay
        expect(await serviceTokensOf(ix, 'alice')).toEqual([]);
        const after = await browser.cookies();
        expect(after.filter((c) => c.name === SESSION_COOKIE)).toEqual([]);
        expect(after.map((c) => c.name)).toEqual(expect.arrayContaining([`service-${longCache}`, `service-${shortCache}`]));

        // the old Hub session id back in the jar: the cached identity answers, until the TTL
        await browser.context.addCookies([session]);
        await page.goto(ix.url(longCache));
        expect(await pageJson<Model>(page)).toEqual(expect.objectContaining({ name: 'alice' }));
        await afterGuardTtl(lastGuardLookup);
        await page.goto(ix.url(shortCache));
        expectAtHubLogin(page, shortCache);
        // the Hub said the token is gone: the guard service cleared its login cookie
        expect((await browser.cookies(ix.url(shortCache))).map((c) => c.name)).not.toContain(`service-${shortCache}`);

        // without the old session id (as the logout left the browser), even the 300 s cache is bypassed
        const jar = await browser.cookies();
        await browser.context.clearCookies();
        await browser.context.addCookies(jar.filter((c) => c.name !== SESSION_COOKIE));
        await page.goto(ix.url(longCache));
        expectAtHubLogin(page, longCache);
      }),
    );
  });

  describe('7b. logout at the service', () => {
    test.each(FRAMEWORKS)('%s: <prefix>logout clears our cookies, forgets the cached identity and logs out at the Hub', (fw) =>
      fx.run(async ({ ix, browser }) => {
        const page = await freshBrowser();
        const service = oauthService(fw); // default cache, 300 s
        await loginThroughService(page, ix, ix.url(service), 'alice');
        const jar = await browser.cookies();
        const kept = jar.filter((c) => c.name === `service-${service}` || c.name === SESSION_COOKIE);
        expect(kept).toHaveLength(2);

        await page.goto(ix.url(service, 'logout'));
        expect(new URL(page.url()).pathname).toMatch(/^\/hub\/(login|logout)$/);
        expect((await browser.cookies(ix.url(service))).map((c) => c.name)).not.toContain(`service-${service}`);
        expect(await serviceTokensOf(ix, 'alice')).toEqual([]); // the Hub logged out: the token is gone

        // our old login cookie and the old Hub session id back in the jar: a service that had kept its
        // cache entry would still answer alice (see 7); this one asks the Hub and sends us to log in
        await browser.context.addCookies(kept);
        await page.goto(ix.url(service));
        expectAtHubLogin(page, service);
      }),
    );
  });

  describe('8. revoked access', () => {
    test.each(FRAMEWORKS)('%s: removed from the group carrying the role → 403 after the cache TTL (page, fetch, token)', (fw) =>
      fx.run(async ({ ix, hub, browser }) => {
        const user = daveOf(fw);
        const service = guardService(fw);
        const url = ix.url(service);
        const page = await resetBrowser(browser, ix, [user]);
        const token = await hub.createUserToken(user);
        try {
          await loginThroughService(page, ix, url, user);
          expect((await pageJson<Model>(page)).user?.name).toBe(user);
          expect((await httpRequest(url, { headers: { Authorization: `token ${token}` } })).status).toBe(200);
          const lastLookup = Date.now();

          const removed = await hub.api('DELETE', `/groups/${MEMBERS_GROUP}/users`, { users: [user] });
          expect(removed.status).toBe(200);
          await afterGuardTtl(lastLookup);

          const response = await page.goto(url);
          expect(response?.status()).toBe(403);
          expect(page.url()).toBe(url); // not sent to the Hub: no login loop
          expect(await page.locator('h1').innerText()).toBe('403 Forbidden');
          const fetched = await pageFetch(page, ix.prefix(service), { xsrf: 'from-cookie' });
          expect(fetched.status).toBe(403);
          expect(JSON.parse(fetched.body)).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_FORBIDDEN' }));
          // the login cookie stays: the Hub still knows the token, it just no longer grants access
          expect((await browser.cookies(url)).map((c) => c.name)).toContain(`service-${service}`);
          const byToken = await httpRequest(url, { headers: { Authorization: `token ${token}` } });
          expect(byToken.status).toBe(403);
        } finally {
          await hub.api('POST', `/groups/${MEMBERS_GROUP}/users`, { users: [user] });
        }
      }),
    );
  });
});
