import { once } from 'node:events';
import Koa from 'koa';
import Router from '@koa/router';
import { runRequireHubUser } from '../../../test/contract/require-hub-user';
import type { Assert, Equal } from '../../../test/contract/typing';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthState, type HubUser } from '../src';

// Compile-time: behind a guard the caller is a HubUser, with no `!` or null check, whatever the state type.
export type Checks = [
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  Assert<Equal<HubAuthState['hubUser'], HubUser | undefined>>,
];
export function typeChecks(): void {
  const router = new Router<HubAuthState & { theme: string }>();
  router.get('/', hubAuthenticated(), (ctx) => {
    // @ts-expect-error without the helper the user is optional
    const unchecked: string = ctx.state.hubUser.name;
    const name: string = requireHubUser(ctx).name;
    ctx.body = { unchecked, name };
  });
  new Koa().use(hubAuth()).use((ctx) => {
    ctx.body = requireHubUser(ctx).groups;
  });
}

runRequireHubUser('Koa', async (options) => {
  const app = new Koa();
  const router = new Router<HubAuthState>();
  router.get('/guarded', hubAuthenticated(), (ctx) => {
    ctx.body = { name: requireHubUser(ctx).name };
  });
  router.get('/unguarded', (ctx) => {
    ctx.body = { name: requireHubUser(ctx).name };
  });
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err as Error & { code?: string; status?: number };
      ctx.status = e.status ?? 500;
      ctx.body = { name: e.name, code: e.code, message: e.message };
    }
  });
  app.use(hubAuth(options));
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
});
