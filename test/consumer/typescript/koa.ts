// Koa: ctx.state typed by HubAuthState, requireHubUser() narrowing, @koa/router guards.
import Koa from 'koa';
import Router from '@koa/router';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthState, type HubUser } from '@hubauth/koa';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

const app = new Koa<HubAuthState>();
const router = new Router<HubAuthState>();
router.get('/', hubAuthenticated({ scopes: ['access:services!service=notes'] }), (ctx) => {
  const user = requireHubUser(ctx);
  expectType<Equal<typeof user, HubUser>>();
  expectType<Equal<typeof ctx.state.hubUser, HubUser | undefined>>();
  // @ts-expect-error without requireHubUser() the caller may be missing
  void ctx.state.hubUser.name;
  ctx.body = { name: user.name, xsrf: ctx.state.xsrfToken ?? null };
});
app.use(hubAuth()).use(router.routes());
