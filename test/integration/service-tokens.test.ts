/**
 * Token authentication against a real JupyterHub (6.x and 5.x), through its real proxy, for the
 * Express, Koa, Fastify and Hono examples and the fetch-handler one on Bun (managed services), the guard test services (managed) and one
 * external service per framework. The users, roles and services are described in
 * support/hub-setup.ts. Scenarios (after jupyterhub/tests/test_services_auth.py):
 *
 * 1. user API tokens with and without `access:services` → 200 / 403, `token` and `bearer` schemes;
 * 2. `?token=` refused by default (401), accepted with `JUPYTERHUB_ALLOW_TOKEN_IN_URL=1`;
 * 3. service-owned tokens: `access:services` and `…!service=<ours>` → 200 `kind: service`,
 *    `…!service=other` → 403; no cookies on token requests;
 * 4. `hubUsers`, `hubGroups` and `scopes` guards.
 *
 * Hub 5.5.4 vs 6.1.1, as seen here: the same status codes everywhere. The user model a service gets
 * has `user_info` (null with the DummyAuthenticator) in 6 only; both have `token_id` and
 * `session_id` (null for API tokens). A service model has no `groups` from the Hub (hubauth adds []).
 */
import { httpRequest, HUB_VERSIONS, type HttpResponse, type HubVersion, type RunningHub } from '../hub';
import {
  CUSTOM_SCOPE,
  FRAMEWORKS,
  apiService,
  daveOf,
  externalService,
  guardService,
  oauthService,
  oursServiceToken,
  type Framework,
} from './support/hub-setup';
import { HubFixture } from './support/fixture';

jest.setTimeout(120_000);

interface Model {
  name?: string;
  kind?: string;
  admin?: boolean;
  scopes?: string[];
  groups?: string[];
  user_info?: unknown;
  [key: string]: unknown;
}

function get(url: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return httpRequest(url, { headers });
}

/** Asserts a 200 identifying `name` of `kind`, with no cookie set (token requests never get one). */
function expectIdentified(res: HttpResponse, name: string, kind: 'user' | 'service', where: string): Model {
  expect({ where, status: res.status }).toEqual({ where, status: 200 });
  const body = res.json as Model & { user?: Model };
  const model = body.user ?? body; // the guard services answer { route, user }
  expect(model).toEqual(expect.objectContaining({ name, kind, admin: false, scopes: expect.any(Array) }));
  expect({ where, setCookies: res.setCookies }).toEqual({ where, setCookies: [] });
  return model;
}

function expectStatus(res: HttpResponse, status: number, where: string): void {
  expect({ where, status: res.status, body: res.status === status ? '' : res.text.slice(0, 300) }).toEqual({
    where,
    status,
    body: '',
  });
  expect({ where, setCookies: res.setCookies }).toEqual({ where, setCookies: [] });
}

describe.each(HUB_VERSIONS.map((v) => [v] as [HubVersion]))('JupyterHub %s: token authentication', (version) => {
  const fx = new HubFixture(version);
  beforeAll(() => fx.start());
  afterAll(() => fx.stop());

  /** Every service of a framework a user token with access:services may use. */
  const servicesOf = (fw: Framework): string[] => [apiService(fw), oauthService(fw), externalService(fw), guardService(fw)];

  describe('1. user API tokens', () => {
    test.each(FRAMEWORKS)('%s: with access:services → 200 (token and bearer schemes); without → 403', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const withAccess = await hub.createUserToken('alice', { scopes: ['access:services'] });
        const inherit = await hub.createUserToken('alice');
        const noAccess = await hub.createUserToken('alice', { scopes: ['read:users:name!user=alice'] });
        const bobs = await hub.createUserToken('bob'); // bob holds only `self`
        for (const service of servicesOf(fw)) {
          const url = ix.url(service);
          for (const scheme of ['token', 'bearer', 'Bearer']) {
            const model = expectIdentified(
              await get(url, { Authorization: `${scheme} ${withAccess}` }),
              'alice',
              'user',
              `${service} ${scheme}`,
            );
            expect(model.scopes).toContain('access:services');
            expect('user_info' in model).toBe(version === '6');
          }
          const full = expectIdentified(await get(url, { Authorization: `token ${inherit}` }), 'alice', 'user', service);
          expect(full.scopes).toEqual(expect.arrayContaining(['access:services', CUSTOM_SCOPE]));
          expect(full.groups).toEqual(['staff']);
          expectStatus(await get(url, { Authorization: `token ${noAccess}` }), 403, `${service} without access`);
          expectStatus(await get(url, { Authorization: `token ${bobs}` }), 403, `${service} bob`);
        }
      }),
    );

    test.each(FRAMEWORKS)('%s: the 403 and 401 answers are JSON with an RFC 6750 challenge', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const url = ix.url(apiService(fw));
        const bobs = await hub.createUserToken('bob');
        const denied = await get(url, { Authorization: `token ${bobs}` });
        expect(denied.status).toBe(403);
        expect(denied.json).toEqual(expect.objectContaining({ status: 403, code: 'ERR_HUBAUTH_FORBIDDEN' }));
        expect(denied.headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);

        const anonymous = await get(url);
        expect(anonymous.status).toBe(401);
        expect(anonymous.json).toEqual(expect.objectContaining({ status: 401, code: 'ERR_HUBAUTH_UNAUTHENTICATED' }));
        expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm="\/services\/whoami-api-/);

        const bogus = await get(url, { Authorization: 'token no-such-token' });
        expect(bogus.status).toBe(401);
        expect(bogus.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      }),
    );

    test.each(FRAMEWORKS)('%s: carol, allowed on whoami-api-<fw> only, gets 200 there and 403 elsewhere', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const carol = await hub.createUserToken('carol');
        const model = expectIdentified(await get(ix.url(apiService(fw)), { Authorization: `token ${carol}` }), 'carol', 'user', apiService(fw));
        expect(model.scopes).toContain(`access:services!service=${apiService(fw)}`);
        expect(model.scopes).not.toContain('access:services');
        for (const service of [oauthService(fw), externalService(fw), guardService(fw)]) {
          expectStatus(await get(ix.url(service), { Authorization: `token ${carol}` }), 403, `carol on ${service}`);
        }
      }),
    );
  });

  describe('2. ?token= in the URL', () => {
    test.each(FRAMEWORKS)('%s: refused by default (401, the token is not even read); accepted with JUPYTERHUB_ALLOW_TOKEN_IN_URL=1', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const alice = await hub.createUserToken('alice', { scopes: ['access:services'] });
        const bobs = await hub.createUserToken('bob');
        const q = (t: string): string => `?token=${encodeURIComponent(t)}`;
        for (const service of [apiService(fw), oauthService(fw)]) {
          const res = await get(ix.url(service, q(alice)));
          expectStatus(res, 401, `${service}?token=`);
          // not "invalid_token": the URL token was ignored, not rejected
          expect(res.headers['www-authenticate']).not.toMatch(/invalid_token/);
        }
        // a browser navigation with ?token= on the OAuth example goes to the Hub's login instead
        const nav = await get(ix.url(oauthService(fw), q(alice)), { 'Sec-Fetch-Mode': 'navigate', Accept: 'text/html' });
        expect(nav.status).toBe(302);
        expect(nav.headers.location).toMatch(/\/hub\/api\/oauth2\/authorize\?/);

        for (const service of [guardService(fw), externalService(fw)]) {
          expectIdentified(await get(ix.url(service, q(alice))), 'alice', 'user', `${service}?token=`);
          expectStatus(await get(ix.url(service, q(bobs))), 403, `${service}?token=<bob>`);
          const bogus = await get(ix.url(service, q('no-such-token')));
          expectStatus(bogus, 401, `${service}?token=<bogus>`);
          expect(bogus.headers['www-authenticate']).toMatch(/invalid_token/);
        }
      }),
    );
  });

  describe('3. service-owned tokens', () => {
    test.each(FRAMEWORKS)('%s: access:services → 200 kind service; !service=<ours> → 200; !service=other → 403; no cookies', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const all = hub.serviceToken('svc-all');
        const ours = hub.serviceToken(oursServiceToken(fw));
        const other = hub.serviceToken('svc-other');
        for (const service of [apiService(fw), oauthService(fw), externalService(fw)]) {
          const url = ix.url(service);
          for (const scheme of ['token', 'bearer']) {
            const model = expectIdentified(await get(url, { Authorization: `${scheme} ${all}` }), 'svc-all', 'service', service);
            expect(model.scopes).toEqual(['access:services']);
          }
          expectStatus(await get(url, { Authorization: `token ${other}` }), 403, `svc-other on ${service}`);
          expectStatus(await get(ix.url(service, `?token=${all}`)), service === externalService(fw) ? 200 : 401, `${service}?token=<svc-all>`);
        }
        for (const service of [apiService(fw), oauthService(fw)]) {
          const model = expectIdentified(await get(ix.url(service), { Authorization: `token ${ours}` }), oursServiceToken(fw), 'service', service);
          expect([...(model.scopes ?? [])].sort()).toEqual(
            [`access:services!service=${apiService(fw)}`, `access:services!service=${oauthService(fw)}`].sort(),
          );
        }
        expectStatus(await get(ix.url(externalService(fw)), { Authorization: `token ${ours}` }), 403, 'svc-ours on the external service');
      }),
    );
  });

  describe('4. hubUsers, hubGroups and scopes guards (guard service)', () => {
    const routes = ['', 'admins', 'staff', 'custom'] as const;
    type Route = (typeof routes)[number];

    async function statuses(hub: RunningHub, base: (route: Route) => string, token: string): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const route of routes) {
        const res = await get(base(route), { Authorization: `token ${token}` });
        expect({ route, setCookies: res.setCookies }).toEqual({ route, setCookies: [] });
        if (res.status === 200) expect((res.json as { route?: string }).route).toBe(route);
        out[route || '/'] = res.status;
      }
      return out;
    }

    test.each(FRAMEWORKS)('%s: /admins (hubUsers alice), /staff (hubGroups staff), /custom (scopes custom:hubauth:read)', (fw) =>
      fx.run(async ({ ix, hub }) => {
        const base = (route: Route): string => ix.url(guardService(fw), route);
        const cases: Array<[string, string, Record<string, number>]> = [
          ['alice (inherit)', await hub.createUserToken('alice'), { '/': 200, admins: 200, staff: 200, custom: 200 }],
          ['alice (access:services)', await hub.createUserToken('alice', { scopes: ['access:services'] }), { '/': 200, admins: 200, staff: 200, custom: 403 }],
          // a route's own scopes replace the service's access scopes
          ['alice (custom scope only)', await hub.createUserToken('alice', { scopes: [CUSTOM_SCOPE] }), { '/': 403, admins: 403, staff: 403, custom: 200 }],
          ['erin (access:services, no group)', await hub.createUserToken('erin'), { '/': 200, admins: 403, staff: 403, custom: 403 }],
          [`${daveOf(fw)} (group members)`, await hub.createUserToken(daveOf(fw)), { '/': 200, admins: 403, staff: 403, custom: 403 }],
          ['bob (no access)', await hub.createUserToken('bob'), { '/': 403, admins: 403, staff: 403, custom: 403 }],
          // services pass the access check, but not a hubUsers/hubGroups list
          ['service svc-all', hub.serviceToken('svc-all'), { '/': 200, admins: 403, staff: 403, custom: 403 }],
        ];
        for (const [who, token, expected] of cases) {
          expect({ who, got: await statuses(hub, base, token) }).toEqual({ who, got: expected });
        }
        const denied = await get(base('staff'), { Authorization: `token ${await hub.createUserToken('erin')}` });
        expect(denied.json).toEqual(expect.objectContaining({ code: 'ERR_HUBAUTH_FORBIDDEN' }));
        const anonymous = await get(base('admins'));
        expect(anonymous.status).toBe(401);
      }),
    );
  });
});
