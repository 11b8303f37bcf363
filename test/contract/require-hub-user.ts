/**
 * `requireHubUser()`, the same for every adapter that has one: behind a guard it returns the caller;
 * on a route no guard covers, an anonymous caller is a `ConfigError` naming the fix, answered 500.
 */
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import type { HubAuthMiddlewareOptions } from '@hubauth/core';
import type { ContractApp } from './types';

/**
 * An app with `hubAuth(options)` and two routes answering `{ name: requireHubUser(…).name }`:
 * `GET /guarded` behind `hubAuthenticated()`, `GET /unguarded` with no guard. Its error handler
 * answers an error with its `status` (500 without one) and the JSON `{ name, code, message }`.
 */
export type RequireHubUserAppFactory = (options: HubAuthMiddlewareOptions) => Promise<Pick<ContractApp, 'server' | 'close'>>;

/** Serves a Node request listener on a free loopback port, for a {@link RequireHubUserAppFactory}. */
export async function onLoopback(listener: RequestListener): Promise<Pick<ContractApp, 'server' | 'close'>> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Declares the `requireHubUser` tests for one adapter. */
export function runRequireHubUser(adapter: string, factory: RequireHubUserAppFactory): void {
  describe(`requireHubUser (${adapter})`, () => {
    let hub: FakeHub;
    let app: Awaited<ReturnType<RequireHubUserAppFactory>>;

    beforeAll(async () => {
      hub = await startFakeHub();
      app = await factory({ env: {}, apiUrl: hub.apiUrl, apiToken: hub.serviceToken, serviceName: 'whoami', oauth: false });
    });
    afterAll(async () => {
      await app.close();
      await hub.close();
    });

    test('returns the caller behind a guard', async () => {
      const token = hub.issueToken({ name: 'alice', scopes: ['access:services!service=whoami'] });
      const res = await request(app.server).get('/guarded').set('authorization', `token ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: 'alice' });
    });

    test('on a route without a guard, an anonymous caller is a ConfigError naming the fix', async () => {
      const res = await request(app.server).get('/unguarded');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ name: 'ConfigError', code: 'ERR_HUBAUTH_CONFIG' });
      expect(res.body.message).toMatch(/requireHubUser\(.*hubAuthenticated\(\)/);
    });
  });
}
