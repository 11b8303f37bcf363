// The apps under test, one per framework, bare, noop or guarded, built without listening: the
// bench's server process (node-whoami.mjs) serves them on a port, the in-process measurement
// (bench/inprocess.mjs) calls them directly. Both read the same `JUPYTERHUB_*` environment.
//
// Modes:
//   bare     no hubauth at all
//   guarded  hubAuth() for every request, hubAuthenticated() on the routes
//   noop     the guarded app's shape with middleware that does nothing, to tell the framework's
//            cost from hubauth's
//
// Routes under `prefix`:
//   ok      {"ok":true}           bare, or guarded: the same body, so guarded/bare isolates auth
//   ''      the caller's model    guarded only: the whoami of the examples (full user model)
//   health  {"ok":true}           never guarded (readiness)
// The packages are the built ones (dist), resolved from examples/ like the example services.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/package.json', import.meta.url));

export const MODES = ['bare', 'guarded', 'noop'];
const OK = { ok: true };
// a user model of the usual size, for the noop mode's whoami route
const NOBODY = Object.freeze({ kind: 'user', name: 'bench', admin: false, groups: ['bench-group'], scopes: ['access:services'], session_id: null, token_id: 'a1', user_info: null });

/** Express: returns the app, a Node request listener. */
export function express(mode, prefix, authOptions) {
  const app = require('express')();
  if (mode === 'guarded') {
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
  return app;
}

/** Koa with @koa/router: returns the Koa app (`app.callback()` is the Node request listener). */
export function koa(mode, prefix, authOptions) {
  const Koa = require('koa');
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new Router();
  if (mode === 'guarded') {
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
  return app;
}

/** Fastify: returns the instance, plugins registered (`await app.ready()` before use). */
export async function fastify(mode, prefix, authOptions) {
  const app = require('fastify')();
  if (mode === 'guarded') {
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
  return app;
}

/** Hono: returns the app (`app.fetch` is the fetch handler). */
export function hono(mode, prefix, authOptions) {
  const { Hono } = require('hono');
  const app = new Hono();
  if (mode === 'guarded') {
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
  return app;
}

/** `@hubauth/web`: returns a fetch handler `(request, env?) => Response | Promise<Response>`. */
export function web(mode, prefix, authOptions) {
  const routes = new Map();
  if (mode === 'guarded') {
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
  return (request, env) => {
    const url = request.url;
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2)).split('?')[0];
    return (routes.get(path) ?? notFound)(request, env);
  };
}

/** Builds one framework's app; throws on an unknown framework or mode. */
export async function buildApp(framework, mode, prefix, authOptions) {
  const build = { express, koa, fastify, hono, web }[framework];
  if (!build) throw new Error(`framework must be express, koa, fastify, hono or web, not ${framework}`);
  if (!MODES.includes(mode)) throw new Error(`mode must be ${MODES.join(', ')}, not ${mode}`);
  return build(mode, prefix, authOptions);
}
