/**
 * Recipe: an Express service tested with supertest and jest against the fake Hub.
 * Tokens, a browser session from `loginAs`, and a Hub that is down, slow, failing or talking garbage.
 */
import express from 'express';
import request from 'supertest';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

function createApp(env: Record<string, string>) {
  const prefix = env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(hubAuth({ env, requestTimeoutMs: 500 }));
  app.get(prefix, hubAuthenticated(), (req, res) => {
    res.json({ name: requireHubUser(req).name });
  });
  app.get(`${prefix}staff`, hubAuthenticated({ hubGroups: ['staff'] }), (req, res) => {
    res.json({ name: requireHubUser(req).name });
  });
  app.post(`${prefix}notes`, hubAuthenticated(), (req, res) => {
    res.status(201).json({ by: requireHubUser(req).name });
  });
  return app;
}

let hub: FakeHub;
let app: express.Express;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  app = createApp(hub.env());
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob' });
});
afterAll(() => hub.close());

describe('Express + supertest + jest', () => {
  it('lets a user in with a token', async () => {
    const token = hub.issueToken('alice');
    const res = await request(app).get('/services/notes/').set('Authorization', `token ${token}`).expect(200);
    expect(res.body).toEqual({ name: 'alice' });
  });

  it('refuses a token without the access scope, and a user outside the group', async () => {
    const noScope = hub.issueToken('alice', { scopes: [] });
    await request(app).get('/services/notes/').set('Authorization', `token ${noScope}`).expect(403);
    const bob = hub.issueToken('bob');
    await request(app).get('/services/notes/staff').set('Authorization', `token ${bob}`).expect(403);
  });

  it('acts as a logged-in browser with loginAs', async () => {
    const session = await hub.loginAs('alice');
    await request(app).get('/services/notes/staff').set('Cookie', session.cookie).expect(200, { name: 'alice' });
    // Unsafe methods need the xsrf token too: in a header ...
    await request(app).post('/services/notes/notes').set(session.headers).expect(201, { by: 'alice' });
    // ... or in the form.
    await request(app)
      .post('/services/notes/notes')
      .set('Cookie', session.cookie)
      .type('form')
      .send({ _xsrf: session.xsrfToken, text: 'hi' })
      .expect(201);
    await request(app).post('/services/notes/notes').set('Cookie', session.cookie).expect(403);
  });

  it('sends browsers without a session to the Hub', async () => {
    const res = await request(app).get('/services/notes/').set('Accept', 'text/html').set('Sec-Fetch-Mode', 'navigate').expect(302);
    expect(res.headers.location).toMatch(`${hub.url}/hub/api/oauth2/authorize?`);
  });

  it('answers 503 when the Hub is down or too slow, 502 when it fails or talks garbage', async () => {
    await hub.down();
    await request(app).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(503);
    await hub.up();

    hub.setLatency(2000);
    await request(app).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(503);
    hub.setLatency(0);

    hub.setFault({ type: 'status', status: 500 });
    await request(app).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(502);
    hub.setFault({ type: 'garbage-json' });
    await request(app).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(502);
    hub.setFault(null);

    await request(app).get('/services/notes/').set('Authorization', `token ${hub.issueToken('alice')}`).expect(200);
  });
});
