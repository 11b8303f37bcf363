/**
 * Acting for the user, and JupyterHub as the OAuth provider of a service on its own host, against a
 * real JupyterHub (6.x and 5.x) in headless Chromium:
 *
 * - `actor-<fw>` (Express, Koa, Fastify and Hono on Node, the Web adapter on `Bun.serve`, Hono on
 *   Bun; managed; support/actor-service.mjs; `JUPYTERHUB_COOKIE_OPTIONS` Strict and session-only, as
 *   the Hub passes a service's `cookie_options`, which the cookies in Chromium show), registered with
 *   `oauth_client_allowed_scopes` and asking for them at login (`requestScopes`): a user logs in,
 *   and the service, with the user's own OAuth token, lists their servers and tokens, creates a token
 *   and revokes it (xsrf-protected POST/DELETE from the page); what the Hub refuses surfaces as the
 *   Hub's refusal, not a 500: listing every user (beyond `!user` scopes) is a 403, another user's
 *   tokens a 404 (the Hub does not say whether they exist to a caller with filtered scopes). A user's API token in
 *   the `Authorization` header acts the same way, and a route's `requireScopes` holds it to what
 *   the token carries. The token never shows in `JSON.stringify` or `util.inspect` of `hubAuth`.
 *   A `hubServices` guard (with `hubUsers`) lets in the service and the user it names, and no other.
 *   A websocket to the service through the proxy opens with the token header, `?token=` or the login
 *   cookie of a Chromium login, and is refused with a plain 401/403 otherwise.
 * - `?token=` on a navigation (URL tokens allowed): a login cookie session, and the same URL without
 *   the token; the next page needs no token. Where URL tokens are off, the token does nothing.
 * - `external-oauth` (examples/external-oauth/express.mjs at 127.0.0.2, and web.mjs, the Web adapter on
 *   Node, at 127.0.0.3; other origins than the Hub's 127.0.0.1; started here, not behind the proxy), with the environment of JupyterHub's
 *   launch-service.sh recipe plus JUPYTERHUB_SERVICE_NAME: the full login from a deep link, `next`
 *   preserved, logout. Without JUPYTERHUB_SERVICE_NAME it exits at start-up naming that variable.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { connectWebsocket } from '../contract/websocket';
import { HUB_VERSIONS, httpRequest, repoRoot, reservePorts, startHub, type HubVersion, type RunningHub } from '../hub';
import { approveConsent, launchBrowser, type BrowserSession, type Page } from '../hub/browser';
import { loginIfAsked, pageFetch, pageJson } from './support/browser-flows';
import { withDiagnostics } from './support/fixture';
import { runtimeBinary } from '../runtimes';
import { FRAMEWORKS, serviceCommand } from './support/hub-setup';

const ACTOR_SCRIPT = 'test/integration/support/actor-service.mjs';
/** The actor services: one per framework (the Web adapter under Bun), and Hono on Bun too. */
const ACTORS = [...FRAMEWORKS, 'hono-bun'] as const;
type Actor = (typeof ACTORS)[number];
const actorCommand = (a: Actor): string[] =>
  a === 'hono-bun' ? [runtimeBinary('bun'), ACTOR_SCRIPT, 'hono'] : [...serviceCommand(a, ACTOR_SCRIPT), a];
/** What the Hub passes as JUPYTERHUB_COOKIE_OPTIONS (Tornado's set_cookie arguments): Strict, session-only. */
const COOKIE_OPTIONS = { samesite: 'Strict', expires_days: null };

jest.setTimeout(180_000);

const SCOPES = ['read:tokens!user', 'tokens!user', 'read:servers!user', 'read:users:name!user'];
const actor = (a: Actor): string => `actor-${a}`;
const GREEDY = 'actor-greedy';
/** The external-oauth example in each flavour, each registered as its own client on its own origin. */
const EXTERNALS = {
  express: { name: 'external-oauth', clientId: 'service-oauth-client-test', host: '127.0.0.2' },
  web: { name: 'external-oauth-web', clientId: 'service-oauth-client-web', host: '127.0.0.3' },
} as const;
type Flavour = keyof typeof EXTERNALS;
const FLAVOURS = Object.keys(EXTERNALS) as Flavour[];
const secret = (): string => randomBytes(32).toString('hex');
/** Token-only services: `robot` is named by the actors' `hubServices` guard, `intruder` is not; both hold `access:services`. */
const ROBOT_TOKEN = secret();
const INTRUDER_TOKEN = secret();

/** The environment of JupyterHub's examples/external-oauth/launch-service.sh, for our Hub. */
function recipeEnv(hub: RunningHub, serviceUrl: string, apiToken: string, clientId: string): Record<string, string> {
  return {
    JUPYTERHUB_API_TOKEN: apiToken,
    JUPYTERHUB_CLIENT_ID: clientId,
    JUPYTERHUB_SERVICE_PREFIX: '/',
    JUPYTERHUB_SERVICE_URL: serviceUrl,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${serviceUrl}/oauth_callback`,
    JUPYTERHUB_HOST: hub.publicUrl,
    JUPYTERHUB_API_URL: hub.apiUrl,
  };
}

interface Running {
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function runNode(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--require', path.join(__dirname, 'support', 'die-with-parent.cjs'), script], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilUp(url: string, proc: Running): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await httpRequest(url, { timeoutMs: 1000 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.each(HUB_VERSIONS)('JupyterHub %s: acting for the user; a service on its own host', (version: HubVersion) => {
  let hub: RunningHub | undefined;
  let browser: BrowserSession | undefined;
  const externals: Partial<Record<Flavour, Running>> = {};
  const externalUrls: Partial<Record<Flavour, string>> = {};

  beforeAll(async () => {
    const cookieSecret = secret();
    const externalTokens = { express: secret(), web: secret() };
    const { ports, release } = await reservePorts(FLAVOURS.length);
    FLAVOURS.forEach((f, i) => (externalUrls[f] = `http://${EXTERNALS[f].host}:${ports[i] as number}`));
    await release();
    const launching = launchBrowser();
    try {
      hub = await startHub({
        version,
        users: ['alice', 'bob'],
        roles: [{ name: 'service-users', scopes: ['access:services'], users: ['alice', 'bob'] }],
        services: [
          ...ACTORS.map((fw) => ({
            name: actor(fw),
            managed: {
              command: actorCommand(fw),
              cwd: repoRoot,
              env: {
                HUBAUTH_COOKIE_SECRET: cookieSecret,
                JUPYTERHUB_ALLOW_TOKEN_IN_URL: '1',
                JUPYTERHUB_COOKIE_OPTIONS: JSON.stringify(COOKIE_OPTIONS),
                ACTOR_REQUEST_SCOPES: JSON.stringify(SCOPES),
              },
            },
            oauthClientAllowedScopes: SCOPES,
          })),
          {
            // asks for more than it is registered for
            name: GREEDY,
            managed: {
              command: [process.execPath, 'test/integration/support/actor-service.mjs', 'express'],
              cwd: repoRoot,
              env: { HUBAUTH_COOKIE_SECRET: cookieSecret, ACTOR_REQUEST_SCOPES: JSON.stringify([...SCOPES, 'admin:users']) },
            },
            oauthClientAllowedScopes: SCOPES,
          },
          {
            name: 'my-servers',
            managed: { command: [process.execPath, 'examples/express/my-servers.mjs'], cwd: repoRoot, env: { HUBAUTH_COOKIE_SECRET: cookieSecret } },
            oauthClientAllowedScopes: ['read:servers!user', 'read:tokens!user', 'tokens!user'],
          },
          { name: 'robot', apiToken: ROBOT_TOKEN, scopes: ['access:services'] },
          { name: 'intruder', apiToken: INTRUDER_TOKEN, scopes: ['access:services'] },
          ...FLAVOURS.map((f) => ({
            name: EXTERNALS[f].name,
            external: { apiToken: externalTokens[f], oauthClientId: EXTERNALS[f].clientId, oauthRedirectUri: `${externalUrls[f] as string}/oauth_callback` },
          })),
        ],
      });
      for (const f of FLAVOURS) {
        const url = externalUrls[f] as string;
        const proc = runNode(`examples/external-oauth/${f}.mjs`, {
          ...recipeEnv(hub, url, externalTokens[f], EXTERNALS[f].clientId),
          JUPYTERHUB_SERVICE_NAME: EXTERNALS[f].name,
          HUBAUTH_COOKIE_SECRET: cookieSecret,
        });
        externals[f] = proc;
        await waitUntilUp(`${url}/`, proc);
      }
    } finally {
      browser = await launching.catch(() => undefined);
    }
    if (!browser) await launching;
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(Object.values(externals).map((e) => e.stop()));
    await hub?.stop();
  });

  const scenario = (body: (ctx: { hub: RunningHub; browser: BrowserSession; page: Page }) => Promise<void>) => async () => {
    try {
      if (!hub || !browser) throw new Error(`JupyterHub ${version} or Chromium did not start`);
      await browser.context.clearCookies();
      await browser.page.goto('about:blank');
      await body({ hub, browser, page: browser.page });
    } catch (err) {
      const extra = Object.entries(externals).map(([f, e]) => `\n--- external-oauth (${f}) ---\n${e.output().slice(-1500)}`).join('');
      throw withDiagnostics(err, hub && { hub, logTail: (n = 60) => hub!.logTail(n) + extra } as never, browser);
    }
  };

  /** Logs in through `url` (Hub login form, consent page) until the browser is back at `landing`. */
  async function login(page: Page, h: RunningHub, url: string, user: string, landing = url): Promise<void> {
    await page.goto(url);
    await page.waitForLoadState('load');
    const here = new URL(page.url());
    if (here.pathname === '/hub/login') {
      await loginIfAsked(page, { hub: h } as never, user);
    }
    await approveConsent(page);
    await page.waitForURL(landing, { timeout: 10_000 });
  }

  test.each(ACTORS)("%s: as the logged-in user, lists their servers and tokens, creates and revokes a token; the Hub's refusals pass as 403/404", (fw) =>
    scenario(async ({ hub: h, page }) => {
      const base = `${h.publicUrl}/services/${actor(fw)}/`;
      await login(page, h, `${base}mine`, 'alice');
      const before = await pageJson<{ name: string; servers: string[]; tokens: string[] }>(page);
      expect(before.name).toBe('alice');
      expect(Array.isArray(before.servers)).toBe(true);
      // JUPYTERHUB_COOKIE_OPTIONS: the login and xsrf cookies are SameSite=Strict and end with the browser session.
      const jar = await page.context().cookies(base);
      expect(jar.find((c) => c.name === `service-${actor(fw)}`)).toEqual(
        expect.objectContaining({ sameSite: 'Strict', expires: -1, httpOnly: true, path: `/services/${actor(fw)}/` }),
      );
      expect(jar.find((c) => c.name === '_xsrf')).toEqual(expect.objectContaining({ sameSite: 'Strict' }));
      // The OAuth token the service acts with is among alice's tokens, with the scopes asked for.
      const tokens = await h.api<{ api_tokens: Array<{ id: string; scopes: string[]; oauth_client?: string }> }>('GET', '/users/alice/tokens');
      const oauthToken = tokens.body.api_tokens.find((t) => t.oauth_client === `JupyterHub service ${actor(fw)}`);
      expect(oauthToken?.scopes).toEqual(expect.arrayContaining(['read:tokens!user=alice', 'tokens!user=alice']));
      expect(before.tokens).toContain(oauthToken?.id);

      const created = await pageFetch(page, `${base}tokens`, { method: 'POST', xsrf: 'from-cookie' });
      expect(created.status).toBe(200);
      const { id, status } = JSON.parse(created.body) as { id: string; status: number };
      expect(status).toBe(201);
      await page.goto(`${base}mine`);
      expect((await pageJson<{ tokens: string[] }>(page)).tokens).toContain(id);
      // The Hub agrees: alice has that token, made by alice's own (OAuth) token.
      expect((await h.api<{ id: string }>('GET', `/users/alice/tokens/${id}`)).status).toBe(200);

      const revoked = await pageFetch(page, `${base}tokens/${id}`, { method: 'DELETE', xsrf: 'from-cookie' });
      expect(JSON.parse(revoked.body)).toEqual({ status: 204 });
      expect((await h.api('GET', `/users/alice/tokens/${id}`)).status).toBe(404);

      // Beyond alice's scopes: the Hub's 403 is the answer, not a 500.
      // A script's fetch() carries the xsrf token even for GET (the Hub's rule for cookie sessions).
      const everyone = await pageFetch(page, `${base}users`, { xsrf: 'from-cookie' });
      expect(everyone.status).toBe(403);
      expect(JSON.parse(everyone.body)).toEqual({ status: 403, code: 'ERR_HUBAUTH_HUB_API', message: expect.stringContaining('list:users') });
      // Another user's tokens: the Hub does not even say they exist (404), and neither do we.
      const others = await pageFetch(page, `${base}users/bob/tokens`, { xsrf: 'from-cookie' });
      expect(others.status).toBe(404);
      expect(JSON.parse(others.body)).toEqual(expect.objectContaining({ status: 404, code: 'ERR_HUBAUTH_HUB_API' }));

      // The token is there for the server, and nowhere in what the carrier shows.
      await page.goto(`${base}leak`);
      const leak = await pageJson<{ json: string; hasToken: boolean; tokenInJson: boolean; tokenInInspect: boolean }>(page);
      expect(leak).toEqual({ json: expect.stringContaining('alice'), hasToken: true, tokenInJson: false, tokenInInspect: false });
    })(),
  );

  test.each(ACTORS)("%s: a user's API token in the header acts as that user; requireScopes holds it to its scopes", (fw) =>
    scenario(async ({ hub: h }) => {
      const base = `${h.publicUrl}/services/${actor(fw)}/`;
      const full = await h.createUserToken('alice', { scopes: [`access:services!service=${actor(fw)}`, 'read:tokens!user', 'read:users:name!user'] });
      const narrow = await h.createUserToken('alice', { scopes: [`access:services!service=${actor(fw)}`] });
      const mine = await httpRequest(`${base}mine`, { headers: { authorization: `token ${full}` } });
      expect(mine.status).toBe(200);
      expect((mine.json as { name: string }).name).toBe('alice');
      const refused = await httpRequest(`${base}mine`, { headers: { authorization: `token ${narrow}` } });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('read:tokens!user=alice');
      expect((await httpRequest(`${base}users`, { headers: { authorization: `token ${full}` } })).status).toBe(403);
      expect((await httpRequest(`${base}users/bob/tokens`, { headers: { authorization: `token ${full}` } })).status).toBe(404);
    })(),
  );

  test.each(ACTORS)('%s: hubServices and hubUsers together: the service robot and the user alice pass, the service intruder and bob get 403', (fw) =>
    scenario(async ({ hub: h }) => {
      const url = `${h.publicUrl}/services/${actor(fw)}/robots`;
      const as = (token: string) => httpRequest(url, { headers: { authorization: `token ${token}` } });
      const robot = await as(ROBOT_TOKEN);
      expect(robot.status).toBe(200);
      expect(robot.json).toEqual(expect.objectContaining({ kind: 'service', name: 'robot' }));
      const intruder = await as(INTRUDER_TOKEN);
      expect(intruder.status).toBe(403);
      expect(intruder.text).toContain('not one of the services allowed here');
      const access = [`access:services!service=${actor(fw)}`];
      const alice = await as(await h.createUserToken('alice', { scopes: access }));
      expect([alice.status, (alice.json as { name?: string }).name]).toEqual([200, 'alice']);
      expect((await as(await h.createUserToken('bob', { scopes: access }))).status).toBe(403);
    })(),
  );

  test.each(ACTORS)('%s: a websocket through the proxy: token header, ?token=, the login cookie (Chromium); none → 401, no access → 403', (fw) =>
    scenario(async ({ hub: h, page }) => {
      const base = `${h.publicUrl}/services/${actor(fw)}/`;
      const wsUrl = `${base.replace(/^http/, 'ws')}ws`;
      const token = await h.createUserToken('bob', { scopes: [`access:services!service=${actor(fw)}`, 'read:users:name!user'] });
      expect(await connectWebsocket(wsUrl, { authorization: `token ${token}` })).toEqual({ opened: true, message: { name: 'bob', act: 'bob' } });
      expect(await connectWebsocket(`${wsUrl}?token=${token}`)).toEqual({ opened: true, message: { name: 'bob', act: 'bob' } });
      expect(await connectWebsocket(wsUrl)).toEqual({ opened: false, status: 401, redirected: false });
      expect(await connectWebsocket(wsUrl, { authorization: 'token not-a-token' })).toEqual({ opened: false, status: 401, redirected: false });
      // Identified, but the token does not carry the service's access scope: 403, not a login page.
      const unscoped = await h.createUserToken('bob', { scopes: ['read:users:name!user'] });
      expect(await connectWebsocket(wsUrl, { authorization: `token ${unscoped}` })).toEqual({ opened: false, status: 403, redirected: false });
      // In the browser, after a login: the page's own websocket carries the login cookie.
      await login(page, h, base, 'alice');
      const fromPage = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const { WebSocket: BrowserSocket } = globalThis as unknown as { WebSocket: new (u: string) => { onmessage: (e: { data: string }) => void; onclose: (e: { code: number }) => void } };
            const ws = new BrowserSocket(url);
            ws.onmessage = (e) => resolve(e.data);
            ws.onclose = (e) => resolve(`closed ${e.code}`);
          }),
        wsUrl,
      );
      expect(JSON.parse(fromPage)).toEqual({ name: 'alice', act: 'alice' });
    })(),
  );

  test.each(ACTORS)('%s: ?token= on a navigation starts a login cookie session and drops the token from the URL', (fw) =>
    scenario(async ({ hub: h, page, browser: b }) => {
      const base = `${h.publicUrl}/services/${actor(fw)}/`;
      const token = await h.createUserToken('bob', { scopes: [`access:services!service=${actor(fw)}`] });
      const seen: string[] = [];
      page.on('request', (r) => seen.push(r.url()));
      await page.goto(`${base}?token=${token}&tab=2`);
      expect(page.url()).toBe(`${base}?tab=2`);
      expect((await pageJson<{ name: string }>(page)).name).toBe('bob');
      const cookies = (await b.context.cookies(base)).map((c) => c.name);
      expect(cookies).toEqual(expect.arrayContaining([`service-${actor(fw)}`, '_xsrf']));
      await page.goto(base);
      expect((await pageJson<{ name: string }>(page)).name).toBe('bob');
      expect(seen.filter((u) => u.includes('token=')).length).toBe(1);
    })(),
  );

  test('asking at login for more than the Hub allows the service: a clear 403 page, and the fix in the log', () =>
    scenario(async ({ hub: h, page }) => {
      const base = `${h.publicUrl}/services/${GREEDY}/`;
      await page.goto(base);
      await loginIfAsked(page, { hub: h } as never, 'alice');
      await approveConsent(page);
      await page.waitForURL((u) => u.pathname === `/services/${GREEDY}/oauth_callback`, { timeout: 10_000 });
      const text = await page.locator('body').innerText();
      expect(text).toContain('403 Forbidden');
      expect(text).toContain('invalid_scope');
      expect(h.logTail(200)).toMatch(/requestScopes: .*admin:users.*oauth_client_allowed_scopes/);
    })(),
  );

  test('the my-servers dashboard (examples/express/my-servers.mjs): lists, creates and revokes tokens as the user', () =>
    scenario(async ({ hub: h, page }) => {
      const base = `${h.publicUrl}/services/my-servers/`;
      await login(page, h, base, 'bob');
      expect(await page.locator('h1').innerText()).toBe("bob's servers");
      await page.fill('input[name="note"]', 'from the dashboard');
      await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/tokens"] button')]);
      expect(await page.locator('body').innerText()).toContain('Your new token');
      await page.goto(base);
      const row = page.locator('li', { hasText: 'from the dashboard' });
      expect(await row.count()).toBe(1);
      await Promise.all([page.waitForURL(base), row.locator('button').click()]);
      expect(await page.locator('li', { hasText: 'from the dashboard' }).count()).toBe(0);
      const left = await h.api<{ api_tokens: Array<{ note: string | null }> }>('GET', '/users/bob/tokens');
      expect(left.body.api_tokens.some((t) => t.note === 'from the dashboard')).toBe(false);
    })(),
  );

  test.each(FLAVOURS)('external service (%s), its own origin: full login from a deep link, next preserved, logout', (flavour) =>
    scenario(async ({ hub: h, page }) => {
      const externalUrl = externalUrls[flavour] as string;
      const { name: EXTERNAL, clientId: CLIENT_ID, host: EXTERNAL_HOST } = EXTERNALS[flavour];
      const deep = `${externalUrl}/reports/2026?sort=name&x=1`;
      await login(page, h, deep, 'alice');
      expect(await pageJson(page)).toEqual({ page: '/reports/2026?sort=name&x=1', user: 'alice' });
      await page.goto(`${externalUrl}/`);
      const me = await pageJson<{ name: string; kind: string; scopes: string[] }>(page);
      expect(me).toEqual(expect.objectContaining({ name: 'alice', kind: 'user' }));
      expect(me.scopes).toContain(`access:services!service=${EXTERNAL}`);
      const cookies = await page.context().cookies(externalUrl);
      expect(cookies.find((c) => c.name === CLIENT_ID)?.domain).toBe(EXTERNAL_HOST);

      // ?token= is not accepted here (URL tokens are off by default): no session from it.
      const apiToken = await h.createUserToken('bob', { scopes: [`access:services!service=${EXTERNAL}`] });
      await page.context().clearCookies();
      await page.goto(`${externalUrl}/?token=${apiToken}`);
      expect(new URL(page.url()).pathname).toBe('/hub/login');
      await loginIfAsked(page, { hub: h } as never, 'alice');
      await approveConsent(page);
      await page.waitForURL(`${externalUrl}/?token=${apiToken}`);
      expect((await pageJson<{ name: string }>(page)).name).toBe('alice');

      // Logout at the service: its cookie goes, the Hub's logout follows, and the next visit logs in again.
      await page.goto(`${externalUrl}/logout`);
      await page.waitForLoadState('load');
      expect(new URL(page.url()).origin).toBe(h.publicUrl);
      expect((await page.context().cookies(externalUrl)).find((c) => c.name === CLIENT_ID)).toBeUndefined();
      await page.goto(`${externalUrl}/`);
      expect(new URL(page.url()).pathname).toBe('/hub/login');
    })(),
  );

  test.each(FLAVOURS)('the recipe environment (%s) without JUPYTERHUB_SERVICE_NAME fails at start-up naming that one variable', (flavour) =>
    scenario(async ({ hub: h }) => {
      const { ports, release } = await reservePorts(1);
      await release();
      const { host, clientId } = EXTERNALS[flavour];
      const proc = runNode(`examples/external-oauth/${flavour}.mjs`, recipeEnv(h, `http://${host}:${ports[0] as number}`, secret(), clientId));
      const code = await proc.exited;
      expect(code).not.toBe(0);
      const named = new Set(proc.output().match(/JUPYTERHUB_[A-Z_]+/g));
      expect([...named]).toEqual(['JUPYTERHUB_SERVICE_NAME']);
    })(),
  );
});
