// The external service of express.mjs, as a Web-standard fetch handler (@hubauth/web): the same
// file runs on Node (through @hono/node-server), Bun and Deno.
//
//   bash launch-service.sh web       then visit http://127.0.0.1:5555/
//   (Bun: bun web.mjs; Deno: deno run -A --node-modules-dir=manual web.mjs, with the same environment)
import { hubAuthenticated } from '@hubauth/web';

// Serves /oauth_callback and /logout; a browser without a login goes to the Hub and comes back here,
// to the page it asked for.
const service = hubAuthenticated((request, { hubUser }) => {
  const { pathname, search } = new URL(request.url);
  return pathname === '/' ? Response.json(hubUser) : Response.json({ page: pathname + search, user: hubUser.name });
});

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:5555');
const listening = () => console.log(`external-oauth (web) on http://${hostname}:${port}/`);
if (globalThis.Bun) {
  globalThis.Bun.serve({ hostname, port: Number(port), fetch: service });
  listening();
} else if (globalThis.Deno) {
  globalThis.Deno.serve({ hostname, port: Number(port), onListen: listening }, service);
} else {
  const { serve } = await import('@hono/node-server');
  serve({ fetch: service, hostname, port: Number(port) }, listening);
}
