import { IdentityCache, tokenDigest } from '../src/cache';
import type { HubUser } from '../src/types';
import { delay } from './support';

const user = (name: string): HubUser => Object.freeze({ kind: 'user', name, admin: false, groups: [], scopes: [] });

describe('IdentityCache', () => {
  it('keys by a token digest and the session id', () => {
    const cache = new IdentityCache({ maxAge: 10, negativeMaxAge: 1, maxEntries: 10 });
    expect(cache.key('tok', 's1')).toBe(`${tokenDigest('tok')}:s1`);
    expect(cache.key('tok')).toBe(`${tokenDigest('tok')}:`);
    expect(cache.key('tok')).not.toContain('tok');
    expect(tokenDigest('tok')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('distinguishes cached users, cached "no user" and nothing cached', () => {
    const cache = new IdentityCache({ maxAge: 10, negativeMaxAge: 1, maxEntries: 10 });
    cache.set('a', user('a'));
    cache.set('b', null);
    expect(cache.peek('a')?.name).toBe('a');
    expect(cache.peek('b')).toBeNull();
    expect(cache.peek('c')).toBeUndefined();
  });

  it('coalesces concurrent loads and drops failures', async () => {
    const cache = new IdentityCache({ maxAge: 10, negativeMaxAge: 1, maxEntries: 10 });
    let calls = 0;
    const load = async () => {
      calls++;
      await delay(10);
      return user('x');
    };
    const results = await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)]);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    const fail = () => Promise.reject(new Error('boom'));
    await expect(cache.get('f', fail)).rejects.toThrow('boom');
    expect(cache.peek('f')).toBeUndefined();
  });

  it('expires negative entries sooner than positive ones', async () => {
    const cache = new IdentityCache({ maxAge: 1, negativeMaxAge: 0.05, maxEntries: 10 });
    cache.set('pos', user('p'));
    cache.set('neg', null);
    await delay(80);
    expect(cache.peek('neg')).toBeUndefined();
    expect(cache.peek('pos')?.name).toBe('p');
  });

  it('holds nothing with maxAge 0, and no negatives with negativeMaxAge 0', () => {
    const off = new IdentityCache({ maxAge: 0, negativeMaxAge: 0, maxEntries: 10 });
    off.set('a', user('a'));
    expect(off.size).toBe(0);
    const noNeg = new IdentityCache({ maxAge: 10, negativeMaxAge: 0, maxEntries: 10 });
    noNeg.set('a', null);
    expect(noNeg.peek('a')).toBeUndefined();
  });

  it('forgets a token in every session, and clears', () => {
    const cache = new IdentityCache({ maxAge: 10, negativeMaxAge: 1, maxEntries: 10 });
    cache.set(cache.key('t', 's1'), user('a'));
    cache.set(cache.key('t', 's2'), null);
    cache.set(cache.key('u', 's1'), user('b'));
    expect(cache.deleteToken('t')).toBe(2);
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('stays within maxEntries', () => {
    const cache = new IdentityCache({ maxAge: 10, negativeMaxAge: 1, maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, user(`u${i}`));
    expect(cache.size).toBe(3);
    expect(cache.peek('k9')?.name).toBe('u9');
    expect(cache.peek('k0')).toBeUndefined();
  });
});
