// whoami-oauth (a plain fetch handler): browser login through the Hub, like Python's HubOAuthenticated.
// Bun: `bun whoami-oauth.mjs`; Deno: `deno run -A --node-modules-dir=manual whoami-oauth.mjs`; Node: `node whoami-oauth.mjs`.
import { hubAuthenticated } from '@hubauth/web';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const service = hubAuthenticated(
  (request, { hubUser }) => {
    const { pathname } = new URL(request.url);
    if (request.method === 'POST' && pathname === `${prefix}echo`) return Response.json({ ok: true, name: hubUser.name });
    return Response.json(hubUser);
  },
  { trustProxy: true }, // JupyterHub's proxy forwards the browser's protocol
);

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10110');
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const listening = () => console.log(`whoami-oauth (web on ${runtime}) listening on ${hostname}:${port}${prefix}`);
if (globalThis.Bun) {
  Bun.serve({ hostname, port: Number(port), fetch: service });
  listening();
} else if (globalThis.Deno) Deno.serve({ hostname, port: Number(port), onListen: listening }, service);
else (await import('@hono/node-server')).serve({ hostname, port: Number(port), fetch: service }, listening);
