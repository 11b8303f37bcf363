/**
 * The Next.js recipe of `@hubauth/web`'s README, for real: `examples/nextjs` (App Router, route
 * handlers on the Node runtime) is built once with `next build` — without the environment
 * JupyterHub gives a service, as a build machine has none — then started with `next start` as the
 * managed service `whoami` of a fake Hub (`@hubauth/testing`). Nothing is fetched from the network:
 * the SWC compiler is the npm package `@next/swc-linux-x64-gnu`, telemetry is off.
 *
 * Scenarios: tokens (200 whoami JSON, 401 for API clients, 403 for the wrong group or scope, the
 * form body still readable by the handler), the logout route, and a browser login from the login
 * redirect through the Hub's authorize endpoint to the callback route, with no cookie secret
 * configured — so the routes (bundled separately by Next.js) must share one authenticator.
 *
 * Then the same app as a managed service of the real JupyterHub 6, behind its proxy: tokens, groups,
 * and the browser login in Chromium (Hub login form, consent, callback route, an xsrf-guarded POST
 * from the page, logout).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '../fake-hub';
import { freePort, httpRequest, startHub, type HttpResponse, type RunningHub } from '../hub';
import { approveConsent, hubLogin, launchBrowser, type BrowserSession } from '../hub/browser';
import { pageFetch, pageJson } from './support/browser-flows';

jest.setTimeout(90_000);

const APP = path.join(__dirname, '..', '..', 'examples', 'nextjs');
const NEXT = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next');
const PREFIX = '/services/whoami/';
const NAVIGATE = { 'Sec-Fetch-Mode': 'navigate', Accept: 'text/html' };

/** The parent's environment without anything of a Hub, telemetry off. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUPYTERHUB_') && !k.startsWith('HUBAUTH_')));
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' };
}

/** `name=value` pairs of Set-Cookie headers, as a Cookie header. */
const cookieHeader = (setCookies: string[]): string => setCookies.map((c) => c.split(';')[0]).join('; ');

let hub: FakeHub;
let alice: ReturnType<FakeHub['addUser']>;
let next: ChildProcess;
let base: string;
let logs = '';

beforeAll(() => {
  const started = Date.now();
  const build = spawnSync(process.execPath, [NEXT, 'build'], { cwd: APP, env: cleanEnv(), encoding: 'utf8', timeout: 240_000 });
  if (build.status !== 0) throw new Error(`next build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  process.stdout.write(`examples/nextjs: next build took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, 300_000);

/** The files the README's recipe shows, by path: each code block is cut at its `// <path>` lines. */
function readmeRecipe(): Map<string, string> {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'packages', 'web', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Next.js'), readme.indexOf('\n## ', readme.indexOf('## Next.js') + 1));
  const files = new Map<string, string>();
  for (const [, block] of section.matchAll(/```\w+[^\n]*\n([\s\S]*?)```/g)) {
    for (const part of (block as string).split(/^(?=\/\/ [\w./]+\.(?:ts|mjs)\b)/m)) {
      const header = /^\/\/ ([\w./]+)(?: \(the same in ([\w./]+)\))?\n/.exec(part);
      if (!header) continue;
      const [line, file, same] = header as unknown as [string, string, string | undefined];
      const body = part.slice(line.length).trimEnd();
      files.set(file, `// ${file}\n${body}`);
      if (same) files.set(same, `// ${same}\n${body}`);
    }
  }
  return files;
}

const get = (pathname: string, headers: Record<string, string> = {}): Promise<HttpResponse> => httpRequest(`${base}${pathname}`, { headers });

describe('examples/nextjs: the README recipe on next start, against the fake Hub', () => {
  beforeAll(async () => {
    hub = await startFakeHub({ service: 'whoami' });
    alice = hub.addUser({ name: 'alice' });
    hub.addUser({ name: 'root', groups: ['admins'] });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // No HUBAUTH_COOKIE_SECRET: each process makes a random one, so a login only works if every
    // route uses the same authenticator.
    const env = { ...cleanEnv(), ...hub.env({ HUBAUTH_COOKIE_SECRET: undefined }), JUPYTERHUB_SERVICE_URL: base };
    next = spawn(process.execPath, ['--require', path.join(__dirname, 'support', 'die-with-parent.cjs'), NEXT, 'start', '-H', '127.0.0.1', '-p', String(port)], {
      cwd: APP,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    next.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    next.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    for (let i = 0; ; i++) {
      if (next.exitCode !== null) throw new Error(`next start exited with ${next.exitCode}:\n${logs}`);
      try {
        await httpRequest(`${base}${PREFIX}logout`, { timeoutMs: 2000 });
        break;
      } catch (err) {
        if (i > 300) throw new Error(`next start did not listen: ${String(err)}\n${logs}`, { cause: err });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  afterAll(async () => {
    if (next && next.exitCode === null) {
      next.kill('SIGTERM');
      await once(next, 'exit');
    }
    await hub?.close();
  });

  test('the app is the README recipe, file for file', () => {
    const recipe = readmeRecipe();
    expect([...recipe.keys()].sort()).toEqual([
      'app/services/whoami/admin/route.ts',
      'app/services/whoami/api/me/route.ts',
      'app/services/whoami/logout/route.ts',
      'app/services/whoami/oauth_callback/route.ts',
      'instrumentation.ts',
      'lib/hub.ts',
      'next.config.mjs',
    ]);
    for (const [file, text] of recipe) expect({ file, text }).toEqual({ file, text: readFileSync(path.join(APP, file), 'utf8').trimEnd() });
  });

  test('a valid token gets the whoami JSON, at the service URL (with its trailing slash) and under it', async () => {
    const token = hub.issueToken('alice');
    for (const pathname of [PREFIX, `${PREFIX}api/me`]) {
      const res = await get(pathname, { Authorization: `token ${token}` });
      expect({ pathname, status: res.status }).toEqual({ pathname, status: 200 });
      expect(res.json).toEqual(expect.objectContaining({ kind: 'user', name: 'alice', scopes: ['access:services!service=whoami'] }));
      expect(res.setCookies).toEqual([]);
    }
  });

  test('no token → 401 for API clients, a login redirect for browsers; a bad token → 401 invalid_token', async () => {
    const anonymous = await get(`${PREFIX}api/me`, { Accept: 'application/json' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_UNAUTHENTICATED' }));
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm="\/services\/whoami\/"/);

    const bogus = await get(`${PREFIX}api/me`, { Authorization: 'token no-such-token' });
    expect(bogus.status).toBe(401);
    expect(bogus.headers['www-authenticate']).toMatch(/error="invalid_token"/);

    const browser = await get(`${PREFIX}api/me`, NAVIGATE);
    expect(browser.status).toBe(302);
    expect(new URL(browser.headers.location as string, hub.url).pathname).toBe('/hub/api/oauth2/authorize');
    expect(browser.headers.location).toMatch(/client_id=service-whoami/);
  });

  test('the wrong scope or group → 403; the right group → 200', async () => {
    hub.addUser({ name: 'mallory', scopes: [] });
    const noAccess = await get(`${PREFIX}api/me`, { Authorization: `token ${hub.issueToken('mallory')}` });
    expect(noAccess.status).toBe(403);
    expect(noAccess.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    const scoped = await get(`${PREFIX}api/me`, { Authorization: `token ${hub.issueToken('alice', { scopes: ['read:users:name!user=alice'] })}` });
    expect(scoped.status).toBe(403);

    const notAdmin = await get(`${PREFIX}admin`, { Authorization: `token ${hub.issueToken('alice')}` });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.json).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_FORBIDDEN' }));
    const admin = await get(`${PREFIX}admin`, { Authorization: `token ${hub.issueToken('root')}` });
    expect({ status: admin.status, text: admin.text }).toEqual({ status: 200, text: 'hello admins' });
  });

  test('a guarded POST handler still reads its form body', async () => {
    const res = await httpRequest(`${base}${PREFIX}api/me`, {
      method: 'POST',
      headers: { Authorization: `token ${hub.issueToken('alice')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'title=hello%20next',
    });
    expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: { saved: 'hello next', by: 'alice' } });
  });

  test('browser login: redirect → Hub authorize → oauth_callback route → logged in; the xsrf token guards POSTs; logout', async () => {
    const start = await get(`${PREFIX}api/me`, NAVIGATE);
    expect(start.status).toBe(302);
    const stateCookies = cookieHeader(start.setCookies);
    expect(stateCookies).toMatch(/^service-whoami-oauth-state=/);

    hub.signInAtHub(alice);
    const authorize = await httpRequest(new URL(start.headers.location as string, hub.url).href);
    expect(authorize.status).toBe(302);
    const callback = new URL(authorize.headers.location as string, base);
    expect(callback.pathname).toBe(`${PREFIX}oauth_callback`);

    const done = await get(`${callback.pathname}${callback.search}`, { ...NAVIGATE, Cookie: stateCookies });
    expect({ status: done.status, body: done.text.slice(0, 300) }).toEqual({ status: 302, body: expect.any(String) });
    expect(done.headers.location).toBe(`${PREFIX}api/me`);
    const login = done.setCookies.filter((c) => !/Max-Age=0/.test(c));
    expect(login.map((c) => c.split('=')[0]).sort()).toEqual(['_xsrf', 'service-whoami']);
    for (const c of login) expect(c).toMatch(/; Path=\/services\/whoami\/;.*SameSite=Lax/);
    expect(login.find((c) => c.startsWith('service-whoami='))).toMatch(/; HttpOnly/); // the _xsrf cookie is for scripts
    const cookie = cookieHeader(login);
    const xsrf = /_xsrf=([^;]+)/.exec(cookie)?.[1] as string;

    const me = await get(`${PREFIX}api/me`, { ...NAVIGATE, Cookie: cookie });
    expect({ status: me.status, name: (me.json as { name?: string } | undefined)?.name }).toEqual({ status: 200, name: 'alice' });

    const form = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie };
    const forged = await httpRequest(`${base}${PREFIX}api/me`, { method: 'POST', headers: form, body: 'title=x' });
    expect(forged.status).toBe(403);
    const posted = await httpRequest(`${base}${PREFIX}api/me`, { method: 'POST', headers: form, body: `title=x&_xsrf=${xsrf}` });
    expect({ status: posted.status, json: posted.json }).toEqual({ status: 200, json: { saved: 'x', by: 'alice' } });

    const logout = await get(`${PREFIX}logout`, { Cookie: cookie });
    expect(logout.status).toBe(302);
    expect(logout.setCookies.some((c) => /^service-whoami=;.*Max-Age=0/.test(c))).toBe(true);
  });

  test('the oauth_callback route answers a forged state with 403, and nothing else is served by it', async () => {
    const forged = await get(`${PREFIX}oauth_callback?code=x&state=y`);
    expect(forged.status).toBe(403);
    expect(forged.json).toEqual(expect.objectContaining({ code: expect.stringMatching(/^ERR_HUBAUTH_OAUTH_STATE/) }));
    expect(logs).not.toMatch(/ERR_HUBAUTH_CONFIG|Failed to prepare server/);
  });
});

describe('examples/nextjs as a managed service of JupyterHub 6, behind its proxy', () => {
  let real: RunningHub;
  let browser: BrowserSession | undefined;
  const url = (sub = ''): string => `${real.publicUrl}${PREFIX}${sub}`;

  beforeAll(async () => {
    const port = await freePort();
    real = await startHub({
      version: '6',
      users: ['alice', 'bob', 'root'],
      groups: { admins: ['root'] },
      roles: [{ name: 'whoami-users', scopes: [`access:services!service=whoami`], users: ['alice', 'root'] }],
      services: [
        {
          name: 'whoami',
          managed: {
            command: [process.execPath, '--require', path.join(__dirname, 'support', 'die-with-parent.cjs'), NEXT, 'start', '-H', '127.0.0.1', '-p', String(port)],
            cwd: APP,
            port,
            env: { NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await real?.stop();
  });

  test('tokens: 200 whoami JSON, 401 without, 403 without access or outside the group', async () => {
    const alice = await real.createUserToken('alice');
    const me = await httpRequest(url('api/me'), { headers: { Authorization: `token ${alice}` } });
    expect({ status: me.status, body: me.status === 200 ? '' : me.text.slice(0, 300) }).toEqual({ status: 200, body: '' });
    expect(me.json).toEqual(expect.objectContaining({ kind: 'user', name: 'alice', admin: false }));
    expect(me.setCookies).toEqual([]);
    expect((await httpRequest(url(), { headers: { Authorization: `Bearer ${alice}` } })).status).toBe(200);

    const anonymous = await httpRequest(url('api/me'), { headers: { Accept: 'application/json' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm="\/services\/whoami\/"/);
    const bob = await httpRequest(url('api/me'), { headers: { Authorization: `token ${await real.createUserToken('bob')}` } });
    expect(bob.status).toBe(403);
    const scoped = await real.createUserToken('alice', { scopes: ['read:users:name!user=alice'] });
    expect((await httpRequest(url('api/me'), { headers: { Authorization: `token ${scoped}` } })).status).toBe(403);

    expect((await httpRequest(url('admin'), { headers: { Authorization: `token ${alice}` } })).status).toBe(403);
    const root = await httpRequest(url('admin'), { headers: { Authorization: `token ${await real.createUserToken('root')}` } });
    expect({ status: root.status, text: root.text }).toEqual({ status: 200, text: 'hello admins' });
  });

  test('browser login in Chromium: Hub login and consent, the callback route, an xsrf-guarded POST, logout', async () => {
    await browser?.close(); // a retried test starts over with a fresh browser
    browser = await launchBrowser();
    const { page } = browser;
    await page.goto(url());
    expect(new URL(page.url()).pathname).toBe('/hub/login');
    await hubLogin(page, real.publicUrl, 'alice', real.password, { next: new URL(page.url()).searchParams.get('next') ?? undefined });
    await approveConsent(page);
    await page.waitForURL(url(), { timeout: 10_000 });
    expect(await pageJson(page)).toEqual(expect.objectContaining({ kind: 'user', name: 'alice' }));

    const cookies = (await browser.cookies(url())).filter((c) => c.path === PREFIX); // not the Hub's own
    expect(cookies.map((c) => c.name).sort()).toEqual(['_xsrf', 'service-whoami']);
    expect(cookies.find((c) => c.name === 'service-whoami')).toEqual(expect.objectContaining({ httpOnly: true, path: PREFIX, sameSite: 'Lax' }));

    // A POST from the page: without the xsrf token refused, with it the handler reads the form.
    expect((await pageFetch(page, url('api/me'), { method: 'POST' })).status).toBe(403);
    const posted = await page.evaluate(async ({ target }) => {
      const { document } = globalThis as unknown as { document: { cookie: string } };
      const xsrf = decodeURIComponent(document.cookie.split('; ').find((c) => c.startsWith('_xsrf='))?.slice(6) ?? '');
      const r = await fetch(target, { method: 'POST', headers: { 'X-XSRFToken': xsrf }, body: new URLSearchParams({ title: 'from chromium' }) });
      return { status: r.status, body: await r.text() };
    }, { target: url('api/me') });
    expect({ status: posted.status, body: JSON.parse(posted.body) as unknown }).toEqual({ status: 200, body: { saved: 'from chromium', by: 'alice' } });

    await page.goto(url('logout'));
    expect(new URL(page.url()).pathname).toMatch(/^\/hub\/(logout|login)/);
    expect((await browser.cookies(url())).map((c) => c.name)).not.toContain('service-whoami');
  });
});
