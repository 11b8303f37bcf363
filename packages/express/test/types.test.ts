/**
 * Compile-time checks of the public types, against `@types/express` 5 (the workspace's) and 4 (the
 * `types-express4` alias): `req.hubUser` and `res.locals.xsrfToken` are typed through the global
 * `Express` namespace, `requireHubUser` narrows, the middlewares are Express handlers, options reject
 * wrong values. The tests type-check this file with the TypeScript compiler, so a failed check fails
 * the run (and `tsc -p tsconfig.json` reports it too, against `@types/express` 5).
 */
import { join } from 'node:path';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { declarationsOf, expectType, typeCheck, type Equal } from '../../../test/contract/typing';
import { HubAuth, HubAuthFlow, hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddleware, type HubCaller, type HubUser } from '../src';

const env = { JUPYTERHUB_API_TOKEN: 'x', JUPYTERHUB_SERVICE_NAME: 'whoami' };

function typedApp(): void {
  const app = express();
  const auth = hubAuth({ env });
  app.use(auth);
  app.get('/', hubAuthenticated(), (req: Request, res: Response) => {
    expectType<Equal<typeof req.hubUser, HubUser | undefined>>();
    expectType<Equal<typeof req.hubAuth, HubCaller | undefined>>();
    expectType<Equal<typeof res.locals.xsrfToken, string | null | undefined>>();
    // @ts-expect-error without the helper the user is optional
    const unchecked: string = req.hubUser.name;
    const user = requireHubUser(req);
    expectType<Equal<typeof user, HubUser>>();
    res.json({ unchecked, name: user.name, groups: user.groups });
  });
  app.get('/staff', hubAuthenticated({ hubGroups: ['staff'], scopes: ['custom:reports'] }), (req, res) => {
    res.json(requireHubUser(req));
  });
  const router = express.Router();
  router.use(hubAuthenticated({ allowServices: false }));
  app.use('/api', router);
  const handler: RequestHandler = auth;
  const guard: RequestHandler = hubAuthenticated();
  void [handler, guard];
}

function properties(): void {
  const middleware = hubAuth({ env });
  expectType<Equal<typeof middleware, HubAuthMiddleware>>();
  expectType<Equal<typeof middleware.auth, HubAuth>>();
  expectType<Equal<typeof middleware.flow, HubAuthFlow>>();
  expectType<Equal<ReturnType<typeof requireHubUser>, HubUser>>();
  // @ts-expect-error read-only
  middleware.auth = new HubAuth({ env });
}

function rejectedOptions(): void {
  // @ts-expect-error errors is 'respond' | 'throw'
  hubAuth({ errors: 'log' });
  // @ts-expect-error oauth is a boolean
  hubAuth({ oauth: 'yes' });
  // @ts-expect-error unknown option
  hubAuth({ errorMode: 'throw' });
  // @ts-expect-error hubUsers is a list
  hubAuthenticated({ hubUsers: 'admin' });
  // @ts-expect-error guards take access options, not middleware options
  hubAuthenticated({ apiToken: 'x' });
}

test('the typed app builds', () => {
  expect(() => typedApp()).not.toThrow();
  expect(() => properties()).not.toThrow();
  void rejectedOptions;
});

test.each([
  ['@types/express 5', {}],
  ['@types/express 4', { express: [declarationsOf(join(__dirname, '..'), 'types-express4')] }],
])('this file type-checks with %s', (_types, paths: Record<string, string[]>) => {
  expect(typeCheck(__filename, paths)).toEqual([]);
}, 60_000);
