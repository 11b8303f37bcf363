import { once } from 'node:events';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '../../../test/fake-hub';
import { hubAuth, hubAuthenticated, requireHubUser, type HubUser } from '../src';

/** `true` when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

// Compile-time: behind a guard the caller is a HubUser, with no `!` or null check.
export type Checks = [
  Assert<Equal<ReturnType<typeof requireHubUser>, HubUser>>,
  Assert<Equal<Request['hubUser'], HubUser | undefined>>,
];
export function typeChecks(req: Request): string {
  // @ts-expect-error without the helper the user is optional
  const unchecked: string = req.hubUser.name;
  void unchecked;
  return requireHubUser(req).name;
}

describe('requireHubUser (Express)', () => {
  let hub: FakeHub;
  let server: Server;

  beforeAll(async () => {
    hub = await startFakeHub();
    const app = express();
    app.use(hubAuth({ env: {}, apiUrl: hub.apiUrl, apiToken: hub.serviceToken, serviceName: 'whoami', oauth: false }));
    app.get('/guarded', hubAuthenticated(), (req: Request, res: Response) => res.json({ name: requireHubUser(req).name }));
    app.get('/unguarded', (req: Request, res: Response) => res.json({ name: requireHubUser(req).name }));
    app.use((err: Error & { code?: string; status?: number }, _req: Request, res: Response, _next: unknown) => {
      res.status(err.status ?? 500).json({ code: err.code, message: err.message });
    });
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
