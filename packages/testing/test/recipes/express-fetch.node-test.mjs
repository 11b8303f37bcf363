// Recipe: an Express service on a real port, tested with node:test and plain fetch against the fake
// Hub. Plain JavaScript against the built packages, as in a project without a TypeScript test set-up.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
import { startFakeHub } from '@hubauth/testing';

let hub;
let server;
let base;

before(async () => {
  hub = await startFakeHub({ service: 'notes' });
  hub.addUser({ name: 'alice', groups: ['staff'] });
  const app = express();
  app.use(hubAuth({ env: hub.env(), requestTimeoutMs: 500, logger: { warn() {}, error() {} } }));
  app.get('/services/notes/', hubAuthenticated(), (req, res) => res.json({ name: requireHubUser(req).name }));
  app.delete('/services/notes/notes/1', hubAuthenticated({ hubGroups: ['staff'] }), (req, res) => res.status(204).end());
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  server.close();
  await hub.close();
});

describe('Express + fetch + node:test', () => {
  it('lets a user in with a token', async () => {
    const res = await fetch(`${base}/services/notes/`, { headers: { authorization: `token ${hub.issueToken('alice')}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: 'alice' });
  });

  it('acts as a logged-in browser with loginAs', async () => {
    const session = await hub.loginAs('alice');
    const res = await fetch(`${base}/services/notes/notes/1`, { method: 'DELETE', headers: session.headers });
    assert.equal(res.status, 204);
    const forged = await fetch(`${base}/services/notes/notes/1`, { method: 'DELETE', headers: { cookie: session.cookie } });
    assert.equal(forged.status, 403);
  });

  it('answers 503 while the Hub is down', async () => {
    await hub.down();
    const res = await fetch(`${base}/services/notes/`, { headers: { authorization: `token ${hub.issueToken('alice')}` } });
    assert.equal(res.status, 503);
    await hub.up();
  });
});
