// Packs every publishable package and checks the tarball the way a consumer would see it:
// publint (package.json/exports hygiene) and @arethetypeswrong/cli (types resolve for ESM and CJS).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packages = ['core', 'express', 'koa', 'fastify', 'web', 'hono', 'testing', 'redis', 'cli', 'proxy'];
/** Tarball name prefixes: `@hubauth/<dir>` packs as hubauth-<dir>-<version>.tgz; the command line is `hubauth`. */
const tarballPrefix = (dir) => (dir === 'cli' ? 'hubauth-0' : `hubauth-${dir}-`);
const out = mkdtempSync(join(tmpdir(), 'hubauth-pack-'));
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = 0;
try {
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: 'ignore' });
    const tarball = readdirSync(out).find((f) => f.startsWith(tarballPrefix(name)));
    const path = join(out, tarball);
    for (const [tool, args] of [
      ['publint', ['run', path, '--strict']],
      ['attw', [path, '--profile', 'node16']],
    ]) {
      try {
        execFileSync(bin(tool), args, { stdio: 'pipe', encoding: 'utf8' });
        console.log(`ok   ${tool} ${name === 'cli' ? 'hubauth' : `@hubauth/${name}`}`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${tool} @hubauth/${name}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`${packages.length * 2 - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
