// The server under test: one framework, bare or guarded, started by bench/run.mjs as a child
// process with the environment JupyterHub gives a managed service. Node, except `web`, which runs
// under whatever runtime started it (Bun.serve, Deno.serve, or @hono/node-server on Node).
//
//   BENCH_FRAMEWORK  express | koa | fastify | hono | web
//   BENCH_MODE       bare     (no hubauth at all)
//                    guarded  (hubAuth() for every request, hubAuthenticated() on the routes)
//                    noop     (for bench/profile.mjs: the same shape as guarded, with middleware
//                              that does nothing, to tell the framework's cost from hubauth's)
//   BENCH_AUTH_OPTS  JSON options for hubAuth() (cacheMaxAge, maxConcurrentLookups, ...)
//
// Routes under $JUPYTERHUB_SERVICE_PREFIX:
//   ok      {"ok":true}           bare, or guarded: the same body, so guarded/bare isolates auth
//   ''      the caller's model    guarded only: the whoami of the examples (full user model)
//   health  {"ok":true}           never guarded (readiness)
// The packages are the built ones (dist), resolved from examples/ like the example services.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/package.json', import.meta.url));
const framework = process.env.BENCH_FRAMEWORK;
const mode = process.env.BENCH_MODE ?? 'guarded';
const authOptions = { oauth: false, ...JSON.parse(process.env.BENCH_AUTH_OPTS || '{}') };
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');
const guarded = mode === 'guarded';
if (!['bare', 'guarded', 'noop'].includes(mode)) throw new Error(`BENCH_MODE must be bare, guarded or noop, not ${mode}`);

const OK = { ok: true };
// a user model of the usual size, for the noop mode's whoami route
const NOBODY = Object.freeze({ kind: 'user', name: 'bench', admin: false, groups: ['bench-group'], scopes: ['access:services'], session_id: null, token_id: 'a1', user_info: null });

async function express() {
  const createApp = require('express');
  const app = createApp();
  if (guarded) {
    const { hubAuth, hubAuthenticated } = require('@hubauth/express');
    app.use(hubAuth(authOptions));
    app.get(`${prefix}ok`, hubAuthenticated(), (req, res) => res.json(OK));
    app.get(prefix, hubAuthenticated(), (req, res) => res.json(req.hubUser));
  } else if (mode === 'noop') {
    // hubAuth() is an async step (a promise) per request, the guard a plain function
    app.use((req, res, next) => {
      Promise.resolve(NOBODY).then(() => next(), next);
    });
    const guard = (req, res, next) => next();
    app.get(`${prefix}ok`, guard, (req, res) => res.json(OK));
    app.get(prefix, guard, (req, res) => res.json(NOBODY));
  } else {
    app.get(`${prefix}ok`, (req, res) => res.json(OK));
  }
  app.get(`${prefix}health`, (req, res) => res.json(OK));
  await new Promise((resolve) => app.listen(Number(port), hostname, resolve));
}

async function koa() {
  const Koa = require('koa');
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new Router();
  if (guarded) {
    const { hubAuth, hubAuthenticated } = require('@hubauth/koa');
    router.get(`${prefix}ok`, hubAuthenticated(), (ctx) => {
      ctx.body = OK;
    });
    router.get(prefix, hubAuthenticated(), (ctx) => {
      ctx.body = ctx.state.hubUser;
    });
    app.use(hubAuth(authOptions));
  } else if (mode === 'noop') {
    const guard = async (ctx, next) => {
      await next();
    };
    router.get(`${prefix}ok`, guard, (ctx) => {
      ctx.body = OK;
    });
    router.get(prefix, guard, (ctx) => {
      ctx.body = NOBODY;
    });
    app.use(async (ctx, next) => {
      await Promise.resolve(NOBODY);
      await next();
    });
  } else {
    router.get(`${prefix}ok`, (ctx) => {
      ctx.body = OK;
    });
  }
  router.get(`${prefix}health`, (ctx) => {
    ctx.body = OK;
  });
  app.use(router.routes());
  await new Promise((resolve) => app.listen(Number(port), hostname, resolve));
}

async function fastify() {
  const Fastify = require('fastify');
  const app = Fastify();
  if (guarded) {
    const { hubAuth, hubAuthenticated } = require('@hubauth/fastify');
    await app.register(hubAuth, authOptions);
    app.get(`${prefix}ok`, { preHandler: hubAuthenticated() }, async () => OK);
    app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => request.hubUser);
  } else if (mode === 'noop') {
    app.addHook('preValidation', async () => undefined);
    const guard = async () => undefined;
    app.get(`${prefix}ok`, { preHandler: guard }, async () => OK);
    app.get(prefix, { preHandler: guard }, async () => NOBODY);
  } else {
    app.get(`${prefix}ok`, async () => OK);
  }
  app.get(`${prefix}health`, async () => OK);
  await app.listen({ host: hostname, port: Number(port) });
}

/** Serves a fetch handler on the runtime this process runs on. */
async function serveFetch(fetch) {
  if (globalThis.Bun) Bun.serve({ hostname, port: Number(port), fetch });
  else if (globalThis.Deno) await new Promise((resolve) => Deno.serve({ hostname, port: Number(port), onListen: resolve }, fetch));
  else await new Promise((resolve) => require('@hono/node-server').serve({ hostname, port: Number(port), fetch }, resolve));
}

async function hono() {
  const { Hono } = require('hono');
  const app = new Hono();
  if (guarded) {
    const { hubAuth, hubAuthenticated } = require('@hubauth/hono');
    app.use(hubAuth(authOptions));
    app.get(`${prefix}ok`, hubAuthenticated(), (c) => c.json(OK));
    app.get(prefix, hubAuthenticated(), (c) => c.json(c.get('hubUser')));
  } else if (mode === 'noop') {
    app.use(async (c, next) => {
      await Promise.resolve(NOBODY);
      await next();
    });
    const guard = async (c, next) => next();
    app.get(`${prefix}ok`, guard, (c) => c.json(OK));
    app.get(prefix, guard, (c) => c.json(NOBODY));
  } else {
    app.get(`${prefix}ok`, (c) => c.json(OK));
  }
  app.get(`${prefix}health`, (c) => c.json(OK));
  await serveFetch(app.fetch);
}

async function web() {
  const routes = new Map();
  if (guarded) {
    const { hubAuth } = require('@hubauth/web');
    const hub = hubAuth(authOptions);
    routes.set(`${prefix}ok`, hub.protect(() => Response.json(OK)));
    routes.set(prefix, hub.protect((request, { hubUser }) => Response.json(hubUser)));
  } else if (mode === 'noop') {
    routes.set(`${prefix}ok`, async () => (await Promise.resolve(NOBODY), Response.json(OK)));
    routes.set(prefix, async () => Response.json(await Promise.resolve(NOBODY)));
  } else {
    routes.set(`${prefix}ok`, () => Response.json(OK));
  }
  routes.set(`${prefix}health`, () => Response.json(OK));
  const notFound = () => new Response('Not Found', { status: 404 });
  // The route is found the same way, bare or guarded: from the request URL's path.
  await serveFetch((request, env) => {
    const url = request.url;
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2)).split('?')[0];
    return (routes.get(path) ?? notFound)(request, env);
  });
}

const start = { express, koa, fastify, hono, web }[framework];
if (!start) throw new Error(`BENCH_FRAMEWORK must be express, koa, fastify, hono or web, not ${framework}`);
await start();
console.log(`${framework} (${mode}) listening on ${hostname}:${port}${prefix}`);
if (!globalThis.Deno) process.on('SIGTERM', () => process.exit(0));
