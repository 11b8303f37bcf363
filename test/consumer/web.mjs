// A consumer's fetch-handler service on Node (ESM), run by scripts/check-consumer.mjs against the fake Hub.
import { serve } from '@hono/node-server';
import { hubAuth } from '@hubauth/web';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const hub = hubAuth();
const routes = {
  [prefix]: hub.protect((request, { hubUser }) => Response.json({ name: hubUser.name, module: 'esm' })),
  [`${prefix}staff`]: hub.protect((request, { hubUser }) => Response.json({ name: hubUser.name }), { hubGroups: ['staff'] }),
};
const fetch = (request) => (routes[new URL(request.url).pathname] ?? hub.routes)(request);
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
serve({ fetch, hostname, port: Number(port) }, () => console.log('listening'));
