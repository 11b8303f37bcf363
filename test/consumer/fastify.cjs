// A consumer's Fastify service (CommonJS), run by scripts/check-consumer.mjs against the fake Hub.
const Fastify = require('fastify');
const { hubAuth, hubAuthenticated, requireHubUser } = require('@hubauth/fastify');

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const app = Fastify();
app.register(hubAuth);
app.get(prefix, { preHandler: hubAuthenticated() }, async (request) => ({ name: requireHubUser(request).name, module: 'cjs' }));
app.get(`${prefix}staff`, { preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, async (request) => ({ name: requireHubUser(request).name }));
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
app.listen({ host: hostname, port: Number(port) }).then(() => console.log('listening'));
