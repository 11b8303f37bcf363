import { pkceChallenge } from '@hubauth/testing';
import { CookieSealer } from '../src/cookies';
import { safeEqual } from '../src/crypto';
import { MAX_NEXT_LENGTH, StateCodec, createPkcePair, safeNextUrl } from '../src/oauth';
import { HOSTILE_NEXT, PREFIX, newSecret } from './support';

describe('safeNextUrl', () => {
  it.each(HOSTILE_NEXT)('keeps %s inside the service', (_label, next) => {
    const result = safeNextUrl(next, PREFIX);
    expect(result.startsWith(PREFIX)).toBe(true);
    expect(result.startsWith('//')).toBe(false);
    expect(result).not.toMatch(/[\\\s]/);
    expect(new URL(result, 'https://svc.example').origin).toBe('https://svc.example');
  });

  it.each(HOSTILE_NEXT)('keeps %s on the same origin for a service at /', (_label, next) => {
    const result = safeNextUrl(next, '/');
    expect(result.startsWith('/')).toBe(true);
    expect(result.startsWith('//')).toBe(false);
    expect(result).not.toMatch(/[\\\s]/);
    expect(new URL(result, 'https://svc.example').origin).toBe('https://svc.example');
  });

  it('falls back to exactly the prefix for every hostile vector', () => {
    const kept = HOSTILE_NEXT.filter(([, next]) => safeNextUrl(next, PREFIX) !== PREFIX).map(([label]) => label);
    expect(kept).toEqual([]);
  });

  it.each([
    [`${PREFIX}page?x=1`, `${PREFIX}page?x=1`],
    [PREFIX, PREFIX],
    ['/services/whoami', PREFIX],
    [`${PREFIX}a b`, `${PREFIX}a%20b`],
    [`${PREFIX}x?next=//evil.example`, `${PREFIX}x?next=//evil.example`],
    [`${PREFIX}x#frag`, `${PREFIX}x`],
    [`${PREFIX}./x/../y`, `${PREFIX}y`],
    [`${PREFIX}%0d%0a`, `${PREFIX}%0d%0a`],
    [`${PREFIX}caf\u00e9`, `${PREFIX}caf%C3%A9`],
  ])('keeps the same-service path %j as %j', (next, expected) => {
    expect(safeNextUrl(next, PREFIX)).toBe(expected);
  });

  it.each([null, undefined, 42, {}, ['/services/whoami/x']])('falls back for the non-string %j', (next) => {
    expect(safeNextUrl(next, PREFIX)).toBe(PREFIX);
  });

  it('accepts a value of exactly the maximum length', () => {
    const next = `${PREFIX}${'a'.repeat(MAX_NEXT_LENGTH - PREFIX.length)}`;
    expect(safeNextUrl(next, PREFIX)).toBe(next);
  });
});

describe('PKCE', () => {
  it('makes a 43-character verifier and its S256 challenge', () => {
    const { verifier, challenge } = createPkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(pkceChallenge(verifier));
    expect(createPkcePair().verifier).not.toBe(verifier);
  });
});

describe('safeEqual', () => {
  it('compares strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('é', 'e\u0301')).toBe(false);
  });
});

describe('StateCodec', () => {
  const secret = newSecret();
  const name = 'service-whoami-oauth-state';
  const codec = new StateCodec(new CookieSealer([secret], 'oauth-state'), name, 600);
  const now = Date.UTC(2030, 0, 1);

  it('round-trips a flow: the parameter carries next, the cookie the verifier, bound by one id', () => {
    const flow = codec.create(`${PREFIX}page`, now);
    const param = codec.openParam(flow.state, now);
    const cookie = codec.openCookie(flow.cookie, now);
    expect(param).toMatchObject({ next: `${PREFIX}page`, issuedAt: now / 1000 });
    if (param === null || param === 'expired' || cookie === null) throw new Error('did not open');
    expect(cookie.id).toBe(param.id);
    expect(pkceChallenge(cookie.verifier)).toBe(flow.challenge);
    expect(flow.state).not.toContain('page');
    expect(flow.state).not.toContain(cookie.verifier);
    expect(flow.cookie).not.toContain(cookie.verifier);
  });

  it('never mixes up a parameter and a cookie', () => {
    const flow = codec.create(PREFIX, now);
    expect(codec.openParam(flow.cookie, now)).toBeNull();
    expect(codec.openCookie(flow.state, now)).toBeNull();
  });

  it('expires a flow after maxAge, and refuses one from the future', () => {
    const flow = codec.create(PREFIX, now);
    expect(codec.openParam(flow.state, now + 600_000)).not.toBe('expired');
    expect(codec.openParam(flow.state, now + 601_000)).toBe('expired');
    expect(codec.openCookie(flow.cookie, now + 601_000)).toBeNull();
    expect(codec.openParam(flow.state, now - 120_000)).toBe('expired');
  });

  it('refuses a flow of another client or secret', () => {
    const flow = codec.create(PREFIX, now);
    const other = new StateCodec(new CookieSealer([secret], 'oauth-state'), 'service-other-oauth-state', 600);
    expect(other.openParam(flow.state, now)).toBeNull();
    expect(other.openCookie(flow.cookie, now)).toBeNull();
    const rotated = new StateCodec(new CookieSealer([newSecret()], 'oauth-state'), name, 600);
    expect(rotated.openParam(flow.state, now)).toBeNull();
  });

  it('refuses garbage', () => {
    for (const v of ['', 'x', 'a.b', `${codec.create(PREFIX, now).state}x`]) {
      expect(codec.openParam(v, now)).toBeNull();
      expect(codec.openCookie(v, now)).toBeNull();
    }
  });
});
