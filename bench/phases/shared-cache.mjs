// Shared-cache and flood phases of `pnpm bench`, with the fake Hub (in its own process) and a real
// redis-server (Debian's, on a free loopback port, no persistence). The servers are
// test/redis/replica.mjs processes (BUILT packages, plain node:http, HubOAuth when a client id is set).
//
//   flood     100,000 distinct invalid tokens at full speed from one client (in 5 chunks, with quiet
//             windows before, between and after them) while a cached user, a login-cookie user and
//             brand-new valid tokens (each from a client of its own) keep calling: their statuses,
//             and their p99 in the flood windows against the p99 in the quiet windows; Hub calls in
//             flight against the limit; the server's RSS growth; the CPU of each process.
//   replicas  three replicas sharing Redis: Hub calls for one token used on all three at once;
//             revocation propagation (revoke at A → first 401 at B) p50/p99; throughput when the
//             first level misses and Redis answers, ÷ the same server's unauthenticated route;
//             Redis killed (and restarted) in the middle of a load run: statuses.
//
// Run alone (builds the helpers, starts its own fake Hub): node bench/phases/shared-cache.mjs
// Options (environment, as for `pnpm bench`): BENCH_FLOOD_TOKENS (100000), BENCH_FLOOD_CONNECTIONS
// (64), BENCH_FLOOD_HUB_LATENCY_MS (5), BENCH_FLOOD_CHUNKS (5), BENCH_FLOOD_QUIET_S (4),
// BENCH_SHARED_PHASES (`flood,replicas`: which phases to run).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { runLoad } from '../lib/load.mjs';
import { forkHelper, startServer } from '../lib/procs.mjs';
import { cpuSecondsOf, fmtBytes, fmtInt, fmtMs, fmtRatio, freePort, loadAverage, median, percentile, repoRoot, rssOf, sampleRss, sleep } from '../lib/util.mjs';

const replicaScript = path.join(repoRoot, 'test', 'redis', 'replica.mjs');
const probeScript = path.join(repoRoot, 'bench', 'servers', 'flood-probe.mjs');
const floodClientScript = path.join(repoRoot, 'bench', 'servers', 'flood-client.mjs');
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

/** p50/p99/max and statuses of the windows of one kind, pooled. */
function pooled(windows, kind) {
  const latencies = [];
  const statuses = {};
  for (const [name, w] of Object.entries(windows)) {
    if (!name.startsWith(`${kind} `)) continue;
    latencies.push(...w.latencies);
    for (const [s, c] of Object.entries(w.statuses)) statuses[s] = (statuses[s] ?? 0) + c;
  }
  return { count: latencies.length, statuses, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? Math.max(...latencies) : NaN };
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
      `${during.count} requests during, ${before.count} without`,
    ],
  };
};

/**
 * Sets a process's CPU priority (nice value) when allowed; returns whether it was set and a function
 * that restores the previous one (when allowed: raising a priority needs privileges).
 */
function renice(pid, nice) {
  let before;
  try {
    before = os.getPriority(pid);
    os.setPriority(pid, nice);
  } catch {
    return { applied: false, restore: () => undefined };
  }
  return {
    applied: true,
    restore: () => {
      try {
        os.setPriority(pid, before);
      } catch {
        // not allowed: the process keeps the new value until it exits
      }
    },
  };
}

/** CPU seconds used by each of `pids` between start() and stop(): shares of one core. */
function cpuMeter(pids) {
  let t0 = 0;
  let c0 = {};
  const shares = Object.fromEntries(Object.keys(pids).map((k) => [k, { cpu: 0, seconds: 0 }]));
  return {
    start() {
      t0 = performance.now();
      c0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
    },
    stop() {
      const dt = (performance.now() - t0) / 1000;
      for (const [k, pid] of Object.entries(pids)) {
        shares[k].cpu += cpuSecondsOf(pid) - c0[k];
        shares[k].seconds += dt;
      }
    },
    /** Share of one core per process, e.g. {server: 0.4}. */
    shares: () => Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, v.seconds ? v.cpu / v.seconds : NaN])),
  };
}

const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—');

/**
 * The flood beside three kinds of valid callers. The flood's 100,000 tokens go in `floodChunks`
 * chunks, each at full speed, and quiet windows of `floodQuietS` seconds come before, between and
 * after them: the valid callers' latencies of all flood windows are compared with those of all quiet
 * windows, so that whatever else the machine does at the time weighs on both alike. The flood
 * generator and the fake Hub stand for other machines: they run at a lower CPU priority (nice 10)
 * than the server and the callers, so that on a small machine they do not take the server's core;
 * where allowed (root), the server and the callers run at nice -5, above unrelated work on the
 * machine, in the quiet and the flood windows alike. The CPU each process used is reported.
 *
 * @param {object} ctx
 * @param {{ floodTokens: number, floodConnections: number, floodHubLatencyMs: number, maxConcurrentLookups: number, floodChunks?: number, floodQuietS?: number }} ctx.cfg
 * @param {{ apiUrl: string, url: string, pid?: number, serviceToken: string, clientId: string, redirectUri: string, call: (op: string, args?: object) => Promise<any> }} ctx.fake
 * @param {object} ctx.user the fake Hub user of valid tokens
 * @param {(...args: unknown[]) => void} ctx.log
 * @returns {Promise<{ rows: string[][], lines: string[] }>}
 */
export async function floodPhase({ cfg, fake, user }) {
  const rows = [];
  const lines = [];
  const chunks = Math.max(1, cfg.floodChunks ?? 5);
  const quietMs = (cfg.floodQuietS ?? 4) * 1000;
  const tag = `f${Date.now().toString(36)}`;
  const cachedToken = `${tag}cached${Math.random().toString(36).slice(2)}`;
  await fake.call('addToken', { token: cachedToken, user });
  const freshPrefix = `${tag}fresh`;
  const freshCount = 12_000;
  await fake.call('addTokens', { prefix: freshPrefix, count: freshCount, user });
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
  const generator = await forkHelper(floodClientScript, { label: 'flood-client' });
  // The generator and the Hub stand for other machines: below the server. The server and the valid
  // callers above the machine's other work when allowed (root): the same in quiet and flood windows.
  const niced = [renice(generator.child.pid, 10), ...(fake.pid ? [renice(fake.pid, 10)] : []), renice(replica.pid, -5)];
  let probe = null;
  try {
    const cookie = await browserLogin(replica, fake, user);
    await timedGet(`${replica.base}whoami`, { authorization: `token ${cachedToken}` });
    await fake.call('latency', { ms: cfg.floodHubLatencyMs });
    probe = await forkHelper(probeScript, {
      label: 'flood-probe',
      env: {
        ...process.env,
        PROBE_URL: `${replica.base}whoami`,
        PROBE_TOKEN: cachedToken,
        PROBE_COOKIE: cookie,
        PROBE_FRESH_PREFIX: freshPrefix,
        PROBE_FRESH_COUNT: String(freshCount),
        PROBE_INTERVAL_MS: '10',
      },
    });
    niced.push(renice(probe.child.pid, -5));
    const raised = niced.slice(-2).every((n) => n.applied);
    const pids = { server: replica.pid, generator: generator.child.pid, hub: fake.pid ?? NaN, callers: probe.child.pid };
    const quietCpu = cpuMeter(pids);
    const floodCpu = cpuMeter(pids);
    await sleep(2000); // warm-up, not counted
    await fake.call('reset');
    const rss0 = rssOf(replica.pid);
    const rss = sampleRss(replica.pid, 50);
    const quiet = async (i) => {
      probe.child.send({ window: `quiet ${i}` });
      quietCpu.start();
      await sleep(quietMs);
      quietCpu.stop();
    };
    const statuses = {};
    const problems = [];
    let total = 0;
    let floodSeconds = 0;
    for (let i = 0; i < chunks; i++) {
      await quiet(i);
      const amount = Math.floor(cfg.floodTokens / chunks) + (i < cfg.floodTokens % chunks ? 1 : 0);
      probe.child.send({ window: `flood ${i}` });
      floodCpu.start();
      const started = performance.now();
      const r = await generator.call('flood', { url: `${replica.base}whoami`, connections: cfg.floodConnections, amount, prefix: `${tag}junk${i}x` });
      floodSeconds += (performance.now() - started) / 1000;
      floodCpu.stop();
      total += r.total;
      for (const [s, c] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + c;
      problems.push(...r.problems);
    }
    await quiet(chunks);
    const rssPeak = rss.stop();
    const figures = probe.next();
    probe.child.send('stop');
    const windows = await figures;
    await probe.stop();
    probe = null;
    const stats = await fake.call('stats');
    await fake.call('latency', { ms: 0 });
    const flooded = Object.entries(statuses).map(([s, c]) => `${s}×${fmtInt(c)}`).join(', ');
    const q = quietCpu.shares();
    const f = floodCpu.shares();
    lines.push(
      `flood: ${fmtInt(total)} junk requests in ${chunks} chunks at full speed, ${floodSeconds.toFixed(1)} s in all (${fmtInt(total / floodSeconds)}/s; ${flooded}), quiet windows ${chunks + 1} × ${quietMs / 1000} s; Hub calls ${fmtInt(stats.calls.user)}, max in flight ${stats.maxInFlight}, RSS +${fmtBytes(rssPeak - rss0)}`,
      `flood CPU (share of one core), quiet → flood: server${raised ? ' (nice -5)' : ''} ${pct(q.server)} → ${pct(f.server)}, flood generator (nice 10) ${pct(q.generator)} → ${pct(f.generator)}, fake Hub (nice 10) ${pct(q.hub)} → ${pct(f.hub)}, valid callers${raised ? ' (nice -5)' : ''} ${pct(q.callers)} → ${pct(f.callers)}; machine load average ${loadAverage()}`,
    );
    for (const name of ['cached', 'cookie', 'fresh']) {
      const label = { cached: 'cached user', cookie: 'cookie user', fresh: 'brand-new valid token' }[name];
      const before = pooled(windows[name], 'quiet');
      const during = pooled(windows[name], 'flood');
      const bad = Object.entries(during.statuses).filter(([s]) => s !== '200');
      const n503 = during.statuses['503'] ?? 0;
      rows.push(['Flood', `${label}: 503s (non-200s)`, `${n503} (${bad.map(([s, c]) => `${s}×${c}`).join(', ') || 'none'})`, '0', n503 === 0 && bad.length === 0 ? 'met' : 'missed', `${during.count} requests`]);
      rows.push(p99Row(label, before, during).row);
      lines.push(`flood ${label}: without p50 ${fmtMs(before.p50)} p99 ${fmtMs(before.p99)} (${before.count} requests); during p50 ${fmtMs(during.p50)} p99 ${fmtMs(during.p99)} max ${fmtMs(during.max)}; statuses ${JSON.stringify(during.statuses)}`);
    }
    rows.push(['Flood', 'Hub calls in flight (max)', String(stats.maxInFlight), `≤ ${cfg.maxConcurrentLookups}`, stats.maxInFlight <= cfg.maxConcurrentLookups ? 'met' : 'missed', `${fmtInt(stats.calls.user)} Hub calls`]);
    rows.push(['Flood', 'RSS growth (peak)', fmtBytes(rssPeak - rss0), '≤ 64 MB', rssPeak - rss0 <= FLOOD_RSS_LIMIT ? 'met' : 'missed', `${fmtInt(total)} junk requests, ${flooded}`]);
    rows.push(['Flood', 'server CPU during ÷ without the flood (share of one core)', `${pct(f.server)} vs ${pct(q.server)}`, 'reported', 'reported', `flood generator ${pct(f.generator)}, fake Hub ${pct(f.hub)} (both nice 10)${raised ? '; server and callers nice -5' : ''}; load average ${loadAverage()}`]);
    if (problems.length) lines.push(`flood load problems: ${[...new Set(problems)].join('; ')}`);
  } finally {
    if (probe) await probe.stop();
    for (const n of niced) n.restore();
    await generator.stop();
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

    // 1. One token on all three at once: A first, B and C within the next 10 ms (the Hub answers in
    // 5 ms), so that some of them come while A's lookup is finishing.
    await fake.call('latency', { ms: 5 });
    const rounds = 100;
    await fake.call('addTokens', { prefix: `${tag}one`, count: rounds, user });
    await fake.call('reset');
    let bad = 0;
    for (let i = 0; i < rounds; i++) {
      const h = { authorization: `token ${tag}one${i}` };
      const res = await Promise.all(replicas.map((r, k) => sleep(k === 0 ? 0 : Math.floor(Math.random() * 10)).then(() => timedGet(`${r.base}whoami`, h))));
      bad += res.filter((x) => x.status !== 200).length;
    }
    const calls = (await fake.call('stats')).calls.user;
    await fake.call('latency', { ms: 0 });
    rows.push(['Replicas', 'Hub calls for one token used on 3 replicas at once', fmtRatio(calls / rounds), '1', calls === rounds && bad === 0 ? 'met' : 'missed', `${rounds} tokens (B and C 0–10 ms after A), ${calls} Hub calls, ${bad} non-200`]);

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
  const env = (name, fallback) => Number(process.env[name] || fallback);
  const cfg = {
    floodTokens: env('BENCH_FLOOD_TOKENS', 100_000),
    floodConnections: env('BENCH_FLOOD_CONNECTIONS', 64),
    floodHubLatencyMs: env('BENCH_FLOOD_HUB_LATENCY_MS', 5),
    floodChunks: env('BENCH_FLOOD_CHUNKS', 5),
    floodQuietS: env('BENCH_FLOOD_QUIET_S', 4),
    maxConcurrentLookups: 16,
  };
  const wanted = (process.env.BENCH_SHARED_PHASES || 'flood,replicas').split(',');
  log(`load average at the start ${loadAverage()}`);
  try {
    for (const phase of [floodPhase, replicasPhase].filter((p) => wanted.includes(p.name.replace(/Phase$/, '')))) {
      const { rows, lines } = await phase({ cfg, fake, user, log });
      for (const l of lines) log(l);
      for (const r of rows) log(r.join(' | '));
    }
    log(`load average at the end ${loadAverage()}`);
  } finally {
    await helper.stop();
  }
}
