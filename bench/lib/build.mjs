// Compiles the TypeScript test helpers the benchmark reuses (the real-Hub harness and the fake Hub)
// into plain ES modules under node_modules/.cache/hubauth-bench/, so the benchmark itself runs on
// plain Node.
import { build } from 'esbuild';
import path from 'node:path';
import { buildDir, repoRoot } from './util.mjs';

export async function buildHelpers() {
  const entries = {
    hub: path.join(repoRoot, 'test', 'hub', 'index.ts'),
    'fake-hub': path.join(repoRoot, 'test', 'fake-hub', 'index.ts'),
  };
  await build({
    entryPoints: entries,
    outdir: buildDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // CommonJS dependencies bundled into ESM (the fake Hub reaches core's cookie-signature) call
    // require() for Node's built-ins: give the bundle one.
    banner: { js: "import { createRequire as __hubauthCreateRequire } from 'node:module'; const require = __hubauthCreateRequire(import.meta.url);" },
  });
  return {
    hub: path.join(buildDir, 'hub.mjs'),
    fakeHub: path.join(buildDir, 'fake-hub.mjs'),
  };
}
