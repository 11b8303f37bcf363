// whoami-oauth (Fastify): browser login through the Hub, like Python's HubOAuthenticated.
import Fastify from 'fastify';
import { hubAuth, hubAuthenticated } from '@hubauth/fastify';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = Fastify({ trustProxy: '127.0.0.1' }); // JupyterHub's proxy forwards the browser's protocol
await app.register(hubAuth);
app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => request.hubUser);
app.post(`${prefix}echo`, { preHandler: hubAuthenticated() }, async (request) => ({ ok: true, name: request.hubUser?.name }));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10106');
await app.listen({ host: hostname, port: Number(port) });
console.log(`whoami-oauth (fastify) listening on ${hostname}:${port}${prefix}`);
