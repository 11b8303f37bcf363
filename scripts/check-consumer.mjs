// The consumer test: what a user gets from npm. Packs every publishable package (packages/*),
// installs the tarballs with npm into a scratch project outside the workspace (no workspace links),
// next to the frameworks of test/consumer/dependencies.json from the registry, and then, on every
// Node.js version of scripts/node-versions.txt (installed by scripts/ensure-node.sh):
//   - imports every package as ESM and requires it as CommonJS;
//   - runs each fixture test/consumer/<package dir>.{mjs,cjs}: a service is started with the
//     environment JupyterHub gives a managed service, against the fake Hub, and probed (a token
//     of a staff member → 200 with the caller's name; a non-member on the staff route → 403; no
//     credentials → 401); a program must exit with 0;
//   - runs the installed bins: `hubauth --help`, `hubauth doctor` against the fake Hub (all ✔ with
//     the service's environment, ✘ and exit 1 with a wrong service token), `hubauth-proxy --help`.
// Once, with the workspace's TypeScript: the TypeScript consumer test/consumer/typescript/*.ts is
// type-checked strictly against the installed packages' published types (skipLibCheck off), as ESM
// (.mts) and CommonJS (.cts) under module/moduleResolution nodenext, and under bundler resolution:
// requireHubUser() narrowing, HubUser's field types, Hono's variables, the Web handler's context.
// Run `pnpm run build` first.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { freePort, loadFakeHub, serviceEnvironment } from './fake-hub.mjs';
import { packAll, root } from './packages.mjs';

const fixtures = join(root, 'test', 'consumer');
const typescriptFixtures = join(fixtures, 'typescript');
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

/** Runs an installed bin (`npx --no-install`) on `node`; resolves with its exit code and output. */
async function runBin(node, args, env = {}) {
  const child = spawn('npx', ['--no-install', ...args], {
    cwd: project,
    env: { PATH: `${dirname(node)}:${process.env.PATH}`, HOME: process.env.HOME, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code, stdout, stderr, output: `exit ${code}\n${stdout.slice(-1500)}${stderr.slice(-1500)}` };
}

/** The bins of the `hubauth` and `@hubauth/proxy` packages, as installed, on `node`. */
async function checkBins(node, version, hub, port) {
  const help = await runBin(node, ['hubauth', '--help']);
  report(help.code === 0 && help.stdout.includes('Usage: hubauth doctor'), `${version} hubauth --help`, help.output);
  const env = serviceEnvironment(hub, { port });
  const doctor = await runBin(node, ['hubauth', 'doctor', '--json'], env);
  let found;
  try {
    found = JSON.parse(doctor.stdout);
  } catch {
    found = undefined;
  }
  const status = (id) => found?.checks?.find((c) => c.id === id)?.status;
  report(
    doctor.code === 0 && found?.ok === true && ['config', 'hub-api', 'service-token', 'oauth-client'].every((id) => status(id) === 'ok'),
    `${version} hubauth doctor against the fake Hub: configuration, Hub API, service token and OAuth client ok`,
    doctor.output,
  );
  const wrong = await runBin(node, ['hubauth', 'doctor', '--json'], { ...env, JUPYTERHUB_API_TOKEN: 'not-the-service-token' });
  let refused;
  try {
    refused = JSON.parse(wrong.stdout);
  } catch {
    refused = undefined;
  }
  report(
    wrong.code === 1 && refused?.checks?.find((c) => c.id === 'service-token')?.status === 'fail',
    `${version} hubauth doctor with a wrong service token: ✘ service token, exit 1`,
    wrong.output,
  );
  const proxy = await runBin(node, ['hubauth-proxy', '--help']);
  report(proxy.code === 0 && proxy.stdout.includes('Usage: hubauth-proxy') && proxy.stdout.includes('--upstream'), `${version} hubauth-proxy --help`, proxy.output);
}

/**
 * The TypeScript consumer: test/consumer/typescript/*.ts in three strict projects — nodenext as ESM
 * (.mts), nodenext as CommonJS (.cts), bundler resolution (.ts) — with the workspace's tsc and the
 * scratch project's node_modules only. skipLibCheck is off so that errors inside hubauth's own
 * declaration files count; errors inside other packages' types (a framework's @types lagging behind
 * its dependencies) are listed but are not hubauth's to fix.
 */
function checkTypeScript() {
  const sources = readdirSync(typescriptFixtures).filter((f) => f.endsWith('.ts'));
  const strict = { strict: true, noEmit: true, skipLibCheck: false, noUncheckedIndexedAccess: true, target: 'es2022', lib: ['es2023'], types: ['node'], esModuleInterop: true };
  const nodenext = { module: 'nodenext', moduleResolution: 'nodenext' };
  const projects = [
    { name: 'nodenext, ESM', dir: 'ts-esm', ext: '.mts', options: nodenext },
    { name: 'nodenext, CommonJS', dir: 'ts-cjs', ext: '.cts', options: nodenext },
    { name: 'bundler', dir: 'ts-bundler', ext: '.ts', options: { module: 'esnext', moduleResolution: 'bundler' } },
  ];
  const ours = /^(?!\.\.\/node_modules\/)|^\.\.\/node_modules\/(@hubauth\/|hubauth\/)/;
  for (const { name, dir: subdir, ext, options } of projects) {
    const dir = join(project, subdir);
    mkdirSync(dir);
    for (const file of sources) copyFileSync(join(typescriptFixtures, file), join(dir, file.replace(/\.ts$/, ext)));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, ...options }, include: [`*${ext}`] }, null, 2));
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    // One diagnostic per line that starts with its file; continuation lines are indented.
    const diagnostics = output.split('\n').reduce((all, line) => {
      if (/^\s/.test(line) && all.length) all[all.length - 1] += `\n${line}`;
      else if (line.trim()) all.push(line);
      return all;
    }, []);
    const mine = diagnostics.filter((d) => ours.test(d));
    const theirs = diagnostics.filter((d) => !ours.test(d));
    const note = theirs.length ? ` (${theirs.length} error(s) inside other packages' types ignored: ${[...new Set(theirs.map((d) => d.split('(')[0].replace('../node_modules/', '')))].join(', ')})` : '';
    report(mine.length === 0, `TypeScript consumer, ${name}: ${sources.length} files type-check (strict, skipLibCheck off)${note}`, mine.join('\n').slice(0, 4000));
    if (theirs.length && verbose) console.log(`  ${theirs.join('\n  ')}`);
  }
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

  // 2. The published types, once (they do not depend on the Node version).
  checkTypeScript();

  // 3. The fake Hub and its users.
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
      await checkBins(bin, version, hub, await freePort());
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
  console.log(`consumer: ${packed.length} packages on ${nodes.map((n) => n.version).join(', ')}; services and programs of ${withFixtures.map((p) => p.name).join(', ')}${without.length ? `; imported only: ${without.join(', ')}` : ''}; the hubauth and hubauth-proxy bins; the published types type-checked under nodenext (ESM, CommonJS) and bundler`);
} catch (err) {
  report(false, 'consumer test', `${err.stack ?? err}`);
} finally {
  rmSync(project, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
