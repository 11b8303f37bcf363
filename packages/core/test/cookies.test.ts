import { CookieSealer, clearCookie, getCookie, parseCookieHeader, serializeCookie } from '../src/cookies';
import { newSecret } from './support';

const NAME = 'service-whoami';

describe('parseCookieHeader', () => {
  it('keeps duplicates in order, trims, unquotes and %-decodes', () => {
    const pairs = parseCookieHeader(' a=1; b="two" ;a=3; c=%41%20b; bad; =x; d=%E0%A4%A');
    expect(pairs).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['a', '3'],
      ['c', 'A b'],
      ['d', '%E0%A4%A'],
    ]);
    expect(getCookie(pairs, 'a')).toBe('1');
    expect(getCookie(pairs, 'zzz')).toBeUndefined();
  });

  it('joins several Cookie headers and accepts none', () => {
    expect(parseCookieHeader(['a=1', 'b=2'])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(parseCookieHeader(undefined)).toEqual([]);
  });
});

describe('serializeCookie', () => {
  it('writes the attributes', () => {
    expect(serializeCookie('n', 'v', { path: '/p/', maxAge: 60.9, httpOnly: true, secure: true, sameSite: 'Lax' })).toBe(
      'n=v; Path=/p/; Max-Age=60; HttpOnly; Secure; SameSite=Lax',
    );
    expect(serializeCookie('n', 'v', { path: '/' })).toBe('n=v; Path=/');
  });

  it('expires a cookie with Max-Age=0 and a past Expires', () => {
    const cleared = clearCookie('n', '/p/', true);
    expect(cleared).toMatch(/^n=; Path=\/p\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure/);
  });

  it.each([
    ['bad name', 'a b', 'v'],
    ['name with =', 'a=b', 'v'],
    ['value with ;', 'n', 'a;b'],
    ['value with a space', 'n', 'a b'],
    ['value with CRLF', 'n', 'a\r\nSet-Cookie: x=y'],
    ['value with a quote', 'n', 'a"b'],
  ])('refuses a %s', (_label, name, value) => {
    expect(() => serializeCookie(name, value, { path: '/' })).toThrow(TypeError);
  });
});

describe('CookieSealer', () => {
  const secret = newSecret();
  const sealer = new CookieSealer([secret], 'session');

  it('round-trips a payload, with a cookie-safe value that hides it', () => {
    const payload = JSON.stringify({ t: 'the-hub-token-0123456789', e: 1 });
    const sealed = sealer.seal(NAME, payload);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('the-hub-token');
    expect(Buffer.from(sealed.split('.')[0] ?? '', 'base64url').toString('latin1')).not.toContain('the-hub-token');
    expect(() => serializeCookie(NAME, sealed, { path: '/' })).not.toThrow();
    expect(sealer.open(NAME, sealed)).toEqual({ payload, stale: false });
  });

  it('uses a fresh IV: sealing twice gives two values', () => {
    expect(sealer.seal(NAME, 'x')).not.toBe(sealer.seal(NAME, 'x'));
  });

  it('round-trips empty, unicode and large payloads', () => {
    for (const payload of ['', 'é☃𝄞', 'x'.repeat(3000)]) {
      expect(sealer.open(NAME, sealer.seal(NAME, payload))?.payload).toBe(payload);
    }
  });

  it('rejects every single-character mutation of a sealed value', () => {
    const sealed = sealer.seal(NAME, '{"t":"tok","e":1}');
    // Every character a cookie value may carry, plus a few that decoders treat specially.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.!#$&'()*:<>?@[]^`{|}~%";
    let tried = 0;
    const accepted: string[] = [];
    for (let i = 0; i < sealed.length; i++) {
      for (const c of alphabet) {
        if (c === sealed[i]) continue;
        const mutated = sealed.slice(0, i) + c + sealed.slice(i + 1);
        tried++;
        if (sealer.open(NAME, mutated) !== null) accepted.push(`${i}:${c}`);
      }
    }
    expect(tried).toBeGreaterThan(1000);
    expect(accepted).toEqual([]);
  });

  it('rejects the signature re-spelt in standard base64 (+ and / for - and _)', () => {
    let sealed = '';
    while (!/[-_]/.test(sealed.slice(sealed.lastIndexOf('.') + 1))) sealed = sealer.seal(NAME, 'payload');
    const dot = sealed.lastIndexOf('.');
    const respelt = sealed.slice(0, dot + 1) + sealed.slice(dot + 1).replace(/-/g, '+').replace(/_/g, '/');
    expect(respelt).not.toBe(sealed);
    expect(sealer.open(NAME, sealed)).not.toBeNull();
    expect(sealer.open(NAME, respelt)).toBeNull();
  });

  it('rejects truncation, extension, deletion and duplication', () => {
    const sealed = sealer.seal(NAME, 'payload');
    const dot = sealed.lastIndexOf('.');
    const variants = [
      '',
      '.',
      sealed.slice(0, -1),
      sealed.slice(1),
      `${sealed}A`,
      `A${sealed}`,
      sealed.slice(0, dot),
      sealed.slice(dot),
      sealed.replace('.', ''),
      `${sealed}.${sealed}`,
      `${sealed.slice(0, dot)}..${sealed.slice(dot + 1)}`,
      ` ${sealed}`,
      'x'.repeat(9000),
    ];
    for (const v of variants) expect(sealer.open(NAME, v)).toBeNull();
  });

  it('binds a value to its cookie name', () => {
    const sealed = sealer.seal(NAME, 'payload');
    expect(sealer.open('service-other', sealed)).toBeNull();
    expect(sealer.open(`${NAME}-oauth-state`, sealed)).toBeNull();
    expect(sealer.open(`__Host-${NAME}`, sealed)).toBeNull();
    expect(sealer.open(NAME.toUpperCase(), sealed)).toBeNull();
  });

  it('binds a value to its purpose', () => {
    const other = new CookieSealer([secret], 'oauth-state');
    expect(other.open(NAME, sealer.seal(NAME, 'payload'))).toBeNull();
  });

  it('rejects values sealed under another secret', () => {
    const foreign = new CookieSealer([newSecret()], 'session');
    expect(sealer.open(NAME, foreign.seal(NAME, 'payload'))).toBeNull();
  });

  it('rotates: the first secret seals, every secret opens, older ones report stale', () => {
    const old = newSecret();
    const fresh = newSecret();
    const before = new CookieSealer([old], 'session').seal(NAME, 'payload');
    const rotated = new CookieSealer([fresh, old], 'session');
    expect(rotated.open(NAME, before)).toEqual({ payload: 'payload', stale: true });
    const resealed = rotated.seal(NAME, 'payload');
    expect(rotated.open(NAME, resealed)).toEqual({ payload: 'payload', stale: false });
    expect(new CookieSealer([old], 'session').open(NAME, resealed)).toBeNull();
    expect(new CookieSealer([fresh], 'session').open(NAME, before)).toBeNull();
  });

  it('needs a secret', () => {
    expect(() => new CookieSealer([], 'session')).toThrow(TypeError);
  });

  it('rejects non-string input', () => {
    expect(sealer.open(NAME, 42 as unknown as string)).toBeNull();
  });
});
