/**
 * Compile-time checks of the public types. Never run: `types.test.ts` type-checks this file against
 * Fastify 5 (the workspace's `fastify`) and against Fastify 4's own declarations.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import type { Assert, Equal } from '../../../test/contract/typing';
import defaultExport, { HubAuth, hubAuth, hubAuthenticated, requireHubUser, type FastifyHubAuth, type HubAuthGuard, type HubAuthMiddlewareOptions, type HubUser } from '../src';

export type Checks = [
  Assert<Equal<FastifyRequest['hubUser'], HubUser | null>>,
  Assert<Equal<FastifyRequest['xsrfToken'], string | null>>,
  Assert<Equal<FastifyInstance['hubAuth'], FastifyHubAuth>>,
  Assert<Equal<FastifyHubAuth['auth'], HubAuth>>,
  Assert<Equal<typeof hubAuth, FastifyPluginAsync<HubAuthMiddlewareOptions>>>,
  Assert<Equal<typeof defaultExport, typeof hubAuth>>,
  Assert<Equal<ReturnType<typeof hubAuthenticated>, HubAuthGuard>>,
  // Behind a guard the caller is a HubUser, with no `!` or null check.
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  // Fields the Hub may send are kept, typed unknown unless `HubUser` is augmented.
  Assert<Equal<HubUser['fieldNoTestAugments'], unknown>>,
];

export async function usage(): Promise<void> {
  const app = Fastify();
  await app.register(hubAuth);
  await app.register(hubAuth, { oauth: false, errors: 'throw', accessScopes: ['access:services'], cacheMaxAge: 60 });
  await app.register(defaultExport, { instance: new HubAuth() });
  // @ts-expect-error errors is 'respond' or 'throw'
  await app.register(hubAuth, { errors: 'ignore' });
  // @ts-expect-error oauth is a boolean
  await app.register(hubAuth, { oauth: 'yes' });
  // @ts-expect-error instance must be a HubAuth
  await app.register(hubAuth, { instance: {} });

  app.get('/', { preHandler: hubAuthenticated() }, async (request) => {
    // @ts-expect-error hubUser may be null
    const name: string = request.hubUser.name;
    const user: HubUser | null = request.hubUser;
    const scopes: readonly string[] = request.hubUser?.scopes ?? [];
    return { name, user, scopes, xsrf: request.xsrfToken, oauth: app.hubAuth.auth.oauthEnabled };
  });
  app.get('/me', { preHandler: hubAuthenticated() }, async (request) => {
    const user: HubUser = requireHubUser(request);
    return { name: user.name, groups: user.groups };
  });
  // Typed routes, hook arrays, scope-wide hooks and other hook slots accept the guard.
  app.get<{ Querystring: { q: string } }>('/q', { preHandler: [hubAuthenticated({ scopes: ['custom:reports'] })] }, async (request) => request.query.q);
  app.post<{ Body: { a: number } }>('/b', { preValidation: hubAuthenticated() }, async (request) => request.body.a);
  app.addHook('preHandler', hubAuthenticated({ hubUsers: ['alice'], hubGroups: ['staff'], allowServices: false, errors: 'throw' }));

  // @ts-expect-error onUnauthenticated is 'auto', 'login' or 'reject'
  hubAuthenticated({ onUnauthenticated: 'never' });
  // @ts-expect-error hubUsers is a list
  hubAuthenticated({ hubUsers: 'alice' });
  // @ts-expect-error errors is 'respond' or 'throw'
  hubAuthenticated({ errors: 'next' });
  // @ts-expect-error the decoration is read-only
  app.hubAuth.auth = new HubAuth();
}
