// whoami-oauth (Koa): browser login through the Hub, like Python's HubOAuthenticated.
import Koa from 'koa';
import Router from '@koa/router';
import { hubAuth, hubAuthenticated } from '@hubauth/koa';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = new Koa();
app.proxy = true; // JupyterHub's proxy forwards the browser's protocol
const router = new Router();
router.get(prefix, hubAuthenticated(), (ctx) => {
  ctx.body = ctx.state.hubUser;
});
router.post(`${prefix}echo`, hubAuthenticated(), (ctx) => {
  ctx.body = { ok: true, name: ctx.state.hubUser?.name };
});
app.use(hubAuth()).use(router.routes());

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10104');
app.listen(Number(port), hostname, () => console.log(`whoami-oauth (koa) listening on ${hostname}:${port}${prefix}`));
