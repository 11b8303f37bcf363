/**
 * The adapter seam (`@hubauth/core/adapter`): the routes table, the per-request carrier, the Node
 * request view and `sendNode`, and what a request view that is not Node's (a Web `Request`) relies
 * on: a body read on demand for the xsrf field, joined `Authorization` values refused.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { CARRIER, HubAuthFlow, NodeRequestView, carried, carry, matchRoute, sendNode } from '../src/adapter';
import { InvalidRequestError, XsrfError } from '../src/errors';
import { HubAuth } from '../src/hub-auth';
import { HubOAuth } from '../src/hub-oauth';
import { parseAuthorizationHeader } from '../src/token';
import type { HubRequest } from '../src/types';
import { Browser, PREFIX, RecordingLogger, login, newSecret, oauthOptions, request } from './support';

const alice: FakeUser = { name: 'alice', groups: ['staff'], scopes: [] };
let hub: FakeHub;
const instances: HubAuth[] = [];

beforeAll(async () => {
  hub = await startFakeHub({ requirePkce: true });
});
afterAll(async () => {
  for (const auth of instances) auth.close();
  await hub.close();
});

function oauth(): HubOAuth {
  const auth = new HubOAuth(oauthOptions(hub, { cookieSecret: newSecret(), logger: new RecordingLogger() }));
  instances.push(auth);
  return auth;
}

describe('the routes table', () => {
  it('is empty for token-only authentication', () => {
    const auth = new HubAuth(oauthOptions(hub, { logger: new RecordingLogger() }));
    instances.push(auth);
    expect(auth.routes).toEqual([]);
    expect(auth.ownRoute(request(`${PREFIX}logout`))).toBeNull();
  });

  it('lists the callback (GET, HEAD) and logout (GET, POST) of browser login, and nothing else matches', () => {
    const auth = oauth();
    expect(auth.routes.map(({ name, methods, path }) => ({ name, methods, path }))).toEqual([
      { name: 'callback', methods: ['GET', 'HEAD'], path: `${PREFIX}oauth_callback` },
      { name: 'logout', methods: ['GET', 'POST'], path: `${PREFIX}logout` },
    ]);
    expect(matchRoute(auth.routes, request(`${PREFIX}oauth_callback?code=x`, { method: 'head' }))?.name).toBe('callback');
    expect(matchRoute(auth.routes, request(`${PREFIX}oauth_callback`, { method: 'POST' }))).toBeNull();
    expect(matchRoute(auth.routes, request(`${PREFIX}logout`, { method: 'DELETE' }))).toBeNull();
    expect(matchRoute(auth.routes, request(`${PREFIX}logout/x`))).toBeNull();
    expect(auth.ownRoute(request(`${PREFIX}logout#top`))).toBe('logout');
  });

  it('is what the flow serves: a route is answered, never identified', async () => {
    const flow = new HubAuthFlow({ instance: oauth() });
    expect(flow.routes).toBe(flow.auth.routes);
    const logout = request(`${PREFIX}logout`, { headers: { authorization: 'token whatever' } });
    expect(flow.identifyCached(logout)).toBeUndefined();
    const { step, state } = await flow.identify(logout);
    expect(state).toBeNull();
    expect(step.type === 'respond' && step.response.status).toBe(302);
  });
});

describe('the per-request carrier', () => {
  it('is one shape under Symbol.for("hubauth.request"), whatever carried it', () => {
    const flow = new HubAuthFlow({ instance: oauth() });
    const target = {};
    expect(carried(target)).toBeUndefined();
    carry(target, flow, null);
    expect(CARRIER).toBe(Symbol.for('hubauth.request'));
    expect((target as Record<symbol, unknown>)[Symbol.for('hubauth.request')]).toEqual({ flow, state: null });
    expect(carried(target)?.flow).toBe(flow);
  });
});

describe('the Node request view', () => {
  it('reads secure, ip and body through the hooks, only when asked', async () => {
    const calls: string[] = [];
    const native = { secure: true, ip: '203.0.113.9', body: { parsed: true } };
    const hooks = {
      secure: (n: typeof native) => (calls.push('secure'), n.secure),
      ip: (n: typeof native) => (calls.push('ip'), n.ip),
      body: (n: typeof native) => (calls.push('body'), n.body),
    };
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const seen = once(server, 'request') as Promise<[IncomingMessage, import('node:http').ServerResponse]>;
    const { port } = server.address() as AddressInfo;
    const reply = fetch(`http://127.0.0.1:${port}/a/b?c=1`, { method: 'POST', headers: { 'x-custom': 'yes' }, body: 'x', redirect: 'manual' });
    const [message, res] = await seen;
    const view = new NodeRequestView(message, native, hooks);
    expect(view).toMatchObject({ method: 'POST', url: '/a/b?c=1' });
    expect(view.headers['x-custom']).toBe('yes');
    expect(view.rawHeaders).toContain('x-custom');
    expect(calls).toEqual([]);
    expect([view.secure, view.ip, view.body]).toEqual([true, '203.0.113.9', { parsed: true }]);
    expect(calls).toEqual(['secure', 'ip', 'body']);
    expect(new NodeRequestView(message, native, hooks, '/outer/a/b').url).toBe('/outer/a/b');

    res.setHeader('set-cookie', ['app=1']);
    sendNode(res, { status: 302, headers: { location: '/x', 'set-cookie': ['ours=2', 'ours=3'] }, body: 'moved' });
    const answer = await reply;
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/x');
    expect(answer.headers.getSetCookie()).toEqual(['app=1', 'ours=2', 'ours=3']);
    expect(await answer.text()).toBe('moved');
    server.close();
  });
});

describe('a request view without Node specifics (a Web Request)', () => {
  it.each([
    ['token a, token b'],
    ['Bearer a, Basic Zm9vOmJhcg=='],
    ['Basic Zm9vOmJhcg==, bearer b'],
  ])('refuses the joined Authorization value %j as several headers (400)', (joined) => {
    expect(() => parseAuthorizationHeader(joined)).toThrow(InvalidRequestError);
    expect(() => parseAuthorizationHeader(joined)).toThrow('Several Authorization headers were sent');
  });

  it('still reads a single value with a comma in it as before', () => {
    expect(parseAuthorizationHeader('token a,b')).toBe('a,b');
    expect(() => parseAuthorizationHeader('token a, b')).toThrow('exactly one token');
    expect(parseAuthorizationHeader('Basic realm=x, foo')).toBeNull();
  });

  describe('reads the body on demand for the xsrf field', () => {
    let auth: HubOAuth;
    let browser: Browser;
    beforeAll(async () => {
      auth = oauth();
      browser = new Browser();
      await login(auth, hub, browser, alice);
    });
    const xsrf = () => browser.jar.get('_xsrf') as string;
    const post = (init: Partial<HubRequest>): HubRequest => browser.request(`${PREFIX}api`, { method: 'POST', ...init });

    it.each([
      ['URLSearchParams', () => new URLSearchParams({ _xsrf: xsrf() })],
      ['FormData', () => formData({ _xsrf: xsrf() })],
      ['a plain object', () => ({ _xsrf: xsrf() })],
    ])('accepts the field from %s, reading the body once', async (_label, body) => {
      let reads = 0;
      const identity = await auth.authenticate(post({ readBody: async () => (reads++, body()) }));
      expect(identity.error).toBeNull();
      expect(identity.user?.name).toBe('alice');
      expect(reads).toBe(1);
    });

    it('does not read the body when a header carries the token, or for a safe method', async () => {
      let reads = 0;
      const readBody = async () => (reads++, {});
      expect((await auth.authenticate(post({ headers: { 'x-xsrftoken': xsrf() }, readBody }))).user?.name).toBe('alice');
      expect((await auth.authenticate(browser.request(`${PREFIX}api`, { readBody }))).user?.name).toBe('alice');
      expect(reads).toBe(0);
    });

    it('refuses a wrong field, a missing one and a body that cannot be read (XsrfError 403)', async () => {
      for (const readBody of [async () => ({ _xsrf: 'nonce.mac' }), async () => ({}), () => Promise.reject(new Error('aborted'))]) {
        const identity = await auth.authenticate(post({ readBody }));
        expect(identity.error).toBeInstanceOf(XsrfError);
        expect(identity.user).toBeNull();
      }
    });
  });
});

function formData(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}
