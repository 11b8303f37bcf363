import { Hono } from 'hono';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { fakeHubOptions } from '../../../test/contract/options';
import { PREFIX } from '../../../test/contract/types';
import { ConfigError, hubAuth, hubAuthenticated, requireHubUser, type HubAuthEnv } from '../src';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: `${PREFIX}oauth_callback` });
});
afterAll(() => hub.close());

test('behind a guard the caller is on the context; requireHubUser reads it under a path-wide guard', async () => {
  const app = new Hono<HubAuthEnv>().use(hubAuth(fakeHubOptions(hub, 'hono-require-secret-0123456789abcdef0123456789')));
  app.get(`${PREFIX}direct`, hubAuthenticated(), (c) => c.text(c.get('hubUser').name));
  app.use(`${PREFIX}api/*`, hubAuthenticated());
  app.get(`${PREFIX}api/me`, (c) => c.text(requireHubUser(c).name));
  app.get(`${PREFIX}open`, (c) => c.text(requireHubUser(c).name));
  const seen: unknown[] = [];
  app.onError((err, c) => {
    seen.push(err);
    return c.text('failed', 500);
  });
  const token = hub.issueToken({ name: 'alice', scopes: ['access:services!service=whoami'] });
  const headers = { authorization: `token ${token}` };
  expect(await (await app.request(`${PREFIX}direct`, { headers })).text()).toBe('alice');
  expect(await (await app.request(`${PREFIX}api/me`, { headers })).text()).toBe('alice');
  // A route no guard covers, with an anonymous caller: a configuration error, not a crash.
  expect((await app.request(`${PREFIX}open`)).status).toBe(500);
  expect(seen[0]).toBeInstanceOf(ConfigError);
});
