/**
 * The shared second level with replicas in one process: each replica is an IdentityCache with its
 * own SharedTier over one in-memory SharedStore (expiry, set-if-absent, publish/subscribe), whose
 * calls can be held back to force the interleavings that matter. Hub calls are counted by the
 * loaders. (The same with a real redis-server and replica processes: packages/redis/test.)
 */
import { IdentityCache } from '../src/cache';
import { lockLifetime } from '../src/lookup';
import { SharedTier, type SharedStore, type SharedStoreListener } from '../src/shared-store';
import type { HubUser } from '../src/types';
import { delay } from './support';

const SECRET = 's'.repeat(40);
const quiet = { warn: () => undefined, error: () => undefined };
const alice: HubUser = Object.freeze({ kind: 'user', name: 'alice', admin: false, groups: [], scopes: [] });

/** A store in memory; `hold` makes a call wait for a promise before it runs. */
class MemoryStore implements SharedStore {
  private readonly data = new Map<string, { value: string; until: number }>();
  private readonly listeners: SharedStoreListener[] = [];
  /** Replies come with the next turn of the event loop, as a socket's would. */
  private reply<T>(run: () => T): Promise<T> {
    return new Promise((resolve) => setImmediate(() => resolve(run())));
  }
  private live(key: string): string | null {
    const entry = this.data.get(key);
    if (!entry || entry.until <= Date.now()) return null;
    return entry.value;
  }
  hold: { setIfAbsent?: () => Promise<void> } = {};
  getMany(keys: readonly string[]) {
    return this.reply(() => keys.map((k) => this.live(k)));
  }
  set(key: string, value: string, ttlMs: number) {
    return this.reply(() => void this.data.set(key, { value, until: Date.now() + ttlMs }));
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    const gate = this.hold.setIfAbsent;
    if (gate) await gate();
    return this.reply(() => {
      if (this.live(key) !== null) return false;
      this.data.set(key, { value, until: Date.now() + ttlMs });
      return true;
    });
  }
  delete(keys: readonly string[]) {
    return this.reply(() => keys.forEach((k) => this.data.delete(k)));
  }
  publish(message: string) {
    return this.reply(() => this.listeners.forEach((l) => l.message(message)));
  }
  subscribe(listener: SharedStoreListener) {
    this.listeners.push(listener);
  }
  has(prefix: string): boolean {
    return [...this.data.keys()].some((k) => k.startsWith(prefix) && this.live(k) !== null);
  }
}

function replica(store: SharedStore, options: { lockMs?: number; timeoutMs?: number } = {}): IdentityCache {
  const timeoutMs = options.timeoutMs ?? 250;
  return new IdentityCache({
    maxAge: 300,
    negativeMaxAge: 30,
    maxEntries: 100,
    lockMs: options.lockMs ?? lockLifetime(10_000, timeoutMs),
    shared: new SharedTier(store, SECRET, timeoutMs, quiet),
  });
}

/** A Hub that counts its calls and answers after `ms`. */
function hub(ms: number, answer: () => HubUser | null = () => alice) {
  const counter = {
    calls: 0,
    load: async () => {
      counter.calls++;
      await delay(ms);
      return answer();
    },
  };
  return counter;
}

describe('the shared cache across replicas', () => {
  it('asks the Hub once when a replica reads before the answer is stored and takes the lock after it was released', async () => {
    const store = new MemoryStore();
    const [a, b] = [replica(store), replica(store)];
    const hubCalls = hub(20);
    const key = a.key('token-of-alice');
    // B reads (nothing there, A's lock held), then its own lock attempt is held back until A has
    // stored its answer and released its lock: the lock is free again, but the answer is there.
    let release!: () => void;
    const aDone = new Promise<void>((resolve) => (release = resolve));
    const first = a.get(key, hubCalls.load);
    await delay(5);
    store.hold.setIfAbsent = () => aDone;
    const second = b.get(key, hubCalls.load);
    expect(await first).toBe(alice);
    while (store.has('lock:')) await delay(2);
    expect(store.has('id:')).toBe(true);
    release();
    expect((await second)?.name).toBe('alice');
    expect(hubCalls.calls).toBe(1);
  });

  it('waits for a Hub answer that takes almost the whole Hub timeout: the lock outlives the lookup', async () => {
    const store = new MemoryStore();
    const requestTimeoutMs = 400;
    const timeoutMs = 50;
    const lockMs = lockLifetime(requestTimeoutMs, timeoutMs);
    expect(lockMs).toBeGreaterThan(requestTimeoutMs + 3 * timeoutMs);
    const replicas = [replica(store, { lockMs, timeoutMs }), replica(store, { lockMs, timeoutMs }), replica(store, { lockMs, timeoutMs })];
    const hubCalls = hub(requestTimeoutMs - 10);
    const key = replicas[0]!.key('slow-token');
    const users = await Promise.all(replicas.map(async (r, i) => {
      await delay(i * 150);
      return r.get(key, hubCalls.load);
    }));
    expect(users.map((u) => u?.name)).toEqual(['alice', 'alice', 'alice']);
    expect(hubCalls.calls).toBe(1);
  });

  it('counts a reply that was waiting while the process was busy, instead of a store timeout', async () => {
    const store = new MemoryStore();
    const timeoutMs = 20;
    const tier = new SharedTier(store, SECRET, timeoutMs, quiet);
    const reading = tier.lookup(tier.digest('some-token'), '');
    // The process is not scheduled for longer than the timeout; the reply is due meanwhile.
    const until = Date.now() + 3 * timeoutMs;
    while (Date.now() < until) {
      // busy
    }
    expect(await reading).toEqual({ user: undefined, revokedUntil: 0, locked: false });
    expect(tier.usable).toBe(true);
  });

  it('asks the Hub itself when the lock goes without an answer (the holder failed): errors are not shared', async () => {
    const store = new MemoryStore();
    const [a, b] = [replica(store), replica(store)];
    let calls = 0;
    const failing = async () => {
      calls++;
      await delay(30);
      throw new Error('Hub down');
    };
    const working = hub(5);
    const key = a.key('token');
    const first = a.get(key, failing);
    await delay(10);
    const second = b.get(key, working.load);
    await expect(first).rejects.toThrow('Hub down');
    expect((await second)?.name).toBe('alice');
    expect(calls + working.calls).toBe(2);
  });

  it('stops waiting when the lock expires under a holder that is gone, then asks the Hub itself', async () => {
    const store = new MemoryStore();
    const lockMs = 150;
    const b = replica(store, { lockMs });
    const tier = new SharedTier(store, SECRET, 250, quiet);
    const key = b.key('orphan');
    // A replica took the lock and died.
    expect(await tier.lock(tier.digest('orphan'), lockMs)).toBe(true);
    const working = hub(5);
    expect((await b.get(key, working.load))?.name).toBe('alice');
    expect(working.calls).toBe(1);
  });
});
