// Fastify: the FastifyRequest augmentation, requireHubUser() narrowing, the plugin and its decorator.
import Fastify from 'fastify';
import { hubAuth, hubAuthenticated, requireHubUser, type FastifyHubAuth, type HubUser } from '@hubauth/fastify';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

export async function build() {
  const app = Fastify();
  await app.register(hubAuth, { oauth: false });
  expectType<Equal<typeof app.hubAuth, FastifyHubAuth>>();
  app.get('/', { preHandler: hubAuthenticated({ hubUsers: ['alice'] }) }, async (request) => {
    expectType<Equal<typeof request.hubUser, HubUser | null>>();
    const user = requireHubUser(request);
    expectType<Equal<typeof user, HubUser>>();
    // @ts-expect-error without requireHubUser() the caller may be null
    void request.hubUser.name;
    return { name: user.name, xsrf: request.xsrfToken };
  });
  return app;
}
