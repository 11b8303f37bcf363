import { once } from 'node:events';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import request from 'supertest';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { hubAuth, hubAuthenticated, isHubAuthError, type HubAuthError, type HubAuthMiddlewareOptions, type HubUser } from '../src';

const SECRET = 'express-test-secret-0123456789abcdef012345';
const alice = { name: 'alice', groups: ['staff'], scopes: ['access:services!service=whoami'] };

describe.each([
  ['express 5', express],
  ['express 4', express4],
])('%s adapter', (_name, expressFactory) => {
  let hub: FakeHub;
  let token: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    hub = await startFakeHub({ clientId: 'service-whoami', redirectUri: '/services/whoami/oauth_callback' });
    token = hub.issueToken(alice);
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await hub.close();
  });

  const options = (extra: Partial<HubAuthMiddlewareOptions> = {}): HubAuthMiddlewareOptions => ({
    env: {},
    apiUrl: hub.apiUrl,
    apiToken: hub.serviceToken,
    clientId: hub.clientId,
    serviceName: 'whoami',
    servicePrefix: '/services/whoami/',
    cookieSecret: SECRET,
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  });

  async function listen(app: express.Express): Promise<Server> {
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    return server;
  }

  test('works as router-level middleware, where paths are relative to the mount point', async () => {
    const app = expressFactory();
    const router = express.Router();
    router.use(hubAuth(options()));
    router.get('/me', hubAuthenticated(), (req: Request, res: Response) => res.json(req.hubUser));
    app.use('/services/whoami', router);
    const server = await listen(app);
    const ok = await request(server).get('/services/whoami/me').set('authorization', `token ${token}`);
    expect(ok.status).toBe(200);
    expect((ok.body as HubUser).name).toBe('alice');
    // The callback is matched on the full URL, so it is served under the mount point too.
    const cb = await request(server).get('/services/whoami/oauth_callback?error=access_denied');
    expect(cb.status).toBe(400);
  });

  test('X-Forwarded-Proto https gives Secure cookies, with trust proxy or without; nothing else does', async () => {
    const app = expressFactory();
    app.set('trust proxy', 'loopback');
    app.use(hubAuth(options()));
    app.get('/services/whoami/', hubAuthenticated(), (_req: Request, res: Response) => res.send('ok'));
    const server = await listen(app);
    const viaHttps = await request(server).get('/services/whoami/').set('accept', 'text/html').set('x-forwarded-proto', 'https');
    expect(viaHttps.status).toBe(302);
    expect(String(viaHttps.headers['set-cookie'])).toMatch(/; Secure/);
    const viaHttp = await request(server).get('/services/whoami/').set('accept', 'text/html');
    expect(String(viaHttp.headers['set-cookie'])).not.toMatch(/; Secure/);

    const untrusting = expressFactory();
    untrusting.use(hubAuth(options()));
    untrusting.get('/services/whoami/', hubAuthenticated(), (_req: Request, res: Response) => res.send('ok'));
    // Without trust proxy the forwarded https still adds Secure (safe without trusting the proxy)...
    const plain = await request(await listen(untrusting)).get('/services/whoami/').set('accept', 'text/html').set('x-forwarded-proto', 'https');
    expect(String(plain.headers['set-cookie'])).toMatch(/; Secure/);
    // ...and nothing else does.
    const direct = await request(await listen(untrusting)).get('/services/whoami/').set('accept', 'text/html');
    expect(String(direct.headers['set-cookie'])).not.toMatch(/; Secure/);
  });

  test("errors: 'throw' hands typed errors to Express error handlers", async () => {
    const app = expressFactory();
    app.use(hubAuth(options({ errors: 'throw' })));
    app.get('/services/whoami/', hubAuthenticated(), (_req: Request, res: Response) => res.send('ok'));
    app.get('/services/whoami/html', hubAuthenticated({ errors: 'respond' }), (_req: Request, res: Response) => res.send('ok'));
    const seen: HubAuthError[] = [];
    app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!isHubAuthError(err)) return next(err);
      seen.push(err);
      res.status(err.status).set(err.headers).json({ custom: err.code });
    });
    const server = await listen(app);
    const res = await request(server).get('/services/whoami/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ custom: 'ERR_HUBAUTH_UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(seen).toHaveLength(1);
    const overridden = await request(server).get('/services/whoami/html');
    expect(overridden.status).toBe(401);
    expect((overridden.body as { code: string }).code).toBe('ERR_HUBAUTH_UNAUTHENTICATED');
  });

  test('a guard without hubAuth() fails with a configuration error that says what to do', async () => {
    const app = expressFactory();
    app.get('/x', hubAuthenticated(), (_req: Request, res: Response) => res.send('ok'));
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ message: err.message });
    });
    const res = await request(await listen(app)).get('/x');
    expect(res.status).toBe(500);
    expect((res.body as { message: string }).message).toMatch(/app\.use\(hubAuth\(\)\) must run before/);
  });

  test('invalid options fail at construction, naming the option', () => {
    expect(() => hubAuth({ env: {}, apiUrl: 'not a url', allowAll: true, oauth: false })).toThrow(/apiUrl/);
    expect(() => hubAuth({ env: {}, oauth: false })).toThrow(/accessScopes.*allowAll/s);
  });

  test('the middleware exposes the authenticator', () => {
    const mw = hubAuth(options());
    expect(mw.auth.oauthEnabled).toBe(true);
    expect(hubAuth(options({ oauth: false })).auth.oauthEnabled).toBe(false);
  });

  describe('req.hubUser and req.hubAuth', () => {
    /** What a handler sees of the two fields, and whether any of them is an own property of req. */
    const fields = (req: Request) => ({
      user: req.hubUser?.name ?? null,
      sameCaller: req.hubAuth !== undefined && req.hubAuth === req.hubAuth,
      caller: req.hubAuth?.user?.name ?? null,
      own: [...Object.keys(req), ...Object.getOwnPropertySymbols(req).map(String)].filter((k) => /hub/i.test(k)),
    });

    test('are read from the request, and nothing of hubauth is added to req itself', async () => {
      const app = expressFactory();
      app.use(hubAuth(options({ oauth: false })));
      app.get('/services/whoami/fields', (req: Request, res: Response) => res.json(fields(req)));
      const server = await listen(app);
      const known = await request(server).get('/services/whoami/fields').set('authorization', `token ${token}`);
      expect(known.body).toEqual({ user: 'alice', sameCaller: true, caller: 'alice', own: [] });
      const anonymous = await request(server).get('/services/whoami/fields');
      expect(anonymous.body).toEqual({ user: null, sameCaller: false, caller: null, own: [] });
    });

    test('an app without hubAuth() in the same process sees neither', async () => {
      const withAuth = expressFactory();
      withAuth.use(hubAuth(options({ oauth: false })));
      withAuth.get('/services/whoami/fields', (req: Request, res: Response) => res.json(fields(req)));
      const without = expressFactory();
      without.get('/services/whoami/fields', (req: Request, res: Response) => res.json(fields(req)));
      await request(await listen(withAuth)).get('/services/whoami/fields').set('authorization', `token ${token}`).expect(200);
      const other = await request(await listen(without)).get('/services/whoami/fields').set('authorization', `token ${token}`);
      expect(other.body).toEqual({ user: null, sameCaller: false, caller: null, own: [] });
    });

    test('hubAuth() in a mounted sub-app: the parent app still sees the caller afterwards', async () => {
      const sub = expressFactory();
      sub.use(hubAuth(options({ oauth: false })));
      const parent = expressFactory();
      parent.use('/services/whoami', sub);
      parent.get('/services/whoami/fields', (req: Request, res: Response) => res.json(fields(req)));
      const seen = await request(await listen(parent)).get('/services/whoami/fields').set('authorization', `token ${token}`);
      expect(seen.body).toMatchObject({ user: 'alice', caller: 'alice' });
    });

    test('can still be assigned by the app (the value becomes the request own), and the guard is not fooled by it', async () => {
      const app = expressFactory();
      app.use(hubAuth(options({ oauth: false })));
      app.use((req: Request, _res: Response, next: NextFunction) => {
        if (req.get('x-test-override')) req.hubUser = { ...alice, kind: 'user', name: 'mallory' } as unknown as HubUser;
        next();
      });
      app.get('/services/whoami/fields', (req: Request, res: Response) => res.json({ ...fields(req), own: Object.keys(req).filter((k) => k === 'hubUser') }));
      app.get('/services/whoami/guarded', hubAuthenticated(), (req: Request, res: Response) => res.json(fields(req)));
      const server = await listen(app);
      const overridden = await request(server).get('/services/whoami/fields').set('authorization', `token ${token}`).set('x-test-override', '1');
      expect(overridden.body).toMatchObject({ user: 'mallory', caller: 'alice', own: ['hubUser'] });
      // The guard decides on what hubAuth() found, not on the field.
      const refused = await request(server).get('/services/whoami/guarded').set('x-test-override', '1');
      expect(refused.status).toBe(401);
    });

    test('res.locals replaced after hubAuth(): the guard says so instead of letting anyone through', async () => {
      const app = expressFactory();
      app.use(hubAuth(options({ oauth: false })));
      app.use((_req: Request, res: Response, next: NextFunction) => {
        res.locals = {} as Response['locals'];
        next();
      });
      app.get('/services/whoami/guarded', hubAuthenticated(), (_req: Request, res: Response) => res.send('ok'));
      app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).json({ message: err.message });
      });
      const res = await request(await listen(app)).get('/services/whoami/guarded').set('authorization', `token ${token}`);
      expect(res.status).toBe(500);
      expect((res.body as { message: string }).message).toMatch(/res\.locals must not be replaced/);
    });
  });
});

// Compile-time checks (run by the type-check step): the user type on the request, option types.
export function typeChecks(req: Request): void {
  const user: HubUser | undefined = req.hubUser;
  const groups: readonly string[] | undefined = user?.groups;
  void groups;
  // @ts-expect-error hubUsers is a list of names
  hubAuthenticated({ hubUsers: 'alice' });
  // @ts-expect-error onUnauthenticated has three values
  hubAuthenticated({ onUnauthenticated: 'sometimes' });
  // @ts-expect-error errors is 'respond' or 'throw'
  hubAuth({ errors: 'ignore' });
}
