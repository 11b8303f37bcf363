// Which runtime runs a bench target: `<framework>` is Node, `<framework>-bun` and `<framework>-deno`
// run the same server script under Bun or Deno, from their npm binary packages.
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from './util.mjs';

const rootRequire = createRequire(path.join(repoRoot, 'package.json'));
const packageDir = (name) => path.dirname(rootRequire.resolve(`${name}/package.json`));

/** `{ framework, runtime }` of a target name such as `web-bun`. */
export function parseTarget(name) {
  const [framework, runtime = 'node'] = name.split('-');
  if (!['node', 'bun', 'deno'].includes(runtime)) throw new Error(`unknown runtime in bench target ${name}`);
  return { framework, runtime };
}

/** The command and arguments that run `script` under `runtime` (Node flags in `nodeArgs`). */
export function runtimeCommand(runtime, script, nodeArgs = []) {
  if (runtime === 'bun') return { command: path.join(packageDir('@oven/bun-linux-x64'), 'bin', 'bun'), args: [script] };
  if (runtime === 'deno') {
    return { command: path.join(packageDir('@deno/linux-x64-glibc'), 'deno'), args: ['run', '--allow-all', '--node-modules-dir=manual', script] };
  }
  return { command: process.execPath, args: [...nodeArgs, script] };
}
