import Koa from 'koa';
import Router from '@koa/router';
import { onLoopback, runRequireHubUser } from '../../../test/contract/require-hub-user';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthState } from '../src';

// The types (requireHubUser gives a HubUser) are checked in types.test.ts, on @types/koa 3 and 2.

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
  return onLoopback(app.callback());
});
