// Server CPU per request, the figure least disturbed by other work on the machine: for each
// framework, bare vs `noop` (the guarded app's shape, middleware that does nothing) vs guarded,
// with a warm cache against the fake Hub. guarded − noop is what hubauth itself costs per request;
// noop − bare is what the framework charges for the extra middleware.
//
//   node bench/cost.mjs [express,koa,fastify] [rounds] [requests per run]
import path from 'node:path';
import { buildHelpers } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { forkHelper, killAllChildren, startServer } from './lib/procs.mjs';
import { benchServerEnv, cpuSecondsOf, fmtInt, freePort, median, repoRoot } from './lib/util.mjs';

const frameworks = (process.argv[2] ?? 'express,koa,fastify').split(',');
const rounds = Number(process.argv[3] ?? 3);
const amount = Number(process.argv[4] ?? 60_000);
process.on('exit', killAllChildren);

await buildHelpers();
const fake = await forkHelper(path.join(repoRoot, 'bench', 'servers', 'fake-hub.mjs'), { label: 'fake-hub-cost' });
const token = `cost${Date.now().toString(36)}`;
await fake.call('addToken', { token, user: { name: 'bench', groups: ['bench-group'], scopes: ['access:services'] } });
const prefix = '/services/bench/';
const variants = [
  ['bare', 'ok'],
  ['noop', 'ok'],
  ['guarded', 'ok'],
  ['noop', ''],
  ['guarded', ''],
];
const results = {};
for (let round = 0; round < rounds; round++) {
  for (const fw of frameworks) {
    for (const [mode, route] of variants) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const server = await startServer({
        label: `cost-${fw}-${mode}`,
        command: process.execPath,
        args: [path.join(repoRoot, 'bench', 'servers', 'node-whoami.mjs')],
        env: benchServerEnv({ apiUrl: fake.first.apiUrl, url, prefix, framework: fw, mode }),
        healthUrl: `${url}${prefix}health`,
      });
      try {
        const load = { url: `${url}${prefix}${route}`, headers: { authorization: `token ${token}` }, connections: 32 };
        await runLoad({ ...load, amount: Math.round(amount / 3) });
        const cpu0 = cpuSecondsOf(server.pid);
        const r = await runLoad({ ...load, amount });
        const us = ((cpuSecondsOf(server.pid) - cpu0) / r.total) * 1e6;
        const key = `${fw} ${mode} ${route === 'ok' ? '/ok' : 'whoami'}`;
        (results[key] ??= []).push(r.problems.length ? NaN : us);
        console.log(`round ${round + 1} ${key}: ${us.toFixed(1)} µs CPU/request, ${fmtInt(r.rps)} req/s${r.problems.length ? `  INVALID: ${r.problems.join('; ')}` : ''}`);
      } finally {
        await server.stop();
      }
    }
  }
}
await fake.stop();
console.log('\nmedian server CPU per request (µs):');
for (const fw of frameworks) {
  const m = (k) => median(results[`${fw} ${k}`]);
  const bare = m('bare /ok');
  const noop = m('noop /ok');
  const guarded = m('guarded /ok');
  console.log(
    `${fw.padEnd(8)} bare ${bare.toFixed(1)}, noop ${noop.toFixed(1)}, guarded ${guarded.toFixed(1)}  →  framework's extra middleware ${(noop - bare).toFixed(1)}, hubauth ${(guarded - noop).toFixed(1)}; ` +
      `whoami: noop ${m('noop whoami').toFixed(1)}, guarded ${m('guarded whoami').toFixed(1)}; CPU ratio bare ÷ guarded ${(bare / guarded).toFixed(2)}`,
  );
}
process.exit(0);
