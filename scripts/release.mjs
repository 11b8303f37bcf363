// The release: `pnpm release` applies the pending changesets (`changeset version`: versions,
// CHANGELOG.md files, internal dependency ranges), refreshes the lockfile, builds, checks the packed
// packages and publishes every package that is not on the registry yet (`pnpm publish -r`), then
// tags the release (`changeset tag`). Commit the version changes and push the tags afterwards.
//
// `pnpm release --dry-run` (part of scripts/test.sh) does the same in a scratch copy of the
// workspace and never talks to a registry: it applies the changesets there, installs offline from
// the local store, packs every package and checks that all of them carry the same new version, a
// changelog entry and dependency ranges on each other at that version.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { publishablePackages, root } from './packages.mjs';

const dryRun = process.argv.includes('--dry-run');
const changesetBin = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
const run = (cmd, args, cwd, quiet = false) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });

if (!dryRun) {
  if (readdirSync(join(root, '.changeset')).some((f) => f.endsWith('.md') && f !== 'README.md')) {
    run(process.execPath, [changesetBin, 'version'], root);
    run('pnpm', ['install', '--lockfile-only'], root);
  }
  run('pnpm', ['run', 'build'], root);
  run('pnpm', ['run', 'test:pack'], root);
  run('pnpm', ['publish', '-r', '--access', 'public'], root);
  run(process.execPath, [changesetBin, 'tag'], root);
  process.exit(0);
}

let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else failed++;
  if (!ok || process.argv.includes('--verbose')) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

// Inside the workspace: the same file system as the pnpm store, so the offline install hard-links.
mkdirSync(join(root, '.tmp'), { recursive: true });
const scratch = mkdtempSync(join(root, '.tmp', 'release-'));
try {
  // The workspace as the release sees it: manifests, changesets, lockfile, and each package's build.
  const workspaceFiles = ['package.json', 'pnpm-workspace.yaml', 'pnpm-lock.yaml', '.npmrc', '.changeset'];
  for (const file of workspaceFiles) if (existsSync(join(root, file))) cpSync(join(root, file), join(scratch, file), { recursive: true });
  const workspaceDirs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((line) => /^\s*-\s*['"]?([^'"]+)['"]?\s*$/.exec(line)?.[1])
    .filter(Boolean)
    .flatMap((pattern) => (pattern.endsWith('/*') ? readdirSync(join(root, dirname(pattern))).map((d) => join(dirname(pattern), d)) : [pattern]))
    .filter((dir) => existsSync(join(root, dir, 'package.json')));
  for (const dir of workspaceDirs) {
    mkdirSync(join(scratch, dir), { recursive: true });
    cpSync(join(root, dir, 'package.json'), join(scratch, dir, 'package.json'));
  }
  const packages = publishablePackages();
  for (const { dir } of packages) {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'package.json') continue;
      cpSync(join(dir, entry), join(scratch, relative(root, dir), entry), { recursive: true });
    }
  }

  // changeset status compares with the base branch: a one-commit repository makes it only validate.
  const git = (...args) => run('git', ['-c', 'user.name=release', '-c', 'user.email=release@localhost', ...args], scratch, true);
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'release dry run');
  const pending = readdirSync(join(scratch, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  run(process.execPath, [changesetBin, 'status'], scratch, true);
  check(true, `changeset status: ${pending.length} pending changeset(s) are valid`);
  if (pending.length === 0) {
    console.log('nothing to release: no pending changesets');
  } else {
    run(process.execPath, [changesetBin, 'version'], scratch, true);
    check(readdirSync(join(scratch, '.changeset')).every((f) => !f.endsWith('.md') || f === 'README.md'), 'changeset version consumed every changeset');
    const versions = new Map();
    for (const { dir, name, manifest } of packages) {
      const scratchDir = join(scratch, relative(root, dir));
      const bumped = JSON.parse(readFileSync(join(scratchDir, 'package.json'), 'utf8'));
      versions.set(name, bumped.version);
      check(bumped.version !== manifest.version, `${name}: ${manifest.version} -> ${bumped.version}`);
      const changelog = existsSync(join(scratchDir, 'CHANGELOG.md')) ? readFileSync(join(scratchDir, 'CHANGELOG.md'), 'utf8') : '';
      check(changelog.includes(`## ${bumped.version}`), `${name}: CHANGELOG.md has a ${bumped.version} entry`);
    }
    const publishable = new Set(packages.map(({ dir }) => relative(root, dir)));
    for (const dir of workspaceDirs.filter((d) => !publishable.has(d))) {
      const before = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      const after = JSON.parse(readFileSync(join(scratch, dir, 'package.json'), 'utf8'));
      check(before.version === after.version, `private ${before.name} keeps its version`);
    }
    const released = [...new Set(versions.values())];
    check(released.length === 1, `all packages released together at one version (${released.join(', ')})`);
    console.log(`release dry run: ${pending.length} changeset(s) -> ${[...versions.keys()].join(', ')} at ${released.join(', ')}`);

    // Offline install (the store is filled by the workspace's own install), then pack: what `pnpm
    // publish` would upload, with workspace: ranges replaced.
    run('pnpm', ['install', '--offline', '--frozen-lockfile', '--ignore-scripts', '--reporter=silent', '--filter', './packages/*'], scratch, true);
    const out = join(scratch, '.packed');
    mkdirSync(out);
    for (const { dir, name } of packages) {
      const scratchDir = join(scratch, relative(root, dir));
      const tarball = run('pnpm', ['pack', '--pack-destination', out], scratchDir, true).trim().split('\n').pop().trim();
      const packed = JSON.parse(execFileSync('tar', ['-xzOf', tarball.startsWith('/') ? tarball : join(out, tarball), 'package/package.json'], { encoding: 'utf8' }));
      const internal = Object.entries({ ...packed.dependencies, ...packed.peerDependencies }).filter(([dep]) => versions.has(dep));
      const ok = packed.version === versions.get(name) && internal.every(([dep, range]) => range === `^${versions.get(dep)}`);
      check(ok, `${name}@${packed.version} packs with ${internal.map(([d, r]) => `${d}@${r}`).join(', ') || 'no internal dependencies'}`);
    }
  }
} catch (err) {
  check(false, `release dry run: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
