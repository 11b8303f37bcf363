/**
 * Lookups a flood cannot starve: a client sending distinct invalid tokens as fast as it can, while
 * cached users, login-cookie users, users whose tokens were valid before and brand-new valid tokens
 * from other clients keep being served. Ordering is asserted (who is answered before whom), never
 * wall-clock time.
 */
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import type { HubAuthOptions } from '../src/config';
import { TooManyLookupsError } from '../src/errors';
import { HubAuth } from '../src/hub-auth';
import type { HubRequest } from '../src/types';
import { PREFIX, delay } from './support';

const alice: FakeUser = { name: 'alice', groups: [], scopes: ['access:services!service=whoami'] };
let hub: FakeHub;
const instances: HubAuth[] = [];

function makeAuth(extra: HubAuthOptions = {}): HubAuth {
  const auth = new HubAuth({
    env: {},
    apiUrl: hub.apiUrl,
    serviceName: 'whoami',
    servicePrefix: PREFIX,
    maxConcurrentLookups: 4,
    maxPendingLookupsPerClient: 20,
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  });
  instances.push(auth);
  return auth;
}

const junk = (i: number) => `junk-token-${i}-${Math.random().toString(36).slice(2)}`;
const api = (token: string, ip: string): HubRequest => ({
  method: 'GET',
  url: `${PREFIX}api`,
  headers: { authorization: `token ${token}`, accept: 'application/json' },
  ip,
});

/** Starts `count` junk lookups from `client`; records the order in which they settle. */
function flood(auth: HubAuth, count: number, client: string, order: string[]) {
  return Array.from({ length: count }, (_, i) =>
    auth.userForToken(junk(i), { client }).then(
      (user) => {
        order.push('junk');
        return user;
      },
      (err: unknown) => {
        order.push(err instanceof TooManyLookupsError ? 'junk-429' : 'junk-error');
        return err;
      },
    ),
  );
}

beforeAll(async () => {
  hub = await startFakeHub();
});

afterEach(() => {
  for (const auth of instances.splice(0)) auth.close();
  hub.setLatency(0);
});

afterAll(async () => {
  await hub.close();
});

describe('a flood of distinct invalid tokens', () => {
  it('costs no Hub call for tokens the Hub can never accept (shorter than 8 characters)', async () => {
    const auth = makeAuth();
    hub.resetCounters();
    for (const token of ['a', 'abc', '1234567']) expect(await auth.userForToken(token)).toBeNull();
    expect(hub.calls.user).toBe(0);
    expect(auth.cacheSize).toBe(0);
  });

  it('evicts no valid identity: negative answers live in a cache of their own', async () => {
    const auth = makeAuth({ cacheMaxEntries: 10 });
    const valid = Array.from({ length: 8 }, () => hub.issueToken(alice));
    for (const token of valid) expect((await auth.userForToken(token))?.name).toBe('alice');
    for (let i = 0; i < 200; i++) await auth.userForToken(junk(i), { client: 'attacker' });
    hub.resetCounters();
    for (const token of valid) expect(auth.authenticateCached(api(token, '10.0.0.1'))?.user?.name).toBe('alice');
    expect(hub.calls.user).toBe(0);
  });

  it('bounds pending lookups per client (429), and keeps Hub calls in flight within the limit', async () => {
    const auth = makeAuth();
    hub.setLatency(20);
    hub.resetCounters();
    const order: string[] = [];
    await Promise.all(flood(auth, 100, 'attacker', order));
    expect(order.filter((o) => o === 'junk-429')).toHaveLength(80);
    expect(order.filter((o) => o === 'junk')).toHaveLength(20);
    expect(hub.maxInFlight).toBeLessThanOrEqual(4);
    expect(hub.calls.user).toBe(20);
    // The 429 says when to retry and that it is this client's doing.
    const err = await auth.userForToken(junk(0), { client: 'attacker' }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TooManyLookupsError); // the queue has drained: served again
  });

  it('serves a brand-new valid token from another client after at most one turn, not after the whole queue', async () => {
    const auth = makeAuth({ maxPendingLookupsPerClient: 1000 });
    hub.setLatency(10);
    const order: string[] = [];
    const attack = flood(auth, 200, 'attacker', order);
    await delay(15);
    const fresh = hub.issueToken(alice);
    const user = auth.userForToken(fresh, { client: '10.0.0.7' }).then((u) => {
      order.push('fresh');
      return u;
    });
    expect((await user)?.name).toBe('alice');
    await Promise.all(attack);
    const position = order.indexOf('fresh');
    // Four lookups are in flight when it arrives, plus at most one attacker lookup per slot in turn.
    expect(position).toBeLessThanOrEqual(12);
    expect(order.length).toBe(201);
  });

  it('puts login-cookie tokens and tokens valid before ahead of the junk, and outside the per-client bound', async () => {
    const auth = makeAuth();
    const known = hub.issueToken(alice);
    const cookie = hub.issueToken(alice);
    await auth.userForToken(known, { client: 'attacker' });
    auth.invalidate(known); // the entry goes, the token stays "valid before"
    hub.setLatency(10);
    const order: string[] = [];
    const attack = flood(auth, 20, 'attacker', order);
    await delay(5);
    // Same client as the attacker, whose bound is reached: still served, and first.
    const knownUser = auth.userForToken(known, { client: 'attacker' }).then((u) => {
      order.push('known');
      return u;
    });
    const cookieUser = auth.userForToken(cookie, { client: 'attacker', priority: true }).then((u) => {
      order.push('cookie');
      return u;
    });
    expect((await knownUser)?.name).toBe('alice');
    expect((await cookieUser)?.name).toBe('alice');
    await Promise.all(attack);
    expect(order.indexOf('known')).toBeLessThanOrEqual(6);
    expect(order.indexOf('cookie')).toBeLessThanOrEqual(6);
    expect(order.filter((o) => o === 'junk-429')).toHaveLength(0);
  });

  it('answers cached users without waiting, whatever is queued', async () => {
    const auth = makeAuth({ maxPendingLookupsPerClient: 1000 });
    const cached = hub.issueToken(alice);
    await auth.userForToken(cached);
    hub.setLatency(50);
    const order: string[] = [];
    const attack = flood(auth, 100, 'attacker', order);
    expect(auth.authenticateCached(api(cached, '10.0.0.9'))?.user?.name).toBe('alice');
    expect(order).toEqual([]);
    await Promise.all(attack);
  });
});
