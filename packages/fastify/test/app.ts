import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import Fastify4 from 'fastify4';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddlewareOptions } from '../src';
import { PREFIX, teamPolicy, type ContractApp, type ContractAppFactory } from '../../../test/contract/types';

/** `fastify()` of either major. Fastify 4 is typed through Fastify 5's types, where our augmentation lives. */
export type FastifyFactory = typeof Fastify;

export const MAJORS: ReadonlyArray<readonly [string, FastifyFactory]> = [
  ['fastify 5', Fastify],
  ['fastify 4', Fastify4 as unknown as FastifyFactory],
];

/** Listens on 127.0.0.1 (any port) and wraps the app as a {@link ContractApp}. */
export async function listen(app: FastifyInstance, team: ContractApp['team'] = teamPolicy()): Promise<ContractApp> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { server: app.server, team, close: () => app.close() };
}

/** Builds the contract app on a given Fastify major. */
export function makeApp(fastify: FastifyFactory): ContractAppFactory {
  return async (options: HubAuthMiddlewareOptions): Promise<ContractApp> => {
    const app = fastify({ forceCloseConnections: true });
    await app.register(hubAuth, options);
    // Guarded handlers read the caller as users are told to: typed as present, no `!` or check.
    const me = async (request: FastifyRequest) => requireHubUser(request);
    const ok = async (request: FastifyRequest) => ({ ok: true, name: requireHubUser(request).name });
    const guard = hubAuthenticated();
    app.get(PREFIX, { preHandler: guard }, me);
    app.get(`${PREFIX}api/me`, { preHandler: guard }, me);
    app.post(`${PREFIX}api/me`, { preHandler: guard }, ok);
    app.delete(`${PREFIX}api/me`, { preHandler: guard }, ok);
    app.get(`${PREFIX}admins`, { preHandler: hubAuthenticated({ hubUsers: ['admin'] }) }, me);
    app.get(`${PREFIX}staff`, { preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, me);
    app.get(`${PREFIX}custom`, { preHandler: hubAuthenticated({ scopes: ['custom:reports'] }) }, me);
    app.get(`${PREFIX}users-only`, { preHandler: hubAuthenticated({ allowServices: false }) }, me);
    app.get(`${PREFIX}api-only`, { preHandler: hubAuthenticated({ onUnauthenticated: 'reject' }) }, me);
    app.get<{ Params: { name: string } }>(`${PREFIX}act/:name`, { preHandler: guard }, async (request, reply) => {
      try {
        return (await request.hubAuth!.api('GET', `/users/${request.params.name}`)).body;
      } catch (err) {
        const status = (err as { status: number }).status;
        return reply.status(status).send({ status });
      }
    });
    app.get(`${PREFIX}services`, { preHandler: hubAuthenticated({ allowServices: true }) }, me);
    const team = teamPolicy();
    app.get(`${PREFIX}team`, { preHandler: hubAuthenticated(team) }, me);
    app.get(`${PREFIX}open`, async (request) => ({ user: request.hubUser, xsrf: request.xsrfToken }));
    return listen(app, team);
  };
}
