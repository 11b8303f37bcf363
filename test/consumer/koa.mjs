// A consumer's Koa service (ESM), run by scripts/check-consumer.mjs against the fake Hub.
import Koa from 'koa';
import Router from '@koa/router';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/koa';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const app = new Koa();
const router = new Router();
router.get(prefix, hubAuthenticated(), (ctx) => { ctx.body = { name: requireHubUser(ctx).name, module: 'esm' }; });
router.get(`${prefix}staff`, hubAuthenticated({ hubGroups: ['staff'] }), (ctx) => { ctx.body = { name: requireHubUser(ctx).name }; });
app.use(hubAuth());
app.use(router.routes());
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
app.listen(Number(port), hostname, () => console.log('listening'));
