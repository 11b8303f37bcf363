/** Recipe: a Fastify service tested with `fastify.inject` and vitest against the fake Hub. */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/fastify';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

async function createApp(env: Record<string, string>) {
  const app = Fastify();
  await app.register(hubAuth, { env, requestTimeoutMs: 500 });
  app.get('/services/notes/', { preHandler: hubAuthenticated() }, async (request) => ({ name: requireHubUser(request).name }));
  app.get('/services/notes/staff', { preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, async (request) => ({
    name: requireHubUser(request).name,
  }));
  app.post('/services/notes/notes', { preHandler: hubAuthenticated() }, async (request, reply) =>
    reply.code(201).send({ by: requireHubUser(request).name }),
  );
  return app;
}

let hub: FakeHub;
let app: Awaited<ReturnType<typeof createApp>>;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  app = await createApp(hub.env());
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob' });
});
afterAll(async () => {
  await app.close();
  await hub.close();
});

describe('Fastify + inject + vitest', () => {
  it('lets a user in with a token and refuses one outside the group', async () => {
    const ok = await app.inject({ url: '/services/notes/', headers: { authorization: `token ${hub.issueToken('alice')}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ name: 'alice' });
    const bob = await app.inject({ url: '/services/notes/staff', headers: { authorization: `token ${hub.issueToken('bob')}` } });
    expect(bob.statusCode).toBe(403);
  });

  it('acts as a logged-in browser with loginAs', async () => {
    const session = await hub.loginAs('alice');
    const page = await app.inject({ url: '/services/notes/staff', headers: { cookie: session.cookie } });
    expect(page.json()).toEqual({ name: 'alice' });
    const post = await app.inject({ method: 'POST', url: '/services/notes/notes', headers: session.headers });
    expect(post.statusCode).toBe(201);
    const forged = await app.inject({ method: 'POST', url: '/services/notes/notes', headers: { cookie: session.cookie } });
    expect(forged.statusCode).toBe(403);
  });

  it('answers 503 when the Hub is too slow, 502 when it sends an HTML page', async () => {
    hub.setLatency(2000);
    const slow = await app.inject({ url: '/services/notes/', headers: { authorization: `token ${hub.issueToken('alice')}` } });
    expect(slow.statusCode).toBe(503);
    hub.setLatency(0);
    hub.setFault({ type: 'html' });
    const html = await app.inject({ url: '/services/notes/', headers: { authorization: `token ${hub.issueToken('alice')}` } });
    expect(html.statusCode).toBe(502);
    hub.setFault(null);
  });
});
