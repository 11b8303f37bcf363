/** `@hubauth/hono` in-process (`app.request`), against the fake Hub. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { fakeHubOptions } from '../../../test/contract/options';
import { USERS } from '../../../test/contract/scenarios';
import { PREFIX } from '../../../test/contract/types';
import { ConfigError, hubAuth, hubAuthenticated, isHubAuthError, type HubAuthEnv } from '../src';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: `${PREFIX}oauth_callback`, requirePkce: true });
});
afterAll(() => hub.close());
const options = () => fakeHubOptions(hub, 'hono-test-secret-0123456789abcdef0123456789', { cacheMaxAge: 0 });

test('hubAuth() exposes its authenticator and serves the callback and logout routes', async () => {
  const middleware = hubAuth(options());
  expect(middleware.auth).toBe(middleware.flow.auth);
  const app = new Hono<HubAuthEnv>().use(middleware).get('*', (c) => c.text('app'));
  expect((await app.request(`${PREFIX}logout`)).status).toBe(302);
  expect((await app.request(`${PREFIX}oauth_callback?code=x`)).status).toBe(400);
  expect(await (await app.request(`${PREFIX}other`)).text()).toBe('app');
});

test('cookies set while identifying reach responses the handler built itself', async () => {
  const app = new Hono<HubAuthEnv>().use(hubAuth(options()));
  app.get(`${PREFIX}raw`, () => new Response('raw'));
  app.get(`${PREFIX}redirect`, () => Response.redirect('http://127.0.0.1/elsewhere', 302));
  for (const path of ['raw', 'redirect']) {
    const res = await app.request(`${PREFIX}${path}`, { headers: { cookie: 'service-whoami=forged.value' } });
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('service-whoami=;'))).toHaveLength(1);
  }
});

test('errors: "throw" raises an HTTPException carrying the response and the typed error', async () => {
  const app = new Hono<HubAuthEnv>().use(hubAuth({ ...options(), errors: 'throw' }));
  app.get(PREFIX, hubAuthenticated(), (c) => c.text('never'));
  app.get(`${PREFIX}respond`, hubAuthenticated({ errors: 'respond' }), (c) => c.text('never'));
  const seen: unknown[] = [];
  app.onError((err) => {
    seen.push(err);
    return (err as HTTPException).getResponse();
  });
  const res = await app.request(PREFIX, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(seen[0]).toBeInstanceOf(HTTPException);
  const cause = (seen[0] as HTTPException).cause;
  expect(isHubAuthError(cause) && cause.code).toBe('ERR_HUBAUTH_UNAUTHENTICATED');
  // A guard can go back to answering by itself.
  expect((await app.request(`${PREFIX}respond`, { headers: { accept: 'application/json' } })).status).toBe(401);
  expect(seen).toHaveLength(1);
});

test('a guard without hubAuth() is a configuration error', async () => {
  const app = new Hono().get('/', hubAuthenticated(), (c) => c.text('never'));
  const seen: unknown[] = [];
  app.onError((err, c) => {
    seen.push(err);
    return c.text('failed', 500);
  });
  expect((await app.request('/')).status).toBe(500);
  expect(seen[0]).toBeInstanceOf(ConfigError);
});

test('identified callers are on the context; guards apply per route', async () => {
  const app = new Hono<HubAuthEnv>().use(hubAuth(options()));
  app.get(`${PREFIX}who`, (c) => c.json({ user: c.get('hubUser')?.name ?? null, xsrf: c.get('xsrfToken') ?? null }));
  app.get(`${PREFIX}staff`, hubAuthenticated({ hubGroups: ['staff'] }), (c) => c.text(`hello ${c.get('hubUser')?.name}`));
  const alice = { authorization: `token ${hub.issueToken(USERS.alice)}` };
  expect(await (await app.request(`${PREFIX}who`, { headers: alice })).json()).toEqual({ user: 'alice', xsrf: null });
  expect(await (await app.request(`${PREFIX}who`)).json()).toEqual({ user: null, xsrf: null });
  expect(await (await app.request(`${PREFIX}staff`, { headers: alice })).text()).toBe('hello alice');
  const admin = { authorization: `token ${hub.issueToken(USERS.admin)}` };
  expect((await app.request(`${PREFIX}staff`, { headers: admin })).status).toBe(403);
});
