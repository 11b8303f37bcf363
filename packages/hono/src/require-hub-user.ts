import { ConfigError, type HubUser } from '@hubauth/core';

/**
 * The caller of a route guarded by `hubAuthenticated()`, typed as present. Handlers placed right
 * after the guard already get `c.get('hubUser')` as a `HubUser`; this helper is for the others,
 * e.g. routes under `app.use('/api/*', hubAuthenticated())`. It only throws (a 500 `ConfigError`)
 * on a route that no guard covers.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthEnv } from '@hubauth/hono';
 *
 * const app = new Hono<HubAuthEnv>();
 * app.use(hubAuth());
 * app.use('/api/*', hubAuthenticated());
 * app.get('/api/me', (c) => c.json({ name: requireHubUser(c).name })); // the guard ran in another app.use
 * ```
 */
export function requireHubUser(c: { get(key: 'hubUser'): HubUser | undefined }): HubUser {
  const user = c.get('hubUser');
  if (user) return user;
  throw new ConfigError('hubAuthenticated', 'requireHubUser(c) found no identified caller: guard the route with hubAuthenticated(), after app.use(hubAuth())');
}
