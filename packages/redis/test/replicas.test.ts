/**
 * Three replica processes (test/redis/replica.mjs, the BUILT packages) sharing a real redis-server,
 * against the fake Hub, which counts the Hub calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startFakeHub, type FakeHub, type FakeUser } from '@hubauth/testing';
import { startRedis, type RunningRedis } from '../../../test/redis';

jest.setTimeout(60_000);

const SECRET = 'r'.repeat(40);
const alice: FakeUser = { name: 'alice', scopes: ['access:services'] };
const script = path.join(__dirname, '../../../test/redis/replica.mjs');
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The replicas' Hub timeout (requestTimeoutMs). */
const HUB_TIMEOUT_MS = 2000;

let hub: FakeHub;
let redis: RunningRedis;
const replicas: Array<{ child: ChildProcess; url: string; output: () => string }> = [];

async function startReplica(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      HUBAUTH_REDIS_URL: redis.url,
      JUPYTERHUB_API_URL: hub.apiUrl,
      HUBAUTH_COOKIE_SECRET: SECRET,
      HUBAUTH_TEST_REQUEST_TIMEOUT_MS: String(HUB_TIMEOUT_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}: ${output}`)));
  });
  const replica = { child, url: `http://127.0.0.1:${port}`, output: () => output };
  replicas.push(replica);
  return replica;
}

async function whoami(base: string, token: string): Promise<number> {
  const res = await fetch(`${base}/whoami`, { headers: { authorization: `token ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  const built = path.join(__dirname, '../dist/index.js');
  if (!existsSync(built)) throw new Error('The replica processes load the built packages: run `pnpm build` first');
  hub = await startFakeHub();
  redis = await startRedis();
  await Promise.all([startReplica(), startReplica(), startReplica()]);
  // Until each replica is connected and subscribed: a revocation must reach them all.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const probe = hub.issueToken(alice);
    await whoami(replicas[0]!.url, probe);
    await delay(50);
    hub.resetCounters();
    const statuses = await Promise.all(replicas.map((r) => whoami(r.url, probe)));
    if (statuses.every((s) => s === 200) && hub.calls.user === 0) break;
    await delay(100);
  }
});

afterAll(async () => {
  for (const { child } of replicas) child.kill('SIGTERM');
  await Promise.all(replicas.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null)));
  await redis?.stop();
  await hub?.close();
});

describe('three replica processes sharing Redis', () => {
  it('ask the Hub once for a token used on all three, one after the other', async () => {
    const token = hub.issueToken(alice);
    hub.resetCounters();
    for (const r of replicas) {
      expect(await whoami(r.url, token)).toBe(200);
      await delay(20);
    }
    expect(hub.calls.user).toBe(1);
  });

  it('ask the Hub once for a token used on all three at the same moment', async () => {
    hub.setLatency(100);
    try {
      for (let round = 0; round < 3; round++) {
        const token = hub.issueToken(alice);
        hub.resetCounters();
        const statuses = await Promise.all(replicas.flatMap((r) => [whoami(r.url, token), whoami(r.url, token)]));
        expect(statuses).toEqual(Array(6).fill(200));
        expect(hub.calls.user).toBe(1);
      }
    } finally {
      hub.setLatency(0);
    }
  });

  it('ask a slow Hub once, however the first requests of the replicas fall around its answer', async () => {
    // Replica A asks; B and C come in while A's call runs, just before, at and just after the moment
    // the answer lands and A's lock goes (a read taken before the answer, a lock taken after it).
    const latency = 150;
    hub.setLatency(latency);
    try {
      const calls: number[] = [];
      for (let offset = latency - 40; offset <= latency + 40; offset += 4) {
        const token = hub.issueToken(alice);
        hub.resetCounters();
        const statuses = await Promise.all([
          whoami(replicas[0]!.url, token),
          delay(offset).then(() => whoami(replicas[1]!.url, token)),
          delay(offset + 2).then(() => whoami(replicas[2]!.url, token)),
        ]);
        expect(statuses).toEqual([200, 200, 200]);
        calls.push(hub.calls.user);
      }
      expect(calls).toEqual(calls.map(() => 1));
    } finally {
      hub.setLatency(0);
    }
  });

  it('ask a Hub that answers just within the timeout once: the others wait while its lookup lasts', async () => {
    hub.setLatency(HUB_TIMEOUT_MS - 150);
    try {
      const token = hub.issueToken(alice);
      hub.resetCounters();
      const statuses = await Promise.all([
        whoami(replicas[0]!.url, token),
        delay(100).then(() => whoami(replicas[1]!.url, token)),
        delay(HUB_TIMEOUT_MS - 300).then(() => whoami(replicas[2]!.url, token)),
      ]);
      expect(statuses).toEqual([200, 200, 200]);
      expect(hub.calls.user).toBe(1);
    } finally {
      hub.setLatency(0);
    }
  });

  it('refuse a token on every replica once one revokes it, though the Hub still accepts it', async () => {
    const token = hub.issueToken(alice);
    for (const r of replicas) expect(await whoami(r.url, token)).toBe(200);
    const res = await fetch(`${replicas[0]!.url}/revoke`, { method: 'POST', body: token });
    expect(res.status).toBe(200);
    await delay(50);
    hub.resetCounters();
    for (const r of replicas) expect(await whoami(r.url, token)).toBe(401);
    expect(hub.calls.user).toBe(0);
  });

  it('keep answering 200 while Redis is killed, and share again when it is back', async () => {
    const tokens = Array.from({ length: 30 }, () => hub.issueToken(alice));
    const statuses: number[] = [];
    const load = (async () => {
      for (let i = 0; i < tokens.length; i++) {
        statuses.push(await whoami(replicas[i % 3]!.url, tokens[i]!));
        await delay(10);
      }
    })();
    await delay(100);
    await redis.kill(true);
    await load;
    expect(statuses).toEqual(Array(tokens.length).fill(200));
    await redis.start();
    // Each replica reconnects by itself (back-off at most 2 s), then shares again.
    let shared = false;
    const deadline = Date.now() + 15_000;
    while (!shared && Date.now() < deadline) {
      await delay(500);
      const token = hub.issueToken(alice);
      await whoami(replicas[0]!.url, token);
      await delay(50);
      hub.resetCounters();
      await Promise.all(replicas.slice(1).map((r) => whoami(r.url, token)));
      shared = hub.calls.user === 0;
    }
    expect(shared).toBe(true);
  });
});
