// Shared-cache and flood phases of `pnpm bench`, with the fake Hub (in its own process) and a real
// redis-server (Debian's, on a free loopback port, no persistence). The servers are
// test/redis/replica.mjs processes (BUILT packages, plain node:http, HubOAuth when a client id is set).
//
//   flood     100,000 distinct invalid tokens at full speed from one client while a cached user, a
//             login-cookie user and brand-new valid tokens (each from a client of its own) keep
//             calling: their statuses and p99 against the same p99 without the flood; Hub calls in
//             flight against the limit; the server's RSS growth.
//   replicas  three replicas sharing Redis: Hub calls for one token used on all three at once;
//             revocation propagation (revoke at A → first 401 at B) p50/p99; throughput when the
//             first level misses and Redis answers, ÷ the same server's unauthenticated route;
//             Redis killed (and restarted) in the middle of a load run: statuses.
//
// Run alone (builds the helpers, starts its own fake Hub): node bench/phases/shared-cache.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../lib/load.mjs';
import { forkHelper, startServer } from '../lib/procs.mjs';
import { fmtBytes, fmtInt, fmtMs, fmtRatio, freePort, median, percentile, repoRoot, rssOf, sampleRss, sleep } from '../lib/util.mjs';

const replicaScript = path.join(repoRoot, 'test', 'redis', 'replica.mjs');
const probeScript = path.join(repoRoot, 'bench', 'servers', 'flood-probe.mjs');
const SECRET = 'bench-shared-cache-secret-0123456789abcdef';
const PREFIX = '/services/whoami/';

export const FLOOD_P99_FACTOR = 3;
export const FLOOD_RSS_LIMIT = 64 * 1024 * 1024;

/** A redis-server on a free loopback port; `kill()` and `start()` keep the port. */
async function startRedisServer() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hubauth-bench-redis-'));
  let child = null;
  const ping = () =>
    new Promise((resolve) => {
      const socket = new net.Socket();
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await ping()); i++) await sleep(50);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: async () => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    stop: async function () {
      await this.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startReplica({ label, fake, redisUrl, extraEnv = {} }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer({
    label,
    command: process.execPath,
    args: [replicaScript],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      JUPYTERHUB_API_URL: fake.apiUrl,
      JUPYTERHUB_SERVICE_PREFIX: PREFIX,
      HUBAUTH_COOKIE_SECRET: SECRET,
      HUBAUTH_REDIS_URL: redisUrl ?? '',
      ...extraEnv,
    },
    healthUrl: `${url}${PREFIX}bare`,
  });
  return { ...server, url, base: `${url}${PREFIX}` };
}

/** GET with a status and the time it took (ms). */
function timedGet(url, headers = {}, agent = undefined) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { headers, agent, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: NaN }));
  });
}

function post(url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** A browser login through the replica and the fake Hub: returns the Cookie header of the session. */
async function browserLogin(replica, fake, user) {
  await fake.call('loginAs', { user });
  const start = await timedGet(`${replica.base}whoami`, { accept: 'text/html', 'sec-fetch-mode': 'navigate' });
  if (start.status !== 302) throw new Error(`login did not start: ${start.status} ${start.body.slice(0, 200)}`);
  const jar = (res) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).filter((c) => !/=$/.test(c));
  const stateCookies = jar(start);
  const authorize = new URL(start.headers.location, fake.url);
  const atHub = await timedGet(`${fake.url}${authorize.pathname}${authorize.search}`);
  if (atHub.status !== 302) throw new Error(`the fake Hub did not authorize: ${atHub.status}`);
  const callback = new URL(atHub.headers.location, replica.url);
  const done = await timedGet(`${replica.url}${callback.pathname}${callback.search}`, { cookie: stateCookies.join('; ') });
  if (done.status !== 302) throw new Error(`the callback failed: ${done.status} ${done.body.slice(0, 200)}`);
  return jar(done).join('; ');
}

const p99Row = (label, before, during) => {
  const ratio = during.p99 / before.p99;
  return {
    ratio,
    row: [
      'Flood',
      `${label}: p99 during ÷ without the flood`,
      Number.isFinite(ratio) ? `${fmtRatio(ratio)} (${fmtMs(during.p99)} vs ${fmtMs(before.p99)})` : 'INVALID',
      `≤ ${FLOOD_P99_FACTOR}`,
      Number.isFinite(ratio) ? (ratio <= FLOOD_P99_FACTOR ? 'met' : 'missed') : 'invalid',
      `${during.count} requests`,
    ],
  };
};

/**
 * @param {object} ctx
 * @param {{ floodTokens: number, floodConnections: number, floodHubLatencyMs: number, maxConcurrentLookups: number }} ctx.cfg
 * @param {{ apiUrl: string, url: string, serviceToken: string, clientId: string, redirectUri: string, call: (op: string, args?: object) => Promise<any> }} ctx.fake
 * @param {object} ctx.user the fake Hub user of valid tokens
 * @param {(...args: unknown[]) => void} ctx.log
 * @returns {Promise<{ rows: string[][], lines: string[] }>}
 */
export async function floodPhase({ cfg, fake, user }) {
  const rows = [];
  const lines = [];
  const tag = `f${Date.now().toString(36)}`;
  const cachedToken = `${tag}cached${Math.random().toString(36).slice(2)}`;
  await fake.call('addToken', { token: cachedToken, user });
  const freshPrefix = `${tag}fresh`;
  const freshCount = 6000;
  await fake.call('addTokens', { prefix: freshPrefix, count: freshCount, user });
  const freshTokens = Array.from({ length: freshCount }, (_, i) => `${freshPrefix}${i}`);
  const replica = await startReplica({
    label: 'flood-replica',
    fake,
    extraEnv: {
      JUPYTERHUB_CLIENT_ID: fake.clientId,
      JUPYTERHUB_API_TOKEN: fake.serviceToken,
      JUPYTERHUB_OAUTH_CALLBACK_URL: fake.redirectUri,
      HUBAUTH_TEST_MAX_CONCURRENT: String(cfg.maxConcurrentLookups),
    },
  });
  try {
    const cookie = await browserLogin(replica, fake, user);
    await timedGet(`${replica.base}whoami`, { authorization: `token ${cachedToken}` });
    await fake.call('latency', { ms: cfg.floodHubLatencyMs });
    const probe = await forkHelper(probeScript, {
      label: 'flood-probe',
      env: {
        ...process.env,
        PROBE_URL: `${replica.base}whoami`,
        PROBE_TOKEN: cachedToken,
        PROBE_COOKIE: cookie,
        PROBE_FRESH_TOKENS: JSON.stringify(freshTokens),
        PROBE_INTERVAL_MS: '10',
      },
    });
    await sleep(3000);
    probe.child.send('mark');
    const before = await probe.next();
    await fake.call('reset');
    const rss0 = rssOf(replica.pid);
    const rss = sampleRss(replica.pid, 50);
    let n = 0;
    const started = Date.now();
    const r = await runLoad({
      url: `${replica.base}whoami`,
      connections: cfg.floodConnections,
      amount: cfg.floodTokens,
      expectStatus: 401,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `token ${tag}junk${(n++).toString(36)}` } }),
    });
    const seconds = (Date.now() - started) / 1000;
    const rssPeak = rss.stop();
    probe.child.send('stop');
    const during = await probe.next();
    await probe.stop();
    const stats = await fake.call('stats');
    await fake.call('latency', { ms: 0 });
    const flooded = Object.entries(r.statuses).map(([s, c]) => `${s}×${fmtInt(c)}`).join(', ');
    lines.push(
      `flood: ${fmtInt(r.total)} junk requests in ${seconds.toFixed(1)} s (${flooded}), Hub calls ${fmtInt(stats.calls.user)}, max in flight ${stats.maxInFlight}, RSS +${fmtBytes(rssPeak - rss0)}`,
    );
    for (const name of ['cached', 'cookie', 'fresh']) {
      const label = { cached: 'cached user', cookie: 'cookie user', fresh: 'brand-new valid token' }[name];
      const bad = Object.entries(during[name].statuses).filter(([s]) => s !== '200');
      const n503 = during[name].statuses['503'] ?? 0;
      rows.push(['Flood', `${label}: 503s (non-200s)`, `${n503} (${bad.map(([s, c]) => `${s}×${c}`).join(', ') || 'none'})`, '0', n503 === 0 && bad.length === 0 ? 'met' : 'missed', `${during[name].count} requests`]);
      rows.push(p99Row(label, before[name], during[name]).row);
      lines.push(`flood ${label}: before p50 ${fmtMs(before[name].p50)} p99 ${fmtMs(before[name].p99)}; during p50 ${fmtMs(during[name].p50)} p99 ${fmtMs(during[name].p99)} max ${fmtMs(during[name].max)}; statuses ${JSON.stringify(during[name].statuses)}`);
    }
    rows.push(['Flood', 'Hub calls in flight (max)', String(stats.maxInFlight), `≤ ${cfg.maxConcurrentLookups}`, stats.maxInFlight <= cfg.maxConcurrentLookups ? 'met' : 'missed', `${fmtInt(stats.calls.user)} Hub calls`]);
    rows.push(['Flood', 'RSS growth (peak)', fmtBytes(rssPeak - rss0), '≤ 64 MB', rssPeak - rss0 <= FLOOD_RSS_LIMIT ? 'met' : 'missed', `${fmtInt(r.total)} junk requests, ${flooded}`]);
    if (r.problems.length) lines.push(`flood load problems: ${r.problems.join('; ')}`);
  } finally {
    await replica.stop();
  }
  return { rows, lines };
}

/** Same as {@link floodPhase}: the three-replica figures. */
export async function replicasPhase({ fake, user }) {
  const rows = [];
  const lines = [];
  const redis = await startRedisServer();
  const tag = `r${Date.now().toString(36)}`;
  const replicas = [];
  try {
    for (const name of ['a', 'b', 'c']) replicas.push(await startReplica({ label: `replica-${name}`, fake, redisUrl: redis.url }));
    await sleep(500);
    const [a, b, c] = replicas;

    // 1. One token on all three at the same moment.
    await fake.call('latency', { ms: 5 });
    const rounds = 20;
    await fake.call('addTokens', { prefix: `${tag}one`, count: rounds, user });
    await fake.call('reset');
    let bad = 0;
    for (let i = 0; i < rounds; i++) {
      const h = { authorization: `token ${tag}one${i}` };
      const res = await Promise.all(replicas.map((r) => timedGet(`${r.base}whoami`, h)));
      bad += res.filter((x) => x.status !== 200).length;
    }
    const calls = (await fake.call('stats')).calls.user;
    await fake.call('latency', { ms: 0 });
    rows.push(['Replicas', 'Hub calls for one token used on 3 replicas at once', fmtRatio(calls / rounds), '1', calls === rounds && bad === 0 ? 'met' : 'missed', `${rounds} tokens, ${calls} Hub calls, ${bad} non-200`]);

    // 2. Revocation propagation: revoke at A, time to the first 401 at B.
    const samples = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await fake.call('addTokens', { prefix: `${tag}rev`, count: 100, user });
    for (let i = 0; i < 100; i++) {
      const token = `${tag}rev${i}`;
      const h = { authorization: `token ${token}` };
      await timedGet(`${b.base}whoami`, h, agent);
      const t0 = process.hrtime.bigint();
      const revoking = post(`${a.base}revoke`, token);
      for (let k = 0; k < 5000; k++) {
        const res = await timedGet(`${b.base}whoami`, h, agent);
        if (res.status === 401) {
          samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
          break;
        }
      }
      await revoking;
    }
    agent.destroy();
    rows.push(['Replicas', 'revocation propagation (revoke at A → 401 at B) p50 / p99', `${fmtMs(percentile(samples, 50))} / ${fmtMs(percentile(samples, 99))}`, 'reported', samples.length === 100 ? 'reported' : 'invalid', `${samples.length} of 100 revocations seen`]);

    // 3. First level misses, Redis answers: a replica whose own cache holds one entry, cycling over
    // 1,000 tokens already in Redis, ÷ its unauthenticated route.
    const l2 = await startReplica({ label: 'replica-l2', fake, redisUrl: redis.url, extraEnv: { HUBAUTH_TEST_CACHE_MAX_ENTRIES: '1' } });
    try {
      await fake.call('addTokens', { prefix: `${tag}l2`, count: 1000, user });
      for (let i = 0; i < 1000; i++) await timedGet(`${a.base}whoami`, { authorization: `token ${tag}l2${i}` });
      await sleep(200);
      await fake.call('reset');
      const ratios = [];
      const runs = [];
      for (let round = 0; round < 3; round++) {
        let k = 0;
        const guarded = await runLoad({
          url: `${l2.base}whoami`,
          connections: 32,
          duration: 4,
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `token ${tag}l2${k++ % 1000}` } }),
        });
        const bare = await runLoad({ url: `${l2.base}bare`, connections: 32, duration: 4, headers: { authorization: `token ${tag}l2${round}` } });
        runs.push(`round ${round + 1}: L2 hit ${fmtInt(guarded.rps)}/s (p99 ${fmtMs(guarded.latency.p99)}), bare ${fmtInt(bare.rps)}/s${guarded.problems.length ? ` INVALID ${guarded.problems.join('; ')}` : ''}`);
        if (!guarded.problems.length && !bare.problems.length) ratios.push(guarded.rps / bare.rps);
      }
      const hubCalls = (await fake.call('stats')).calls.user;
      const ratio = median(ratios);
      rows.push(['Replicas', 'first level misses, Redis answers: guarded ÷ bare', Number.isFinite(ratio) ? fmtRatio(ratio) : 'INVALID', 'reported', Number.isFinite(ratio) ? 'reported' : 'invalid', `median of ${ratios.length}; ${hubCalls} Hub calls`]);
      lines.push(...runs.map((r) => `L2: ${r}`));
    } finally {
      await l2.stop();
    }

    // 4. Redis killed in the middle of a load run (and started again): every answer 200.
    await fake.call('addTokens', { prefix: `${tag}kill`, count: 2000, user });
    let k = 0;
    const loadRun = runLoad({
      url: `${c.base}whoami`,
      connections: 16,
      duration: 8,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `token ${tag}kill${k++ % 2000}` } }),
    });
    await sleep(2500);
    await redis.kill();
    await sleep(2500);
    await redis.start();
    const killed = await loadRun;
    const non2xx = Object.entries(killed.statuses).filter(([s]) => !s.startsWith('2'));
    rows.push(['Replicas', 'Redis killed mid-run: non-2xx responses', String(non2xx.reduce((n, [, c]) => n + c, 0) + killed.errors + killed.timeouts), '0', killed.problems.length === 0 ? 'met' : 'missed', `${fmtInt(killed.total)} requests, ${JSON.stringify(killed.statuses)}`]);
  } finally {
    await fake.call('latency', { ms: 0 });
    for (const r of replicas) await r.stop();
    await redis.stop();
  }
  return { rows, lines };
}

// Alone: node bench/phases/shared-cache.mjs
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { buildHelpers } = await import('../lib/build.mjs');
  await buildHelpers();
  const helper = await forkHelper(path.join(repoRoot, 'bench', 'servers', 'fake-hub.mjs'), { label: 'fake-hub' });
  const fake = { ...helper.first, call: (op, args) => helper.call(op, args) };
  const user = { name: 'bench', groups: ['bench'], scopes: ['access:services'] };
  const log = (...args) => console.log('[shared-cache]', ...args);
  const cfg = { floodTokens: Number(process.env.BENCH_FLOOD_TOKENS || 100_000), floodConnections: 64, floodHubLatencyMs: 5, maxConcurrentLookups: 16 };
  try {
    for (const phase of [floodPhase, replicasPhase]) {
      const { rows, lines } = await phase({ cfg, fake, user, log });
      for (const l of lines) log(l);
      for (const r of rows) log(r.join(' | '));
    }
  } finally {
    await helper.stop();
  }
}
