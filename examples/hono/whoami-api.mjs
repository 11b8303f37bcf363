// whoami-api (Hono): token-only authentication, like Python's HubAuthenticated.
// Node: `node whoami-api.mjs`; Bun: `bun whoami-api.mjs`; Deno: `deno run -A --node-modules-dir=manual whoami-api.mjs`.
import { Hono } from 'hono';
import { hubAuth, hubAuthenticated } from '@hubauth/hono';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = new Hono();
app.use(hubAuth({ oauth: false }));
app.get(prefix, hubAuthenticated(), (c) => c.json(c.get('hubUser')));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10111');
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const listening = () => console.log(`whoami-api (hono on ${runtime}) listening on ${hostname}:${port}${prefix}`);
if (globalThis.Bun) {
  Bun.serve({ hostname, port: Number(port), fetch: app.fetch });
  listening();
} else if (globalThis.Deno) Deno.serve({ hostname, port: Number(port), onListen: listening }, app.fetch);
else (await import('@hono/node-server')).serve({ hostname, port: Number(port), fetch: app.fetch }, listening);
