// `pnpm bench`: speed and memory of hubauth, side by side with the bare frameworks, the Python
// reference (`jupyterhub.services.auth`) and the Hub itself. See bench/README.md.
//
// Every server under test runs in its own child process, one at a time; the load generator
// (autocannon) runs here. Figures are ratios or counts from this one run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { buildHelpers } from './lib/build.mjs';
import { burst } from './lib/burst.mjs';
import { proxyPhase } from './phases/proxy.mjs';
import { floodPhase, replicasPhase } from './phases/shared-cache.mjs';
import { runLoad } from './lib/load.mjs';
import { forkHelper, killAllChildren, startServer } from './lib/procs.mjs';
import { parseTarget, runtimeCommand } from './lib/runtimes.mjs';
import { cacheHitRows } from './phases/cache-hit.mjs';
import {
  cpuSecondsOf,
  fmtBytes,
  fmtInt,
  fmtMs,
  fmtRatio,
  freePort,
  httpGet,
  loadAverage,
  median,
  repoRoot,
  rssOf,
  sampleRss,
  sleep,
} from './lib/util.mjs';

process.chdir(repoRoot);
const benchDir = path.join(repoRoot, 'bench');
const num = (name, dflt) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt);

const cfg = {
  duration: num('BENCH_DURATION', 5),
  warmup: num('BENCH_WARMUP', 2),
  rounds: num('BENCH_ROUNDS', 3),
  connections: num('BENCH_CONNECTIONS', 32),
  burst: num('BENCH_BURST', 1000),
  floodTokens: num('BENCH_FLOOD_TOKENS', 100_000),
  floodConnections: num('BENCH_FLOOD_CONNECTIONS', 64),
  floodHubLatencyMs: num('BENCH_FLOOD_HUB_LATENCY_MS', 5),
  floodChunks: num('BENCH_FLOOD_CHUNKS', 5),
  floodQuietS: num('BENCH_FLOOD_QUIET_S', 4),
  memIdentities: num('BENCH_MEM_IDENTITIES', 50_000),
  inProcessPairs: num('BENCH_INPROCESS_PAIRS', 72),
  maxConcurrentLookups: 16,
  maxPendingLookups: 1000,
  frameworks: (process.env.BENCH_FRAMEWORKS ?? 'express,koa,fastify,hono,web-bun,web-deno').split(',').filter(Boolean),
  floodFramework: process.env.BENCH_FLOOD_FRAMEWORK ?? 'fastify',
  cpuProf: process.env.BENCH_CPU_PROF === '1',
};

const TARGETS = {
  overhead: 0.9,
  /** Server CPU that authentication adds to one cached request, µs (Node adapters). */
  addedCpuUs: 5,
  python: { fastify: 10, koa: 5, express: 2.5 },
  nocachePython: 2,
  nocacheHub: 0.8,
  coalesceCalls: 1,
  rssGrowth: 64 * 1024 * 1024,
};

// A watchdog: every phase is bounded, but a wedged child must not keep the run alive.
const maxSeconds = num('BENCH_MAX_SECONDS', 1800);
setTimeout(() => {
  console.error(`pnpm bench: still running after ${maxSeconds} s, giving up`);
  killAllChildren();
  Promise.resolve(hub?.stop())
    .catch(() => undefined)
    .finally(() => process.exit(1));
}, maxSeconds * 1000).unref();

const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
const examplesRequire = createRequire(path.join(repoRoot, 'examples', 'package.json'));
const t0 = Date.now();

// ---------------------------------------------------------------------------------------------
// Preflight
// ---------------------------------------------------------------------------------------------

for (const pkg of ['core', 'express', 'koa', 'fastify', 'hono', 'web']) {
  if (!existsSync(path.join(repoRoot, 'packages', pkg, 'dist', 'index.cjs'))) {
    console.error(`packages/${pkg} is not built: run \`pnpm build\` first (pnpm install && pnpm build && pnpm bench)`);
    process.exit(2);
  }
}
const built = await buildHelpers();
const harness = await import(built.hub);
let unavailable = harness.hubUnavailableReason('6');
if (unavailable && existsSync(path.join(repoRoot, 'scripts', 'ensure-hub.sh'))) {
  // the pinned JupyterHub in .venv-hub6 (idempotent; installs from PyPI the first time)
  log(`${unavailable}; installing it`);
  execFileSync('bash', [path.join(repoRoot, 'scripts', 'ensure-hub.sh'), '6'], { stdio: 'inherit' });
  unavailable = harness.hubUnavailableReason('6');
}
if (unavailable) {
  console.error(`The benchmark needs the real JupyterHub 6: ${unavailable}`);
  process.exit(2);
}

let hub = null;
const cleanup = () => killAllChildren();
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllChildren();
    Promise.resolve(hub?.stop())
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}

function versionOf(name) {
  try {
    const main = examplesRequire.resolve(name);
    let dir = path.dirname(main);
    while (!existsSync(path.join(dir, 'package.json')) || JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
      dir = path.dirname(dir);
    }
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model?.trim() ?? '?',
  memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  python: execFileSync(harness.venvPython('6'), ['--version'], { encoding: 'utf8' }).trim(),
  hub: '?',
  versions: {
    express: versionOf('express'),
    koa: versionOf('koa'),
    '@koa/router': versionOf('@koa/router'),
    fastify: versionOf('fastify'),
    hono: versionOf('hono'),
    autocannon: createRequire(import.meta.url)('autocannon/package.json').version,
  },
  commit: (() => {
    try {
      const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: repoRoot, encoding: 'utf8' }).trim();
      return dirty ? `${head} with uncommitted changes in packages/` : head;
    } catch {
      return 'unknown';
    }
  })(),
  bun: (() => { try { const { command } = runtimeCommand('bun', ''); return execFileSync(command, ['--version'], { encoding: 'utf8' }).trim(); } catch { return '?'; } })(),
  deno: (() => { try { const { command } = runtimeCommand('deno', ''); return execFileSync(command, ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^deno /, '').trim(); } catch { return '?'; } })(),
  loadStart: loadAverage(),
  loadEnd: '',
};

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

const baseEnv = {
  PATH: process.env.PATH ?? '',
  LANG: process.env.LANG ?? 'C.UTF-8',
  HOME: process.env.HOME ?? os.tmpdir(),
  PYTHONUNBUFFERED: '1',
};

/** The environment JupyterHub gives a managed service (see test/integration/hub-smoke.test.ts). */
function serviceEnv(name, url, apiUrl, apiToken) {
  const prefix = `/services/${name}/`;
  const scopes = JSON.stringify(['access:services', `access:services!service=${name}`]);
  return {
    JUPYTERHUB_API_TOKEN: apiToken,
    JPY_API_TOKEN: apiToken,
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_CLIENT_ID: `service-${name}`,
    JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: '0',
    JUPYTERHUB_HOST: '',
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: scopes,
    JUPYTERHUB_OAUTH_SCOPES: scopes,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
    JUPYTERHUB_PUBLIC_URL: '',
    JUPYTERHUB_PUBLIC_HUB_URL: '',
    JUPYTERHUB_SERVICE_NAME: name,
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: url,
  };
}

const nodeServerScript = path.join(benchDir, 'servers', 'node-whoami.mjs');

function nodeServer({ framework: target, mode, url, apiUrl, apiToken, authOpts = {}, label, cpuProf = false }) {
  const name = `bench-${target}`;
  const { framework, runtime } = parseTarget(target);
  const nodeArgs = [];
  if (cpuProf) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', path.join(benchDir, '.prof'), '--cpu-prof-name', `${label.replace(/[^\w.-]+/g, '_')}-${Date.now()}.cpuprofile`);
  const { command, args } = runtimeCommand(runtime, nodeServerScript, nodeArgs);
  return {
    label,
    command,
    args,
    env: {
      ...baseEnv,
      NODE_ENV: 'production',
      ...serviceEnv(name, url, apiUrl, apiToken),
      BENCH_FRAMEWORK: framework,
      BENCH_MODE: mode,
      BENCH_AUTH_OPTS: JSON.stringify(authOpts),
    },
    healthUrl: `${url}/services/${name}/health`,
  };
}

function pythonServer({ name, script, url, apiUrl, apiToken, label }) {
  return {
    label,
    command: harness.venvPython('6'),
    args: [script],
    env: { ...baseEnv, ...serviceEnv(name, url, apiUrl, apiToken) },
    healthUrl: `${url}/services/${name}/health`,
  };
}

// ---------------------------------------------------------------------------------------------
// The real Hub
// ---------------------------------------------------------------------------------------------

const frameworks = cfg.frameworks;
const serviceNames = ['whoami-py', 'whoami-py-nocache', ...[...new Set([...frameworks, cfg.floodFramework])].map((fw) => `bench-${fw}`)];
// every server start gets a port that is free at that moment
const freshUrl = async () => `http://127.0.0.1:${await freePort()}`;

log(`starting JupyterHub 6 (${harness.hubPin('6')}) …`);
hub = await harness.startHub({
  version: '6',
  users: ['bench'],
  groups: { 'bench-group': ['bench'] },
  roles: [{ name: 'bench-access', description: 'pnpm bench', scopes: ['access:services'], users: ['bench'] }],
  services: serviceNames.map((name) => ({
    name,
    // registered without a URL: the Hub would wait ~30 s at start-up for each service not yet
    // listening; the benchmark starts and reaches the services itself, one at a time
    external: { apiToken: `bench-${name}-${Math.random().toString(36).slice(2)}` },
    oauth: true,
  })),
  // lets the benchmark count the Hub's /hub/api/user answers from its prometheus metrics
  extraConfig: 'c.JupyterHub.authenticate_prometheus = False\n',
});
machine.hub = hub.version;
log(`JupyterHub ${hub.version} up in ${hub.startupMs} ms`);

const hubPids = () => hub.processes().filter((p) => p.ppid === hub.pid && /python|jupyterhub/i.test(p.comm)).map((p) => p.pid);
const hubPid = hubPids()[0];

async function hubUserCalls() {
  const res = await httpGet(`${hub.hubUrl}metrics`);
  if (res.status !== 200) throw new Error(`GET /hub/metrics answered ${res.status}`);
  let n = 0;
  for (const line of res.text.split('\n')) {
    if (line.startsWith('jupyterhub_request_duration_seconds_count{') && line.includes('SelfAPIHandler') && line.includes('method="GET"')) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}

const mainToken = await hub.createUserToken('bench', { scopes: ['access:services'], note: 'pnpm bench' });
const connTokens = [];
for (let i = 0; i < cfg.connections; i++) {
  connTokens.push(await hub.createUserToken('bench', { scopes: ['access:services'], note: `pnpm bench connection ${i}` }));
}
const realModelRes = await httpGet(`${hub.apiUrl}/user`, { authorization: `token ${mainToken}` });
if (realModelRes.status !== 200) throw new Error(`GET /hub/api/user with the bench token: ${realModelRes.status}`);
const realModel = realModelRes.json;
const authHeader = { authorization: `token ${mainToken}` };

function perConnectionTokens() {
  let i = 0;
  return (client) => client.setHeaders({ authorization: `token ${connTokens[i++ % connTokens.length]}` });
}

// ---------------------------------------------------------------------------------------------
// Interleaved throughput runs
// ---------------------------------------------------------------------------------------------

/**
 * One measured run of a target: start its server (if any), check one response, warm up, then
 * measure `cfg.duration` seconds. Status codes are checked on every phase.
 */
async function measure(target) {
  const base = target.server ? await freshUrl() : '';
  const server = target.server ? await startServer(target.server(base)) : null;
  const url = target.url ?? `${base}${target.path}`;
  try {
    const first = await httpGet(url, target.firstHeaders ?? authHeader);
    if (first.status !== 200 || (target.check && !target.check(first.json))) {
      throw new Error(`${target.label}: first request answered ${first.status}: ${first.text.slice(0, 200)}`);
    }
    const load = { url, connections: cfg.connections, headers: target.headers ?? authHeader };
    if (target.perConnection) load.setupClient = perConnectionTokens();
    const warm = await runLoad({ ...load, duration: cfg.warmup });
    // let the Hub finish what the warm-up left in flight before counting its calls
    await sleep(150);
    const pid = server?.pid;
    const cpu0 = pid ? cpuSecondsOf(pid) : NaN;
    const hubCpu0 = cpuSecondsOf(hubPid);
    const calls0 = await hubUserCalls();
    const gen0 = process.cpuUsage();
    const r = await runLoad({ ...load, duration: cfg.duration });
    const gen = process.cpuUsage(gen0);
    const cpuUsed = pid ? cpuSecondsOf(pid) - cpu0 : NaN;
    const hubCpu = (cpuSecondsOf(hubPid) - hubCpu0) / r.durationS;
    await sleep(150);
    const calls1 = await hubUserCalls();
    if (warm.problems.length) r.problems.unshift(`warm-up: ${warm.problems.join('; ')}`);
    if (server?.exited()) r.problems.push('server exited');
    // Hub calls made while the run's requests were answered (the metrics requests are not
    // /hub/api/user calls); requests still in flight when autocannon stops count as calls only
    const hubCalls = calls1 - calls0;
    return {
      ...r,
      cpu: cpuUsed / r.durationS,
      cpuPerRequestUs: (cpuUsed / Math.max(1, r.total)) * 1e6,
      genCpu: (gen.user + gen.system) / 1e6 / r.durationS,
      hubCpu,
      hubCalls,
      hubCallsPerRequest: hubCalls / Math.max(1, r.total),
    };
  } finally {
    await server?.stop();
  }
}

async function interleaved(name, targets) {
  const results = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let round = 0; round < cfg.rounds; round++) {
    // rotate the order each round so no target always runs first or last
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      let r;
      try {
        r = await measure(t);
      } catch (err) {
        r = { rps: NaN, problems: [String(err.message ?? err).split('\n')[0]], latency: {}, statuses: {} };
      }
      results[t.key].push(r);
      const cpu = Number.isFinite(r.cpu) ? `, server CPU ${Math.round(r.cpu * 100)}% (${Math.round(r.cpuPerRequestUs)} µs/request)` : '';
      log(
        `${name} round ${round + 1}/${cfg.rounds} ${t.label}: ${fmtInt(r.rps)} req/s, p99 ${fmtMs(r.latency?.p99)}${cpu}, Hub CPU ${Math.round((r.hubCpu ?? NaN) * 100)}%, load generator CPU ${Math.round((r.genCpu ?? NaN) * 100)}%, Hub calls ${r.hubCalls ?? 'n/a'}` +
          (r.problems.length ? `  INVALID: ${r.problems.join('; ')}` : ''),
      );
    }
  }
  const summary = {};
  for (const t of targets) {
    const runs = results[t.key];
    const valid = runs.filter((r) => r.problems.length === 0);
    summary[t.key] = {
      label: t.label,
      runs,
      valid: valid.length === runs.length,
      rps: valid.length === runs.length ? median(runs.map((r) => r.rps)) : NaN,
      all: runs.map((r) => r.rps),
      p99: median(valid.map((r) => r.latency.p99)),
      cpu: median(valid.map((r) => r.cpu)),
      cpuPerRequestUs: median(valid.map((r) => r.cpuPerRequestUs)),
      genCpu: median(valid.map((r) => r.genCpu)),
      hubCpu: median(valid.map((r) => r.hubCpu)),
      hubCallsPerRequest: median(valid.map((r) => r.hubCallsPerRequest)),
      problems: runs.flatMap((r) => r.problems),
    };
  }
  return summary;
}

const checkModel = (m) => m && m.name === 'bench' && m.kind === 'user';
const checkOk = (m) => m && m.ok === true;

// Phase 1: cache warm, one token: bare vs guarded vs whoami per framework, and Python's whoami.
const warmTargets = [];
for (const fw of frameworks) {
  const name = `bench-${fw}`;
  const common = { framework: fw, apiUrl: hub.apiUrl, apiToken: hub.serviceToken(name) };
  warmTargets.push({
    key: `${fw}:bare`,
    label: `${fw} bare /ok`,
    path: `/services/${name}/ok`,
    check: checkOk,
    server: (url) => nodeServer({ ...common, url, mode: 'bare', label: `${fw}-bare` }),
  });
  warmTargets.push({
    key: `${fw}:guarded`,
    label: `${fw} guarded /ok`,
    path: `/services/${name}/ok`,
    check: checkOk,
    server: (url) => nodeServer({ ...common, url, mode: 'guarded', label: `${fw}-guarded`, cpuProf: cfg.cpuProf }),
  });
  warmTargets.push({
    key: `${fw}:whoami`,
    label: `${fw} guarded whoami`,
    path: `/services/${name}/`,
    check: checkModel,
    server: (url) => nodeServer({ ...common, url, mode: 'guarded', label: `${fw}-whoami`, cpuProf: cfg.cpuProf }),
  });
}
warmTargets.push({
  key: 'python:whoami',
  label: 'Python whoami (HubAuthenticated)',
  path: '/services/whoami-py/',
  check: checkModel,
  server: (url) =>
    pythonServer({
      name: 'whoami-py',
      script: path.join(harness.harnessDir, 'python', 'whoami.py'),
      url,
      apiUrl: hub.apiUrl,
      apiToken: hub.serviceToken('whoami-py'),
      label: 'python-whoami',
    }),
});

log(`phase 1/5: cache warm — ${warmTargets.length} targets × ${cfg.rounds} rounds × (${cfg.warmup} s warm-up + ${cfg.duration} s)`);
const warm = await interleaved('warm', warmTargets);

// Phase 2: cache off, one token per connection, so every request is a Hub call.
const coldTargets = [
  {
    key: 'hub:direct',
    label: "Hub's own GET /hub/api/user",
    url: `${hub.apiUrl}/user`,
    check: checkModel,
    perConnection: true,
  },
  {
    key: 'python:nocache',
    label: 'Python whoami, use_cache=False',
    path: '/services/whoami-py-nocache/',
    check: checkModel,
    perConnection: true,
    server: (url) =>
      pythonServer({
        name: 'whoami-py-nocache',
        script: path.join(benchDir, 'python', 'whoami_nocache.py'),
        url,
        apiUrl: hub.apiUrl,
        apiToken: hub.serviceToken('whoami-py-nocache'),
        label: 'python-whoami-nocache',
      }),
  },
];
for (const fw of frameworks) {
  const name = `bench-${fw}`;
  coldTargets.push({
    key: `${fw}:nocache`,
    label: `${fw} whoami, cacheMaxAge 0`,
    path: `/services/${name}/`,
    check: checkModel,
    perConnection: true,
    server: (url) =>
      nodeServer({
        framework: fw,
        mode: 'guarded',
        url,
        apiUrl: hub.apiUrl,
        apiToken: hub.serviceToken(name),
        authOpts: { cacheMaxAge: 0 },
        label: `${fw}-nocache`,
      }),
  });
}
log(`phase 2/5: every request to the Hub — ${coldTargets.length} targets × ${cfg.rounds} rounds, ${cfg.connections} tokens (one per connection)`);
const cold = await interleaved('cache off', coldTargets);

// Phase 3: coalescing, on the real Hub (its prometheus metrics count the /hub/api/user calls).
log(`phase 3/5: coalescing — ${cfg.burst} concurrent first requests with one new token, per framework`);
const coalesce = {};
for (const fw of frameworks) {
  const name = `bench-${fw}`;
  const url = await freshUrl();
  const server = await startServer(
    nodeServer({ framework: fw, mode: 'guarded', url, apiUrl: hub.apiUrl, apiToken: hub.serviceToken(name), label: `${fw}-coalesce` }),
  );
  try {
    // warm the server's code paths with the (by then cached) main token first
    const w = await runLoad({ url: `${url}/services/${name}/`, headers: authHeader, connections: 10, duration: 1 });
    const token = await hub.createUserToken('bench', { scopes: ['access:services'], note: `pnpm bench burst ${fw}` });
    await sleep(200);
    const calls0 = await hubUserCalls();
    const r = await burst({ n: cfg.burst, warmUrl: `${url}/services/${name}/health`, url: `${url}/services/${name}/`, token });
    await sleep(200);
    const hubCalls = (await hubUserCalls()) - calls0;
    const problems = [...w.problems.map((p) => `warm-up: ${p}`)];
    const non200 = Object.entries(r.statuses).filter(([s]) => s !== '200');
    if (non200.length) problems.push(`statuses ${non200.map(([s, n]) => `${s}×${n}`).join(', ')}`);
    if (r.sockets < cfg.burst) problems.push(`only ${r.sockets} connections were open`);
    coalesce[fw] = { ...r, hubCalls, problems };
    log(`coalescing ${fw}: ${hubCalls} Hub call(s) for ${cfg.burst} requests on ${r.sockets} connections, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}` + (problems.length ? `  INVALID: ${problems.join('; ')}` : ''));
  } finally {
    await server.stop();
  }
}

await hub.stop();
hub = null;
log('JupyterHub stopped');

// ---------------------------------------------------------------------------------------------
// Fake Hub phases: flood, memory
// ---------------------------------------------------------------------------------------------

const fake = await forkHelper(path.join(benchDir, 'servers', 'fake-hub.mjs'), { label: 'fake-hub' });
const fakeApiUrl = fake.first.apiUrl;
// A user like the real Hub's model of the bench user (same groups, scopes and extra fields).
const { kind: _k, name: _n, admin, groups, scopes, session_id: _s, token_id: _t, ...extra } = realModel;
const fakeUser = { name: 'bench', admin: Boolean(admin), groups: groups ?? [], scopes: scopes ?? ['access:services'], extra };
let tokenSerial = 0;
const newToken = (tag) => `${tag}${Date.now().toString(36)}${(tokenSerial++).toString(36)}${Math.random().toString(36).slice(2, 10)}`;

// Phase 4: flood of distinct invalid tokens, with a valid user's requests alongside. The fake Hub
// answers after `floodHubLatencyMs`, like a busy Hub, so lookups pile up behind the limiter.
log(`phase 4/5: flood — ${fmtInt(cfg.floodTokens)} distinct invalid tokens on ${cfg.floodConnections} connections against ${cfg.floodFramework} (fake Hub answering in ${cfg.floodHubLatencyMs} ms)`);
let flood;
{
  const fw = cfg.floodFramework;
  const name = `bench-${fw}`;
  const url = await freshUrl();
  const whoamiUrl = `${url}/services/${name}/`;
  const server = await startServer(
    nodeServer({
      framework: fw,
      mode: 'guarded',
      url,
      apiUrl: fakeApiUrl,
      apiToken: 'unused',
      authOpts: { maxConcurrentLookups: cfg.maxConcurrentLookups, maxPendingLookups: cfg.maxPendingLookups },
      label: `${fw}-flood`,
    }),
  );
  try {
    await fake.call('latency', { ms: cfg.floodHubLatencyMs });
    const validToken = newToken('valid');
    await fake.call('addToken', { token: validToken, user: fakeUser });
    const warmRun = await runLoad({ url: whoamiUrl, headers: { authorization: `token ${validToken}` }, connections: 10, duration: 2 });
    const probe = await forkHelper(path.join(benchDir, 'servers', 'probe.mjs'), {
      label: 'probe',
      env: { ...process.env, PROBE_URL: whoamiUrl, PROBE_TOKEN: validToken, PROBE_INTERVAL_MS: '10' },
    });
    await sleep(2000);
    probe.child.send('mark');
    const baseline = await probe.next();
    await fake.call('reset');
    const rss0 = rssOf(server.pid);
    const rss = sampleRss(server.pid, 50);
    const floodBase = newToken('flood');
    let n = 0;
    const started = Date.now();
    const r = await runLoad({
      url: whoamiUrl,
      connections: cfg.floodConnections,
      amount: cfg.floodTokens,
      expectStatus: 401,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `token ${floodBase}${(n++).toString(36)}` } }),
    });
    const floodSeconds = (Date.now() - started) / 1000;
    const rssMax = rss.stop();
    const rssEnd = rssOf(server.pid);
    probe.child.send('stop');
    const during = await probe.next();
    await probe.stop();
    const stats = await fake.call('stats');
    await fake.call('latency', { ms: 0 });
    const problems = [...warmRun.problems.map((p) => `warm-up: ${p}`), ...r.problems];
    if (r.total !== cfg.floodTokens) problems.push(`${r.total} of ${cfg.floodTokens} flood requests answered`);
    const probeBad = Object.entries(during.statuses).filter(([s]) => s !== '200');
    if (probeBad.length) problems.push(`valid user got ${probeBad.map(([s, c]) => `${s}×${c}`).join(', ')}`);
    flood = {
      framework: fw,
      requests: r.total,
      statuses: r.statuses,
      rps: r.total / floodSeconds,
      floodSeconds,
      maxInFlight: stats.maxInFlight,
      hubCalls: stats.calls.user,
      rssGrowth: rssMax - rss0,
      rssEndGrowth: rssEnd - rss0,
      rss0,
      baseline,
      during,
      problems,
    };
    log(
      `flood: ${fmtInt(r.total)} requests in ${floodSeconds.toFixed(1)} s (${fmtInt(flood.rps)}/s), statuses ${JSON.stringify(r.statuses)}, Hub calls ${fmtInt(stats.calls.user)}, max in flight ${stats.maxInFlight}, RSS +${fmtBytes(flood.rssGrowth)} (peak), valid user p99 ${fmtMs(during.p99)} (before the flood ${fmtMs(baseline.p99)})` +
        (problems.length ? `  INVALID: ${problems.join('; ')}` : ''),
    );
  } finally {
    await server.stop();
  }
}

// Phase 5: memory per cached identity.
log(`phase 5/5: memory — ${fmtInt(cfg.memIdentities)} identities in one HubAuth cache (fake Hub, --expose-gc)`);
const memPrefix = newToken('mem');
const memWarm = 1000;
await fake.call('addTokens', { prefix: memPrefix, count: memWarm + cfg.memIdentities, user: fakeUser });
const memProc = await forkHelper(path.join(benchDir, 'servers', 'memory.mjs'), {
  label: 'memory',
  execArgv: ['--expose-gc'],
  env: { ...process.env, HUB_API_URL: fakeApiUrl, MEM_PREFIX: memPrefix, MEM_WARM: String(memWarm), MEM_COUNT: String(cfg.memIdentities) },
});
const memory = memProc.first;
memory.problems = [];
if (memory.failures) memory.problems.push(`${memory.failures} lookups failed`);
if (memory.cacheSize !== memWarm + cfg.memIdentities) memory.problems.push(`cache holds ${memory.cacheSize}, expected ${memWarm + cfg.memIdentities}`);
log(`memory: ${fmtInt(memory.perIdentity)} bytes per cached identity (the model alone: ${fmtInt(memory.perModel)} bytes; Hub reply ${memory.replyBytes} bytes)`);
await memProc.stop();

// In-process cost (bench/inprocess.mjs): what authentication adds to a cached request, with no
// sockets and no load generator competing for the cores; the headline of the cache-hit table.
// `@hubauth/web` has no load target on Node (its load targets are Bun and Deno), but it is an adapter
// on Node too: served by @hono/node-server, as users deploy it there.
const inProcessFrameworks = [...new Set([...frameworks.filter((fw) => parseTarget(fw).runtime === 'node'), 'web'])];
log(`in-process phase: ${inProcessFrameworks.join(', ')}, bare and guarded, paired runs`);
const inProcessHelper = await forkHelper(path.join(benchDir, 'inprocess.mjs'), {
  label: 'inprocess',
  env: { ...process.env, NODE_ENV: 'production', BENCH_INPROCESS_FRAMEWORKS: inProcessFrameworks.join(','), BENCH_INPROCESS_PAIRS: String(cfg.inProcessPairs) },
});
const inProcess = inProcessHelper.first.results;
await inProcessHelper.stop();

// Proxy phase (bench/phases/proxy.mjs): hubauth-proxy vs configurable-http-proxy vs direct, same upstream.
log(`proxy phase: hubauth-proxy, configurable-http-proxy and direct, ${cfg.rounds} interleaved rounds`);
const proxy = await proxyPhase({ cfg, fakeApiUrl, fakeCall: (op, args) => fake.call(op, args), user: fakeUser, log }).catch((err) => ({
  rows: [['Proxy', 'hubauth-proxy ÷ configurable-http-proxy', 'INVALID', '≥ 1', 'invalid', String(err.message ?? err).split('\n')[0]]],
  lines: [],
}));
// Shared-cache phases (bench/phases/shared-cache.mjs): the flood with cached, cookie and new-token
// callers beside it; three replicas sharing a real redis-server.
log('shared-cache phases: flood beside three kinds of valid callers; three replicas sharing Redis');
const shared = { rows: [], lines: [] };
for (const phase of [floodPhase, replicasPhase]) {
  const part = await phase({ cfg, fake: { ...fake.first, call: (op, args) => fake.call(op, args) }, user: fakeUser, log }).catch((err) => ({
    rows: [['Shared cache', phase.name, 'INVALID', '', 'invalid', String(err.message ?? err).split('\n')[0]]],
    lines: [],
  }));
  shared.rows.push(...part.rows);
  shared.lines.push(...part.lines);
}
await fake.stop();
machine.loadEnd = loadAverage();

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const rows = [];
const atLeast = (value, target) => (Number.isFinite(value) ? (value >= target ? 'met' : `missed by ${fmtRatio(target - value)} (${Math.round((1 - value / target) * 100)}% short)`) : 'invalid');
const rateDetail = (...parts) => parts.map(([label, s]) => `${label} ${s.valid ? fmtInt(s.rps) : 'INVALID'} req/s`).join(', ');

rows.push(...cacheHitRows({ frameworks, warm, inProcess, targets: TARGETS, parseTarget }));
const py = warm['python:whoami'];
for (const fw of frameworks) {
  const whoami = warm[`${fw}:whoami`];
  const ratio = whoami.rps / py.rps;
  const target = TARGETS.python[fw];
  const verdict = target === undefined ? (Number.isFinite(ratio) ? 'reported' : 'invalid') : atLeast(ratio, target);
  rows.push(['Against Python (cache warm)', `${fw} whoami ÷ Python whoami`, `${fmtRatio(ratio, 1)}×`, target === undefined ? '—' : `≥ ${target}×`, verdict, `${rateDetail([fw, whoami], ['Python', py])}; server CPU per request ${fmtInt(whoami.cpuPerRequestUs)} µs vs ${fmtInt(py.cpuPerRequestUs)} µs (${fmtRatio(py.cpuPerRequestUs / whoami.cpuPerRequestUs, 1)}×)`]);
}
const hubDirect = cold['hub:direct'];
const pyCold = cold['python:nocache'];
for (const fw of frameworks) {
  const ours = cold[`${fw}:nocache`];
  const vsPy = ours.rps / pyCold.rps;
  const vsHub = ours.rps / hubDirect.rps;
  rows.push(['Every request to the Hub', `${fw} (cacheMaxAge 0) ÷ Python (use_cache=False)`, `${fmtRatio(vsPy, 1)}×`, `≥ ${TARGETS.nocachePython}×`, atLeast(vsPy, TARGETS.nocachePython), rateDetail([fw, ours], ['Python', pyCold])]);
  rows.push(['Every request to the Hub', `${fw} (cacheMaxAge 0) ÷ the Hub's own /hub/api/user`, fmtRatio(vsHub), `≥ ${TARGETS.nocacheHub}`, atLeast(vsHub, TARGETS.nocacheHub), `${rateDetail([fw, ours], ['Hub', hubDirect])}; Hub calls per request ${fmtRatio(ours.hubCallsPerRequest)}`]);
}
for (const fw of frameworks) {
  const c = coalesce[fw];
  const ok = c.problems.length === 0;
  rows.push(['Coalescing', `${fw}: Hub calls for ${fmtInt(cfg.burst)} concurrent first requests, one new token`, ok ? String(c.hubCalls) : 'INVALID', `= ${TARGETS.coalesceCalls}`, ok ? (c.hubCalls === TARGETS.coalesceCalls ? 'met' : `missed (${c.hubCalls} calls)`) : 'invalid', `burst p50 ${fmtMs(c.p50)}, p99 ${fmtMs(c.p99)}, max ${fmtMs(c.max)}`]);
}
{
  const f = flood;
  const ok = f.problems.length === 0;
  const v = (x) => (ok ? x : 'INVALID');
  rows.push(['Flood', `Hub calls in flight, most at once (${f.framework}, ${fmtInt(cfg.floodTokens)} invalid tokens)`, v(String(f.maxInFlight)), `≤ ${cfg.maxConcurrentLookups} (maxConcurrentLookups)`, ok ? (f.maxInFlight <= cfg.maxConcurrentLookups ? 'met' : `missed (${f.maxInFlight})`) : 'invalid', `${fmtInt(f.rps)} flood requests/s; statuses ${Object.entries(f.statuses).map(([s, n]) => `${s}×${fmtInt(n)}`).join(', ')}`]);
  rows.push(['Flood', 'Hub calls in total', v(fmtInt(f.hubCalls)), `≤ ${fmtInt(cfg.floodTokens)} (one per distinct token) + the valid user's`, ok ? (f.hubCalls <= cfg.floodTokens + 1 ? 'met' : `missed (${fmtInt(f.hubCalls)})`) : 'invalid', `valid user's requests: ${fmtInt(f.during.count)}`]);
  rows.push(['Flood', 'RSS growth of the server (peak − before)', v(fmtBytes(f.rssGrowth)), `≤ ${fmtBytes(TARGETS.rssGrowth)}`, ok ? (f.rssGrowth <= TARGETS.rssGrowth ? 'met' : `missed by ${fmtBytes(f.rssGrowth - TARGETS.rssGrowth)}`) : 'invalid', `RSS before ${fmtBytes(f.rss0)}, growth at the end ${fmtBytes(f.rssEndGrowth)}`]);
  rows.push(['Flood', "p99 latency of a valid user's requests during the flood", v(fmtMs(f.during.p99)), '—', ok ? 'reported' : 'invalid', `before the flood p99 ${fmtMs(f.baseline.p99)} (ratio ${fmtRatio(f.during.p99 / f.baseline.p99, 1)}×); during: p50 ${fmtMs(f.during.p50)}, max ${fmtMs(f.during.max)}, ${fmtInt(f.during.count)} requests every 10 ms`]);
}
{
  const ok = memory.problems.length === 0;
  rows.push(['Memory', `heap bytes per cached identity (${fmtInt(cfg.memIdentities)} in the cache)`, ok ? fmtInt(memory.perIdentity) : 'INVALID', '—', ok ? 'reported' : 'invalid', `the frozen model alone: ${fmtInt(memory.perModel)} bytes (Hub reply ${memory.replyBytes} bytes); the rest is the cache entry and its SHA-256 key; plus ${fmtInt(memory.preallocatedPerSlot)} bytes per slot of cacheMaxEntries that lru-cache allocates up front`]);
}

rows.push(...proxy.rows);
rows.push(...shared.rows);

const esc = (s) => String(s).replace(/\|/g, '\\|');
const table = [
  '| section | figure | measured | target | verdict | from |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
].join('\n');

const runLines = [];
for (const [phase, summary] of [['cache warm, one token', warm], ['cache off, one token per connection', cold]]) {
  runLines.push(
    `\n**${phase}**: req/s of each round in run order and their median; medians of p99 latency, CPU used (share of one core) by the server, the load generator and the Hub, server CPU per request, and Hub calls per answered request\n`,
  );
  runLines.push('| target | rounds (req/s) | median | p99 | server CPU | µs CPU / request | generator CPU | Hub CPU | Hub calls / request | problems |');
  runLines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const s of Object.values(summary)) {
    const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—');
    runLines.push(
      `| ${esc(s.label)} | ${s.all.map(fmtInt).join(', ')} | ${fmtInt(s.rps)} | ${fmtMs(s.p99)} | ${pct(s.cpu)} | ${Number.isFinite(s.cpuPerRequestUs) ? fmtInt(s.cpuPerRequestUs) : '—'} | ${pct(s.genCpu)} | ${pct(s.hubCpu)} | ${fmtRatio(s.hubCallsPerRequest, 3)} | ${esc(s.problems.join('; ') || '—')} |`,
    );
  }
}

runLines.push(...proxy.lines);
runLines.push(...shared.lines);

const totalSeconds = Math.round((Date.now() - t0) / 1000);
const header = [
  '# hubauth benchmark results',
  '',
  `Generated by \`pnpm bench\` on ${new Date().toISOString()} in ${totalSeconds} s.`,
  '',
  `- Code: commit ${machine.commit} (the built packages/*/dist)`,
  `- Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB; load average (1/5/15 min) ${machine.loadStart} at the start, ${machine.loadEnd} at the end`,
  `- Node ${machine.node}, Bun ${machine.bun}, Deno ${machine.deno}; JupyterHub ${machine.hub} (${machine.python}); express ${machine.versions.express}, koa ${machine.versions.koa} + @koa/router ${machine.versions['@koa/router']}, fastify ${machine.versions.fastify}, hono ${machine.versions.hono}; autocannon ${machine.versions.autocannon}`,
  `- Load: autocannon on loopback from the benchmark process, ${cfg.connections} connections, no pipelining; each target in its own child process, one at a time, ${cfg.warmup} s warm-up then ${cfg.duration} s measured, ${cfg.rounds} interleaved rounds, median`,
  '- Every run checks status codes: a run with any unexpected status, error or timeout is INVALID and gives no figure',
  '- See bench/README.md for what each figure means',
  '',
  '## Figures',
  '',
];
const markdown = `${header.join('\n')}${table}\n\n## Runs\n${runLines.join('\n')}\n`;
writeFileSync(path.join(benchDir, 'results.md'), markdown);
console.log(`\n${markdown}`);
log(`wrote bench/results.md (${totalSeconds} s)`);
process.exit(0);
