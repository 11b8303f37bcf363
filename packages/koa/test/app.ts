import { once } from 'node:events';
import type Koa from 'koa';
import Router from '@koa/router';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddlewareOptions, type HubAuthState } from '../src';
import { PREFIX, teamPolicy, type ContractApp, type ContractAppFactory } from '../../../test/contract/types';

/** The Koa constructor of either major (`koa` 3 or the `koa2` alias). */
export type KoaConstructor = typeof Koa;

/** Builds the contract app on a given Koa major, with `@koa/router` for the guarded routes. */
export function makeApp(KoaClass: KoaConstructor): ContractAppFactory {
  return async (options: HubAuthMiddlewareOptions): Promise<ContractApp> => {
    const app = new KoaClass<HubAuthState>();
    app.use(hubAuth(options));
    const router = new Router<HubAuthState>();
    // Guarded handlers read the caller as users are told to: typed as present, no `!` or check.
    const me: Koa.Middleware<HubAuthState> = (ctx) => {
      ctx.body = requireHubUser(ctx);
    };
    const ok: Koa.Middleware<HubAuthState> = (ctx) => {
      ctx.body = { ok: true, name: requireHubUser(ctx).name };
    };
    router.get(PREFIX, hubAuthenticated(), me);
    router.get(`${PREFIX}api/me`, hubAuthenticated(), me);
    router.post(`${PREFIX}api/me`, hubAuthenticated(), ok);
    router.delete(`${PREFIX}api/me`, hubAuthenticated(), ok);
    router.get(`${PREFIX}admins`, hubAuthenticated({ hubUsers: ['admin'] }), me);
    router.get(`${PREFIX}staff`, hubAuthenticated({ hubGroups: ['staff'] }), me);
    router.get(`${PREFIX}custom`, hubAuthenticated({ scopes: ['custom:reports'] }), me);
    router.get(`${PREFIX}users-only`, hubAuthenticated({ allowServices: false }), me);
    router.get(`${PREFIX}api-only`, hubAuthenticated({ onUnauthenticated: 'reject' }), me);
    router.get(`${PREFIX}act/:name`, hubAuthenticated(), async (ctx) => {
      try {
        ctx.body = (await ctx.state.hubAuth!.api('GET', `/users/${ctx.params.name}`)).body;
      } catch (err) {
        ctx.status = (err as { status: number }).status;
        ctx.body = { status: ctx.status };
      }
    });
    router.get(`${PREFIX}services`, hubAuthenticated({ allowServices: true }), me);
    const team = teamPolicy();
    router.get(`${PREFIX}team`, hubAuthenticated(team), me);
    router.get(`${PREFIX}open`, (ctx) => {
      ctx.body = { user: ctx.state.hubUser ?? null, xsrf: ctx.state.xsrfToken ?? null };
    });
    app.use(router.routes()).use(router.allowedMethods());
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      server,
      team,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  };
}
