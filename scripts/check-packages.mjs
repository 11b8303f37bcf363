// Packs every publishable package (packages/*) and checks each tarball the way a consumer and the
// registry would see it: the files it carries (LICENSE, README, builds; no sources or tests), the
// published manifest (license, public access, engines, keywords, no workspace: ranges), publint
// (package.json/exports hygiene) and @arethetypeswrong/cli (types resolve for ESM and CJS).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll, root } from './packages.mjs';

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'hubauth-pack-'));
const bin = (name) => join(root, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;
const report = (ok, what, detail = '') => {
  if (ok) passed++;
  else failed++;
  if (!ok) console.log(`FAIL ${what}${detail ? `\n${detail}` : ''}`);
};

/** What a published package must look like; each entry is [description, ok]. */
function manifestChecks(manifest, files) {
  const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
  return [
    ['carries LICENSE', files.includes('LICENSE')],
    ['carries README.md', files.includes('README.md')],
    ['carries no sources, tests or configs', !files.some((f) => /^(src|test)\/|tsconfig|tsup\.config|\.test\./.test(f))],
    ['license is BSD-3-Clause', manifest.license === 'BSD-3-Clause'],
    ['publishConfig.access is public', manifest.publishConfig?.access === 'public'],
    [`engines.node is the workspace's (${rootManifest.engines.node})`, manifest.engines?.node === rootManifest.engines.node],
    ['keywords include jupyterhub', Array.isArray(manifest.keywords) && manifest.keywords.includes('jupyterhub')],
    ['has a description', typeof manifest.description === 'string' && manifest.description.length > 10],
    ['no workspace: ranges left', !Object.values(deps).some((range) => String(range).startsWith('workspace:'))],
    ['every file listed in files exists', (manifest.files ?? []).every((entry) => files.some((f) => f === entry || f.startsWith(`${entry}/`)))],
  ];
}

try {
  const packed = packAll(out);
  for (const { name, tarball } of packed) {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    const problems = manifestChecks(manifest, files).filter(([, ok]) => !ok).map(([what]) => `  not: ${what}`);
    report(problems.length === 0, `${name}: tarball contents and manifest`, problems.join('\n'));
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--profile', 'node16']],
    ]) {
      try {
        execFileSync(bin(tool), args, { stdio: 'pipe', encoding: 'utf8' });
        report(true, `${tool} ${name}`);
      } catch (err) {
        report(false, `${tool} ${name}`, `${err.stdout ?? ''}${err.stderr ?? ''}`);
      }
    }
  }
  console.log(`packages: ${packed.map((p) => p.name).join(', ')}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
