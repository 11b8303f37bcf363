// What authentication adds to one cached request, measured without sockets or a load generator
// competing for the cores. Each framework's bare and guarded apps (servers/apps.mjs) run in processes
// of their own (six per app, taking turns: one process's JIT luck moves its figure by several µs) and
// are called directly through light-my-request (Fastify: its own `inject`; the fetch handlers through
// @hono/node-server's listener, as they run on Node), with the same `Authorization` header; a
// process's CPU time (`process.cpuUsage`) divided by the requests is the CPU per request. After a
// warm-up, many short runs alternate bare and guarded: a burst of other work on the machine falls on
// both runs of a pair, and the median of the pairs' differences ignores the pairs it hit hardest. The
// fake Hub, in this process, answers the one lookup per app process that fills its cache.
//
//   node bench/inprocess.mjs [express,koa,fastify,hono,web] [pairs] [requests per run] [bare,noop,guarded]
//
// bench/run.mjs forks it for the headline of its cache-hit table (the results come back over IPC).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inject } from 'light-my-request';
import { buildHelpers } from './lib/build.mjs';
import { benchServerEnv, buildDir, median, percentile } from './lib/util.mjs';
import { buildApp } from './servers/apps.mjs';

const require = createRequire(new URL('../examples/package.json', import.meta.url));
const PREFIX = '/services/bench/';
const ORIGIN = 'http://127.0.0.1:10101';

/** `send()` → one request through the app, resolving once the whole body was produced. */
async function caller(framework, app, headers) {
  const url = `${PREFIX}ok`;
  const expectOk = (status, body) => {
    if (status !== 200 || body !== '{"ok":true}') throw new Error(`${framework}: expected 200 {"ok":true}, got ${status} ${body}`);
  };
  if (framework === 'fastify') {
    await app.ready();
    return async () => {
      const res = await app.inject({ method: 'GET', url, headers });
      expectOk(res.statusCode, res.body);
    };
  }
  if (framework === 'express' || framework === 'koa') {
    const listener = framework === 'koa' ? app.callback() : app;
    return async () => {
      const res = await inject(listener, { method: 'GET', url, headers });
      expectOk(res.statusCode, res.body);
    };
  }
  // Fetch handlers on Node are served by @hono/node-server, as they are deployed: its listener.
  const listener = require('@hono/node-server').getRequestListener(framework === 'hono' ? app.fetch : app);
  return async () => {
    const res = await inject(listener, { method: 'GET', url, headers });
    expectOk(res.statusCode, res.body);
  };
}

// Requests answered in memory settle through microtasks alone: without a turn of the event loop now
// and then, the work they leave for later (`setImmediate`) piles up, and with it every response it holds.
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

async function cpuPerRequestUs(send, requests) {
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    await send();
    if (i % 32 === 31) await yieldToEventLoop();
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / requests;
}

/**
 * One app in a process of its own, as it runs in production: frameworks share code between apps
 * (Express's router, light-my-request, hubauth's core), and in one process the bare app's paths would
 * be compiled for the guarded app's shapes too — and the other way round. The orchestrator sends
 * `{ requests }`; the answer is `{ us }`, CPU per request.
 */
async function serveOneApp(framework, mode, token) {
  const send = await caller(framework, await buildApp(framework, mode, PREFIX, { oauth: false }), { authorization: `token ${token}` });
  await cpuPerRequestUs(send, 5_000); // warm-up (and the one Hub lookup)
  process.on('message', async ({ requests }) => {
    process.send({ us: await cpuPerRequestUs(send, requests) });
  });
  process.send({ ready: true });
}

/** Forks {@link serveOneApp} for `framework` and `mode`; resolves once it is warm. */
function forkApp(framework, mode, env, token) {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, ...env, NODE_ENV: 'production', BENCH_INPROCESS_APP: `${framework}:${mode}:${token}` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting = null;
  child.on('message', (message) => waiting?.resolve(message));
  child.on('exit', (code) => waiting?.reject(new Error(`${framework} ${mode}: the app process exited (${code})`)));
  const next = () => new Promise((resolve, reject) => (waiting = { resolve, reject }));
  return {
    ready: next(),
    run: (requests) => {
      const answer = next();
      child.send({ requests });
      return answer.then(({ us }) => us);
    },
    close: () => child.kill(),
  };
}

/**
 * Per framework: `{ bare, guarded, added, rounds: [{ bare, guarded }] }` in µs of CPU per request
 * (medians over the paired runs; `added` is the median of the pairs' differences). Each app runs in a
 * process of its own, one at a time. Throws when a guarded app asked the Hub more than once: the
 * figure is for cached requests only.
 */
export async function measureInProcess({ frameworks, rounds = 72, requests = 2500, modes = ['bare', 'guarded'], processes = 6, log = () => {} }) {
  await buildHelpers();
  const { startFakeHub } = await import(pathToFileURL(path.join(buildDir, 'fake-hub.mjs')).href);
  const hub = await startFakeHub();
  const token = `inprocess${Date.now().toString(36)}`;
  hub.addToken(token, { name: 'bench', groups: ['bench-group'], scopes: ['access:services'] });
  const env = benchServerEnv({ apiUrl: hub.apiUrl, url: ORIGIN, prefix: PREFIX, framework: '', mode: '' });
  const results = {};
  const apps = [];
  try {
    for (const framework of frameworks) {
      // Several processes per mode, taking turns: how the JIT compiled one process's hot paths moves
      // its figure by several µs either way, and the pairs then span that spread instead of one draw.
      const run = Object.fromEntries(modes.map((mode) => [mode, []]));
      for (let i = 0; i < processes; i++) {
        for (const mode of modes) {
          const app = forkApp(framework, mode, env, token);
          apps.push(app);
          await app.ready;
          run[mode].push(app.run);
        }
      }
      const lookups = hub.calls.user;
      const perRound = [];
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 ? [...modes].reverse() : modes;
        const r = {};
        // Every process of the first mode (bare) meets every process of each other mode in turn: a
        // pair's difference is then not tied to one draw of each.
        for (const mode of order) r[mode] = await run[mode][(mode === modes[0] ? round : Math.floor(round / processes)) % processes](requests);
        perRound.push(r);
      }
      if (hub.calls.user !== lookups) throw new Error(`${framework}: ${hub.calls.user - lookups} Hub lookups during the measured runs; the cache was not hit`);
      for (const app of apps.splice(0)) app.close();
      const medians = Object.fromEntries(modes.map((m) => [m, median(perRound.map((r) => r[m]))]));
      log(`${framework}: ${modes.map((m) => `${m} ${medians[m].toFixed(2)} µs`).join(', ')} (medians of ${rounds} pairs of ${requests} requests)`);
      const differences = perRound.map((r) => r.guarded - r.bare);
      results[framework] = {
        ...medians,
        added: median(differences),
        // The middle half of the pairs' differences: how far one pair's figure can be trusted.
        addedSpread: [percentile(differences, 25), percentile(differences, 75)],
        rounds: perRound,
      };
    }
  } finally {
    for (const app of apps) app.close();
    await hub.close();
  }
  return { results };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.NODE_ENV = 'production';
  if (process.send && process.env.BENCH_INPROCESS_APP) {
    const [framework, mode, token] = process.env.BENCH_INPROCESS_APP.split(':');
    await serveOneApp(framework, mode, token);
  } else if (process.send) {
    // Forked by bench/run.mjs: a fresh process, so that the orchestrator's own heap and caches do
    // not weigh on the measurement. The results are its one message.
    const { results } = await measureInProcess({
      frameworks: (process.env.BENCH_INPROCESS_FRAMEWORKS ?? 'express,koa,fastify,hono').split(','),
      rounds: Number(process.env.BENCH_INPROCESS_PAIRS ?? 72),
    });
    process.send({ results }, () => process.exit(0));
  } else {
    const frameworks = (process.argv[2] ?? 'express,koa,fastify,hono,web').split(',');
    const rounds = Number(process.argv[3] ?? 72);
    const requests = Number(process.argv[4] ?? 2500);
    const modes = (process.argv[5] ?? 'bare,guarded').split(',');
    const { results } = await measureInProcess({ frameworks, rounds, requests, modes, log: console.log });
    console.log('\nserver CPU per cached request, in process (median µs):');
    for (const [fw, r] of Object.entries(results)) {
      const noop = r.noop === undefined ? '' : `noop ${r.noop.toFixed(2)}  `;
      console.log(`${fw.padEnd(8)} bare ${r.bare.toFixed(2)}  ${noop}guarded ${r.guarded.toFixed(2)}  → hubauth adds ${r.added.toFixed(2)} µs (pairs' middle half ${r.addedSpread.map((x) => x.toFixed(1)).join(' to ')}; bare ÷ guarded CPU ${(r.bare / r.guarded).toFixed(3)})`);
    }
    process.exit(0);
  }
}
