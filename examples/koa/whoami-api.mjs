// whoami-api (Koa): token-only authentication, like Python's HubAuthenticated.
import Koa from 'koa';
import Router from '@koa/router';
import { hubAuth, hubAuthenticated } from '@hubauth/koa';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = new Koa();
const router = new Router();
router.get(prefix, hubAuthenticated(), (ctx) => {
  ctx.body = ctx.state.hubUser;
});
app.use(hubAuth({ oauth: false })).use(router.routes());

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10103');
app.listen(Number(port), hostname, () => console.log(`whoami-api (koa) listening on ${hostname}:${port}${prefix}`));
