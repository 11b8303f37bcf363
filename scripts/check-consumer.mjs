// The consumer test: what a user gets from npm. Packs every publishable package (packages/*),
// installs the tarballs with npm into a scratch project outside the workspace (no workspace links),
// next to the frameworks of test/consumer/dependencies.json from the registry, and then, on every
// Node.js version of scripts/node-versions.txt (installed by scripts/ensure-node.sh):
//   - imports every package as ESM and requires it as CommonJS;
//   - runs each fixture test/consumer/<package dir>.{mjs,cjs}: a service is started with the
//     environment JupyterHub gives a managed service, against the fake Hub, and probed (a token
//     of a staff member → 200 with the caller's name; a non-member on the staff route → 403; no
//     credentials → 401); a program must exit with 0.
// Run `pnpm run build` first.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadFakeHub, serviceEnvironment } from './fake-hub.mjs';
import { packAll, root } from './packages.mjs';

const fixtures = join(root, 'test', 'consumer');
const verbose = process.argv.includes('--verbose');
let passed = 0;
let failed = 0;
const report = (ok, what, detail = '') => {
  if (ok) passed++;
  else failed++;
  if (!ok || verbose) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n  ${detail.trim().split('\n').join('\n  ')}` : ''}`);
};

const nodes = execFileSync('bash', [join(root, 'scripts', 'ensure-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  .trim()
  .split('\n')
  .map((bin) => ({ bin, version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim() }));

const project = mkdtempSync(join(tmpdir(), 'hubauth-consumer-'));
const freePort = async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
};

/** Runs `file` with `node`; resolves when it prints "listening" (a service) or exits (a program). */
function start(node, file, env) {
  const child = spawn(node, [file], { cwd: project, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 20_000);
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('listening')) { clearTimeout(timer); resolve('listening'); }
    });
    child.stderr.on('data', (d) => { output += d; });
    child.on('exit', (code) => { clearTimeout(timer); resolve(code === 0 ? 'exited' : `exited with ${code}`); });
  });
  return { child, ready, output: () => output.slice(-1500) };
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function probe(url, token, accept = 'application/json') {
  const headers = { accept };
  if (token) headers.authorization = `token ${token}`;
  const res = await fetch(url, { headers, redirect: 'manual' });
  const body = await res.text();
  return { status: res.status, body };
}

try {
  // 1. Pack, and install like a user: npm, the tarballs, the frameworks.
  const packed = packAll(project);
  const frameworks = JSON.parse(readFileSync(join(fixtures, 'dependencies.json'), 'utf8'));
  delete frameworks['//'];
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'hubauth-consumer', private: true }, null, 2));
  const specs = [...packed.map((p) => `./${basename(p.tarball)}`), ...Object.entries(frameworks).map(([name, range]) => `${name}@${range}`)];
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
  const linked = packed.filter((p) => !existsSync(join(project, 'node_modules', ...p.name.split('/'), 'package.json')));
  report(linked.length === 0, `npm installed ${packed.length} tarballs into a scratch project`, `missing: ${linked.map((p) => p.name).join(', ')}`);

  // Fixtures, and the import/require smoke test of every package.
  for (const file of readdirSync(fixtures).filter((f) => /\.(mjs|cjs)$/.test(f))) copyFileSync(join(fixtures, file), join(project, file));
  writeFileSync(join(project, 'smoke.mjs'), `${packed.map((p, i) => `import * as p${i} from '${p.name}';`).join('\n')}
const loaded = [${packed.map((_, i) => `p${i}`).join(', ')}];
if (loaded.some((m) => Object.keys(m).length === 0)) throw new Error('a package has no exports');
console.log('exited');
`);
  writeFileSync(join(project, 'smoke.cjs'), `const loaded = [${packed.map((p) => `require('${p.name}')`).join(', ')}];
if (loaded.some((m) => Object.keys(m).length === 0)) throw new Error('a package has no exports');
`);

  // 2. The fake Hub and its users.
  const { startFakeHub } = await loadFakeHub();
  const hub = await startFakeHub({});
  const access = ['access:services!service=whoami'];
  const staffToken = hub.issueToken({ name: 'alice', groups: ['staff'], scopes: access });
  const otherToken = hub.issueToken({ name: 'bob', groups: [], scopes: access });

  const withFixtures = packed.filter((p) => existsSync(join(fixtures, `${basename(p.dir)}.mjs`)));
  const without = packed.filter((p) => !withFixtures.includes(p)).map((p) => p.name);
  try {
    for (const { bin, version } of nodes) {
      for (const smoke of ['smoke.mjs', 'smoke.cjs']) {
        const run = start(bin, smoke, {});
        const state = await run.ready;
        await stop(run.child);
        report(state === 'exited', `${version} ${smoke === 'smoke.mjs' ? 'imports (ESM)' : 'requires (CommonJS)'} every package`, run.output());
      }
      for (const pkg of withFixtures) {
        for (const ext of ['mjs', 'cjs']) {
          const file = `${basename(pkg.dir)}.${ext}`;
          if (!existsSync(join(project, file))) continue;
          const what = `${version} ${pkg.name} ${ext === 'mjs' ? 'ESM' : 'CommonJS'} consumer (${file})`;
          const port = await freePort();
          const env = serviceEnvironment(hub, { port });
          const run = start(bin, file, env);
          const state = await run.ready;
          try {
            if (state === 'exited') {
              report(true, what);
              continue;
            }
            if (state !== 'listening') {
              report(false, what, `${state}\n${run.output()}`);
              continue;
            }
            const base = `http://127.0.0.1:${port}${env.JUPYTERHUB_SERVICE_PREFIX}`;
            const problems = [];
            const ok = await probe(base, staffToken);
            if (ok.status !== 200 || JSON.parse(ok.body).name !== 'alice') problems.push(`GET prefix with a token: ${ok.status} ${ok.body.slice(0, 200)}`);
            const staff = await probe(`${base}staff`, otherToken);
            if (staff.status !== 403) problems.push(`GET staff as a non-member: ${staff.status}, expected 403`);
            const anonymous = await probe(base, null);
            if (anonymous.status !== 401) problems.push(`GET prefix without credentials: ${anonymous.status}, expected 401`);
            report(problems.length === 0, what, `${problems.join('\n')}\n${run.output()}`);
          } finally {
            await stop(run.child);
          }
        }
      }
    }
  } finally {
    await hub.close();
  }
  console.log(`consumer: ${packed.length} packages on ${nodes.map((n) => n.version).join(', ')}; services and programs of ${withFixtures.map((p) => p.name).join(', ')}${without.length ? `; imported only: ${without.join(', ')}` : ''}`);
} catch (err) {
  report(false, 'consumer test', `${err.stack ?? err}`);
} finally {
  rmSync(project, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
