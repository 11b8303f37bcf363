import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '../../../test/fake-hub';
import { hubAuth, hubAuthenticated, requireHubUser, type HubUser } from '../src';

/** `true` when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

// Compile-time: behind a guard the caller is a HubUser, with no `!` or null check.
export type Checks = [
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  Assert<Equal<FastifyRequest['hubUser'], HubUser | null>>,
];
export function typeChecks(req: FastifyRequest): string {
  // @ts-expect-error without the helper the user may be null
  const unchecked: string = req.hubUser.name;
  void unchecked;
  return requireHubUser(req).name;
}

describe('requireHubUser (Fastify)', () => {
  let hub: FakeHub;
  let app: FastifyInstance;

  beforeAll(async () => {
    hub = await startFakeHub();
    app = Fastify();
    await app.register(hubAuth, { env: {}, apiUrl: hub.apiUrl, apiToken: hub.serviceToken, serviceName: 'whoami', oauth: false });
    app.get('/guarded', { preHandler: hubAuthenticated() }, async (req) => ({ name: requireHubUser(req).name }));
    app.get('/unguarded', async (req) => ({ name: requireHubUser(req).name }));
    await app.listen({ port: 0, host: '127.0.0.1' });
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
    expect(res.body.code).toBe('ERR_HUBAUTH_CONFIG');
  });
});
