/**
 * Compile-time checks of the public types: the variables are typed through `HubAuthEnv`, the
 * middlewares are Hono middlewares, options reject wrong values, and `HubUser` can be augmented. The
 * test below type-checks this file with the TypeScript compiler, so a failed check fails the test run.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { HubAuth, HubAuthFlow, hubAuth, hubAuthenticated, requireHubUser, type HubAuthEnv, type HubAuthGuardedEnv, type HubAuthMiddleware, type HubAuthVariables, type HubUser } from '../src';
import { expectType, typeCheck, type Equal } from '../../../test/contract/typing';

declare module '@hubauth/core' {
  interface HubUser {
    /** Sent by this test's imaginary Hub. */
    department?: string;
  }
}

const env = { JUPYTERHUB_API_TOKEN: 'x', JUPYTERHUB_SERVICE_NAME: 'whoami' };

function typedApps(): void {
  const app = new Hono<HubAuthEnv>();
  app.use(hubAuth({ env, trustProxy: true }));
  app.get('/', hubAuthenticated(), (c) => {
    const _user = c.get('hubUser');
    const _xsrf = c.get('xsrfToken');
    // Behind the guard the caller is known: no `!`, no check.
    expectType<Equal<typeof _user, HubUser>>();
    expectType<Equal<typeof _xsrf, string | null | undefined>>();
    expectType<Equal<typeof _user['department'], string | undefined>>();
    return c.json({ name: c.get('hubUser').name });
  });
  // Without a guard it may be anonymous.
  app.get('/open', (c) => {
    const _user = c.get('hubUser');
    expectType<Equal<typeof _user, HubUser | undefined>>();
    // @ts-expect-error possibly undefined
    return c.text(c.get('hubUser').name);
  });
  // Under a path-wide guard, requireHubUser gives the typed caller.
  app.use('/api/*', hubAuthenticated());
  app.get('/api/me', (c) => {
    const _user = requireHubUser(c);
    expectType<Equal<typeof _user, HubUser>>();
    return c.json({ name: _user.name });
  });
  // Next to the application's own variables.
  const mixed = new Hono<{ Variables: HubAuthVariables & { theme: string } }>();
  mixed.use(hubAuth({ env })).get('/', hubAuthenticated({ hubGroups: ['staff'] }), (c) => {
    const _theme = c.get('theme');
    expectType<Equal<typeof _theme, string>>();
    return c.text(c.get('hubUser').name);
  });
  const middleware: MiddlewareHandler<HubAuthEnv> = hubAuth({ env });
  const guard: MiddlewareHandler<HubAuthGuardedEnv> = hubAuthenticated();
  void [middleware, guard];
}

function properties(): void {
  const middleware = hubAuth({ env });
  expectType<Equal<typeof middleware, HubAuthMiddleware>>();
  expectType<Equal<typeof middleware.auth, HubAuth>>();
  expectType<Equal<typeof middleware.flow, HubAuthFlow>>();
  // @ts-expect-error read-only
  middleware.auth = new HubAuth({ env });
}

function rejectedOptions(): void {
  // @ts-expect-error errors is 'respond' | 'throw'
  hubAuth({ errors: 'log' });
  // @ts-expect-error trustProxy is a boolean
  hubAuth({ trustProxy: 'yes' });
  // @ts-expect-error unknown option
  hubAuth({ errorMode: 'throw' });
  // @ts-expect-error hubUsers is a list
  hubAuthenticated({ hubUsers: 'admin' });
  // @ts-expect-error guards take access options, not middleware options
  hubAuthenticated({ apiToken: 'x' });
}

test('the typed apps build', () => {
  expect(() => typedApps()).not.toThrow();
  expect(() => properties()).not.toThrow();
  void rejectedOptions;
});

test('this file type-checks', () => {
  expect(typeCheck(__filename)).toEqual([]);
}, 60_000);
