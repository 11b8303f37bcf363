/** Errors that explain themselves, as an Express service meets them. */
import express from 'express';
import request from 'supertest';
import { hubAuth, hubAuthenticated, isHubAuthError } from '../src/index';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob', groups: ['interns'] });
});
afterAll(() => hub.close());

describe('Express: a form post whose body was never parsed, and refused form posts from a browser', () => {
  function app(parse: boolean) {
    const a = express();
    a.use(hubAuth({ env: hub.env(), logger: quiet }));
    if (parse) a.use(express.urlencoded({ extended: false }));
    a.post('/services/notes/notes', hubAuthenticated(), (_req, res) => {
      res.status(201).end();
    });
    a.post('/services/notes/staff', express.urlencoded({ extended: false }), hubAuthenticated({ hubGroups: ['staff'] }), (_req, res) => {
      res.status(201).end();
    });
    return a;
  }

  it('says the body was not parsed (a parser after hubAuth(), or none) and what to do', async () => {
    const session = await hub.loginAs('alice');
    const res = await request(app(true))
      .post('/services/notes/notes')
      .set('Cookie', session.cookie)
      .type('form')
      .send({ _xsrf: session.xsrfToken });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ERR_HUBAUTH_XSRF', docs: 'docs/errors.md#err_hubauth_xsrf' });
    expect(res.body.message).toMatch(/form's body was never parsed.*register a body parser.*before hubAuth\(\)/);
    // Without a form, the old message stays: the field is simply missing.
    const json = await request(app(true)).post('/services/notes/notes').set('Cookie', session.cookie).send({});
    expect(json.body.message).toMatch(/'_xsrf' argument missing from POST/);
  });

  it('renders the HTML page for a browser form post (fetch metadata), JSON for fetch()', async () => {
    const session = await hub.loginAs('bob');
    const page = await request(app(true))
      .post('/services/notes/staff')
      .set('Cookie', session.cookie)
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'document')
      .set('X-XSRFToken', session.xsrfToken)
      .type('form')
      .send({ text: 'hi' });
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('this route requires a member of the group &#34;staff&#34;');
    const api = await request(app(true))
      .post('/services/notes/staff')
      .set('Cookie', session.cookie)
      .set('Sec-Fetch-Mode', 'cors')
      .set('X-XSRFToken', session.xsrfToken)
      .send({ text: 'hi' });
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(isHubAuthError({ ...api.body, status: 403 })).toBe(true);
  });
});
