import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startFakeHub, type FakeHub } from '../../../test/fake-hub';
import { ConfigError, HubAuthProxy, type HubAuthProxyOptions } from '../src';
import { startUpstream, type Seen, type Upstream } from './upstream';

const PREFIX = '/services/app/';
const SECRET = 'proxy-test-secret-0123456789abcdef0123456789';
const alice = { name: 'alice', groups: ['staff', 'été'], scopes: ['access:services!service=app'] };
const bob = { name: 'bob', groups: [], scopes: ['access:services!service=app'] };
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a websocket; resolves with the first message, or rejects with the refusal's status. */
function openWs(port: number, path: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; first: { url: string; headers: IncomingHttpHeaders } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('message', (data: Buffer) => resolve({ ws, first: JSON.parse(data.toString()) as { url: string; headers: IncomingHttpHeaders } }));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`status ${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Polls `condition` for up to 3 s; fails the test when it never holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(condition()).toBe(true);
}

class Jar {
  readonly cookies = new Map<string, string>();
  update(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

describe('HubAuthProxy', () => {
  let hub: FakeHub;
  let upstream: Upstream;
  let aliceToken: string;
  let bobToken: string;
  const proxies: HubAuthProxy[] = [];

  beforeAll(async () => {
    hub = await startFakeHub({ clientId: 'service-app', redirectUri: `${PREFIX}oauth_callback` });
    upstream = await startUpstream();
    aliceToken = hub.issueToken(alice);
    bobToken = hub.issueToken(bob);
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await upstream.close();
    await hub.close();
  });

  const options = (extra: HubAuthProxyOptions = {}): HubAuthProxyOptions => ({
    env: {},
    apiUrl: hub.apiUrl,
    apiToken: hub.serviceToken,
    clientId: hub.clientId,
    serviceName: 'app',
    servicePrefix: PREFIX,
    publicHubUrl: `${hub.url}/hub/`,
    cookieSecret: SECRET,
    logger: quiet,
    upstream: upstream.url,
    ...extra,
  });

  async function start(extra: HubAuthProxyOptions = {}): Promise<number> {
    const proxy = new HubAuthProxy(options(extra));
    proxies.push(proxy);
    const server = await proxy.listen(0);
    return (server.address() as AddressInfo).port;
  }

  const lastSeen = (): Seen => upstream.seen[upstream.seen.length - 1] as Seen;

  /** A browser login through the proxy; returns the cookie jar. */
  async function login(port: number, user = alice, start = `${PREFIX}page`): Promise<Jar> {
    const jar = new Jar();
    const first = await call(port, 'GET', start, { 'sec-fetch-mode': 'navigate' });
    expect(first.status).toBe(302);
    jar.update(first.headers['set-cookie']);
    hub.loginAs(user);
    const authorize = await fetch(String(first.headers.location), { redirect: 'manual' });
    const callback = new URL(String(authorize.headers.get('location')), 'http://x.invalid');
    const done = await call(port, 'GET', callback.pathname + callback.search, { cookie: jar.header(), 'sec-fetch-mode': 'navigate' });
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe(`${PREFIX}page`);
    jar.update(done.headers['set-cookie']);
    return jar;
  }

  describe('options', () => {
    test.each<[string, HubAuthProxyOptions, RegExp]>([
      ['an upstream that is not a URL', { upstream: 'localhost:8501' }, /upstream.*not an http:\/\/ or https:\/\/ URL/],
      ['an upstream that does not parse', { upstream: 'http://' }, /upstream.*not an absolute URL/],
      ['a ws: upstream', { upstream: 'ws://127.0.0.1:1' }, /not an http:\/\/ or https:\/\/ URL/],
      ['credentials in the upstream', { upstream: 'http://u:p@127.0.0.1:1' }, /credentials/],
      ['a bad header name', { identityHeaders: { user: 'X User' } }, /identityHeaders.user.*not a valid header name/],
      ['a header HTTP needs', { identityHeaders: { groups: 'Cookie' } }, /header HTTP or the proxy needs/],
      ['two headers of one name', { identityHeaders: { user: 'X-Who', groups: 'x_who' } }, /same name/],
      ['a negative timeout', { upstreamTimeoutMs: -1 }, /upstreamTimeoutMs/],
      ['a bad scope', { scopes: ['read:users!nope=x'] }, /scopes/],
      ['a bad origin', { allowedOrigins: ['not an origin'] }, /allowedOrigins/],
      ['a bad hub-users list', { hubUsers: [''] }, /hubUsers/],
    ])('%s is a ConfigError', (_name, extra, message) => {
      let error: unknown;
      try {
        new HubAuthProxy(options(extra));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
    });
  });

  describe('token requests', () => {
    let port: number;
    beforeAll(async () => {
      port = await start();
    });

    test('the upstream gets the identity, without the prefix or the token', async () => {
      const res = await call(port, 'GET', `${PREFIX}data?x=1`, { authorization: `token ${aliceToken}` });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Seen;
      expect(seen.url).toBe('/data?x=1');
      expect(seen.headers['x-hubauth-user']).toBe('alice');
      expect(seen.headers['x-hubauth-groups']).toBe('staff,%C3%A9t%C3%A9');
      const model = JSON.parse(String(seen.headers['x-hubauth-user-model'])) as { name: string; groups: string[] };
      expect(model).toMatchObject({ name: 'alice', groups: ['staff', 'été'] });
      expect(seen.headers['x-forwarded-prefix']).toBe('/services/app');
      expect(seen.headers.authorization).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain(aliceToken);
    });

    test('spoofed identity headers never reach the upstream, in any spelling', async () => {
      const spoof = {
        'X-Hubauth-User': 'mallory',
        'x_hubauth_user': 'mallory',
        'X-HUBAUTH-GROUPS': 'evil-group',
        'X-Hubauth_User-Model': '{"name":"mallory","admin":true}',
      };
      const anonymous = await call(port, 'GET', `${PREFIX}data`, spoof);
      expect(anonymous.status).toBe(401);
      const before = upstream.seen.length;
      const res = await call(port, 'GET', `${PREFIX}data`, { ...spoof, authorization: `token ${bobToken}` });
      expect(res.status).toBe(200);
      expect(upstream.seen.length).toBe(before + 1);
      const seen = lastSeen();
      expect(seen.headers['x-hubauth-user']).toBe('bob');
      expect(seen.headers['x-hubauth-groups']).toBe('');
      expect(seen.headers.x_hubauth_user).toBeUndefined();
      expect(seen.headers['x-hubauth_user-model']).toBeUndefined();
      expect(JSON.stringify(seen.headers)).not.toMatch(/mallory|evil-group/);
    });

    test('anonymous: 401 for API clients, the Hub login for browser navigations; the upstream is not asked', async () => {
      const before = upstream.seen.length;
      const api = await call(port, 'GET', `${PREFIX}data`);
      expect(api.status).toBe(401);
      expect(api.headers['www-authenticate']).toMatch(/^Bearer/);
      const page = await call(port, 'GET', `${PREFIX}data`, { 'sec-fetch-mode': 'navigate' });
      expect(page.status).toBe(302);
      expect(page.headers.location).toContain('/hub/api/oauth2/authorize?');
      const bad = await call(port, 'GET', `${PREFIX}data`, { authorization: 'token not-a-token' });
      expect(bad.status).toBe(401);
      expect(upstream.seen.length).toBe(before);
    });

    test('the bare prefix redirects to the prefix; other paths are 404', async () => {
      const bare = await call(port, 'GET', '/services/app?x=1');
      expect(bare.status).toBe(302);
      expect(bare.headers.location).toBe('/services/app/?x=1');
      expect((await call(port, 'GET', '/elsewhere', { authorization: `token ${aliceToken}` })).status).toBe(404);
    });

    test('POST with a token needs no origin and no xsrf token; the body arrives', async () => {
      const res = await call(port, 'POST', `${PREFIX}submit`, { authorization: `token ${aliceToken}`, 'content-type': 'text/plain' }, 'hello');
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as Seen).body).toBe('hello');
    });

    test('app cookies pass both ways', async () => {
      const res = await call(port, 'GET', `${PREFIX}cookie`, { authorization: `token ${aliceToken}`, cookie: 'theme=dark' });
      expect(res.headers['set-cookie']).toEqual(['app=1; Path=/']);
      expect(lastSeen().headers.cookie).toBe('theme=dark');
    });
  });

  describe('access policy', () => {
    test('hubUsers and hubGroups: others get 403 and never reach the upstream', async () => {
      const port = await start({ hubGroups: ['staff'] });
      expect((await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}` })).status).toBe(200);
      const before = upstream.seen.length;
      const denied = await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${bobToken}` });
      expect(denied.status).toBe(403);
      expect(upstream.seen.length).toBe(before);
      const byName = await start({ hubUsers: ['bob'] });
      expect((await call(byName, 'GET', `${PREFIX}x`, { authorization: `token ${bobToken}` })).status).toBe(200);
      expect((await call(byName, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}` })).status).toBe(403);
    });

    test('keepPrefix and configured header names', async () => {
      const port = await start({ stripPrefix: false, identityHeaders: { user: 'X-Forwarded-User', groups: null, model: null } });
      const res = await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}`, 'x-forwarded-user': 'mallory', 'x-hubauth-user': 'kept' });
      const seen = JSON.parse(res.body) as Seen;
      expect(seen.url).toBe(`${PREFIX}x`);
      expect(seen.headers['x-forwarded-user']).toBe('alice');
      expect(seen.headers['x-hubauth-groups']).toBeUndefined();
      expect(seen.headers['x-hubauth-user-model']).toBeUndefined();
    });
  });

  describe('browser sessions', () => {
    let port: number;
    let jar: Jar;
    beforeAll(async () => {
      port = await start();
      jar = await login(port);
    });

    test('the login cookie authenticates; the upstream sees neither it nor the state cookies', async () => {
      const res = await call(port, 'GET', `${PREFIX}page`, { cookie: `${jar.header()}; theme=dark; jupyterhub-session-id=abc`, 'sec-fetch-mode': 'navigate' });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Seen;
      expect(seen.headers['x-hubauth-user']).toBe('alice');
      expect(seen.headers.cookie).toBe('theme=dark');
      // no xsrf cookie of ours: the proxy checks origins instead, and apps may have their own `_xsrf`
      expect([...jar.cookies.keys()]).toEqual(['service-app']);
    });

    test('state-changing requests with the cookie: same origin passes without an xsrf token, another origin is refused', async () => {
      const host = `127.0.0.1:${port}`;
      const same = await call(port, 'POST', `${PREFIX}notes`, { cookie: jar.header(), origin: `http://${host}`, host }, 'a');
      expect(same.status).toBe(200);
      const fetchMeta = await call(port, 'DELETE', `${PREFIX}notes/1`, { cookie: jar.header(), 'sec-fetch-site': 'same-origin' });
      expect(fetchMeta.status).toBe(200);
      const before = upstream.seen.length;
      const forged: Array<Record<string, string>> = [
        { origin: 'http://evil.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'same-site', origin: 'http://sibling.127.0.0.1.nip.io' },
        { 'sec-fetch-site': 'cross-site' },
        { referer: 'http://evil.example/page' },
        {},
      ];
      for (const headers of forged) {
        const res = await call(port, 'POST', `${PREFIX}notes`, { cookie: jar.header(), host, ...headers }, 'b');
        expect({ headers, status: res.status }).toEqual({ headers, status: 403 });
      }
      expect(upstream.seen.length).toBe(before);
      // the same cross-origin POST with a token is an API call, not a forgery
      const token = await call(port, 'POST', `${PREFIX}notes`, { authorization: `token ${aliceToken}`, origin: 'http://evil.example' }, 'c');
      expect(token.status).toBe(200);
    });

    test('reads by scripts and embeds of another origin are refused as the Hub would; navigations and same-origin reads pass', async () => {
      const cookie = jar.header();
      const get = (headers: Record<string, string>) => call(port, 'GET', `${PREFIX}data`, { cookie, ...headers }).then((r) => r.status);
      expect(await get({ 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'cross-site' })).toBe(200);
      expect(await get({ 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' })).toBe(200);
      expect(await get({ 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'same-origin' })).toBe(200);
      expect(await get({})).toBe(200);
      expect(await get({ 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' })).toBe(403);
      expect(await get({ 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'same-site' })).toBe(403);
    });

    test('allowedOrigins admits another origin', async () => {
      const other = await start({ allowedOrigins: ['https://hub.example.org'] });
      const otherJar = await login(other);
      const res = await call(other, 'POST', `${PREFIX}x`, { cookie: otherJar.header(), origin: 'https://hub.example.org' }, '');
      expect(res.status).toBe(200);
      const { ws, first } = await openWs(other, `${PREFIX}ws`, { cookie: otherJar.header(), origin: 'https://hub.example.org' });
      expect(first.headers['x-hubauth-user']).toBe('alice');
      ws.close();
      await expect(openWs(other, `${PREFIX}ws`, { cookie: otherJar.header(), origin: 'https://evil.example' })).rejects.toThrow('status 403');
    });

    test('websocket with the cookie from the own origin carries the identity; from another origin it is refused', async () => {
      const host = `127.0.0.1:${port}`;
      const { ws, first } = await openWs(port, `${PREFIX}ws?room=1`, { cookie: `${jar.header()}; theme=dark`, origin: `http://${host}`, 'x-hubauth-user': 'mallory' });
      expect(first.url).toBe('/ws?room=1');
      expect(first.headers['x-hubauth-user']).toBe('alice');
      expect(first.headers.cookie).toBe('theme=dark');
      const echo = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
      ws.send('ping');
      expect(await echo).toBe('ping');
      ws.close();
      await expect(openWs(port, `${PREFIX}ws`, { cookie: jar.header(), origin: 'http://evil.example' })).rejects.toThrow('status 403');
      await expect(openWs(port, `${PREFIX}ws`, { origin: `http://${host}` })).rejects.toThrow('status 401');
    });

    test('websocket with ?token=: the token does not reach the upstream', async () => {
      const { ws, first } = await openWs(port, `${PREFIX}ws?a=1&token=${aliceToken}&b=2`);
      expect(first.url).toBe('/ws?a=1&b=2');
      expect(first.headers['x-hubauth-user']).toBe('alice');
      ws.close();
    });

    test('logout is served by the proxy and forgets the session', async () => {
      const res = await call(port, 'GET', `${PREFIX}logout`, { cookie: jar.header() });
      expect(res.status).toBe(302);
      const cleared = new Jar();
      cleared.cookies.set('service-app', jar.cookies.get('service-app') as string);
      cleared.update(res.headers['set-cookie']);
      expect(cleared.cookies.size).toBe(0);
    });
  });

  describe('forward auth', () => {
    let port: number;
    let jar: Jar;
    beforeAll(async () => {
      port = await start({ upstream: undefined, hubGroups: ['staff'] });
      jar = await login(port, alice, `${PREFIX}_hubauth/login?next=${encodeURIComponent(`${PREFIX}page`)}`);
    });

    test('200 with identity headers, 401, 403', async () => {
      const ok = await call(port, 'GET', `${PREFIX}_hubauth/auth`, { authorization: `token ${aliceToken}`, 'x-original-uri': `${PREFIX}x` });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-hubauth-user']).toBe('alice');
      expect(ok.headers['x-hubauth-groups']).toBe('staff,%C3%A9t%C3%A9');
      expect((await call(port, 'GET', `${PREFIX}_hubauth/auth`)).status).toBe(401);
      expect((await call(port, 'GET', `${PREFIX}_hubauth/auth`, { 'sec-fetch-mode': 'navigate' })).status).toBe(401);
      expect((await call(port, 'GET', `${PREFIX}_hubauth/auth`, { authorization: `token ${bobToken}` })).status).toBe(403);
    });

    test('?redirect=1 sends browser navigations to the login, back to the original URI', async () => {
      const res = await call(port, 'GET', `${PREFIX}_hubauth/auth?redirect=1`, {
        'sec-fetch-mode': 'navigate',
        'x-forwarded-method': 'GET',
        'x-forwarded-uri': `${PREFIX}deep/page?q=1`,
      });
      expect(res.status).toBe(302);
      expect(res.headers.location).toContain('/hub/api/oauth2/authorize?');
      expect(res.headers['set-cookie']?.[0]).toMatch(/^service-app-oauth-state=/);
      const api = await call(port, 'GET', `${PREFIX}_hubauth/auth?redirect=1`, { 'x-forwarded-uri': `${PREFIX}api` });
      expect(api.status).toBe(401);
    });

    test('the login cookie: a cross-origin state-changing original request is refused', async () => {
      const cookie = jar.header();
      const get = await call(port, 'GET', `${PREFIX}_hubauth/auth`, { cookie: `${cookie}; theme=dark`, 'x-original-uri': `${PREFIX}x` });
      expect(get.status).toBe(200);
      expect(get.headers['x-hubauth-cookie']).toBe('theme=dark');
      const post = await call(port, 'GET', `${PREFIX}_hubauth/auth`, { cookie, 'x-original-method': 'POST', origin: 'http://evil.example' });
      expect(post.status).toBe(403);
      const ws = await call(port, 'GET', `${PREFIX}_hubauth/auth`, { cookie, 'sec-websocket-key': 'x', origin: 'http://evil.example' });
      expect(ws.status).toBe(403);
    });

    test('the login endpoint starts a login that returns to next', async () => {
      const nav = { 'sec-fetch-mode': 'navigate' };
      const res = await call(port, 'GET', `${PREFIX}_hubauth/login?next=${encodeURIComponent(`${PREFIX}deep?x=1`)}`, nav);
      expect(res.status).toBe(302);
      const evil = await call(port, 'GET', `${PREFIX}_hubauth/login?next=${encodeURIComponent('https://evil.example/')}`, nav);
      expect(evil.status).toBe(302);
      expect(evil.headers.location).toContain('/hub/api/oauth2/authorize?');
      // nginx passes the original URI in a header; API calls get 401, not a login page
      expect((await call(port, 'GET', `${PREFIX}_hubauth/login`, { ...nav, 'x-original-uri': `${PREFIX}a?b=1&c=2` })).status).toBe(302);
      expect((await call(port, 'GET', `${PREFIX}_hubauth/login`, { 'x-original-uri': `${PREFIX}api` })).status).toBe(401);
    });

    test('without an upstream, everything else is 404', async () => {
      expect((await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}` })).status).toBe(404);
    });
  });

  describe('a failing upstream', () => {
    test('down: 502 with a page that says so (HTML for browsers, JSON for APIs)', async () => {
      const port = await start({ upstream: 'http://127.0.0.1:9' });
      const page = await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}`, accept: 'text/html' });
      expect(page.status).toBe(502);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('not reachable');
      const api = await call(port, 'GET', `${PREFIX}x`, { authorization: `token ${aliceToken}` });
      expect(api.status).toBe(502);
      expect(JSON.parse(api.body)).toMatchObject({ code: 'ERR_HUBAUTH_UPSTREAM_UNAVAILABLE' });
      await expect(openWs(port, `${PREFIX}ws?token=${aliceToken}`)).rejects.toThrow();
    });

    test('silent: 504 after the timeout, and the upstream connection is closed', async () => {
      const port = await start({ upstreamTimeoutMs: 300 });
      const baseline = upstream.connections;
      const res = await call(port, 'GET', `${PREFIX}hang`, { authorization: `token ${aliceToken}` });
      expect(res.status).toBe(504);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_HUBAUTH_UPSTREAM_TIMEOUT' });
      // a response that stalls after its headers is cut instead
      await expect(call(port, 'GET', `${PREFIX}slow-body`, { authorization: `token ${aliceToken}` })).rejects.toThrow();
      await waitFor(() => upstream.connections <= baseline);
    });

    test('clients that give up leave no connection behind', async () => {
      const port = await start();
      const baseline = upstream.connections;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          new Promise<void>((resolve) => {
            const req = http.request({ host: '127.0.0.1', port, path: `${PREFIX}hang`, headers: { authorization: `token ${aliceToken}` }, agent: false });
            req.on('error', () => resolve());
            req.end();
            setTimeout(() => {
              req.destroy();
              resolve();
            }, 150);
          }),
        ),
      );
      await waitFor(() => upstream.connections <= baseline);
    });

    test('close() ends open websockets and idle upstream connections', async () => {
      const proxy = new HubAuthProxy(options());
      const server = await proxy.listen(0);
      const port = (server.address() as AddressInfo).port;
      const { ws } = await openWs(port, `${PREFIX}ws?token=${aliceToken}`);
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      await proxy.close();
      await closed;
      expect(server.listening).toBe(false);
    });
  });
});
