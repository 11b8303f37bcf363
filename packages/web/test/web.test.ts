/**
 * `@hubauth/web` in-process: the fetch handlers are called with Web `Request`s directly, as a runtime
 * would call them, against the fake Hub.
 */
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { Jar } from '../../../test/contract/run';
import { fakeHubOptions } from '../../../test/contract/options';
import { USERS } from '../../../test/contract/scenarios';
import { PREFIX } from '../../../test/contract/types';
import { ConfigError, hubAuth, hubAuthenticated, isHubAuthError, type FetchHandler, type HubContext } from '../src';

const SECRET = 'web-test-secret-0123456789abcdef0123456789';
const ORIGIN = 'http://127.0.0.1:8000';
const NAVIGATE = { 'sec-fetch-mode': 'navigate', accept: 'text/html' };

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: `${PREFIX}oauth_callback`, requirePkce: true });
});
afterAll(() => hub.close());

const options = () => fakeHubOptions(hub, SECRET, { cacheMaxAge: 0 });
const get = (path: string, headers: Record<string, string> = {}) => new Request(`${ORIGIN}${path}`, { headers });

/** A browser login through `handler`; returns the jar holding the login and xsrf cookies. */
async function login(handler: FetchHandler): Promise<Jar> {
  const jar = new Jar();
  const start = await handler(get(PREFIX, NAVIGATE));
  expect(start.status).toBe(302);
  jar.update(start.headers.getSetCookie());
  hub.signInAtHub(USERS.alice);
  const authorize = await fetch(start.headers.get('location') as string, { redirect: 'manual' });
  const done = await handler(get(authorize.headers.get('location') as string, { ...NAVIGATE, cookie: jar.header() }));
  expect(done.status).toBe(302);
  jar.update(done.headers.getSetCookie());
  expect([...jar.cookies.keys()].sort()).toEqual(['_xsrf', 'service-whoami']);
  return jar;
}

describe('hubAuthenticated(handler): one function is a whole service', () => {
  test('tokens, anonymous API calls, browser login and logout', async () => {
    const seen: HubContext[] = [];
    const service = hubAuthenticated((_request, context) => {
      seen.push(context);
      return Response.json({ name: context.hubUser.name });
    }, options());
    const token = hub.issueToken(USERS.alice);
    const ok = await service(get(`${PREFIX}x`, { authorization: `token ${token}` }), { some: 'env' });
    expect(await ok.json()).toEqual({ name: 'alice' });
    expect(seen[0]).toMatchObject({ xsrfToken: null, env: { some: 'env' } });
    expect((await service(get(`${PREFIX}x`, { accept: 'application/json' }))).status).toBe(401);
    expect((await service(get(`${PREFIX}x`, { authorization: `token ${hub.issueToken(USERS.bob)}` }))).status).toBe(403);

    const jar = await login(service);
    const page = await service(get(PREFIX, { cookie: jar.header() }));
    expect(await page.json()).toEqual({ name: 'alice' });
    expect(seen.at(-1)?.xsrfToken).toBe(jar.cookies.get('_xsrf'));
    const logout = await service(get(`${PREFIX}logout`, { cookie: jar.header() }));
    expect(logout.status).toBe(302);
    expect(logout.headers.getSetCookie().some((c) => c.startsWith('service-whoami=;'))).toBe(true);
  });

  test('guard options apply', async () => {
    const staff = hubAuthenticated((_r, { hubUser }) => new Response(hubUser.name), { ...options(), hubGroups: ['staff'] });
    expect((await staff(get(PREFIX, { authorization: `token ${hub.issueToken(USERS.alice)}` }))).status).toBe(200);
    expect((await staff(get(PREFIX, { authorization: `token ${hub.issueToken(USERS.admin)}` }))).status).toBe(403);
  });

  test('errors: "throw" rejects with the typed error instead of answering', async () => {
    const service = hubAuthenticated(() => new Response('never'), { ...options(), errors: 'throw' });
    const failure: unknown = await Promise.resolve(service(get(PREFIX, { accept: 'application/json' }))).catch((err: unknown) => err);
    expect(isHubAuthError(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'ERR_HUBAUTH_UNAUTHENTICATED', status: 401 });
  });

  test('a cached caller with a synchronous handler is answered synchronously; the rest is a promise', async () => {
    const cached = () => fakeHubOptions(hub, SECRET); // the identity cache on
    const service = hubAuthenticated((_request, { hubUser }) => new Response(hubUser.name, { headers: { 'x-app': 'yes' } }), cached());
    const async = hubAuthenticated(async (_request, { hubUser }) => new Response(hubUser.name), cached());
    const headers = { authorization: `token ${hub.issueToken(USERS.alice)}` };
    const first = service(get(PREFIX, headers));
    expect(first).toBeInstanceOf(Promise); // not cached yet: the Hub is asked
    expect((await first).status).toBe(200);
    const second = service(get(PREFIX, headers));
    expect(second).toBeInstanceOf(Response);
    expect(await (second as Response).text()).toBe('alice');
    expect((second as Response).headers.get('x-app')).toBe('yes');
    const fromAsync = async(get(PREFIX, headers));
    expect(fromAsync).toBeInstanceOf(Promise);
    expect(await (await fromAsync).text()).toBe('alice');
    // A refusal of a cached caller is synchronous too; a throwing handler still rejects.
    const staff = hubAuthenticated(() => new Response('never'), { ...cached(), hubUsers: ['nobody'] });
    await staff(get(PREFIX, headers));
    const refused = staff(get(PREFIX, headers));
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(403);
    const throwing = hubAuthenticated(() => {
      throw new Error('handler failed');
    }, cached());
    await Promise.resolve(throwing(get(PREFIX, headers))).catch(() => undefined);
    const failed = throwing(get(PREFIX, headers));
    expect(failed).toBeInstanceOf(Promise);
    await expect(failed).rejects.toThrow('handler failed');
  });

  test('options are checked when the service is built', () => {
    expect(() => hubAuthenticated(() => new Response(), { ...options(), errors: 'log' as 'throw' })).toThrow(ConfigError);
  });
});

describe('forms: the _xsrf field of a cookie-authenticated POST', () => {
  let service: FetchHandler;
  let jar: Jar;
  beforeAll(async () => {
    service = hubAuth(options()).protect(async (request) => Response.json(Object.fromEntries(await request.formData())));
    jar = await login(service);
  });

  const form = (fields: Record<string, string>) =>
    new Request(`${ORIGIN}${PREFIX}save`, { method: 'POST', body: new URLSearchParams(fields), headers: { cookie: jar.header() } });

  test('the right field passes, and the handler still reads the whole form', async () => {
    const xsrf = jar.cookies.get('_xsrf') as string;
    const res = await service(form({ title: 'hello', _xsrf: xsrf }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ title: 'hello', _xsrf: xsrf });
    const multipart = new FormData();
    multipart.append('_xsrf', xsrf);
    multipart.append('file', new Blob(['data']), 'a.txt');
    const upload = await service(new Request(`${ORIGIN}${PREFIX}save`, { method: 'POST', body: multipart, headers: { cookie: jar.header() } }));
    expect(upload.status).toBe(200);
  });

  test('a missing or wrong field is refused with 403', async () => {
    expect((await service(form({ title: 'hello' }))).status).toBe(403);
    expect((await service(form({ title: 'hello', _xsrf: 'abc.def' }))).status).toBe(403);
  });

  test('the body is never cloned for token-authenticated requests', async () => {
    const clone = jest.spyOn(Request.prototype, 'clone');
    try {
      const request = new Request(`${ORIGIN}${PREFIX}save`, {
        method: 'POST',
        body: new URLSearchParams({ title: 'x' }),
        headers: { authorization: `token ${hub.issueToken(USERS.alice)}` },
      });
      expect((await service(request)).status).toBe(200);
      expect(clone).not.toHaveBeenCalled();
    } finally {
      clone.mockRestore();
    }
  });
});

describe('the lower-level pieces', () => {
  test('open() identifies without guarding; identify() and guard() compose', async () => {
    const auth = hubAuth(options());
    const open = auth.open((_r, { hubUser }) => Response.json({ user: hubUser?.name ?? null }));
    expect(await (await open(get(PREFIX))).json()).toEqual({ user: null });
    const token = hub.issueToken(USERS.alice);
    expect(await (await open(get(PREFIX, { authorization: `token ${token}` }))).json()).toEqual({ user: 'alice' });

    const { response, state } = await auth.identify(get(PREFIX, { authorization: `token ${token}` }));
    expect(response).toBeNull();
    expect(state?.identity.user?.name).toBe('alice');
    if (state) {
      expect(auth.guard(state, { hubUsers: ['alice'] })).toBeNull();
      expect(auth.guard(state, { hubUsers: ['admin'] })?.status).toBe(403);
    }
  });

  test('routes serves the callback and logout only', async () => {
    const auth = hubAuth(options());
    expect((await auth.routes(get(`${PREFIX}logout`))).status).toBe(302);
    expect((await auth.routes(get(`${PREFIX}oauth_callback?code=x`))).status).toBe(400);
    expect((await auth.routes(get(`${PREFIX}other`))).status).toBe(404);
  });

  test('cookies reach immutable responses (Response.redirect) too', async () => {
    const auth = hubAuth(options());
    const open = auth.open(() => Response.redirect(`${ORIGIN}/elsewhere`, 302));
    const res = await open(get(PREFIX, { cookie: 'service-whoami=forged.value' }));
    expect(res.status).toBe(302);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('service-whoami=;'))).toBe(true);
  });
});
