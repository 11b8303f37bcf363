/**
 * What happens to a browser login after it was made, against a real JupyterHub (6.x and 5.x),
 * through its real proxy, in headless Chromium, for Express, Koa and Fastify:
 *
 * 7. logout at the Hub (`/hub/logout`): the Hub deletes the OAuth tokens of its session and clears
 *    its session-id cookie; the services' login cookies stay. A service's cached identity is keyed
 *    on the token AND the Hub session id (as in JupyterHub), so:
 *    - with the browser's cookies as the logout left them, the next navigation goes back to the Hub
 *      login at once, even for a service with the default 300 s cache;
 *    - with the old session-id cookie put back (as test_oauth_logout does), the cached identity still
 *      answers until the cache TTL: the whoami-oauth example (300 s) still says alice, the guard
 *      service (1 s) sends the next navigation back to the Hub login once its TTL has passed.
 * 8. revocation: a user whose access role came from a group is removed from it
 *    (`DELETE /groups/members/users`); after the guard service's cache TTL, their cookie and their
 *    API token both get 403 (a page, not a redirect to the Hub: no login loop).
 *
 * Hub 5.5.4 vs 6.1.1: no difference seen here.
 */
import { HUB_VERSIONS, type HubVersion } from '../hub';
import type { Cookie, Page } from '../hub/browser';
import {
  AUTHORIZE_PATH,
  loginThroughService,
  pageFetch,
  pageJson,
  resetBrowser,
  serviceTokensOf,
} from './support/browser-flows';
import { HubFixture } from './support/fixture';
import { FRAMEWORKS, GUARD_CACHE_SECONDS, MEMBERS_GROUP, daveOf, guardService, oauthService } from './support/hub-setup';
import { httpRequest } from '../hub';

jest.setTimeout(120_000);

const SESSION_COOKIE = 'jupyterhub-session-id';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Model {
  name?: string;
  user?: { name?: string };
}

describe.each(HUB_VERSIONS.map((v) => [v] as [HubVersion]))('JupyterHub %s: logout and revocation', (version) => {
  const fx = new HubFixture(version, { browser: true });
  beforeAll(() => fx.start());
  afterAll(() => fx.stop());

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
          const fetched = await pageFetch(page, ix.prefix(service));
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
