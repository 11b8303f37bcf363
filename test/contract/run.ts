/**
 * Plays the contract (scenarios.ts plus the multi-step flows below) against one adapter's app.
 * Every adapter's `contract.test.ts` calls `runContract` unchanged.
 */
import request from 'supertest';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import type { HubAuthMiddlewareOptions } from '@hubauth/core';
import { SCENARIOS, USERS, type Client, type Scenario, type UserKey } from './scenarios';
import { fakeHubOptions } from './options';
import { PREFIX, type ContractApp, type ContractAppFactory } from './types';

const COOKIE_SECRET = 'contract-secret-0123456789abcdef0123456789';

type Headers = Record<string, string>;

function clientHeaders(client: Client | undefined): Headers {
  switch (client) {
    case 'navigate':
      return { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html,application/xhtml+xml' };
    case 'fetch':
      return { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin', accept: '*/*' };
    case 'html-no-fetch-metadata':
      return { accept: 'text/html' };
    default:
      return { accept: 'application/json' };
  }
}

/** A minimal cookie jar: name → value, updated from Set-Cookie headers. */
export class Jar {
  readonly cookies = new Map<string, string>();
  update(setCookie: string[] | string | undefined): void {
    for (const line of ([] as string[]).concat(setCookie ?? [])) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

function setCookies(res: request.Response): string[] {
  const value = res.headers['set-cookie'] as string[] | string | undefined;
  return ([] as string[]).concat(value ?? []);
}

/** Declares the contract suite for one adapter/framework pair. */
export function runContract(name: string, factory: ContractAppFactory): void {
  describe(`contract: ${name}`, () => {
    let hub: FakeHub;
    const apps = new Map<string, ContractApp>();
    const tokens = {} as Record<UserKey, string>;

    const baseOptions = (): HubAuthMiddlewareOptions =>
      fakeHubOptions(hub, COOKIE_SECRET, { cacheMaxAge: 0, requestTimeoutMs: 2000 });

    async function app(variant: Scenario['options'] | 'default' = 'default'): Promise<ContractApp> {
      const key = variant ?? 'default';
      let existing = apps.get(key);
      if (!existing) {
        const options = baseOptions();
        if (key === 'allow-token-in-url') options.allowTokenInUrl = true;
        if (key === 'token-only') options.oauth = false;
        if (key === 'hub-down') options.apiUrl = 'http://127.0.0.1:9/hub/api';
        existing = await factory(options);
        apps.set(key, existing);
      }
      return existing;
    }

    beforeAll(async () => {
      hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: `${PREFIX}oauth_callback`, requirePkce: true });
      for (const key of Object.keys(USERS) as UserKey[]) tokens[key] = hub.issueToken(USERS[key]);
    });

    afterAll(async () => {
      await Promise.all([...apps.values()].map((a) => a.close()));
      await hub.close();
    });

    test.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_title, scenario) => {
      const target = await app(scenario.options);
      const headers: Headers = clientHeaders(scenario.client);
      let path = scenario.path;
      const cred = scenario.credential;
      if (cred.type === 'header') headers.authorization = `${cred.scheme ?? 'token'} ${tokens[cred.user]}`;
      if (cred.type === 'bad-token') headers.authorization = `${cred.scheme ?? 'token'} not-a-real-token-${Math.random().toString(36).slice(2)}`;
      if (cred.type === 'raw-header') headers.authorization = cred.value;
      if (cred.type === 'url') path += `${path.includes('?') ? '&' : '?'}token=${tokens[cred.user]}`;

      hub.resetCounters();
      const method = (scenario.method ?? 'GET').toLowerCase() as 'get' | 'post' | 'delete' | 'head';
      const res = await request(target.server)[method](path).set(headers).redirects(0);
      const exp = scenario.expect;
      expect({ status: res.status, body: res.text.slice(0, 300) }).toMatchObject({ status: exp.status });
      if (exp.user !== undefined) expect((res.body as { name?: string }).name).toBe(exp.user);
      if (exp.setsCookie !== undefined) expect(setCookies(res).length > 0).toBe(exp.setsCookie);
      if (exp.location !== undefined) {
        const location = String(res.headers.location ?? '');
        if (typeof exp.location === 'string') expect(location.startsWith(exp.location)).toBe(true);
        else expect(location).toMatch(exp.location);
      }
      if (exp.challenge) expect(String(res.headers['www-authenticate'] ?? '')).toMatch(exp.challenge);
      if (exp.header) expect(String(res.headers[exp.header[0]] ?? '')).toMatch(exp.header[1]);
      if (exp.hubCalls !== undefined) expect(hub.calls.user + hub.calls.token).toBe(exp.hubCalls);
      // No secret ever leaves in a response.
      const everything = JSON.stringify(res.headers) + res.text;
      for (const secret of [hub.serviceToken, COOKIE_SECRET, ...Object.values(tokens)]) {
        expect(everything.includes(secret)).toBe(false);
      }
    });

    /** Runs a browser login for `user`, starting at `path`; returns the jar and the final Location. */
    async function login(user: UserKey, path: string, jar = new Jar()): Promise<{ jar: Jar; location: string }> {
      const target = await app();
      const first = await request(target.server).get(path).set(clientHeaders('navigate')).set('cookie', jar.header()).redirects(0);
      expect(first.status).toBe(302);
      jar.update(setCookies(first));
      hub.signInAtHub(USERS[user]);
      const authorize = await fetch(String(first.headers.location), { redirect: 'manual' });
      expect(authorize.status).toBe(302);
      const callback = new URL(String(authorize.headers.get('location')), 'http://service.invalid');
      const done = await request(target.server)
        .get(callback.pathname + callback.search)
        .set(clientHeaders('navigate'))
        .set('cookie', jar.header())
        .redirects(0);
      expect({ status: done.status, body: done.text.slice(0, 200) }).toMatchObject({ status: 302 });
      jar.update(setCookies(done));
      return { jar, location: String(done.headers.location) };
    }

    test('full browser login: redirect, Hub, callback, then the cookie authenticates', async () => {
      const { jar, location } = await login('alice', `${PREFIX}api/me?x=1`);
      expect(location).toBe(`${PREFIX}api/me?x=1`);
      expect([...jar.cookies.keys()].sort()).toEqual(['_xsrf', 'service-whoami']);
      expect(jar.header()).not.toContain(tokens.alice);
      const res = await request((await app()).server).get(`${PREFIX}api/me`).set(clientHeaders('navigate')).set('cookie', jar.header());
      expect(res.status).toBe(200);
      expect((res.body as { name: string }).name).toBe('alice');
    });

    test('two concurrent logins each return to their own page', async () => {
      const target = await app();
      const jar = new Jar();
      const starts: string[] = [];
      for (const path of [`${PREFIX}?tab=first`, `${PREFIX}api/me?tab=second`]) {
        const res = await request(target.server).get(path).set(clientHeaders('navigate')).set('cookie', jar.header()).redirects(0);
        jar.update(setCookies(res));
        starts.push(String(res.headers.location));
      }
      expect([...jar.cookies.keys()].filter((n) => n.includes('oauth-state'))).toHaveLength(2);
      hub.signInAtHub(USERS.alice);
      const finish = async (authorizeUrl: string) => {
        const at = await fetch(authorizeUrl, { redirect: 'manual' });
        const cb = new URL(String(at.headers.get('location')), 'http://service.invalid');
        const res = await request(target.server).get(cb.pathname + cb.search).set(clientHeaders('navigate')).set('cookie', jar.header()).redirects(0);
        jar.update(setCookies(res));
        return { status: res.status, location: String(res.headers.location) };
      };
      // The second finishes first; the first is then short-circuited (already logged in) to its own page.
      expect(await finish(starts[1] as string)).toEqual({ status: 302, location: `${PREFIX}api/me?tab=second` });
      expect(await finish(starts[0] as string)).toEqual({ status: 302, location: `${PREFIX}?tab=first` });
      expect([...jar.cookies.keys()].filter((n) => n.includes('oauth-state'))).toHaveLength(0);
    });

    test('xsrf: cookie-authenticated POST and DELETE need the token; header-token requests do not', async () => {
      const target = await app();
      const { jar } = await login('alice', PREFIX);
      const xsrf = jar.cookies.get('_xsrf') as string;
      for (const method of ['post', 'delete'] as const) {
        const missing = await request(target.server)[method](`${PREFIX}api/me`).set(clientHeaders('fetch')).set('cookie', jar.header());
        expect(missing.status).toBe(403);
        expect(missing.text).toMatch(/xsrf/i);
        const wrong = await request(target.server)[method](`${PREFIX}api/me`).set(clientHeaders('fetch')).set('cookie', jar.header()).set('x-xsrftoken', 'abc.def');
        expect(wrong.status).toBe(403);
        const ok = await request(target.server)[method](`${PREFIX}api/me`).set(clientHeaders('fetch')).set('cookie', jar.header()).set('x-xsrftoken', xsrf);
        expect(ok.status).toBe(200);
      }
      const open = await request(target.server).get(`${PREFIX}open`).set('cookie', jar.header());
      expect((open.body as { xsrf: string }).xsrf).toBe(xsrf);
    });

    test('xsrf token from another session is refused', async () => {
      const target = await app();
      const { jar: first } = await login('alice', PREFIX);
      const { jar: second } = await login('carol', PREFIX);
      const res = await request(target.server)
        .post(`${PREFIX}api/me`)
        .set(clientHeaders('fetch'))
        .set('cookie', second.header())
        .set('x-xsrftoken', first.cookies.get('_xsrf') as string);
      expect(res.status).toBe(403);
    });

    test('logout clears the cookies, forgets the session and sends the browser to the Hub', async () => {
      const target = await app();
      const { jar } = await login('alice', PREFIX);
      const res = await request(target.server).get(`${PREFIX}logout`).set(clientHeaders('navigate')).set('cookie', jar.header()).redirects(0);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`${hub.url}/hub/logout`);
      jar.update(setCookies(res));
      expect(jar.cookies.has('service-whoami')).toBe(false);
      const after = await request(target.server).get(PREFIX).set(clientHeaders('navigate')).set('cookie', jar.header()).redirects(0);
      expect(after.status).toBe(302);
    });

    test('a tampered login cookie is ignored and cleared', async () => {
      const target = await app();
      const { jar } = await login('alice', PREFIX);
      const value = jar.cookies.get('service-whoami') as string;
      jar.cookies.set('service-whoami', `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`);
      const res = await request(target.server).get(`${PREFIX}api/me`).set(clientHeaders('fetch')).set('cookie', jar.header());
      expect(res.status).toBe(401);
      expect(setCookies(res).some((c) => c.startsWith('service-whoami=;'))).toBe(true);
    });

    test('a token revoked at the Hub stops working once the cache forgets it', async () => {
      const target = await app();
      const { jar } = await login('alice', PREFIX);
      const ok = await request(target.server).get(`${PREFIX}api/me`).set('cookie', jar.header());
      expect(ok.status).toBe(200);
      for (const t of hub.requests.filter((r) => r.path === '/hub/api/user')) {
        const auth = String(t.headers.authorization ?? '');
        if (auth.startsWith('token ') && !Object.values(tokens).includes(auth.slice(6))) hub.revokeToken(auth.slice(6));
      }
      // A page's script sends its xsrf token with every cookie-authenticated fetch (JupyterHub's rule).
      const after = await request(target.server)
        .get(`${PREFIX}api/me`)
        .set(clientHeaders('fetch'))
        .set('cookie', jar.header())
        .set('x-xsrftoken', jar.cookies.get('_xsrf') ?? '');
      expect(after.status).toBe(401);
    });
  });
}
