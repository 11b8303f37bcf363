/**
 * The contract app served by Bun or Deno: `bun server.mjs` / `deno run -A server.mjs` (bundled from
 * this file by test/runtimes/index.ts). It reads the adapter and its options from the environment,
 * listens on 127.0.0.1 at a free port, prints `listening <port>` on stdout, and writes hubauth's log
 * lines to stderr as `hubauth-log <json>` so that the test process can check them.
 */
import { contractFetch } from '../../packages/web/test/app';
import { contractHono } from '../../packages/hono/test/app';
import { websocketFetch } from '../../packages/web/test/websocket-app';
import type { HubAuthMiddlewareOptions } from '@hubauth/core';

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;
interface BunLike {
  serve(options: { hostname: string; port: number; fetch: Fetch; websocket?: unknown }): { port: number };
  env: Record<string, string | undefined>;
}
interface DenoLike {
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, fetch: Fetch): unknown;
  env: { get(name: string): string | undefined };
}
const runtime = globalThis as unknown as { Bun?: BunLike; Deno?: DenoLike };
const env = (name: string) => runtime.Bun?.env[name] ?? runtime.Deno?.env.get(name);

const log = (level: string) => (message: string) => {
  console.error(`hubauth-log ${JSON.stringify({ level, message })}`);
};
const options = JSON.parse(env('HUBAUTH_TEST_OPTIONS') ?? '{}') as HubAuthMiddlewareOptions;
options.logger = { warn: log('warn'), error: log('error'), info: log('info') };

const adapter = env('HUBAUTH_TEST_ADAPTER');
// HUBAUTH_TEST_APP=websocket: the websocket contract app (Bun only), with Bun's websocket handlers.
let app: Fetch;
let websocket: unknown;
if (env('HUBAUTH_TEST_APP') === 'websocket') {
  if (!runtime.Bun) throw new Error('the websocket app runs under Bun');
  // hono/bun touches `Bun` when loaded: imported only here, so the Deno bundle never evaluates it.
  const served = adapter === 'hono' ? (await import('../../packages/hono/test/websocket-app.bun')).bunWebsocketHono(options) : websocketFetch(options);
  ({ fetch: app, websocket } = served);
} else {
  app = adapter === 'hono' ? contractHono(options).fetch : contractFetch(options);
}

// Where the suites mock the clock, they freeze this process's clock too (ContractApp.setClock).
const realNow = Date.now.bind(Date);
let frozenAt: number | null = null;
Date.now = () => frozenAt ?? realNow();
const CLOCK = '/__contract/clock';
const fetch: Fetch = (request, info) => {
  const url = new URL(request.url);
  if (url.pathname !== CLOCK) return app(request, info);
  const at = url.searchParams.get('at');
  frozenAt = at === null ? null : Number(at);
  return new Response(null, { status: 204 });
};
const announce = (port: number) => console.log(`listening ${port}`);

if (runtime.Bun) announce(runtime.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch, ...(websocket ? { websocket } : {}) }).port);
else if (runtime.Deno) runtime.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => announce(port) }, fetch);
else throw new Error('run this under Bun or Deno');
