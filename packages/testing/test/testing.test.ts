import { HubOAuth, XSRF_COOKIE } from '@hubauth/core';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ service: 'notes' });
});
afterEach(() => hub.close());

describe('env()', () => {
  it('is the environment a managed service gets, pointing at the fake', () => {
    const env = hub.env();
    expect(env).toEqual({
      JUPYTERHUB_API_URL: `${hub.url}/hub/api`,
      JUPYTERHUB_API_TOKEN: hub.serviceToken,
      JUPYTERHUB_CLIENT_ID: 'service-notes',
      JUPYTERHUB_SERVICE_NAME: 'notes',
      JUPYTERHUB_SERVICE_PREFIX: '/services/notes/',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/services/notes/oauth_callback',
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:services!service=notes"]',
      JUPYTERHUB_PUBLIC_HUB_URL: `${hub.url}/hub/`,
      JUPYTERHUB_BASE_URL: '/',
      HUBAUTH_COOKIE_SECRET: hub.cookieSecret,
    });
    expect(hub.cookieSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('takes overrides, and undefined removes a variable', () => {
    const env = hub.env({ JUPYTERHUB_SERVICE_NAME: undefined, EXTRA: 'x' });
    expect(env).not.toHaveProperty('JUPYTERHUB_SERVICE_NAME');
    expect(env.EXTRA).toBe('x');
  });

  it('configures core without warnings', () => {
    const warn = jest.fn();
    const auth = new HubOAuth({ env: hub.env(), logger: { ...quiet, warn } });
    expect(auth.config.clientId).toBe('service-notes');
    expect(warn).not.toHaveBeenCalled();
    auth.close();
  });
});

describe('users and tokens', () => {
  it('adds users allowed to use the service by default, with groups', async () => {
    const alice = hub.addUser({ name: 'alice', groups: ['staff'], admin: true });
    expect(alice).toEqual({ name: 'alice', kind: 'user', admin: true, groups: ['staff'], scopes: ['access:services!service=notes'] });
    const token = hub.issueToken('alice');
    const res = await fetch(`${hub.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    expect(await res.json()).toMatchObject({ name: 'alice', groups: ['staff'], admin: true, scopes: ['access:services!service=notes'] });
  });

  it('issues tokens with their own scopes', async () => {
    hub.addUser({ name: 'bob' });
    const token = hub.issueToken('bob', { scopes: ['read:users!user=bob'] });
    const res = await fetch(`${hub.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    expect(((await res.json()) as { scopes: string[] }).scopes).toEqual(['read:users!user=bob']);
  });

  it('names the fix for an unknown user', () => {
    expect(() => hub.issueToken('carol')).toThrow(`no user "carol"; add it with addUser({ name: 'carol' })`);
  });
});

describe('loginAs()', () => {
  it('returns the login cookie and xsrf token the service itself accepts', async () => {
    hub.addUser({ name: 'alice', groups: ['staff'] });
    const session = await hub.loginAs('alice');
    expect(session.user).toBe('alice');
    expect(Object.keys(session.cookies)).toEqual(['service-notes', XSRF_COOKIE]);
    expect(session.cookie).toBe(`service-notes=${session.cookies['service-notes']}; _xsrf=${session.xsrfToken}`);
    expect(session.headers).toEqual({ cookie: session.cookie, 'x-xsrftoken': session.xsrfToken });
    // The token is sealed, not in clear.
    expect(session.cookie).not.toContain(session.token);

    const service = new HubOAuth({ env: hub.env(), logger: quiet });
    const identity = await service.authenticate({ method: 'POST', url: '/services/notes/x', headers: session.headers });
    expect(identity.error).toBeNull();
    expect(identity.user?.name).toBe('alice');
    expect(identity.user?.groups).toEqual(['staff']);
    service.close();
  });

  it('follows the service options, e.g. the __Host- prefix', async () => {
    const session = await hub.loginAs(hub.addUser({ name: 'alice' }), { options: { cookieHostPrefix: true } });
    expect(Object.keys(session.cookies)).toEqual(['__Host-service-notes', XSRF_COOKIE]);
  });

  it('is refused by a service with another cookie secret', async () => {
    const session = await hub.loginAs(hub.addUser({ name: 'alice' }));
    const other = new HubOAuth({ env: hub.env({ HUBAUTH_COOKIE_SECRET: 'b'.repeat(64) }), logger: quiet });
    const identity = await other.authenticate({ method: 'GET', url: '/services/notes/', headers: { cookie: session.cookie } });
    expect(identity.user).toBeNull();
    other.close();
  });

  it('fails loudly while the Hub fails', async () => {
    hub.addUser({ name: 'alice' });
    hub.setFault({ type: 'status', status: 500 }, ['token']);
    await expect(hub.loginAs('alice')).rejects.toMatchObject({ code: 'ERR_HUBAUTH_HUB_UNAVAILABLE' });
  });
});

describe('faults', () => {
  it('down() refuses connections and up() serves again on the same port', async () => {
    const url = hub.url;
    await hub.down();
    expect(hub.isDown).toBe(true);
    await expect(fetch(`${url}/hub/api/`)).rejects.toThrow();
    await hub.up();
    expect(hub.url).toBe(url);
    expect(await (await fetch(`${url}/hub/api/`)).json()).toEqual({ version: '6.1.1' });
  });

  it('close() works while down', async () => {
    await hub.down();
    await expect(hub.close()).resolves.toBeUndefined();
  });
});
