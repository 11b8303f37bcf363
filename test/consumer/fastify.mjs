// A consumer's Fastify service (ESM), run by scripts/check-consumer.mjs against the fake Hub.
import Fastify from 'fastify';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/fastify';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const app = Fastify();
await app.register(hubAuth);
app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => ({ name: requireHubUser(request).name, module: 'esm' }));
app.get(`${prefix}staff`, { preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, async (request) => ({ name: requireHubUser(request).name }));
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
await app.listen({ host: hostname, port: Number(port) });
console.log('listening');
