import { connect } from 'node:net';
import { pkceChallenge, startFakeHub } from '@hubauth/testing';
import type { FakeHub, FakeUser } from '@hubauth/testing';

const alice: FakeUser = {
  name: 'alice',
  groups: ['staff'],
  scopes: ['access:services!service=whoami', 'read:users:name!user=alice'],
};
const svc: FakeUser = { name: 'cron', kind: 'service', admin: true, scopes: ['access:services'] };

function getUser(hub: FakeHub, authorization?: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  return fetch(`${hub.apiUrl}/user`, { ...init, headers });
}

function exchange(hub: FakeHub, fields: Record<string, string>): Promise<Response> {
  return fetch(`${hub.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `token ${hub.serviceToken}` },
    body: new URLSearchParams(fields).toString(),
  });
}

function tokenFields(hub: FakeHub, code: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: hub.clientId,
    client_secret: hub.serviceToken,
    grant_type: 'authorization_code',
    code,
    redirect_uri: hub.redirectUri,
    ...extra,
  };
}

async function authorize(hub: FakeHub, url: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = res.headers.get('location');
  if (location === null) throw new Error('no Location');
  return new URL(location, hub.url);
}

async function getCode(hub: FakeHub, params: Parameters<FakeHub['authorizeUrl']>[0] = {}): Promise<string> {
  const location = await authorize(hub, hub.authorizeUrl({ state: 'st', ...params }));
  const code = location.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${location.href}`);
  return code;
}

describe('fake hub', () => {
  let hub: FakeHub;

  beforeEach(async () => {
    hub = await startFakeHub({ serviceToken: 'svc-secret' });
  });

  afterEach(async () => {
    await hub.close();
  });

  describe('GET /hub/api/user', () => {
    it('answers the version at /hub/api/', async () => {
      expect(hub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(hub.apiUrl).toBe(`${hub.url}/hub/api`);
      const res = await fetch(`${hub.apiUrl}/`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ version: '6.1.1' });
    });

    it('returns the user model for a valid token', async () => {
      hub.addToken('tok-alice', { ...alice, scopes: ['b', 'a', 'b'] }, { sessionId: 'sess1' });
      const res = await getUser(hub, 'token tok-alice');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const model: unknown = await res.json();
      expect(model).toEqual({
        kind: 'user',
        name: 'alice',
        admin: false,
        groups: ['staff'],
        scopes: ['a', 'b'],
        session_id: 'sess1',
        token_id: expect.stringMatching(/^a\d+$/),
        user_info: null,
      });
    });

    it('returns the service model (no groups, null session) and merges extra fields', async () => {
      const token = hub.issueToken({ ...svc, extra: { display: true } });
      const res = await getUser(hub, `bearer ${token}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        kind: 'service',
        name: 'cron',
        admin: true,
        scopes: ['access:services'],
        session_id: null,
        token_id: expect.stringMatching(/^a\d+$/),
        display: true,
      });
    });

    it('gives every token its own token_id', async () => {
      const t1 = hub.issueToken(alice);
      const t2 = hub.issueToken(alice);
      const m1 = (await (await getUser(hub, `token ${t1}`)).json()) as { token_id: string };
      const m2 = (await (await getUser(hub, `token ${t2}`)).json()) as { token_id: string };
      expect(m1.token_id).not.toBe(m2.token_id);
    });

    it.each(['token tok', 'Token tok', 'bearer tok', 'Bearer tok', 'BEARER   tok', 'TOKEN\ttok'])(
      'accepts the header %j',
      async (header) => {
        hub.addToken('tok', alice);
        expect((await getUser(hub, header)).status).toBe(200);
      },
    );

    it.each([undefined, 'tok', 'Basic tok', 'token', 'token tok extra', 'token  tok x', 'tokentok', 'token other'])(
      'answers 403 JSON for the header %j',
      async (header) => {
        hub.addToken('tok', alice);
        const res = await getUser(hub, header);
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(await res.json()).toEqual({ status: 403, message: 'Forbidden' });
      },
    );

    it('forgets revoked tokens', async () => {
      const token = hub.issueToken(alice);
      expect((await getUser(hub, `token ${token}`)).status).toBe(200);
      hub.revokeToken(token);
      expect((await getUser(hub, `token ${token}`)).status).toBe(403);
    });

    it('changes the scopes of every token of a user', async () => {
      const t1 = hub.issueToken(alice);
      const t2 = hub.issueToken(alice);
      const other = hub.issueToken({ name: 'bob', scopes: ['x'] });
      hub.setUserScopes('alice', ['read:users:name!user=alice']);
      for (const t of [t1, t2]) {
        const model = (await (await getUser(hub, `token ${t}`)).json()) as { scopes: string[] };
        expect(model.scopes).toEqual(['read:users:name!user=alice']);
      }
      const bob = (await (await getUser(hub, `token ${other}`)).json()) as { scopes: string[] };
      expect(bob.scopes).toEqual(['x']);
    });

    it('rejects tokens it could never match', () => {
      expect(() => hub.addToken('', alice)).toThrow();
      expect(() => hub.addToken('a b', alice)).toThrow();
    });

    it('answers 404 JSON for unknown paths and 405 for wrong methods', async () => {
      const res = await fetch(`${hub.url}/hub/api/nope`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ status: 404, message: 'Not Found' });
      expect((await fetch(`${hub.apiUrl}/user`, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(`${hub.apiUrl}/oauth2/token`)).status).toBe(405);
    });

    it.each([
      'garbage\r\n\r\n',
      'GET //%%%/hub/api/user HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://elsewhere/hub/api/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /hub/api/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab',
    ])('survives the raw request %j', async (raw) => {
      await rawRequest(hub, raw);
      expect((await fetch(`${hub.apiUrl}/`)).status).toBe(200);
    });

    it('answers 413 to an oversized body', async () => {
      const res = await fetch(`${hub.apiUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'x'.repeat(2 * 1024 * 1024),
      });
      expect(res.status).toBe(413);
      await res.arrayBuffer();
    });
  });

  describe('OAuth', () => {
    it('sends a browser that is not logged in to the login page', async () => {
      const url = hub.authorizeUrl({ state: 'st' });
      const location = await authorize(hub, url);
      expect(location.pathname).toBe('/hub/login');
      const target = new URL(url);
      expect(location.searchParams.get('next')).toBe(target.pathname + target.search);
      expect(hub.calls.authorize).toBe(1);
    });

    it('builds authorize URLs in the order the service sends them', () => {
      const url = hub.authorizeUrl({ codeChallenge: 'c', codeChallengeMethod: 'S256', state: 's' });
      expect(url).toBe(
        `${hub.url}/hub/api/oauth2/authorize?client_id=service-whoami&redirect_uri=%2Fservices%2Fwhoami%2Foauth_callback` +
          '&response_type=code&code_challenge=c&code_challenge_method=S256&state=s',
      );
    });

    it.each([
      ['an unknown client_id', { clientId: 'service-other' }],
      ['another redirect_uri', { redirectUri: '/services/whoami/oauth_callback/' }],
      ['an absolute redirect_uri', { redirectUri: 'https://evil.example/services/whoami/oauth_callback' }],
    ])('shows a 400 page, without redirecting, for %s', async (_label, params) => {
      hub.signInAtHub(alice);
      const res = await fetch(hub.authorizeUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('redirects a wrong response_type back with an error', async () => {
      hub.signInAtHub(alice);
      const location = await authorize(hub, hub.authorizeUrl({ responseType: 'token', state: 'st' }));
      expect(location.pathname).toBe(hub.redirectUri);
      expect(location.searchParams.get('error')).toBe('unsupported_response_type');
      expect(location.searchParams.get('state')).toBe('st');
    });

    it('completes the authorization-code flow without PKCE', async () => {
      hub.signInAtHub(alice, { sessionId: 'hub-session' });
      const location = await authorize(hub, hub.authorizeUrl({ state: 'the-state' }));
      expect(location.origin).toBe(hub.url);
      expect(location.pathname).toBe('/services/whoami/oauth_callback');
      expect(location.searchParams.get('state')).toBe('the-state');
      const code = location.searchParams.get('code') ?? '';
      expect(code).not.toBe('');

      const res = await exchange(hub, tokenFields(hub, code));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      const scopes = ['access:services!service=whoami', 'read:users:name!user=alice'];
      expect(body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 1209600,
        scope: scopes.join(' '),
      });

      const user = await getUser(hub, `token ${String(body.access_token)}`);
      expect(user.status).toBe(200);
      expect(await user.json()).toMatchObject({ kind: 'user', name: 'alice', session_id: 'hub-session', scopes });
    });

    it('adds the access scope for the service to the issued token', async () => {
      hub.signInAtHub({ name: 'bob', scopes: [] });
      const code = await getCode(hub);
      const body = (await (await exchange(hub, tokenFields(hub, code))).json()) as { scope: string };
      expect(body.scope).toBe('access:services!service=whoami');
    });

    it('makes the access scope disappear when the owner loses it', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      const { access_token } = (await (await exchange(hub, tokenFields(hub, code))).json()) as { access_token: string };
      hub.setUserScopes('alice', []);
      const model = (await (await getUser(hub, `token ${access_token}`)).json()) as { scopes: string[] };
      expect(model.scopes).toEqual([]);
    });

    it('accepts a code once', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      expect((await exchange(hub, tokenFields(hub, code))).status).toBe(200);
      const again = await exchange(hub, tokenFields(hub, code));
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({ error: 'invalid_grant' });
    });

    it('expires codes after 300 s', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      const now = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(now + 301_000);
      try {
        const res = await exchange(hub, tokenFields(hub, code));
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: 'invalid_grant' });
      } finally {
        spy.mockRestore();
      }
    });

    it('expires issued tokens after tokenExpiresIn', async () => {
      const short = await startFakeHub({ tokenExpiresIn: 60 });
      try {
        short.signInAtHub(alice);
        const code = await getCode(short);
        const body = (await (await exchange(short, tokenFields(short, code))).json()) as { access_token: string; expires_in: number };
        expect(body.expires_in).toBe(60);
        expect((await getUser(short, `token ${body.access_token}`)).status).toBe(200);
        const spy = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 61_000);
        try {
          expect((await getUser(short, `token ${body.access_token}`)).status).toBe(403);
        } finally {
          spy.mockRestore();
        }
      } finally {
        await short.close();
      }
    });

    it.each([
      ['a wrong secret', { client_secret: 'nope' }],
      ['a wrong client id', { client_id: 'service-other' }],
      ['no secret', { client_secret: '' }],
    ])('answers 401 invalid_client to %s', async (_label, override) => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      const res = await exchange(hub, tokenFields(hub, code, override));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_client' });
      // The code is still good.
      expect((await exchange(hub, tokenFields(hub, code))).status).toBe(200);
    });

    it('answers 400 invalid_grant to an unknown code', async () => {
      const res = await exchange(hub, tokenFields(hub, 'made-up'));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_grant' });
    });

    it('answers 400 unsupported_grant_type to another grant type', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      const res = await exchange(hub, tokenFields(hub, code, { grant_type: 'client_credentials' }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'unsupported_grant_type' });
    });

    it('refuses a redirect_uri that differs from the registered one', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      const res = await exchange(hub, tokenFields(hub, code, { redirect_uri: 'http://127.0.0.1/services/whoami/oauth_callback' }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'Mismatching redirect URI.' });
    });

    it('checks the S256 PKCE verifier', async () => {
      hub.signInAtHub(alice);
      const verifier = 'v'.repeat(43);
      const challenge = pkceChallenge(verifier);
      expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const code = await getCode(hub, { codeChallenge: challenge, codeChallengeMethod: 'S256' });

      const missing = await exchange(hub, tokenFields(hub, code));
      expect(missing.status).toBe(400);
      expect(await missing.json()).toEqual({ error: 'invalid_request', error_description: 'Code verifier required.' });

      const wrong = await exchange(hub, tokenFields(hub, code, { code_verifier: 'w'.repeat(43) }));
      expect(wrong.status).toBe(400);
      expect(await wrong.json()).toEqual({ error: 'invalid_grant' });

      const plainChallenge = await exchange(hub, tokenFields(hub, code, { code_verifier: challenge }));
      expect(plainChallenge.status).toBe(400);

      const ok = await exchange(hub, tokenFields(hub, code, { code_verifier: verifier }));
      expect(ok.status).toBe(200);
      expect((await exchange(hub, tokenFields(hub, code, { code_verifier: verifier }))).status).toBe(400);
    });

    it('ignores a verifier when no challenge was given', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      expect((await exchange(hub, tokenFields(hub, code, { code_verifier: 'x'.repeat(43) }))).status).toBe(200);
    });

    it('redirects with invalid_request when PKCE is required and missing', async () => {
      const strict = await startFakeHub({ requirePkce: true, clientId: 'service-strict', redirectUri: '/services/strict/cb?x=1' });
      try {
        strict.signInAtHub(alice);
        const location = await authorize(strict, strict.authorizeUrl({ state: 'st' }));
        expect(location.pathname).toBe('/services/strict/cb');
        expect(location.searchParams.get('x')).toBe('1');
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('error_description')).toBeTruthy();
        expect(location.searchParams.get('state')).toBe('st');
        expect(location.searchParams.get('code')).toBeNull();

        const verifier = 'z'.repeat(50);
        const code = await getCode(strict, { codeChallenge: pkceChallenge(verifier), codeChallengeMethod: 'S256' });
        const res = await exchange(strict, tokenFields(strict, code, { code_verifier: verifier }));
        expect(res.status).toBe(200);
        expect(((await res.json()) as { scope: string }).scope).toContain('access:services!service=strict');
      } finally {
        await strict.close();
      }
    });

    it('keeps an absolute registered redirect URI as given', async () => {
      const abs = await startFakeHub({ redirectUri: 'https://svc.example.org/cb' });
      try {
        abs.signInAtHub(alice);
        const res = await fetch(abs.authorizeUrl({ state: 's' }), { redirect: 'manual' });
        expect(res.headers.get('location')).toMatch(/^https:\/\/svc\.example\.org\/cb\?code=[^&]+&state=s$/);
      } finally {
        await abs.close();
      }
    });
  });

  describe('faults', () => {
    beforeEach(() => {
      hub.addToken('tok', alice);
    });

    it('answers a chosen status with a JSON body', async () => {
      hub.setFault({ type: 'status', status: 502 });
      const res = await getUser(hub, 'token tok');
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ status: 502, message: 'Bad Gateway' });
    });

    it('answers a chosen status with a custom body', async () => {
      hub.setFault({ type: 'status', status: 418, body: 'teapot', contentType: 'text/plain' });
      const res = await getUser(hub, 'token tok');
      expect(res.status).toBe(418);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(await res.text()).toBe('teapot');
    });

    it('answers HTML', async () => {
      hub.setFault({ type: 'html' });
      const res = await getUser(hub, 'token tok');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      await expect(res.json()).rejects.toThrow();
    });

    it('answers invalid JSON', async () => {
      hub.setFault({ type: 'garbage-json' });
      const res = await getUser(hub, 'token tok');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      await expect(res.json()).rejects.toHaveProperty('name', 'SyntaxError');
    });

    it('truncates the body', async () => {
      hub.setFault({ type: 'truncated' });
      const res = await getUser(hub, 'token tok');
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
    });

    it('sends a huge body', async () => {
      hub.setFault({ type: 'huge', bytes: 3 * 1024 * 1024 + 7 });
      const res = await getUser(hub, 'token tok');
      expect(res.headers.get('content-length')).toBe(String(3 * 1024 * 1024 + 7));
      const text = await res.text();
      expect(text.length).toBe(3 * 1024 * 1024 + 7);
      expect(() => JSON.parse(text) as unknown).not.toThrow();
    });

    it('sends tiny "huge" bodies too', async () => {
      hub.setFault({ type: 'huge', bytes: 3 });
      expect(await (await getUser(hub, 'token tok')).text()).toHaveLength(3);
    });

    it('hangs until aborted, and recovers when the fault is cleared', async () => {
      hub.setFault({ type: 'hang' });
      await expect(getUser(hub, 'token tok', { signal: AbortSignal.timeout(150) })).rejects.toThrow();
      hub.setFault(null);
      expect((await getUser(hub, 'token tok')).status).toBe(200);
    });

    it('resets the connection', async () => {
      hub.setFault({ type: 'reset' });
      await expect(getUser(hub, 'token tok')).rejects.toThrow();
    });

    it('redirects to itself', async () => {
      hub.setFault({ type: 'redirect-loop' });
      const res = await getUser(hub, 'token tok', { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/hub/api/user');
      await expect(getUser(hub, 'token tok')).rejects.toThrow();
    });

    it('leaves the token endpoint alone unless asked', async () => {
      hub.setFault({ type: 'status', status: 500 });
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      expect((await exchange(hub, tokenFields(hub, code))).status).toBe(200);
    });

    it('applies faults to the token endpoint only when asked', async () => {
      hub.setFault({ type: 'status', status: 503 }, ['token']);
      expect((await getUser(hub, 'token tok')).status).toBe(200);
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      expect((await exchange(hub, tokenFields(hub, code))).status).toBe(503);
      hub.setFault({ type: 'garbage-json' }, ['user', 'token']);
      await expect((await getUser(hub, 'token tok')).json()).rejects.toThrow();
      await expect((await exchange(hub, tokenFields(hub, code))).json()).rejects.toThrow();
    });

    it('refuses impossible faults', () => {
      expect(() => hub.setFault({ type: 'status', status: 100 })).toThrow(RangeError);
      expect(() => hub.setFault({ type: 'huge', bytes: -1 })).toThrow(RangeError);
    });

    it('closes promptly with hung requests in progress', async () => {
      const other = await startFakeHub();
      other.addToken('tok', alice);
      other.setFault({ type: 'hang' });
      const pending = getUser(other, 'token tok').then(
        () => 'answered',
        () => 'failed',
      );
      await waitFor(() => other.inFlight === 1);
      const started = Date.now();
      await other.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await pending).toBe('failed');
      expect(other.inFlight).toBe(0);
    });

    it('closes promptly while answers are delayed', async () => {
      const other = await startFakeHub();
      other.setLatency(60_000);
      const pending = getUser(other, 'token tok').then(
        () => 'answered',
        () => 'failed',
      );
      await waitFor(() => other.inFlight === 1);
      await other.close();
      expect(await pending).toBe('failed');
      expect(other.inFlight).toBe(0);
    });
  });

  describe('counters', () => {
    it('counts calls by endpoint', async () => {
      hub.addToken('tok', alice);
      await getUser(hub, 'token tok');
      await getUser(hub, 'token nope');
      await exchange(hub, tokenFields(hub, 'x'));
      await fetch(hub.authorizeUrl(), { redirect: 'manual' });
      await fetch(`${hub.apiUrl}/`);
      await fetch(`${hub.url}/elsewhere`);
      expect(hub.calls).toEqual({ user: 2, token: 1, authorize: 1, other: 2 });
      hub.resetCounters();
      expect(hub.calls).toEqual({ user: 0, token: 0, authorize: 0, other: 0 });
      expect(hub.requests).toEqual([]);
    });

    it('records requests with headers and body', async () => {
      hub.signInAtHub(alice);
      const code = await getCode(hub);
      await exchange(hub, tokenFields(hub, code));
      const post = hub.requests.find((r) => r.method === 'POST');
      expect(post).toBeDefined();
      expect(post?.path).toBe('/hub/api/oauth2/token');
      expect(post?.headers.authorization).toBe('token svc-secret');
      expect(new URLSearchParams(post?.body).get('client_secret')).toBe('svc-secret');
      const get = hub.requests.find((r) => r.method === 'GET');
      expect(get?.path).toMatch(/^\/hub\/api\/oauth2\/authorize\?client_id=service-whoami&/);
    });

    it('keeps only the last 1000 requests', async () => {
      for (let i = 0; i < 1005; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(`${hub.url}/n/${i + j}`).then((r) => r.arrayBuffer())));
      }
      expect(hub.requests).toHaveLength(1000);
      expect(hub.calls.other).toBe(1050);
      expect(hub.requests[999]?.path).toBe('/n/1049');
    }, 30_000);

    it('tracks concurrent /user requests', async () => {
      hub.addToken('tok', alice);
      hub.setLatency(100);
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 5 }, () => getUser(hub, 'token tok')));
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(hub.maxInFlight).toBe(5);
      await waitFor(() => hub.inFlight === 0);
      expect(hub.calls.user).toBe(5);

      hub.resetCounters();
      expect(hub.maxInFlight).toBe(0);
      hub.setLatency(0);
      await getUser(hub, 'token tok');
      await getUser(hub, 'token tok');
      expect(hub.maxInFlight).toBe(1);
    });
  });
});

/** Sends bytes on a fresh connection, half-closes it and returns whatever comes back. */
function rawRequest(hub: FakeHub, raw: string): Promise<string> {
  const { port } = new URL(hub.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.end(raw);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
