// Proxy phase of `pnpm bench`: throughput of the same small upstream app reached three ways —
// directly, through configurable-http-proxy (JupyterHub's own proxy, no authentication) and through
// hubauth-proxy (every request authenticated with a token whose identity is cached) — interleaved
// rounds in one run, each proxy in its own child process. Figures: hubauth-proxy ÷ CHP (target
// ≥ 1.0) and hubauth-proxy ÷ direct, with server CPU per request.
//
// Run alone (starts its own fake Hub): node bench/phases/proxy.mjs
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runLoad } from '../lib/load.mjs';
import { startServer } from '../lib/procs.mjs';
import { cpuSecondsOf, fmtInt, fmtMs, fmtRatio, freePort, httpGet, median, repoRoot, sleep } from '../lib/util.mjs';

export const PROXY_TARGET = 1.0;
const SERVICE = 'bench-proxy';
const PREFIX = `/services/${SERVICE}/`;

/**
 * @param {object} ctx
 * @param {{ duration: number, warmup: number, rounds: number, connections: number }} ctx.cfg
 * @param {string} ctx.fakeApiUrl the fake Hub's API URL
 * @param {(op: string, args: object) => Promise<unknown>} ctx.fakeCall adds tokens to the fake Hub
 * @param {object} ctx.user the user the token belongs to
 * @param {(...args: unknown[]) => void} ctx.log
 * @returns {Promise<{ rows: string[][], lines: string[] }>} table rows (section, figure, measured, target, verdict, from) and run lines
 */
export async function proxyPhase({ cfg, fakeApiUrl, fakeCall, user, log }) {
  const chp = path.join(repoRoot, 'test', 'node_modules', 'configurable-http-proxy', 'bin', 'configurable-http-proxy');
  const bin = path.join(repoRoot, 'packages', 'proxy', 'dist', 'bin.js');
  for (const file of [chp, bin]) if (!existsSync(file)) throw new Error(`${file} is missing (pnpm install && pnpm build)`);
  const token = `proxybench${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  await fakeCall('addToken', { token, user });
  const auth = { authorization: `token ${token}` };
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' };

  const upstreamPort = await freePort();
  const upstream = await startServer({
    label: 'proxy-upstream',
    command: process.execPath,
    args: [path.join(repoRoot, 'bench', 'servers', 'plain-upstream.mjs')],
    env: { ...env, PORT: String(upstreamPort) },
    healthUrl: `http://127.0.0.1:${upstreamPort}/`,
  });
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

  const targets = [
    { key: 'direct', label: 'direct to the app', start: async () => ({ url: `${upstreamUrl}${PREFIX}`, server: null }) },
    {
      key: 'chp',
      label: 'configurable-http-proxy (no auth)',
      start: async () => {
        const [port, apiPort] = [await freePort(), await freePort()];
        const server = await startServer({
          label: 'proxy-chp',
          command: process.execPath,
          args: [chp, '--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1', '--api-port', String(apiPort), '--default-target', upstreamUrl, '--log-level', 'warn'],
          env: { ...env, CONFIGPROXY_AUTH_TOKEN: `chp-${token}` },
          healthUrl: `http://127.0.0.1:${port}${PREFIX}`,
        });
        return { url: `http://127.0.0.1:${port}${PREFIX}`, server };
      },
    },
    {
      key: 'hubauth',
      label: 'hubauth-proxy (token, identity cached)',
      start: async () => {
        const port = await freePort();
        const server = await startServer({
          label: 'proxy-hubauth',
          command: process.execPath,
          args: [bin, '--upstream', upstreamUrl, '--keep-prefix'],
          env: {
            ...env,
            JUPYTERHUB_API_URL: fakeApiUrl,
            JUPYTERHUB_API_TOKEN: 'unused-in-this-phase',
            JUPYTERHUB_CLIENT_ID: `service-${SERVICE}`,
            JUPYTERHUB_SERVICE_NAME: SERVICE,
            JUPYTERHUB_SERVICE_PREFIX: PREFIX,
            JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}`,
            JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify(['access:services', `access:services!service=${SERVICE}`]),
            // only so that start-up can be checked without headers; the load sends Authorization
            JUPYTERHUB_ALLOW_TOKEN_IN_URL: '1',
            HUBAUTH_COOKIE_SECRET: 'b'.repeat(64),
          },
          healthUrl: `http://127.0.0.1:${port}${PREFIX}?token=${token}`,
        });
        return { url: `http://127.0.0.1:${port}${PREFIX}`, server };
      },
    },
  ];

  const results = Object.fromEntries(targets.map((t) => [t.key, []]));
  try {
    for (let round = 0; round < cfg.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        let r;
        const { url, server } = await t.start();
        try {
          const first = await httpGet(url, auth);
          if (first.status !== 200) throw new Error(`${t.label}: first request answered ${first.status}`);
          const load = { url, connections: cfg.connections, headers: auth };
          const warm = await runLoad({ ...load, duration: cfg.warmup });
          await sleep(100);
          const cpu0 = server ? cpuSecondsOf(server.pid) : NaN;
          r = await runLoad({ ...load, duration: cfg.duration });
          const cpu = server ? cpuSecondsOf(server.pid) - cpu0 : NaN;
          r.cpuPerRequestUs = (cpu / Math.max(1, r.total)) * 1e6;
          if (warm.problems.length) r.problems.unshift(`warm-up: ${warm.problems.join('; ')}`);
          if (server?.exited()) r.problems.push('server exited');
        } catch (err) {
          r = { rps: NaN, problems: [String(err.message ?? err).split('\n')[0]], latency: {}, cpuPerRequestUs: NaN };
        } finally {
          await server?.stop();
        }
        results[t.key].push(r);
        log(
          `proxy round ${round + 1}/${cfg.rounds} ${t.label}: ${fmtInt(r.rps)} req/s, p99 ${fmtMs(r.latency?.p99)}` +
            (Number.isFinite(r.cpuPerRequestUs) ? `, ${fmtInt(r.cpuPerRequestUs)} µs server CPU/request` : '') +
            (r.problems.length ? `  INVALID: ${r.problems.join('; ')}` : ''),
        );
      }
    }
  } finally {
    await upstream.stop();
  }

  const summary = {};
  for (const t of targets) {
    const runs = results[t.key];
    const valid = runs.every((r) => r.problems.length === 0);
    summary[t.key] = {
      label: t.label,
      valid,
      rps: valid ? median(runs.map((r) => r.rps)) : NaN,
      all: runs.map((r) => r.rps),
      p99: valid ? median(runs.map((r) => r.latency.p99)) : NaN,
      cpuUs: valid ? median(runs.map((r) => r.cpuPerRequestUs)) : NaN,
      problems: [...new Set(runs.flatMap((r) => r.problems))],
    };
  }
  const { direct, chp: viaChp, hubauth } = summary;
  const vsChp = hubauth.rps / viaChp.rps;
  const vsDirect = hubauth.rps / direct.rps;
  const rate = (s) => (s.valid ? `${fmtInt(s.rps)} req/s` : 'INVALID');
  const cpu = (s) => (Number.isFinite(s.cpuUs) ? `${fmtInt(s.cpuUs)} µs` : '—');
  const verdict = Number.isFinite(vsChp) ? (vsChp >= PROXY_TARGET ? 'met' : `missed by ${fmtRatio(PROXY_TARGET - vsChp)}`) : 'invalid';
  const rows = [
    ['Proxy', 'hubauth-proxy (token, cache warm) ÷ configurable-http-proxy (no auth), same upstream', fmtRatio(vsChp), `≥ ${PROXY_TARGET}`, verdict, `hubauth-proxy ${rate(hubauth)}, CHP ${rate(viaChp)}; proxy CPU per request ${cpu(hubauth)} vs ${cpu(viaChp)}; p99 ${fmtMs(hubauth.p99)} vs ${fmtMs(viaChp.p99)}`],
    ['Proxy', 'hubauth-proxy ÷ direct to the app', fmtRatio(vsDirect), '—', Number.isFinite(vsDirect) ? 'reported' : 'invalid', `direct ${rate(direct)}, p99 ${fmtMs(direct.p99)}; CHP ÷ direct ${fmtRatio(viaChp.rps / direct.rps)}`],
  ];
  const lines = [
    '\n**proxy phase**: req/s of each round in run order and their median, p99, proxy CPU per request\n',
    '| target | rounds (req/s) | median | p99 | µs CPU / request | problems |',
    '|---|---|---|---|---|---|',
    ...Object.values(summary).map((s) => `| ${s.label} | ${s.all.map(fmtInt).join(', ')} | ${fmtInt(s.rps)} | ${fmtMs(s.p99)} | ${cpu(s)} | ${s.problems.join('; ').replace(/\|/g, '\\|') || '—'} |`),
  ];
  return { rows, lines };
}

// Alone: its own fake Hub, in this process.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { buildHelpers } = await import('../lib/build.mjs');
  const { killAllChildren } = await import('../lib/procs.mjs');
  const built = await buildHelpers();
  const { startFakeHub } = await import(pathToFileURL(built.fakeHub).href);
  const hub = await startFakeHub();
  const num = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt);
  const cfg = { duration: num('BENCH_DURATION', 5), warmup: num('BENCH_WARMUP', 2), rounds: num('BENCH_ROUNDS', 3), connections: num('BENCH_CONNECTIONS', 32) };
  const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
  try {
    const { rows, lines } = await proxyPhase({
      cfg,
      fakeApiUrl: hub.apiUrl,
      fakeCall: async (_op, { token, user }) => hub.addToken(token, user),
      user: { name: 'bench', groups: ['bench-group'], scopes: ['access:services'] },
      log,
    });
    console.log(['', '| section | figure | measured | target | verdict | from |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`), ...lines].join('\n'));
  } finally {
    killAllChildren();
    await hub.close();
  }
}
