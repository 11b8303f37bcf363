// whoami-api (a plain fetch handler): token-only authentication, like Python's HubAuthenticated.
// Bun: `bun whoami-api.mjs`; Deno: `deno run -A --node-modules-dir=manual whoami-api.mjs`; Node: `node whoami-api.mjs`.
import { hubAuthenticated } from '@hubauth/web';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const service = hubAuthenticated((request, { hubUser }) => Response.json(hubUser), { oauth: false });

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10109');
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const listening = () => console.log(`whoami-api (web on ${runtime}) listening on ${hostname}:${port}${prefix}`);
if (globalThis.Bun) {
  Bun.serve({ hostname, port: Number(port), fetch: service });
  listening();
} else if (globalThis.Deno) Deno.serve({ hostname, port: Number(port), onListen: listening }, service);
else (await import('@hono/node-server')).serve({ hostname, port: Number(port), fetch: service }, listening);
