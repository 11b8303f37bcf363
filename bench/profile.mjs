// Where the time goes: runs one server of the benchmark under `node --cpu-prof` with a warm cache
// (against the fake Hub), loads it with autocannon, and summarises the profile.
//
//   node bench/profile.mjs [express|koa|fastify] [guarded|bare] [ok|whoami|nocache] [seconds]
//
// Prints self time by package and the hottest functions, and the share of samples with a
// @hubauth frame on the stack (the whole cost of authentication, including what it calls).
// The .cpuprofile is kept in bench/.prof/ for a closer look (Chrome DevTools, speedscope).
import { readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildHelpers } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { forkHelper, killAllChildren, startServer } from './lib/procs.mjs';
import { benchServerEnv, fmtInt, freePort, repoRoot } from './lib/util.mjs';

const [framework = 'fastify', mode = 'guarded', route = 'ok', seconds = '10'] = process.argv.slice(2);
const profDir = path.join(repoRoot, 'bench', '.prof', `${framework}-${mode}-${route}`);
rmSync(profDir, { recursive: true, force: true });
mkdirSync(profDir, { recursive: true });
process.on('exit', killAllChildren);

await buildHelpers();
const fake = await forkHelper(path.join(repoRoot, 'bench', 'servers', 'fake-hub.mjs'), { label: 'fake-hub-profile' });
const token = `profile${Date.now().toString(36)}`;
await fake.call('addToken', { token, user: { name: 'bench', groups: ['bench-group'], scopes: ['access:services'] } });
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const prefix = '/services/bench/';
const server = await startServer({
  label: `profile-${framework}`,
  command: process.execPath,
  args: ['--cpu-prof', '--cpu-prof-dir', profDir, path.join(repoRoot, 'bench', 'servers', 'node-whoami.mjs')],
  env: {
    ...benchServerEnv({ apiUrl: fake.first.apiUrl, url, prefix, framework, mode }),
    BENCH_AUTH_OPTS: JSON.stringify(route === 'nocache' ? { cacheMaxAge: 0 } : {}),
  },
  healthUrl: `${url}${prefix}health`,
});
const target = `${url}${prefix}${route === 'ok' ? 'ok' : ''}`;
const r = await runLoad({ url: target, headers: { authorization: `token ${token}` }, connections: 32, duration: Number(seconds) });
console.log(`${framework} ${mode} ${route}: ${fmtInt(r.rps)} req/s${r.problems.length ? `  INVALID: ${r.problems.join('; ')}` : ''}`);
await server.stop();
await fake.stop();

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${profDir}`);
const profile = JSON.parse(readFileSync(path.join(profDir, file), 'utf8'));

function category(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const m = /\/packages\/(core|express|koa|fastify)\/dist\//.exec(url);
  if (m) return `@hubauth/${m[1]}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes('/bench/')) return 'bench server';
  return url;
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (hits.get(n.id) ?? 0), 0);
const busy = total - idle;

// The owner of a sample: walking up from the leaf, the first frame that belongs to a package
// (not node internals, native code or a helper library), so node's crypto under tokenDigest counts
// for @hubauth/core and the socket write under res.send for the framework.
const HELPERS = new Set(['node internals', '(native)', 'lru-cache', 'cookie-signature']);
const ownerOf = new Map();
function owner(id) {
  if (ownerOf.has(id)) return ownerOf.get(id);
  const { url, functionName } = byId.get(id).callFrame;
  const cat = category(url, functionName);
  let result;
  if (!HELPERS.has(cat)) result = cat;
  else {
    const up = parent.get(id);
    result = up === undefined || byId.get(up).callFrame.functionName === '(root)' ? cat : owner(up);
  }
  ownerOf.set(id, result);
  return result;
}
const byOwner = new Map();
const selfByCat = new Map();
const selfByFn = new Map();
let withHubauth = 0;
for (const [id, count] of hits) {
  const node = byId.get(id);
  const { url, functionName, lineNumber } = node.callFrame;
  if (functionName === '(idle)') continue;
  const cat = category(url, functionName);
  selfByCat.set(cat, (selfByCat.get(cat) ?? 0) + count);
  const own = owner(id);
  byOwner.set(own, (byOwner.get(own) ?? 0) + count);
  const key = `${functionName || '(anonymous)'} ${cat}${url ? `:${lineNumber + 1}` : ''}`;
  selfByFn.set(key, (selfByFn.get(key) ?? 0) + count);
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    if (/\/packages\/(core|express|koa|fastify)\/dist\//.test(byId.get(cur).callFrame.url)) {
      withHubauth += count;
      break;
    }
  }
}
const pct = (n) => `${((100 * n) / busy).toFixed(1)}%`;
console.log(`\n${busy} busy samples of ${total} (the rest idle); profile: ${path.relative(repoRoot, path.join(profDir, file))}`);
console.log(`samples with a @hubauth frame on the stack: ${pct(withHubauth)} of busy time\n`);
const perRequestUs = (n) => ((n * (profile.endTime - profile.startTime)) / total / Math.max(1, r.total)).toFixed(1);
console.log('time by owner (node internals and helper libraries counted for the package that called them):');
for (const [cat, n] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(n).padStart(6)}  ${perRequestUs(n).padStart(6)} µs/request  ${cat}`);
console.log('\nself time by package:');
for (const [cat, n] of [...selfByCat].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(n).padStart(6)}  ${cat}`);
console.log('\nhottest functions (self time):');
for (const [fn, n] of [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(n).padStart(6)}  ${fn}`);
process.exit(0);
