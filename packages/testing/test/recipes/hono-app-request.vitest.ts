/** Recipe: a Hono service tested with `app.request` and vitest against the fake Hub (no server needed). */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubAuth, hubAuthenticated, type HubAuthEnv } from '@hubauth/hono';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

function createApp(env: Record<string, string>) {
  const app = new Hono<HubAuthEnv>();
  app.use(hubAuth({ env, requestTimeoutMs: 500 }));
  app.get('/services/notes/', hubAuthenticated(), (c) => c.json({ name: c.get('hubUser').name }));
  app.get('/services/notes/staff', hubAuthenticated({ hubGroups: ['staff'] }), (c) => c.json({ name: c.get('hubUser').name }));
  app.post('/services/notes/notes', hubAuthenticated(), (c) => c.json({ by: c.get('hubUser').name }, 201));
  return app;
}

let hub: FakeHub;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  app = createApp(hub.env());
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob' });
});
afterAll(() => hub.close());

describe('Hono + app.request + vitest', () => {
  it('lets a user in with a token and refuses one outside the group', async () => {
    const ok = await app.request('/services/notes/', { headers: { authorization: `token ${hub.issueToken('alice')}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ name: 'alice' });
    const bob = await app.request('/services/notes/staff', { headers: { authorization: `token ${hub.issueToken('bob')}` } });
    expect(bob.status).toBe(403);
  });

  it('acts as a logged-in browser with loginAs', async () => {
    const session = await hub.loginAs('alice');
    expect((await app.request('/services/notes/staff', { headers: { cookie: session.cookie } })).status).toBe(200);
    const post = await app.request('/services/notes/notes', { method: 'POST', headers: session.headers });
    expect(post.status).toBe(201);
    const forged = await app.request('/services/notes/notes', { method: 'POST', headers: { cookie: session.cookie } });
    expect(forged.status).toBe(403);
  });

  it('answers 503 while the Hub is down', async () => {
    await hub.down();
    const res = await app.request('/services/notes/', { headers: { authorization: `token ${hub.issueToken('alice')}` } });
    expect(res.status).toBe(503);
    await hub.up();
  });
});
