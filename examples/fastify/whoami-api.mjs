// whoami-api (Fastify): token-only authentication, like Python's HubAuthenticated.
import Fastify from 'fastify';
import { hubAuth, hubAuthenticated } from '@hubauth/fastify';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = Fastify();
await app.register(hubAuth, { oauth: false });
app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => request.hubUser);

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10105');
await app.listen({ host: hostname, port: Number(port) });
console.log(`whoami-api (fastify) listening on ${hostname}:${port}${prefix}`);
