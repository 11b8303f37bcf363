import { ConfigError, type HubUser } from '@hubauth/core';
import type { Request } from 'express';

/**
 * The caller of a route guarded by `hubAuthenticated()`, typed as present: use it instead of
 * `req.hubUser!` or a null check. A guard lets only identified callers through, so this only
 * throws (a 500 `ConfigError`) on a route that forgot its guard.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
 *
 * const app = express();
 * app.use(hubAuth());
 * app.get('/me', hubAuthenticated(), (req, res) => {
 *   const user = requireHubUser(req);   // HubUser, not HubUser | undefined
 *   res.json({ name: user.name, groups: user.groups });
 * });
 * ```
 */
export function requireHubUser(req: Request): HubUser {
  if (req.hubUser) return req.hubUser;
  throw new ConfigError('hubAuthenticated', 'requireHubUser(req) found no identified caller: guard the route with hubAuthenticated(), after app.use(hubAuth())');
}
