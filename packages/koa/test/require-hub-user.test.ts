import { once } from 'node:events';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '../../../test/fake-hub';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthState, type HubUser } from '../src';

/** `true` when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

// Compile-time: behind a guard the caller is a HubUser, with no `!` or null check, whatever the state type.
export type Checks = [
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  Assert<Equal<HubAuthState['hubUser'], HubUser | undefined>>,
];
export function typeChecks(): void {
  const router = new Router<HubAuthState & { theme: string }>();
  router.get('/', hubAuthenticated(), (ctx) => {
    // @ts-expect-error without the helper the user is optional
    const unchecked: string = ctx.state.hubUser.name;
    const name: string = requireHubUser(ctx).name;
    ctx.body = { unchecked, name };
  });
  new Koa().use(hubAuth()).use((ctx) => {
    ctx.body = requireHubUser(ctx).groups;
  });
}

describe('requireHubUser (Koa)', () => {
  let hub: FakeHub;
  let server: Server;

  beforeAll(async () => {
    hub = await startFakeHub();
    const app = new Koa();
    const router = new Router<HubAuthState>();
    router.get('/guarded', hubAuthenticated(), (ctx) => {
      ctx.body = { name: requireHubUser(ctx).name };
    });
    router.get('/unguarded', (ctx) => {
      ctx.body = { name: requireHubUser(ctx).name };
    });
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        const e = err as Error & { code?: string; status?: number };
        ctx.status = e.status ?? 500;
        ctx.body = { code: e.code, message: e.message };
      }
    });
    app.use(hubAuth({ env: {}, apiUrl: hub.apiUrl, apiToken: hub.serviceToken, serviceName: 'whoami', oauth: false }));
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await hub.close();
  });

  test('returns the caller behind a guard', async () => {
    const token = hub.issueToken({ name: 'alice', scopes: ['access:services!service=whoami'] });
    const res = await request(server).get('/guarded').set('authorization', `token ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'alice' });
  });

  test('on a route without a guard, an anonymous caller is a ConfigError naming the fix', async () => {
    const res = await request(server).get('/unguarded');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_HUBAUTH_CONFIG');
    expect(res.body.message).toMatch(/hubAuthenticated\(\)/);
  });
});
