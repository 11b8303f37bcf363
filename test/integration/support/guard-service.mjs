// A managed test service for the real-Hub integration tests, in Express, Koa, Fastify or Hono on Node
// (`node guard-service.mjs <express|koa|fastify|hono>`), or a plain fetch handler of @hubauth/web on
// Bun (`bun guard-service.mjs web`), built like the examples but with access guards:
//
//   <prefix>         any caller with the service's access scopes
//   <prefix>admins   hubUsers  (GUARD_HUB_USERS, comma-separated, default "alice")
//   <prefix>staff    hubGroups (GUARD_HUB_GROUPS, default "staff")
//   <prefix>custom   scopes    (GUARD_SCOPES, default "custom:hubauth:read"), instead of the access scopes
//
// Browser login is on (JUPYTERHUB_CLIENT_ID); the identity cache lives HUBAUTH_TEST_CACHE_MAX_AGE
// seconds (default: the library's default), so that logout and revocation show up quickly.
//
// It loads the BUILT packages and the frameworks the examples use (examples/node_modules).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../../examples/package.json', import.meta.url));
const framework = process.argv[2];
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const list = (value, fallback) => (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const policies = {
  '': {},
  admins: { hubUsers: list(process.env.GUARD_HUB_USERS, 'alice') },
  staff: { hubGroups: list(process.env.GUARD_HUB_GROUPS, 'staff') },
  custom: { scopes: list(process.env.GUARD_SCOPES, 'custom:hubauth:read') },
};
const options = {};
if (process.env.HUBAUTH_TEST_CACHE_MAX_AGE) options.cacheMaxAge = Number(process.env.HUBAUTH_TEST_CACHE_MAX_AGE);
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10107');
const listening = () => console.log(`guard-service (${framework}) listening on ${hostname}:${port}${prefix}`);

if (framework === 'express') {
  const express = require('express');
  const { hubAuth, hubAuthenticated } = require('@hubauth/express');
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(hubAuth(options));
  for (const [route, policy] of Object.entries(policies)) {
    app.get(`${prefix}${route}`, hubAuthenticated(policy), (req, res) => res.json({ route, user: req.hubUser }));
  }
  app.listen(Number(port), hostname, listening);
} else if (framework === 'koa') {
  const Koa = require('koa');
  const Router = require('@koa/router');
  const { hubAuth, hubAuthenticated } = require('@hubauth/koa');
  const app = new Koa();
  app.proxy = true;
  const router = new Router();
  for (const [route, policy] of Object.entries(policies)) {
    router.get(`${prefix}${route}`, hubAuthenticated(policy), (ctx) => {
      ctx.body = { route, user: ctx.state.hubUser };
    });
  }
  app.use(hubAuth(options)).use(router.routes());
  app.listen(Number(port), hostname, listening);
} else if (framework === 'fastify') {
  const Fastify = require('fastify');
  const { hubAuth, hubAuthenticated } = require('@hubauth/fastify');
  const app = Fastify({ trustProxy: '127.0.0.1' });
  await app.register(hubAuth, options);
  for (const [route, policy] of Object.entries(policies)) {
    app.get(`${prefix}${route}`, { preHandler: hubAuthenticated(policy) }, async (request) => ({ route, user: request.hubUser }));
  }
  await app.listen({ host: hostname, port: Number(port) });
  listening();
} else if (framework === 'hono') {
  const { Hono } = require('hono');
  const { serve } = require('@hono/node-server');
  const { hubAuth, hubAuthenticated } = require('@hubauth/hono');
  const app = new Hono();
  app.use(hubAuth({ ...options, trustProxy: true }));
  for (const [route, policy] of Object.entries(policies)) {
    app.get(`${prefix}${route}`, hubAuthenticated(policy), (c) => c.json({ route, user: c.get('hubUser') }));
  }
  serve({ fetch: app.fetch, hostname, port: Number(port) }, listening);
} else if (framework === 'web' && globalThis.Bun) {
  const { hubAuth } = require('@hubauth/web');
  const hub = hubAuth({ ...options, trustProxy: true });
  const routes = new Map(Object.entries(policies).map(([route, policy]) => [
    `${prefix}${route}`,
    hub.protect((request, { hubUser }) => Response.json({ route, user: hubUser }), policy),
  ]));
  Bun.serve({ hostname, port: Number(port), fetch: (request, server) => (routes.get(new URL(request.url).pathname) ?? hub.routes)(request, server) });
  listening();
} else {
  console.error(`usage: node guard-service.mjs express|koa|fastify|hono, or bun guard-service.mjs web (got ${String(framework)})`);
  process.exit(2);
}
