/**
 * Koa-specific behaviour of the adapter, on Koa 3 and Koa 2, against the fake Hub: request
 * translation (`app.proxy`, `originalUrl`, parsed bodies), `ctx.state`, cookies appended next to the
 * app's own, `@koa/router` guards, and `errors: 'throw'` with Koa's error handling.
 */
import Koa from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import koa3Package from 'koa/package.json';
import koa2Package from 'koa2/package.json';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { fakeHubOptions } from '../../../test/contract/options';
import { HubAuth, hubAuth, hubAuthenticated, isHubAuthError, type HubAuthMiddlewareOptions, type HubAuthState, type HubRequest } from '../src';

const PREFIX = '/services/whoami/';
const ALICE = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };
const NAVIGATE = { accept: 'text/html,application/xhtml+xml' };

function setCookies(res: request.Response): string[] {
  return ([] as string[]).concat((res.headers['set-cookie'] as string[] | string | undefined) ?? []);
}

function cookieHeader(lines: string[]): string {
  return lines.map((line) => line.split(';')[0]).filter((pair) => !pair?.endsWith('=')).join('; ');
}

describe.each([
  ['koa 3', Koa, koa3Package.version, '3.'],
  ['koa 2', Koa2, koa2Package.version, '2.'],
] as const)('%s', (_name, KoaClass, version, major) => {
  let hub: FakeHub;
  let token: string;

  const options = (extra: HubAuthMiddlewareOptions = {}): HubAuthMiddlewareOptions =>
    fakeHubOptions(hub, 'koa-smoke-secret-0123456789abcdef0123456789', extra);

  /** hubAuth() app-wide, a guarded and an open route on `@koa/router`. */
  function makeApp(extra: HubAuthMiddlewareOptions = {}, setup?: (app: Koa<HubAuthState>) => void): Koa<HubAuthState> {
    const app = new KoaClass<HubAuthState>();
    app.silent = true;
    setup?.(app);
    app.use(hubAuth(extra.instance ? extra : options(extra)));
    const router = new Router<HubAuthState>();
    router.get(`${PREFIX}me`, hubAuthenticated(), (ctx) => {
      ctx.body = { name: ctx.state.hubUser?.name };
    });
    router.post(`${PREFIX}me`, hubAuthenticated(), (ctx) => {
      ctx.body = { ok: true, name: ctx.state.hubUser?.name };
    });
    router.get(`${PREFIX}open`, (ctx) => {
      ctx.cookies.set('app-cookie', 'mine', { httpOnly: false });
      ctx.body = { user: ctx.state.hubUser?.name ?? null, xsrf: ctx.state.xsrfToken ?? null };
    });
    app.use(router.routes());
    return app;
  }

  beforeAll(async () => {
    hub = await startFakeHub({ requirePkce: true });
    token = hub.issueToken(ALICE);
  });
  afterAll(() => hub.close());

  test(`runs on Koa ${major}x`, () => {
    expect(version.startsWith(major)).toBe(true);
  });

  test('a token header gives 200 and ctx.state.hubUser', async () => {
    const res = await request(makeApp().callback()).get(`${PREFIX}me`).set('authorization', `token ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'alice' });
  });

  test('no token: 401 with a WWW-Authenticate challenge', async () => {
    const res = await request(makeApp().callback()).get(`${PREFIX}me`).set('accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${PREFIX}"`);
    expect(res.body).toMatchObject({ status: 401, code: 'ERR_HUBAUTH_UNAUTHENTICATED' });
  });

  test('a browser navigation is redirected to the Hub, with an empty body', async () => {
    const res = await request(makeApp().callback()).get(`${PREFIX}me?x=1`).set(NAVIGATE).redirects(0);
    expect(res.status).toBe(302);
    expect(String(res.headers.location)).toMatch(new RegExp(`^${hub.url}/hub/api/oauth2/authorize\\?client_id=service-whoami&`));
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.text).toBe('');
    expect(setCookies(res).some((c) => c.startsWith('service-whoami-oauth-state='))).toBe(true);
  });

  test('the open route identifies without rejecting', async () => {
    const app = makeApp();
    const anonymous = await request(app.callback()).get(`${PREFIX}open`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ user: null, xsrf: null });
    const known = await request(app.callback()).get(`${PREFIX}open`).set('authorization', `bearer ${token}`);
    expect(known.body).toEqual({ user: 'alice', xsrf: null });
  });

  test('the callback and logout routes are mounted by hubAuth()', async () => {
    const app = makeApp();
    const callback = await request(app.callback()).get(`${PREFIX}oauth_callback?state=x`).set('accept', 'application/json');
    expect(callback.status).toBe(400);
    expect(callback.body).toMatchObject({ code: 'ERR_HUBAUTH_OAUTH_CALLBACK' });
    const logout = await request(app.callback()).get(`${PREFIX}logout`).redirects(0);
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe(`${hub.url}/hub/logout`);
    expect(setCookies(logout).length).toBeGreaterThanOrEqual(2);
  });

  test('a full browser login, then a form POST whose _xsrf field comes from a body parser', async () => {
    const bodyParser = async (ctx: Koa.Context, next: Koa.Next): Promise<void> => {
      if (ctx.is('application/x-www-form-urlencoded')) {
        let text = '';
        for await (const chunk of ctx.req) text += String(chunk);
        (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(text));
      }
      await next();
    };
    const app = makeApp({}, (a) => a.use(bodyParser));
    const server = app.callback();
    const start = await request(server).get(`${PREFIX}me`).set(NAVIGATE).redirects(0);
    hub.signInAtHub(ALICE);
    const authorize = await fetch(String(start.headers.location), { redirect: 'manual' });
    const back = new URL(String(authorize.headers.get('location')), 'http://service.invalid');
    const done = await request(server).get(back.pathname + back.search).set('cookie', cookieHeader(setCookies(start))).redirects(0);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe(`${PREFIX}me`);
    const cookies = cookieHeader(setCookies(done));
    const xsrf = /(?:^|; )_xsrf=([^;]+)/.exec(cookies)?.[1] as string;

    const me = await request(server).get(`${PREFIX}me`).set('cookie', cookies);
    expect(me.body).toEqual({ name: 'alice' });
    const open = await request(server).get(`${PREFIX}open`).set('cookie', cookies);
    expect(open.body).toEqual({ user: 'alice', xsrf });

    const refused = await request(server).post(`${PREFIX}me`).set('cookie', cookies).type('form').send({ other: '1' });
    expect(refused.status).toBe(403);
    const posted = await request(server).post(`${PREFIX}me`).set('cookie', cookies).type('form').send({ _xsrf: xsrf });
    expect(posted.status).toBe(200);
    expect(posted.body).toEqual({ ok: true, name: 'alice' });

    // Without its _xsrf cookie, the session gets one re-issued, next to the app's own cookie.
    const session = cookies.split('; ').filter((c) => !c.startsWith('_xsrf=')).join('; ');
    const reissued = await request(server).get(`${PREFIX}open`).set('cookie', session);
    const names = setCookies(reissued).map((c) => c.split('=')[0]);
    expect(names).toEqual(expect.arrayContaining(['_xsrf', 'app-cookie']));
  });

  test('X-Forwarded-Proto: https gives Secure cookies, with app.proxy or without; nothing else does', async () => {
    const proxied = makeApp({}, (a) => {
      a.proxy = true;
    });
    const secure = await request(proxied.callback()).get(`${PREFIX}me`).set(NAVIGATE).set('x-forwarded-proto', 'https').redirects(0);
    expect(secure.status).toBe(302);
    expect(setCookies(secure).length).toBeGreaterThan(0);
    expect(setCookies(secure).every((c) => /;\s*Secure/i.test(c))).toBe(true);
    // Without app.proxy the forwarded https still adds Secure (safe without trusting the proxy)...
    const forwarded = await request(makeApp().callback()).get(`${PREFIX}me`).set(NAVIGATE).set('x-forwarded-proto', 'https').redirects(0);
    expect(setCookies(forwarded).every((c) => /;\s*Secure/i.test(c))).toBe(true);
    // ...and nothing else does.
    const direct = await request(makeApp().callback()).get(`${PREFIX}me`).set(NAVIGATE).redirects(0);
    expect(setCookies(direct).some((c) => /;\s*Secure/i.test(c))).toBe(false);
  });

  test('the HubRequest carries originalUrl, headers, ip and the parsed body', async () => {
    const seen: HubRequest[] = [];
    class Recording extends HubAuth {
      override authenticate(req: HubRequest) {
        seen.push(req);
        return super.authenticate(req);
      }
    }
    const instance = new Recording(options());
    const app = makeApp({ instance }, (a) => {
      a.proxy = true;
      a.use(async (ctx, next) => {
        (ctx.request as { body?: unknown }).body = { parsed: true };
        ctx.url = `${PREFIX}open`; // as a mounting router would rewrite it
        await next();
      });
    });
    await request(app.callback()).post('/outer/open?q=1').set('x-forwarded-for', '203.0.113.7').set('x-custom', 'yes');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/outer/open?q=1', secure: false, ip: '203.0.113.7', body: { parsed: true } });
    expect(seen[0]?.headers['x-custom']).toBe('yes');
  });

  test("errors: 'throw' hands failures to Koa, which renders status and headers", async () => {
    const app = makeApp({ errors: 'throw' });
    const errors: unknown[] = [];
    app.on('error', (err) => errors.push(err));
    const res = await request(app.callback()).get(`${PREFIX}me`).set('accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${PREFIX}"`);
    expect(res.text).toBe('Authentication required');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_HUBAUTH_UNAUTHENTICATED', status: 401, expose: true });
  });

  test("errors: 'throw' can be rendered by an upstream try/catch; a guard may override the mode", async () => {
    const app = new KoaClass<HubAuthState>();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (!isHubAuthError(err)) throw err;
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { custom: err.code };
      }
    });
    app.use(hubAuth(options({ errors: 'throw' })));
    const router = new Router<HubAuthState>();
    router.get('/thrown', hubAuthenticated(), (ctx) => {
      ctx.body = 'never';
    });
    router.get('/answered', hubAuthenticated({ errors: 'respond' }), (ctx) => {
      ctx.body = 'never';
    });
    app.use(router.routes());
    const thrown = await request(app.callback()).get('/thrown');
    expect(thrown.status).toBe(401);
    expect(thrown.body).toEqual({ custom: 'ERR_HUBAUTH_UNAUTHENTICATED' });
    expect(thrown.headers['www-authenticate']).toMatch(/^Bearer /);
    const answered = await request(app.callback()).get('/answered').set('accept', 'application/json');
    expect(answered.status).toBe(401);
    expect(answered.body).toMatchObject({ code: 'ERR_HUBAUTH_UNAUTHENTICATED' });
  });

  test('a guard without hubAuth() fails with a ConfigError naming app.use(hubAuth())', async () => {
    const app = new KoaClass();
    app.silent = true;
    const errors: Error[] = [];
    app.on('error', (err: Error) => errors.push(err));
    app.use(hubAuthenticated());
    const res = await request(app.callback()).get('/');
    expect(res.status).toBe(500);
    expect(res.text).toBe('Internal Server Error');
    expect(errors[0]).toMatchObject({ code: 'ERR_HUBAUTH_CONFIG' });
    expect(errors[0]?.message).toMatch(/app\.use\(hubAuth\(\)\) must run before/);
  });

  test('exposes the authenticator and flow', () => {
    const middleware = hubAuth(options({ oauth: false }));
    expect(middleware.auth).toBeInstanceOf(HubAuth);
    expect(middleware.auth.oauthEnabled).toBe(false);
    expect(middleware.flow.auth).toBe(middleware.auth);
  });
});
