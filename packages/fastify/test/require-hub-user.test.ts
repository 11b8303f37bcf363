import Fastify, { type FastifyRequest } from 'fastify';
import { runRequireHubUser } from '../../../test/contract/require-hub-user';
import type { Assert, Equal } from '../../../test/contract/typing';
import { hubAuth, hubAuthenticated, requireHubUser, type HubUser } from '../src';

// Compile-time: behind a guard the caller is a HubUser, with no `!` or null check.
export type Checks = [
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  Assert<Equal<FastifyRequest['hubUser'], HubUser | null>>,
];
export function typeChecks(req: FastifyRequest): string {
  // @ts-expect-error without the helper the user may be null
  const unchecked: string = req.hubUser.name;
  void unchecked;
  return requireHubUser(req).name;
}

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
