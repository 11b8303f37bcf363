// The server under test: one framework, bare or guarded (apps.mjs), started by bench/run.mjs as a
// child process with the environment JupyterHub gives a managed service. Node, except `web` and
// `hono`, which run under whatever runtime started them (Bun.serve, Deno.serve, or
// @hono/node-server on Node).
//
//   BENCH_FRAMEWORK  express | koa | fastify | hono | web
//   BENCH_MODE       bare | guarded | noop (see apps.mjs)
//   BENCH_AUTH_OPTS  JSON options for hubAuth() (cacheMaxAge, maxConcurrentLookups, ...)
import { createRequire } from 'node:module';
import { buildApp } from './apps.mjs';

const require = createRequire(new URL('../../examples/package.json', import.meta.url));
const framework = process.env.BENCH_FRAMEWORK;
const mode = process.env.BENCH_MODE ?? 'guarded';
const authOptions = { oauth: false, ...JSON.parse(process.env.BENCH_AUTH_OPTS || '{}') };
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');

/** Serves a fetch handler on the runtime this process runs on. */
async function serveFetch(fetch) {
  if (globalThis.Bun) Bun.serve({ hostname, port: Number(port), fetch });
  else if (globalThis.Deno) await new Promise((resolve) => Deno.serve({ hostname, port: Number(port), onListen: resolve }, fetch));
  else await new Promise((resolve) => require('@hono/node-server').serve({ hostname, port: Number(port), fetch }, resolve));
}

const listenNode = (listener) => new Promise((resolve) => require('node:http').createServer(listener).listen(Number(port), hostname, resolve));

const app = await buildApp(framework, mode, prefix, authOptions);
if (framework === 'express') await listenNode(app);
else if (framework === 'koa') await listenNode(app.callback());
else if (framework === 'fastify') await app.listen({ host: hostname, port: Number(port) });
else if (framework === 'hono') await serveFetch(app.fetch);
else await serveFetch(app);
console.log(`${framework} (${mode}) listening on ${hostname}:${port}${prefix}`);
if (!globalThis.Deno) process.on('SIGTERM', () => process.exit(0));
