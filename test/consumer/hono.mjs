// A consumer's Hono service on Node (ESM), run by scripts/check-consumer.mjs against the fake Hub.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { hubAuth, hubAuthenticated } from '@hubauth/hono';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const app = new Hono();
app.use(hubAuth());
app.get(prefix, hubAuthenticated(), (c) => c.json({ name: c.get('hubUser').name, module: 'esm' }));
app.get(`${prefix}staff`, hubAuthenticated({ hubGroups: ['staff'] }), (c) => c.json({ name: c.get('hubUser').name }));
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
serve({ fetch: app.fetch, hostname, port: Number(port) }, () => console.log('listening'));
