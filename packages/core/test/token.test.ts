import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { InvalidRequestError } from '../src/errors';
import { HubAuth } from '../src/hub-auth';
import { queryParam } from '../src/request';
import { MAX_TOKEN_LENGTH, extractToken, parseAuthorizationHeader } from '../src/token';
import type { HubAuthOptions } from '../src/config';
import type { HubRequestHeaders } from '../src/types';
import { PREFIX, Transcript, request } from './support';

const alice: FakeUser = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };

let hub: FakeHub;
const transcript = new Transcript();
const secrets: string[] = [];
const instances: HubAuth[] = [];

function makeAuth(options: HubAuthOptions = {}): HubAuth {
  const auth = new HubAuth({ env: {}, apiUrl: hub.apiUrl, serviceName: 'whoami', servicePrefix: PREFIX, ...options });
  instances.push(auth);
  return auth;
}

function issue(user: FakeUser = alice): string {
  const token = hub.issueToken(user);
  secrets.push(token);
  return token;
}

async function identify(auth: HubAuth, url: string, headers: HubRequestHeaders = {}) {
  const identity = await auth.authenticate(request(url, { headers }));
  transcript.add(identity);
  if (identity.error) transcript.add(identity.error);
  return identity;
}

beforeAll(async () => {
  hub = await startFakeHub();
  secrets.push(hub.serviceToken);
});

beforeEach(() => hub.resetCounters());

afterEach(() => {
  for (const auth of instances.splice(0)) auth.close();
});

afterAll(async () => {
  await hub.close();
});

describe('parseAuthorizationHeader', () => {
  it.each([
    ['token abc', 'abc'],
    ['Token abc', 'abc'],
    ['TOKEN abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer abc', 'abc'],
    ['BEARER   abc', 'abc'],
    ['bEaReR\tabc', 'abc'],
    ['token abc  ', 'abc'],
    [['token abc'], 'abc'],
  ])('reads %j', (header, token) => {
    expect(parseAuthorizationHeader(header)).toBe(token);
  });

  it.each([undefined, '', 'abc', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Digest x', 'tokenabc', 'bearerabc'])(
    'ignores %j (no header or another scheme)',
    (header) => {
      expect(parseAuthorizationHeader(header)).toBeNull();
    },
  );

  it.each([
    ['an empty token', 'token'],
    ['an empty bearer', 'Bearer   '],
    ['two tokens', 'token abc def'],
    ['an embedded space', 'bearer ab c'],
    ['an embedded tab', 'bearer ab\tc'],
    ['a non-ASCII token', 'token abcé'],
    ['a control character', 'token ab\u0001c'],
    ['a 64 KB token', `token ${'a'.repeat(64 * 1024)}`],
    ['one character too many', `token ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`],
  ])('rejects %s with InvalidRequestError 400', (_label, header) => {
    let error: unknown;
    try {
      parseAuthorizationHeader(header);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    const e = error as InvalidRequestError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('ERR_HUBAUTH_INVALID_REQUEST');
    expect(e.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]*", error="invalid_request"/);
  });

  it('accepts a token of exactly the maximum length', () => {
    expect(parseAuthorizationHeader(`token ${'a'.repeat(MAX_TOKEN_LENGTH)}`)).toHaveLength(MAX_TOKEN_LENGTH);
  });

  it('rejects several Authorization headers', () => {
    expect(() => parseAuthorizationHeader(['token a', 'token b'])).toThrow(InvalidRequestError);
    expect(() => parseAuthorizationHeader(['token a', 'token a'])).toThrow(InvalidRequestError);
  });
});

describe('queryParam', () => {
  it('reads a parameter without throwing on broken escapes', () => {
    expect(queryParam('/p?token=a%2Bb&x=1', 'token')).toBe('a+b');
    expect(queryParam('/p?token=%E0%A4%A', 'token')).toBe('\uFFFD%A');
    expect(queryParam('/p?token=%', 'token')).toBe('%');
    expect(queryParam('/p#?token=x', 'token')).toBeNull();
    expect(queryParam('/p?x=1#token=y', 'token')).toBeNull();
    expect(queryParam('/p', 'token')).toBeNull();
  });
});

describe('extractToken', () => {
  it('prefers the header over the URL', () => {
    expect(extractToken(request('/p?token=url', { headers: { authorization: 'token head' } }), true)).toEqual({
      token: 'head',
      source: 'header',
    });
  });

  it('treats an empty ?token= as none', () => {
    expect(extractToken(request('/p?token='), true)).toBeNull();
  });

  it('checks a URL token like a header token', () => {
    expect(() => extractToken(request(`/p?token=${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`), true)).toThrow(InvalidRequestError);
    expect(() => extractToken(request('/p?token=a%20b'), true)).toThrow(InvalidRequestError);
    expect(() => extractToken(request('/p?token=%E0%A4%A'), true)).toThrow(InvalidRequestError);
  });
});

describe('HubAuth token path against the fake Hub', () => {
  it.each(['token', 'bearer', 'Token', 'BEARER', 'Bearer'])('identifies the %s scheme', async (scheme) => {
    const auth = makeAuth();
    const token = issue();
    const identity = await identify(auth, `${PREFIX}api`, { authorization: `${scheme} ${token}` });
    expect(identity.error).toBeNull();
    expect(identity.source).toBe('header');
    expect(identity.user?.name).toBe('alice');
    expect(identity.user?.kind).toBe('user');
    expect(identity.setCookies).toEqual([]);
    const sent = hub.requests.find((r) => r.path === '/hub/api/user');
    expect(sent?.headers.authorization).toBe(`token ${token}`);
  });

  it.each([
    ['an empty token', { authorization: 'token' }],
    ['an empty bearer token', { authorization: 'bearer ' }],
    ['two tokens', { authorization: 'token aaaa bbbb' }],
    ['embedded spaces', { authorization: 'Bearer aa bb' }],
    ['a non-ASCII token', { authorization: 'token aaaé' }],
    ['a 64 KB token', { authorization: `token ${'x'.repeat(64 * 1024)}` }],
    ['several Authorization headers', { authorization: ['token aaaa', 'token bbbb'] }],
  ])('answers %s with 400 and no Hub call', async (_label, headers) => {
    const auth = makeAuth();
    const identity = await identify(auth, `${PREFIX}api`, headers);
    expect(identity.error).toBeInstanceOf(InvalidRequestError);
    expect(identity.error?.status).toBe(400);
    expect(identity.user).toBeNull();
    expect(hub.calls.user).toBe(0);
    const decision = auth.authorize(identity, request(`${PREFIX}api`));
    expect(decision.action).toBe('deny');
    expect(decision.action === 'deny' && decision.error.status).toBe(400);
  });

  it('does not echo a malformed token in the error', async () => {
    const auth = makeAuth();
    const identity = await identify(auth, `${PREFIX}api`, { authorization: 'token secret-part-1 secret-part-2' });
    expect(JSON.stringify(identity.error?.headers)).not.toContain('secret-part');
    expect(identity.error?.message).not.toContain('secret-part');
  });

  it('ignores other schemes: anonymous, no Hub call', async () => {
    const auth = makeAuth();
    const identity = await identify(auth, `${PREFIX}api`, { authorization: 'Basic YWxpY2U6cHc=' });
    expect(identity).toMatchObject({ user: null, source: null, error: null, rejected: false });
    expect(hub.calls.user).toBe(0);
  });

  describe('?token= in the URL', () => {
    it('is ignored by default', async () => {
      const auth = makeAuth();
      const identity = await identify(auth, `${PREFIX}api?token=${issue()}`);
      expect(identity.user).toBeNull();
      expect(identity.source).toBeNull();
      expect(hub.calls.user).toBe(0);
      expect(auth.getToken(request(`${PREFIX}api?token=abc`))).toBeNull();
    });

    it('is accepted with allowTokenInUrl', async () => {
      const auth = makeAuth({ allowTokenInUrl: true });
      const identity = await identify(auth, `${PREFIX}api?x=1&token=${issue()}`);
      expect(identity.user?.name).toBe('alice');
      expect(identity.source).toBe('url');
    });

    it.each([
      ['1', true],
      ['true', true],
      ['0', false],
      ['', false],
    ])('follows JUPYTERHUB_ALLOW_TOKEN_IN_URL=%j', async (value, accepted) => {
      const auth = makeAuth({ env: { JUPYTERHUB_ALLOW_TOKEN_IN_URL: value } });
      const identity = await identify(auth, `${PREFIX}api?token=${issue()}`);
      expect(identity.user?.name ?? null).toBe(accepted ? 'alice' : null);
    });

    it('lets the option override the variable', async () => {
      const auth = makeAuth({ allowTokenInUrl: false, env: { JUPYTERHUB_ALLOW_TOKEN_IN_URL: '1' } });
      expect((await identify(auth, `${PREFIX}api?token=${issue()}`)).user).toBeNull();
    });

    it('is accepted on websocket upgrades (Sec-Fetch-Mode: websocket) even when off', async () => {
      const auth = makeAuth();
      const token = issue();
      const ws = await identify(auth, `${PREFIX}ws?token=${token}`, { 'sec-fetch-mode': 'websocket' });
      expect(ws.user?.name).toBe('alice');
      expect(ws.source).toBe('url');
      const upgrade = await identify(auth, `${PREFIX}ws?token=${token}`, { upgrade: 'WebSocket', connection: 'Upgrade' });
      expect(upgrade.user?.name).toBe('alice');
      const navigate = await identify(auth, `${PREFIX}ws?token=${token}`, { 'sec-fetch-mode': 'navigate' });
      expect(navigate.user).toBeNull();
    });

    it('rejects a malformed URL token before any Hub call', async () => {
      const auth = makeAuth({ allowTokenInUrl: true });
      const identity = await identify(auth, `${PREFIX}api?token=${'x'.repeat(70_000)}`);
      expect(identity.error?.status).toBe(400);
      expect(hub.calls.user).toBe(0);
    });
  });

  it('reports an unknown token as rejected, then 401 invalid_token', async () => {
    const auth = makeAuth();
    const identity = await identify(auth, `${PREFIX}api`, { authorization: 'token no-such-token-123' });
    expect(identity).toMatchObject({ user: null, source: 'header', rejected: true, error: null });
    const decision = auth.authorize(identity, request(`${PREFIX}api`));
    expect(decision.action).toBe('deny');
    if (decision.action !== 'deny') return;
    transcript.add(decision.error);
    expect(decision.error.status).toBe(401);
    expect(decision.error.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
  });
});

describe('no secret in anything produced', () => {
  it('holds for this file', () => {
    expect(transcript.size).toBeGreaterThan(20);
    expect(transcript.leaked(secrets)).toEqual([]);
  });
});
