import { ConfigError, type HubUser } from '@hubauth/core';
import type { FastifyRequest } from 'fastify';

/**
 * The caller of a route guarded by `hubAuthenticated()`, typed as present: use it instead of
 * `request.hubUser!` or a null check. A guard lets only identified callers through, so this only
 * throws (a 500 `ConfigError`) on a route that forgot its guard.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/fastify';
 *
 * const app = Fastify();
 * await app.register(hubAuth);
 * app.get('/me', { preHandler: hubAuthenticated() }, async (request) => {
 *   const user = requireHubUser(request);   // HubUser, not HubUser | null
 *   return { name: user.name, groups: user.groups };
 * });
 * ```
 */
export function requireHubUser(request: FastifyRequest): HubUser {
  if (request.hubUser) return request.hubUser;
  throw new ConfigError('hubAuthenticated', 'requireHubUser(request) found no identified caller: guard the route with hubAuthenticated(), after registering the hubAuth plugin');
}
