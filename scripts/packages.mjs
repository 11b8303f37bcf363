// The workspace's publishable packages: every packages/* directory with a package.json that is not
// private. Shared by the package, consumer, API-reference, docs and release checks, so that a new
// package is covered by all of them without being listed anywhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');

/** @returns {{ dir: string, name: string, manifest: Record<string, any> }[]} sorted by directory */
export function publishablePackages() {
  const packagesDir = join(root, 'packages');
  return readdirSync(packagesDir)
    .sort()
    .map((entry) => join(packagesDir, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ dir, name: manifest.name, manifest }));
}

/** Packs every publishable package into `outDir` with pnpm (workspace: ranges become versions). */
export function packAll(outDir) {
  return publishablePackages().map((pkg) => {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', outDir], { cwd: pkg.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = out.trim().split('\n').pop().trim();
    return { ...pkg, tarball: tarball.startsWith('/') ? tarball : join(outDir, tarball) };
  });
}
