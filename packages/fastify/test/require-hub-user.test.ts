import Fastify from 'fastify';
import { runRequireHubUser } from '../../../test/contract/require-hub-user';
import { hubAuth, hubAuthenticated, requireHubUser } from '../src';

// The types (requireHubUser gives a HubUser) are checked in types-usage.ts, on Fastify 5 and 4.

runRequireHubUser('Fastify', async (options) => {
  const app = Fastify();
  await app.register(hubAuth, options);
  app.get('/guarded', { preHandler: hubAuthenticated() }, async (req) => ({ name: requireHubUser(req).name }));
  app.get('/unguarded', async (req) => ({ name: requireHubUser(req).name }));
  app.setErrorHandler((err: Error & { code?: string; status?: number }, _req, reply) => {
    void reply.code(err.status ?? 500).send({ name: err.name, code: err.code, message: err.message });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { server: app.server, close: () => app.close() };
});
