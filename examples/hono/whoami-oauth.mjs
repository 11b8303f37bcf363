// whoami-oauth (Hono): browser login through the Hub, like Python's HubOAuthenticated.
// Node: `node whoami-oauth.mjs`; Bun: `bun whoami-oauth.mjs`; Deno: `deno run -A --node-modules-dir=manual whoami-oauth.mjs`.
import { Hono } from 'hono';
import { hubAuth, hubAuthenticated } from '@hubauth/hono';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = new Hono();
app.use(hubAuth({ trustProxy: true })); // JupyterHub's proxy forwards the browser's protocol
app.get(prefix, hubAuthenticated(), (c) => c.json(c.get('hubUser')));
app.post(`${prefix}echo`, hubAuthenticated(), (c) => c.json({ ok: true, name: c.get('hubUser')?.name }));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10112');
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const listening = () => console.log(`whoami-oauth (hono on ${runtime}) listening on ${hostname}:${port}${prefix}`);
if (globalThis.Bun) {
  Bun.serve({ hostname, port: Number(port), fetch: app.fetch });
  listening();
} else if (globalThis.Deno) Deno.serve({ hostname, port: Number(port), onListen: listening }, app.fetch);
else (await import('@hono/node-server')).serve({ hostname, port: Number(port), fetch: app.fetch }, listening);
