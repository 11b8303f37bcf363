// A managed test service that acts for its caller through `hubAuth.api(...)`, in Express, Koa,
// Fastify or Hono on Node (`node actor-service.mjs <express|koa|fastify|hono>`), or on Bun in Hono or
// the Web adapter served by `Bun.serve` (`bun actor-service.mjs <hono|web>`):
//
//   GET    <prefix>              the caller (any caller with the service's access scope)
//   GET    <prefix>mine          the caller's own model (servers) and token ids, read with THEIR token
//   POST   <prefix>tokens        creates a token for the caller (xsrf-protected under cookie auth) → { id }
//   DELETE <prefix>tokens/<id>   revokes it → { status }
//   GET    <prefix>users/<name>/tokens   another user's tokens, as the caller: the Hub's answer is passed on
//   GET    <prefix>users         every user, as the caller (needs list:users, which callers here lack)
//   GET    <prefix>tls           which JUPYTERHUB_SSL_* variables and API URL the Hub gave this service
//   WS     <prefix>ws            a websocket: on connection, {"name": <caller>, "act": <name from hubAuth.api>}
//   GET    <prefix>leak          whether JSON or inspect of hubAuth (what a careless handler logs) shows the token
//   GET    <prefix>robots        the caller, guarded { hubServices: ['robot'], hubUsers: ['alice'] }
//
// Scopes asked for at login come from ACTOR_REQUEST_SCOPES (JSON list). It loads the BUILT packages.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';

const require = createRequire(new URL('../../../examples/package.json', import.meta.url));
const framework = process.argv[2];
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const options = {};
if (process.env.ACTOR_REQUEST_SCOPES) options.requestScopes = JSON.parse(process.env.ACTOR_REQUEST_SCOPES);
const mineGuard = { requireScopes: ['read:tokens!user'] };
const robotsGuard = { hubServices: ['robot'], hubUsers: ['alice'] };
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10108');
const listening = () => console.log(`actor-service (${framework}) listening on ${hostname}:${port}${prefix}`);

/** The handlers, framework-free: (hubAuth, params, body) → JSON. Errors carry the Hub's status. */
const actions = {
  async mine(hubAuth) {
    const me = hubAuth.user.name;
    const { body: model } = await hubAuth.api('GET', `/users/${encodeURIComponent(me)}`);
    const { body: tokens } = await hubAuth.api('GET', `/users/${encodeURIComponent(me)}/tokens`);
    return { name: me, servers: Object.keys(model.servers ?? {}), tokens: tokens.api_tokens.map((t) => t.id) };
  },
  async create(hubAuth) {
    const me = encodeURIComponent(hubAuth.user.name);
    const { status, body } = await hubAuth.api('POST', `/users/${me}/tokens`, { note: 'hubauth actor', expires_in: 600, scopes: ['read:users:name!user'] });
    return { status, id: body.id };
  },
  async revoke(hubAuth, id) {
    const me = encodeURIComponent(hubAuth.user.name);
    const { status } = await hubAuth.api('DELETE', `/users/${me}/tokens/${encodeURIComponent(id)}`);
    return { status };
  },
  async allUsers(hubAuth) {
    const { body } = await hubAuth.api('GET', '/users');
    return body;
  },
  async othersTokens(hubAuth, name) {
    const { body } = await hubAuth.api('GET', `/users/${encodeURIComponent(name)}/tokens`);
    return body;
  },
  tls() {
    const env = process.env;
    return {
      apiUrl: env.JUPYTERHUB_API_URL,
      keyfile: Boolean(env.JUPYTERHUB_SSL_KEYFILE),
      certfile: Boolean(env.JUPYTERHUB_SSL_CERTFILE),
      clientCa: Boolean(env.JUPYTERHUB_SSL_CLIENT_CA),
    };
  },
  leak(hubAuth) {
    const { token } = hubAuth;
    const json = JSON.stringify(hubAuth);
    const inspected = inspect(hubAuth, { depth: 4, showHidden: true });
    return { json, hasToken: typeof token === 'string' && token.length > 0, tokenInJson: json.includes(token), tokenInInspect: inspected.includes(token) };
  },
};

/** What the websocket sends on connection: who the caller is, and the Hub's answer to them. */
async function greeting(hubAuth) {
  const { body } = await hubAuth.api('GET', `/users/${encodeURIComponent(hubAuth.user.name)}`);
  return JSON.stringify({ name: hubAuth.user.name, act: body.name });
}

/** Express and Koa: upgrades reach the HTTP server; the middleware's upgrade() guards them. */
function serveWebsocket(server, auth) {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url, 'http://x').pathname !== `${prefix}ws`) return void socket.destroy();
    auth.upgrade(req, socket).then(async (caller) => {
      if (!caller) return;
      const text = await greeting(caller);
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(text));
    }, () => socket.destroy());
  });
}

/** The status a thrown error should produce (hubauth errors carry one). */
const statusOf = (err) => (typeof err?.status === 'number' ? err.status : 500);
const errorBody = (err) => ({ status: statusOf(err), code: err?.code, message: err?.expose ? err.message : 'error' });

if (framework === 'express') {
  const express = require('express');
  const { hubAuth, hubAuthenticated } = require('@hubauth/express');
  const app = express();
  app.set('trust proxy', 'loopback');
  const auth = hubAuth(options);
  app.use(auth);
  const run = (fn) => (req, res, next) => fn(req).then((out) => res.json(out), next);
  app.get(prefix, hubAuthenticated(), (req, res) => res.json(req.hubUser));
  app.get(`${prefix}mine`, hubAuthenticated(mineGuard), run((req) => actions.mine(req.hubAuth)));
  app.post(`${prefix}tokens`, hubAuthenticated(), run((req) => actions.create(req.hubAuth)));
  app.delete(`${prefix}tokens/:id`, hubAuthenticated(), run((req) => actions.revoke(req.hubAuth, req.params.id)));
  app.get(`${prefix}users/:name/tokens`, hubAuthenticated(), run((req) => actions.othersTokens(req.hubAuth, req.params.name)));
  app.get(`${prefix}users`, hubAuthenticated(), run((req) => actions.allUsers(req.hubAuth)));
  app.get(`${prefix}leak`, hubAuthenticated(), (req, res) => res.json(actions.leak(req.hubAuth)));
  app.get(`${prefix}tls`, hubAuthenticated(), (req, res) => res.json(actions.tls()));
  app.get(`${prefix}robots`, hubAuthenticated(robotsGuard), (req, res) => res.json(req.hubUser));
  app.use((err, req, res, _next) => res.status(statusOf(err)).json(errorBody(err)));
  serveWebsocket(app.listen(Number(port), hostname, listening), auth);
} else if (framework === 'koa') {
  const Koa = require('koa');
  const Router = require('@koa/router');
  const { hubAuth, hubAuthenticated } = require('@hubauth/koa');
  const app = new Koa();
  app.proxy = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = statusOf(err);
      ctx.body = errorBody(err);
    }
  });
  const router = new Router();
  router.get(prefix, hubAuthenticated(), (ctx) => {
    ctx.body = ctx.state.hubUser;
  });
  router.get(`${prefix}mine`, hubAuthenticated(mineGuard), async (ctx) => {
    ctx.body = await actions.mine(ctx.state.hubAuth);
  });
  router.post(`${prefix}tokens`, hubAuthenticated(), async (ctx) => {
    ctx.body = await actions.create(ctx.state.hubAuth);
  });
  router.delete(`${prefix}tokens/:id`, hubAuthenticated(), async (ctx) => {
    ctx.body = await actions.revoke(ctx.state.hubAuth, ctx.params.id);
  });
  router.get(`${prefix}users/:name/tokens`, hubAuthenticated(), async (ctx) => {
    ctx.body = await actions.othersTokens(ctx.state.hubAuth, ctx.params.name);
  });
  router.get(`${prefix}users`, hubAuthenticated(), async (ctx) => {
    ctx.body = await actions.allUsers(ctx.state.hubAuth);
  });
  router.get(`${prefix}leak`, hubAuthenticated(), (ctx) => {
    ctx.body = actions.leak(ctx.state.hubAuth);
  });
  router.get(`${prefix}robots`, hubAuthenticated(robotsGuard), (ctx) => {
    ctx.body = ctx.state.hubUser;
  });
  const auth = hubAuth(options);
  app.use(auth).use(router.routes());
  serveWebsocket(app.listen(Number(port), hostname, listening), auth);
} else if (framework === 'fastify') {
  const Fastify = require('fastify');
  const { hubAuth, hubAuthenticated } = require('@hubauth/fastify');
  const app = Fastify({ trustProxy: '127.0.0.1' });
  app.setErrorHandler((err, _request, reply) => reply.status(statusOf(err)).send(errorBody(err)));
  await app.register(require('@fastify/websocket'));
  await app.register(hubAuth, options);
  // @fastify/websocket routes an upgrade like any request: the plugin's hook and the guard run first.
  app.get(`${prefix}ws`, { websocket: true, preHandler: hubAuthenticated() }, (socket, request) => {
    greeting(request.hubAuth).then((text) => socket.send(text), () => socket.close(1011));
  });
  app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => request.hubUser);
  app.get(`${prefix}mine`, { preHandler: hubAuthenticated(mineGuard) }, (request) => actions.mine(request.hubAuth));
  app.post(`${prefix}tokens`, { preHandler: hubAuthenticated() }, (request) => actions.create(request.hubAuth));
  app.delete(`${prefix}tokens/:id`, { preHandler: hubAuthenticated() }, (request) => actions.revoke(request.hubAuth, request.params.id));
  app.get(`${prefix}users/:name/tokens`, { preHandler: hubAuthenticated() }, (request) => actions.othersTokens(request.hubAuth, request.params.name));
  app.get(`${prefix}users`, { preHandler: hubAuthenticated() }, (request) => actions.allUsers(request.hubAuth));
  app.get(`${prefix}leak`, { preHandler: hubAuthenticated() }, async (request) => actions.leak(request.hubAuth));
  app.get(`${prefix}robots`, { preHandler: hubAuthenticated(robotsGuard) }, async (request) => request.hubUser);
  await app.listen({ host: hostname, port: Number(port) });
  listening();
} else if (framework === 'hono') {
  const { Hono } = require('hono');
  // Node: @hono/node-server's websocket support (a `ws` server given to serve()); Bun: hono/bun.
  const { upgradeWebSocket } = globalThis.Bun ? require('hono/bun') : require('@hono/node-server');
  const { hubAuth, hubAuthenticated } = require('@hubauth/hono');
  const app = new Hono();
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  app.use(hubAuth({ ...options, trustProxy: true }));
  // An upgrade is routed like any request: the guard answers 401/403/503 before upgradeWebSocket runs.
  app.get(
    `${prefix}ws`,
    hubAuthenticated(),
    upgradeWebSocket((c) => {
      const caller = c.get('hubAuth');
      return { onOpen: (_event, ws) => void greeting(caller).then((text) => ws.send(text), () => ws.close(1011)) };
    }),
  );
  app.get(prefix, hubAuthenticated(), (c) => c.json(c.get('hubUser')));
  app.get(`${prefix}mine`, hubAuthenticated(mineGuard), async (c) => c.json(await actions.mine(c.get('hubAuth'))));
  app.post(`${prefix}tokens`, hubAuthenticated(), async (c) => c.json(await actions.create(c.get('hubAuth'))));
  app.delete(`${prefix}tokens/:id`, hubAuthenticated(), async (c) => c.json(await actions.revoke(c.get('hubAuth'), c.req.param('id'))));
  app.get(`${prefix}users/:name/tokens`, hubAuthenticated(), async (c) => c.json(await actions.othersTokens(c.get('hubAuth'), c.req.param('name'))));
  app.get(`${prefix}users`, hubAuthenticated(), async (c) => c.json(await actions.allUsers(c.get('hubAuth'))));
  app.get(`${prefix}leak`, hubAuthenticated(), (c) => c.json(actions.leak(c.get('hubAuth'))));
  app.get(`${prefix}robots`, hubAuthenticated(robotsGuard), (c) => c.json(c.get('hubUser')));
  if (globalThis.Bun) {
    Bun.serve({ hostname, port: Number(port), fetch: app.fetch, websocket: require('hono/bun').websocket });
    listening();
  } else {
    const { WebSocketServer } = require('ws');
    require('@hono/node-server').serve({ fetch: app.fetch, hostname, port: Number(port), websocket: { server: new WebSocketServer({ noServer: true }) } }, listening);
  }
} else if (framework === 'web' && globalThis.Bun) {
  const { hubAuth } = require('@hubauth/web');
  const hub = hubAuth({ ...options, trustProxy: true });
  const json = (out) => Response.json(out);
  const fail = (err) => Response.json(errorBody(err), { status: statusOf(err) });
  /** `[method, path pattern, action(context, request, ...captures)]`; `:x` captures a path segment. */
  const routes = [
    ['GET', '', ({ hubUser }) => json(hubUser)],
    ['GET', 'mine', ({ hubAuth: caller }) => actions.mine(caller).then(json)],
    ['POST', 'tokens', ({ hubAuth: caller }) => actions.create(caller).then(json)],
    ['DELETE', 'tokens/:id', ({ hubAuth: caller }, _, id) => actions.revoke(caller, id).then(json)],
    ['GET', 'users/:name/tokens', ({ hubAuth: caller }, _, name) => actions.othersTokens(caller, name).then(json)],
    ['GET', 'users', ({ hubAuth: caller }) => actions.allUsers(caller).then(json)],
    ['GET', 'leak', ({ hubAuth: caller }) => json(actions.leak(caller))],
    ['GET', 'robots', ({ hubUser }) => json(hubUser)],
    // Bun upgrades inside the fetch handler, after the guard let the caller through; the socket
    // carries the caller as its data. A refusal (401/403/503) is the guard's plain response.
    ['GET', 'ws', ({ hubAuth: caller, env: server }, request) =>
      server.upgrade(request, { data: { caller } }) ? new Response(null) : new Response('websocket upgrade expected', { status: 400 })],
  ].map(([method, pattern, action]) => [method, new RegExp(`^${prefix}${pattern.replace(/:\w+/g, '([^/]+)')}$`), action]);
  const handler = (request, context) => {
    const { pathname } = new URL(request.url);
    for (const [method, re, action] of routes) {
      const match = request.method === method && re.exec(pathname);
      if (match) {
        try {
          return Promise.resolve(action(context, request, ...match.slice(1).map(decodeURIComponent))).catch(fail);
        } catch (err) {
          return fail(err);
        }
      }
    }
    return new Response('Not Found', { status: 404 });
  };
  const guarded = hub.protect(handler);
  const guards = { [`${prefix}mine`]: hub.protect(handler, mineGuard), [`${prefix}robots`]: hub.protect(handler, robotsGuard) };
  Bun.serve({
    hostname,
    port: Number(port),
    fetch: (request, server) => (guards[new URL(request.url).pathname] ?? guarded)(request, server),
    websocket: {
      open(ws) {
        greeting(ws.data.caller).then((text) => ws.send(text), () => ws.close(1011));
      },
      message() {},
    },
  });
  listening();
} else {
  console.error(`usage: node actor-service.mjs express|koa|fastify|hono, bun actor-service.mjs hono|web (got ${String(framework)})`);
  process.exit(2);
}
