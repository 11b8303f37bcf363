/** Recipe: a Koa service (with @koa/router) tested with supertest and jest against the fake Hub. */
import Koa from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/koa';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

function createApp(env: Record<string, string>) {
  const router = new Router({ prefix: '/services/notes' });
  router.get('/', hubAuthenticated(), (ctx) => {
    ctx.body = { name: requireHubUser(ctx).name };
  });
  router.get('/staff', hubAuthenticated({ hubGroups: ['staff'] }), (ctx) => {
    ctx.body = { name: requireHubUser(ctx).name };
  });
  router.post('/notes', hubAuthenticated(), (ctx) => {
    ctx.status = 201;
    ctx.body = { by: requireHubUser(ctx).name };
  });
  const app = new Koa();
  app.use(hubAuth({ env, requestTimeoutMs: 500 }));
  app.use(router.routes());
  return app;
}

let hub: FakeHub;
let server: ReturnType<Koa['callback']>;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  server = createApp(hub.env()).callback();
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob' });
});
afterAll(() => hub.close());

describe('Koa + supertest + jest', () => {
  it('lets a user in with a token and refuses one outside the group', async () => {
    await request(server).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(200, { name: 'alice' });
    await request(server).get('/services/notes/staff').set('Authorization', `token ${hub.issueToken('bob')}`).expect(403);
  });

  it('acts as a logged-in browser with loginAs', async () => {
    const session = await hub.loginAs('alice');
    await request(server).get('/services/notes/staff').set('Cookie', session.cookie).expect(200, { name: 'alice' });
    await request(server).post('/services/notes/notes').set(session.headers).expect(201, { by: 'alice' });
    await request(server).post('/services/notes/notes').set('Cookie', session.cookie).expect(403);
  });

  it('answers 503 while the Hub is down, 502 when it answers 500', async () => {
    await hub.down();
    await request(server).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(503);
    await hub.up();
    hub.setFault({ type: 'status', status: 500 });
    await request(server).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(502);
    hub.setFault(null);
  });
});
