import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import Fastify4 from 'fastify4';
import cookie4 from 'fastify-cookie4';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { fakeHubOptions } from '../../../test/contract/options';
import { Jar } from '../../../test/contract/run';
import { HubAuth, HubOAuth, hubAuth, hubAuthenticated, isHubAuthError, type HubAuthError, type HubAuthMiddlewareOptions } from '../src';
import defaultExport from '../src';
import { MAJORS, listen, type FastifyFactory } from './app';
import { cookieScenario, type CookieResults } from './cookies';

const PREFIX = '/services/whoami/';
const SECRET = 'fastify-secret-0123456789abcdef0123456789';
const NAVIGATE = { 'sec-fetch-mode': 'navigate', accept: 'text/html' };
const ALICE = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };

let hub: FakeHub;
let alice: string;
const opened: FastifyInstance[] = [];

beforeAll(async () => {
  hub = await startFakeHub({ redirectUri: `${PREFIX}oauth_callback` });
  alice = hub.issueToken(ALICE);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
});
afterAll(() => hub.close());

function options(extra: HubAuthMiddlewareOptions = {}): HubAuthMiddlewareOptions {
  return fakeHubOptions(hub, SECRET, extra);
}

const me = async (req: FastifyRequest) => ({ user: req.hubUser, xsrf: req.xsrfToken });

function cookiesOf(res: request.Response): string[] {
  return ([] as string[]).concat((res.headers['set-cookie'] as string[] | string | undefined) ?? []);
}

/** A full browser login through the fake Hub; returns the cookie jar. */
async function login(app: FastifyInstance): Promise<Jar> {
  const jar = new Jar();
  const start = await request(app.server).get(PREFIX).set(NAVIGATE).redirects(0);
  jar.update(cookiesOf(start));
  hub.signInAtHub(ALICE);
  const authorize = await fetch(String(start.headers.location), { redirect: 'manual' });
  const callback = new URL(String(authorize.headers.get('location')), 'http://service.invalid');
  const done = await request(app.server).get(callback.pathname + callback.search).set('cookie', jar.header()).redirects(0);
  expect(done.status).toBe(302);
  jar.update(cookiesOf(done));
  return jar;
}

describe.each(MAJORS)('%s', (_major, fastify: FastifyFactory) => {
  interface Build {
    options?: HubAuthMiddlewareOptions;
    server?: FastifyServerOptions;
    /** Runs before the plugin is registered. */
    before?: (app: FastifyInstance) => void | Promise<void>;
    /** Adds routes after the default ones. */
    routes?: (app: FastifyInstance) => void | Promise<void>;
  }

  /** An app with the plugin at the root, a guarded route `PREFIX` and an open one `PREFIX/open`, listening. */
  async function build(spec: Build = {}): Promise<FastifyInstance> {
    const app = fastify({ forceCloseConnections: true, ...spec.server });
    opened.push(app);
    await spec.before?.(app);
    await app.register(hubAuth, options(spec.options));
    app.get(PREFIX, { preHandler: hubAuthenticated() }, me);
    app.get(`${PREFIX}open`, me);
    await spec.routes?.(app);
    await listen(app);
    return app;
  }

  /** An empty app, closed after the test. */
  function bare(server: FastifyServerOptions = {}): FastifyInstance {
    const app = fastify({ forceCloseConnections: true, ...server });
    opened.push(app);
    return app;
  }

  test('a token header identifies the caller: request.hubUser on guarded and open routes', async () => {
    const app = await build();
    for (const path of [PREFIX, `${PREFIX}open`]) {
      const res = await request(app.server).get(path).set('authorization', `token ${alice}`);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ kind: 'user', name: 'alice', groups: ['staff'] });
      expect(res.body.xsrf).toBeNull();
      expect(cookiesOf(res)).toEqual([]);
    }
  });

  test('anonymous: open routes see hubUser null, guarded API calls get 401 with a challenge', async () => {
    const app = await build();
    const open = await request(app.server).get(`${PREFIX}open`);
    expect(open.body).toEqual({ user: null, xsrf: null });
    const res = await request(app.server).get(PREFIX).set('accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${PREFIX}"`);
    expect(res.body).toMatchObject({ status: 401, code: 'ERR_HUBAUTH_UNAUTHENTICATED' });
  });

  test('a browser navigation is redirected to the Hub authorize URL with a state cookie', async () => {
    const app = await build();
    const res = await request(app.server).get(`${PREFIX}?tab=1`).set('accept', 'text/html').redirects(0);
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(new RegExp(`^${hub.apiUrl}/oauth2/authorize\\?client_id=service-whoami&`));
    expect(cookiesOf(res)).toEqual([expect.stringMatching(/^service-whoami-oauth-state=.*HttpOnly/)]);
    expect(cookiesOf(res)[0]).not.toMatch(/Secure/);
  });

  test('the callback and logout routes are served, and a login then authenticates by cookie', async () => {
    const app = await build();
    const forged = await request(app.server).get(`${PREFIX}oauth_callback?code=x&state=forged`).set(NAVIGATE);
    expect(forged.status).toBe(403);
    expect(forged.headers['content-type']).toMatch(/text\/html/);
    const jar = await login(app);
    const res = await request(app.server).get(PREFIX).set('cookie', jar.header());
    expect(res.status).toBe(200);
    expect(res.body.user.name).toBe('alice');
    expect(res.body.xsrf).toBe(jar.cookies.get('_xsrf'));
    const out = await request(app.server).post(`${PREFIX}logout`).set('cookie', jar.header()).redirects(0);
    expect(out.status).toBe(302);
    expect(cookiesOf(out).some((c) => c.startsWith('service-whoami=;'))).toBe(true);
    // Methods core does not serve fall through to the not-found handler.
    expect((await request(app.server).delete(`${PREFIX}logout`)).status).toBe(404);
  });

  test('an _xsrf form field is read from the parsed body', async () => {
    const app = await build({
      routes: (a) => {
        a.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
          done(null, Object.fromEntries(new URLSearchParams(String(body))));
        });
        a.post(`${PREFIX}form`, { preHandler: hubAuthenticated() }, me);
      },
    });
    const jar = await login(app);
    const post = (form: string) => request(app.server).post(`${PREFIX}form`).set('cookie', jar.header()).type('form').send(form);
    expect((await post('a=1')).status).toBe(403);
    expect((await post('_xsrf=wrong.token')).status).toBe(403);
    const ok = await post(`_xsrf=${encodeURIComponent(jar.cookies.get('_xsrf') as string)}`);
    expect(ok.status).toBe(200);
    expect(ok.body.user.name).toBe('alice');
  });

  test('token-only mode: no callback route, navigations get 401', async () => {
    const app = await build({ options: { oauth: false } });
    expect(app.hubAuth.auth).toBeInstanceOf(HubAuth);
    expect(app.hubAuth.auth).not.toBeInstanceOf(HubOAuth);
    expect((await request(app.server).get(PREFIX).set(NAVIGATE)).status).toBe(401);
    expect((await request(app.server).get(`${PREFIX}oauth_callback?code=x&state=y`)).status).toBe(404);
  });

  test('X-Forwarded-Proto https gives Secure cookies, with trustProxy or without; nothing else does', async () => {
    const trusted = await build({ server: { trustProxy: true } });
    const res = await request(trusted.server).get(PREFIX).set(NAVIGATE).set('x-forwarded-proto', 'https').redirects(0);
    expect(cookiesOf(res)[0]).toMatch(/; Secure/);
    const untrusted = await build();
    const forwarded = await request(untrusted.server).get(PREFIX).set(NAVIGATE).set('x-forwarded-proto', 'https').redirects(0);
    expect(cookiesOf(forwarded)[0]).toMatch(/; Secure/);
    const plain = await request(untrusted.server).get(PREFIX).set(NAVIGATE).redirects(0);
    expect(cookiesOf(plain)[0]).not.toMatch(/Secure/);
  });

  test("errors: 'throw' hands typed errors to setErrorHandler (guards and the callback)", async () => {
    const seen: HubAuthError[] = [];
    const app = await build({
      options: { errors: 'throw' },
      before: (a) => void a.setErrorHandler((error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
        if (!isHubAuthError(error)) return reply.send(error);
        seen.push(error);
        return reply.code(error.status).headers(error.headers).send({ mine: error.code });
      }),
    });
    const res = await request(app.server).get(PREFIX);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ mine: 'ERR_HUBAUTH_UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    const cb = await request(app.server).get(`${PREFIX}oauth_callback?error=access_denied`);
    expect(cb.body).toEqual({ mine: 'ERR_HUBAUTH_OAUTH_CALLBACK' });
    expect(seen.map((e) => [e.code, e.status, e instanceof Error])).toEqual([
      ['ERR_HUBAUTH_UNAUTHENTICATED', 401, true],
      ['ERR_HUBAUTH_OAUTH_CALLBACK', 400, true],
    ]);
  });

  test("errors: 'throw' with Fastify's default error handler keeps status and headers; per-route override", async () => {
    const app = await build({ routes: (a) => void a.get(`${PREFIX}throwing`, { preHandler: hubAuthenticated({ errors: 'throw' }) }, me) });
    const res = await request(app.server).get(`${PREFIX}throwing`).set('authorization', 'token not-valid');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(res.body).toMatchObject({ statusCode: 401, code: 'ERR_HUBAUTH_UNAUTHENTICATED' });
  });

  test('a guard without the plugin fails with a ConfigError naming the fix', async () => {
    const app = bare();
    app.get('/x', { preHandler: hubAuthenticated() }, me);
    let caught: unknown;
    app.setErrorHandler((error, _req, reply) => {
      caught = error;
      return reply.code(500).send();
    });
    await listen(app);
    expect((await request(app.server).get('/x')).status).toBe(500);
    expect(caught).toMatchObject({ code: 'ERR_HUBAUTH_CONFIG', status: 500, message: expect.stringMatching(/register the hubAuth plugin/) });
  });

  test('registered at the root, it covers routes of child plugins registered after it', async () => {
    const app = await build({
      routes: async (a) => {
        await a.register(async (child) => void child.get('/nested', { preHandler: hubAuthenticated() }, me), { prefix: `${PREFIX}child` });
      },
    });
    expect((await request(app.server).get(`${PREFIX}child/nested`).set('authorization', `token ${alice}`)).body.user.name).toBe('alice');
    expect((await request(app.server).get(`${PREFIX}child/nested`)).status).toBe(401);
  });

  test('registered in a child scope, it applies there and leaves siblings alone', async () => {
    const app = bare();
    let errors = 0;
    app.setErrorHandler((error, _req, reply) => {
      errors += isHubAuthError(error) ? 1 : 0;
      return reply.code(500).send({ code: (error as { code?: string }).code });
    });
    await app.register(async (scope) => {
      await scope.register(hubAuth, options());
      scope.get('/guarded', { preHandler: hubAuthenticated() }, me);
      scope.get('/open', me);
      await scope.register(async (grandchild) => {
        grandchild.addHook('preHandler', hubAuthenticated());
        grandchild.get('/deep', me);
      });
      expect(scope.hubAuth.auth).toBeInstanceOf(HubOAuth);
    }, { prefix: '/services/whoami' });
    await app.register(async (sibling) => {
      sibling.get('/sibling', { preHandler: hubAuthenticated() }, async (req) => ({ user: req.hubUser ?? 'undefined' }));
      sibling.get('/sibling-open', async (req) => ({ user: req.hubUser ?? 'undefined' }));
      expect(sibling.hasDecorator('hubAuth')).toBe(false);
    });
    await listen(app);
    const get = (path: string) => request(app.server).get(path).set('authorization', `token ${alice}`);
    expect((await get(`${PREFIX}guarded`)).body.user.name).toBe('alice');
    expect((await get(`${PREFIX}open`)).body.user.name).toBe('alice');
    expect((await get(`${PREFIX}deep`)).body.user.name).toBe('alice');
    expect((await request(app.server).get(`${PREFIX}deep`)).status).toBe(401);
    expect((await get(`${PREFIX}oauth_callback?code=x&state=y`)).status).toBe(403);
    expect((await get('/sibling-open')).body).toEqual({ user: 'undefined' });
    expect((await get('/sibling')).body).toEqual({ code: 'ERR_HUBAUTH_CONFIG' });
    expect(errors).toBe(1);
  });

  test('guards from another copy of this package work with the plugin (duplicate installs)', async () => {
    let other: typeof import('../src') | undefined;
    jest.isolateModules(() => {
      other = jest.requireActual<typeof import('../src')>('../src');
    });
    expect(other?.hubAuthenticated).not.toBe(hubAuthenticated);
    const app = await build({ routes: (a) => void a.get(`${PREFIX}other`, { preHandler: other?.hubAuthenticated() }, me) });
    expect((await request(app.server).get(`${PREFIX}other`).set('authorization', `token ${alice}`)).body.user.name).toBe('alice');
    expect((await request(app.server).get(`${PREFIX}other`)).status).toBe(401);
  });

  test('a child scope whose prefix does not contain the callback path is refused at start-up', async () => {
    const app = bare();
    app.register(async (scope) => {
      await scope.register(hubAuth, options());
    }, { prefix: '/elsewhere' });
    await expect(app.ready()).rejects.toMatchObject({ code: 'ERR_HUBAUTH_CONFIG', message: expect.stringMatching(/outside the prefix/) });
  });

  test('registering twice in one scope chain is refused', async () => {
    const app = bare();
    app.register(hubAuth, options());
    app.register(async (scope) => {
      await scope.register(hubAuth, options({ oauth: false }));
    });
    await expect(app.ready()).rejects.toMatchObject({ code: 'ERR_HUBAUTH_CONFIG', message: expect.stringMatching(/already registered/) });
  });

  test('fastify.hubAuth exposes the authenticator; close() closes it unless it was given as instance', async () => {
    const app = await build();
    expect(app.hubAuth.auth).toBeInstanceOf(HubOAuth);
    expect(app.hubAuth.flow.auth).toBe(app.hubAuth.auth);
    const closing = jest.spyOn(app.hubAuth.auth, 'close');
    await app.close();
    expect(closing).toHaveBeenCalledTimes(1);

    const instance = new HubAuth(options());
    const own = bare();
    await own.register(defaultExport, { instance });
    expect(own.hubAuth.auth).toBe(instance);
    const kept = jest.spyOn(instance, 'close');
    await own.close();
    expect(kept).not.toHaveBeenCalled();
    instance.close();
  });

  test("core's warnings go to fastify.log unless a logger is given", async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };
    const app = await build({
      server: { logger: { level: 'warn', stream } },
      options: { logger: undefined, apiUrl: 'http://127.0.0.1:9/hub/api' },
    });
    const res = await request(app.server).get(PREFIX).set('authorization', `token ${alice}`);
    expect(res.status).toBe(503);
    expect(lines.join('')).toMatch(/ERR_HUBAUTH_HUB_UNAVAILABLE/);
  });
});

describe('with @fastify/cookie registered first, its cookies and ours are all sent', () => {
  const expected: CookieResults = {
    // The guard's login redirect carries the state cookie and the cookie an onRequest hook set.
    redirect: [302, ['early', 'service-whoami-oauth-state']],
    // An invalid login cookie is cleared during identification; request.cookies is untouched.
    body: { cookies: { 'service-whoami': 'garbage', other: 'x' }, user: null },
    cookies: ['early', 'late', 'service-whoami'],
  };

  test('fastify 4 + @fastify/cookie 9', async () => {
    const fastify4 = Fastify4 as unknown as FastifyFactory;
    expect(await cookieScenario(fastify4, cookie4 as unknown as FastifyPluginAsync, options(), PREFIX)).toEqual(expected);
  });

  // @fastify/cookie 11 loads `cookie` with import(), which jest's CommonJS runtime refuses: run it in plain Node.
  test('fastify 5 + @fastify/cookie 11 (in a plain Node process)', async () => {
    const here = `file://${__dirname}`;
    const script = [
      "import Fastify from 'fastify';",
      "import cookie from '@fastify/cookie';",
      `import { cookieScenario } from '${here}/cookies.ts';`,
      'const [options, prefix] = JSON.parse(process.argv[1]);',
      'console.log(JSON.stringify(await cookieScenario(Fastify, cookie, options, prefix)));',
    ].join('\n');
    const hooks = `data:text/javascript,import{register}from'node:module';register('${here}/esm-ts-hooks.mjs')`;
    const { logger: _logger, ...plain } = options();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', hooks, '--input-type=module', '--eval', script, JSON.stringify([plain, PREFIX])],
      { cwd: __dirname, timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual(expected);
    // Plain Node transpiles every source file of core on the way: seconds on a busy machine.
  }, 30_000);
});
