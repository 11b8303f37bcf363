/**
 * Bun and Deno for real: their binaries come from the npm packages `@oven/bun-linux-x64` and
 * `@deno/linux-x64-glibc` (root dev dependencies). `runtimeApp()` starts the contract app
 * (test/runtimes/server.ts) under one of them and returns it as a `ContractApp`, so that the
 * contract and adversarial suites play the same scenarios over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import type { HubAuthLogger, HubAuthMiddlewareOptions } from '@hubauth/core';
import { teamPolicy, type ContractApp, type ContractAppFactory } from '../contract/types';
import type { WebsocketServerFactory } from '../contract/websocket';

export type Runtime = 'bun' | 'deno';
export type WebAdapter = 'web' | 'hono';

const ROOT = path.resolve(__dirname, '../..');


/** The runtime's binary, installed from npm. */
export function runtimeBinary(runtime: Runtime): string {
  const pkg = runtime === 'bun' ? '@oven/bun-linux-x64' : '@deno/linux-x64-glibc';
  const dir = path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }));
  return runtime === 'bun' ? path.join(dir, 'bin', 'bun') : path.join(dir, 'deno');
}

/** The command line that runs an ES module under the runtime, resolving npm packages from node_modules. */
export function runtimeCommand(runtime: Runtime, script: string): [string, string[]] {
  return runtime === 'bun'
    ? [runtimeBinary('bun'), ['run', script]]
    : [runtimeBinary('deno'), ['run', '--allow-all', '--node-modules-dir=manual', '--no-prompt', script]];
}

let bundled: Promise<string> | undefined;
/** The server bundled once from the sources (as jest resolves them), with a `require` for CommonJS dependencies. */
function serverBundle(): Promise<string> {
  bundled ??= (async () => {
    const outdir = path.join(ROOT, '.tmp');
    mkdirSync(outdir, { recursive: true });
    // One file per jest worker, rewritten by each run.
    const outfile = path.join(outdir, `runtime-server-${process.env.JEST_WORKER_ID ?? process.pid}.mjs`);
    await build({
      entryPoints: [path.join(__dirname, 'server.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'es2022',
      outfile,
      tsconfig: path.join(ROOT, 'tsconfig.json'),
      banner: { js: "import { createRequire as __hubauthRequire } from 'node:module'; const require = __hubauthRequire(import.meta.url);" },
      logLevel: 'error',
    });
    return outfile;
  })();
  return bundled;
}

/** Options as JSON: functions (the logger, hooks) stay in this process. */
function serializable(options: HubAuthMiddlewareOptions): HubAuthMiddlewareOptions {
  const { logger: _logger, postAuthHook, instance, ...rest } = options;
  if (postAuthHook || instance) throw new Error('postAuthHook and instance cannot cross into another runtime');
  return rest;
}

/** Which app the runtime serves: the contract app, or the websocket contract app (Bun only). */
export type RuntimeAppKind = 'contract' | 'websocket';

/** Starts the contract app (or the websocket one) for `adapter` under `runtime`. */
export async function runtimeApp(runtime: Runtime, adapter: WebAdapter, options: HubAuthMiddlewareOptions, kind: RuntimeAppKind = 'contract'): Promise<ContractApp> {
  const script = await serverBundle();
  const [command, args] = runtimeCommand(runtime, script);
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, HUBAUTH_TEST_ADAPTER: adapter, HUBAUTH_TEST_APP: kind, HUBAUTH_TEST_OPTIONS: JSON.stringify(serializable(options)), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logger: HubAuthLogger | undefined = options.logger;
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    const match = /^hubauth-log (.*)$/.exec(line);
    if (!match) return void stderr.push(line);
    const { level, message } = JSON.parse(match[1] as string) as { level: 'warn' | 'error' | 'info'; message: string };
    (logger?.[level] ?? logger?.warn)?.call(logger, message);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} did not start in 20 s:\n${stderr.join('\n')}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} exited with ${code}:\n${stderr.join('\n')}`));
    });
  });
  // A first request compiles the request path (a cold runtime is slow at first, and some suites
  // time the Hub calls): an anonymous one, which asks the Hub nothing.
  await fetch(`http://127.0.0.1:${port}/`).then((res) => res.arrayBuffer());
  // The suites only ask a server for its address (supertest, the raw client); this one is in another process.
  const server = { address: () => ({ address: '127.0.0.1', family: 'IPv4', port }) } as unknown as Server;
  return {
    server,
    // The server builds its own `team` policy from the same defaults; edits made here cannot reach it.
    team: teamPolicy(),
    setClock: async (ms) => {
      const res = await fetch(`http://127.0.0.1:${port}/__contract/clock${ms === null ? '' : `?at=${ms}`}`, { method: 'POST' });
      if (res.status !== 204) throw new Error(`${runtime} did not set its clock (${res.status})`);
    },
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** A contract-app factory for `adapter` under `runtime`. */
export function runtimeFactory(runtime: Runtime, adapter: WebAdapter): ContractAppFactory {
  return (options) => runtimeApp(runtime, adapter, options);
}

/** A websocket contract-server factory (test/contract/websocket.ts) for `adapter` under Bun. */
export function runtimeWebsocketFactory(adapter: WebAdapter): WebsocketServerFactory {
  return async (options) => {
    const app = await runtimeApp('bun', adapter, options, 'websocket');
    return { url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  };
}
