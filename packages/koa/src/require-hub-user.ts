import { ConfigError, type HubUser } from '@hubauth/core';

/**
 * The caller of a route guarded by `hubAuthenticated()`, typed as present: use it instead of
 * `ctx.state.hubUser!` or a null check. A guard lets only identified callers through, so this
 * only throws (a 500 `ConfigError`) on a route that forgot its guard.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import Router from '@koa/router';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/koa';
 *
 * const router = new Router();
 * router.get('/me', hubAuthenticated(), (ctx) => {
 *   const user = requireHubUser(ctx);   // HubUser, not HubUser | undefined
 *   ctx.body = { name: user.name, groups: user.groups };
 * });
 * new Koa().use(hubAuth()).use(router.routes());
 * ```
 */
export function requireHubUser(ctx: { readonly state: { readonly hubUser?: HubUser | undefined } }): HubUser {
  const user = ctx.state.hubUser;
  if (user) return user;
  throw new ConfigError('hubAuthenticated', 'requireHubUser(ctx) found no identified caller: guard the route with hubAuthenticated(), after app.use(hubAuth())');
}
