/**
 * The shared identity cache against a real redis-server (started here on a free port) and the fake
 * Hub: sharing, coalescing across instances, revocation, what Redis holds, tampering, and Redis
 * failures (down at start, killed, frozen, back).
 */
import { ConfigError, HubAuth, type HubUser } from '@hubauth/core';
import { redisStore, type RedisStore } from '@hubauth/redis';
import { Redis } from 'ioredis';
import { startFakeHub, type FakeHub, type FakeUser } from '../../../test/fake-hub';
import { freePort, startRedis, type RunningRedis } from '../../../test/redis';

const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);
const alice: FakeUser = { name: 'alice', scopes: ['access:services'] };
const quiet = { warn: () => undefined, error: () => undefined };

let hub: FakeHub;
let redis: RunningRedis;
let spy: Redis;
const stores: RedisStore[] = [];
const auths: HubAuth[] = [];

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Real processes on a shared machine: generous limits; nothing here is a timing assertion but the
// "within a second" bounds of the failure tests.
jest.setTimeout(30_000);

/** Waits until `done()` (at most 5 s; the assertion after it says what was expected). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) await delay(2);
}

/** Waits until Redis holds `count` identity entries (answers are written after they are given). */
async function stored(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await spy.keys('hubauth:id:*')).length < count && Date.now() < deadline) await delay(5);
}

function replica(options: { url?: string; timeoutMs?: number; cacheMaxAge?: number } = {}): HubAuth {
  const store = redisStore({ url: options.url ?? redis.url, timeoutMs: options.timeoutMs ?? 200, logger: quiet });
  stores.push(store);
  const auth = new HubAuth({
    apiUrl: hub.apiUrl,
    allowAll: true,
    cacheMaxAge: options.cacheMaxAge ?? 300,
    sharedCache: { store, secret: SECRET },
    logger: quiet,
  });
  auths.push(auth);
  return auth;
}

async function ready(): Promise<void> {
  expect(await Promise.all(stores.map((s) => s.ready()))).toEqual(stores.map(() => true));
}

beforeAll(async () => {
  hub = await startFakeHub();
  redis = await startRedis();
  spy = new Redis(redis.url, { lazyConnect: false });
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const a of auths.splice(0)) a.close();
  hub.setLatency(0);
  hub.setFault(null);
  if (spy.status === 'ready') await spy.flushall();
});

afterAll(async () => {
  spy.disconnect();
  await redis.stop();
  await hub.close();
});

describe('redisStore options', () => {
  it('needs a url or a client, and names the option and the variable', () => {
    expect(() => redisStore({ env: {} })).toThrow(ConfigError);
    expect(() => redisStore({ env: {} })).toThrow(/HUBAUTH_REDIS_URL/);
    expect(() => redisStore({ url: 'http://x:6379' })).toThrow(/redis: or rediss:/);
    expect(() => redisStore({ url: 'not a url' })).toThrow(/not a URL/);
    expect(() => redisStore({ url: 'redis://:hunter2@x:6379', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => redisStore({ url: 'redis://x', client: spy })).toThrow(/either url or client/);
    expect(() => redisStore({ client: {} as Redis })).toThrow(/ioredis client/);
    expect(() => redisStore({ url: 'redis://x', keyPrefix: 'a b' })).toThrow(/keyPrefix/);
  });

  it('never shows a password in its errors', () => {
    try {
      redisStore({ url: 'http://:hunter2@x:6379' });
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it('is checked by HubAuth: a store, and a secret every replica shares', () => {
    const store = redisStore({ url: redis.url, logger: quiet });
    stores.push(store);
    expect(() => new HubAuth({ apiUrl: hub.apiUrl, allowAll: true, sharedCache: { store }, env: {} })).toThrow(/HUBAUTH_COOKIE_SECRET/);
    expect(() => new HubAuth({ apiUrl: hub.apiUrl, allowAll: true, sharedCache: { store: {} as RedisStore, secret: SECRET } })).toThrow(
      /sharedCache.store/,
    );
    expect(
      () => new HubAuth({ apiUrl: hub.apiUrl, allowAll: true, sharedCache: { store, secret: SECRET, timeoutMs: -1 } }),
    ).toThrow(/sharedCache.timeoutMs/);
    const fromEnv = new HubAuth({ apiUrl: hub.apiUrl, allowAll: true, sharedCache: { store }, env: { HUBAUTH_COOKIE_SECRET: SECRET } });
    fromEnv.close();
  });

  it('accepts an ioredis client of your own and leaves it open', async () => {
    const client = new Redis(redis.url, { enableOfflineQueue: false });
    const store = redisStore({ client, logger: quiet });
    while (client.status !== 'ready') await delay(10);
    await store.set('x', 'y', 1000);
    expect(await store.getMany(['x', 'nope'])).toEqual(['y', null]);
    expect(await spy.get('hubauth:x')).toBe('y');
    await store.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});

describe('a cache shared by replicas', () => {
  it('asks the Hub once for a token used on three replicas', async () => {
    const [a, b, c] = [replica(), replica(), replica()];
    await ready();
    const token = hub.issueToken(alice);
    hub.resetCounters();
    expect((await a.userForToken(token))?.name).toBe('alice');
    await stored(1);
    expect((await b.userForToken(token))?.name).toBe('alice');
    expect((await c.userForToken(token))?.name).toBe('alice');
    expect(hub.calls.user).toBe(1);
  });

  it('coalesces concurrent first lookups across replicas into one Hub call', async () => {
    const replicas = [replica(), replica(), replica()];
    await ready();
    hub.setLatency(100);
    for (let round = 0; round < 3; round++) {
      const token = hub.issueToken(alice);
      hub.resetCounters();
      const users = await Promise.all(replicas.flatMap((r) => [r.userForToken(token), r.userForToken(token)]));
      expect(users.map((u) => u?.name)).toEqual(Array(6).fill('alice'));
      expect(hub.calls.user).toBe(1);
    }
  });

  it('shares "no such token" too, for its shorter lifetime', async () => {
    const [a, b] = [replica(), replica()];
    await ready();
    hub.resetCounters();
    expect(await a.userForToken('not-a-token-at-all')).toBeNull();
    await stored(1);
    expect(await b.userForToken('not-a-token-at-all')).toBeNull();
    expect(hub.calls.user).toBe(1);
  });

  it('costs no Hub call and no Redis entry for a token the Hub can never accept', async () => {
    const a = replica();
    await ready();
    hub.resetCounters();
    expect(await a.userForToken('short')).toBeNull();
    expect(hub.calls.user).toBe(0);
    expect(await spy.dbsize()).toBe(0);
  });

  it('keeps tokens out of Redis: keys are keyed hashes, values are sealed', async () => {
    const a = replica();
    await ready();
    const token = hub.issueToken(alice);
    await a.userForToken(token);
    await stored(1);
    const keys = await spy.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain(token);
      const value = (await spy.type(key)) === 'string' ? await spy.get(key) : '';
      expect(value).not.toContain(token);
      expect(value).not.toContain('alice');
    }
  });

  it('refuses values a Redis writer forged, moved from another token or garbled', async () => {
    const [a, b] = [replica(), replica()];
    await ready();
    const aliceToken = hub.issueToken(alice);
    const mallory = hub.issueToken({ name: 'mallory', scopes: ['access:services'] });
    await a.userForToken(aliceToken);
    await a.userForToken(mallory);
    await stored(2);
    const entries = (await spy.keys('hubauth:id:*')).sort();
    expect(entries).toHaveLength(2);
    const values = await Promise.all(entries.map((k) => spy.get(k)));
    // Swap the two sealed identities: each is bound to its own key.
    await spy.set(entries[0] as string, values[1] as string);
    await spy.set(entries[1] as string, values[0] as string);
    hub.resetCounters();
    expect((await b.userForToken(mallory))?.name).toBe('mallory');
    expect((await b.userForToken(aliceToken))?.name).toBe('alice');
    expect(hub.calls.user).toBe(2);
    // A plain model or garbage is no identity either.
    const c = replica();
    await ready();
    for (const key of entries) await spy.set(key, JSON.stringify({ u: { name: 'root', kind: 'user', scopes: ['admin:users'] } }));
    hub.resetCounters();
    expect((await c.userForToken(aliceToken))?.name).toBe('alice');
    expect(hub.calls.user).toBe(1);
  });

  it('invalidate() reaches every replica within milliseconds', async () => {
    const [a, b] = [replica(), replica()];
    await ready();
    const token = hub.issueToken(alice);
    await a.userForToken(token);
    await stored(1);
    await b.userForToken(token);
    expect(b.cacheSize).toBe(1);
    a.invalidate(token);
    const start = Date.now();
    while (b.cacheSize > 0 && Date.now() - start < 2000) await delay(1);
    expect(b.cacheSize).toBe(0);
    // The next lookup asks the Hub again, once for both.
    hub.resetCounters();
    await b.userForToken(token);
    await a.userForToken(token);
    expect(hub.calls.user).toBe(1);
  });

  it('revoke() makes every replica refuse the token at once, while the Hub still accepts it', async () => {
    const [a, b, c] = [replica(), replica(), replica()];
    await ready();
    const token = hub.issueToken(alice);
    await Promise.all([a, b, c].map((r) => r.userForToken(token)));
    await a.revoke(token);
    await until(() => b.cacheSize === 0 && c.cacheSize === 0);
    hub.resetCounters();
    expect(await b.userForToken(token)).toBeNull();
    expect(await c.userForToken(token)).toBeNull();
    expect(hub.calls.user).toBe(0);
    // A replica started afterwards learns it from Redis.
    const late = replica();
    await ready();
    expect(await late.userForToken(token)).toBeNull();
    expect(hub.calls.user).toBe(0);
  });

  it('does not cache an answer that was in flight when the token was revoked', async () => {
    const [a, b] = [replica(), replica()];
    await ready();
    const token = hub.issueToken(alice);
    hub.setLatency(150);
    const pending = b.userForToken(token);
    await delay(30);
    await a.revoke(token);
    expect(await pending).toBeNull();
    hub.setLatency(0);
    expect(await b.userForToken(token)).toBeNull();
  });
});

describe('when Redis fails', () => {
  it('works without Redis from the start, then shares once it is there', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const [a, b] = [replica({ url }), replica({ url })];
    const token = hub.issueToken(alice);
    hub.resetCounters();
    const start = Date.now();
    expect((await a.userForToken(token))?.name).toBe('alice');
    expect((await b.userForToken(token))?.name).toBe('alice');
    expect(Date.now() - start).toBeLessThan(2000);
    expect(hub.calls.user).toBe(2);
    const late = await startRedis({ port });
    try {
      await ready();
      const shared = hub.issueToken(alice);
      hub.resetCounters();
      await a.userForToken(shared);
      await stored(1);
      await b.userForToken(shared);
      expect(hub.calls.user).toBe(1);
    } finally {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await late.stop();
    }
  });

  it('answers from the Hub when Redis is killed or frozen, and shares again when it is back', async () => {
    const own = await startRedis();
    try {
      const [a, b] = [replica({ url: own.url, timeoutMs: 100 }), replica({ url: own.url, timeoutMs: 100 })];
      await ready();
      const cached = hub.issueToken(alice);
      await a.userForToken(cached);

      // Frozen: connections stay open, nothing answers. Each lookup waits at most the timeout once.
      own.pause();
      const frozen = hub.issueToken(alice);
      let start = Date.now();
      expect((await b.userForToken(frozen))?.name).toBe('alice');
      expect(Date.now() - start).toBeLessThan(1000);
      expect((await a.userForToken(cached))?.name).toBe('alice');
      own.resume();

      // Killed.
      await own.kill(true);
      const killed = hub.issueToken(alice);
      start = Date.now();
      expect((await a.userForToken(killed))?.name).toBe('alice');
      expect((await b.userForToken(killed))?.name).toBe('alice');
      expect(Date.now() - start).toBeLessThan(1000);

      // Back: both reconnect by themselves.
      await own.start();
      expect(await Promise.all(stores.map((s) => s.ready(8000)))).toEqual([true, true]);
      await delay(1100); // past the back-off after the failures
      const back = hub.issueToken(alice);
      hub.resetCounters();
      await a.userForToken(back);
      await delay(200);
      await b.userForToken(back);
      expect(hub.calls.user).toBe(1);
      // Revocation works again too.
      await a.revoke(back);
      await until(() => b.cacheSize === 0);
      expect(await b.userForToken(back)).toBeNull();
    } finally {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await own.stop();
    }
  });

  it('never rejects while Redis is away, under concurrent load', async () => {
    const own = await startRedis();
    try {
      const a = replica({ url: own.url, timeoutMs: 50 });
      await ready();
      const tokens = Array.from({ length: 50 }, () => hub.issueToken(alice));
      const run = Promise.all(tokens.map(async (t, i) => {
        await delay(i * 4);
        return a.userForToken(t);
      }));
      await delay(60);
      await own.kill(true);
      const users: Array<HubUser | null> = await run;
      expect(users.every((u) => u?.name === 'alice')).toBe(true);
    } finally {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await own.stop();
    }
  });
});
