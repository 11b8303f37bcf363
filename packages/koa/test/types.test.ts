/**
 * Compile-time checks of the public types: `ctx.state` is typed through `hubAuth()` and
 * `hubAuthenticated()`, options reject wrong values, and `HubUser` can be augmented. The tests below
 * type-check this file with the TypeScript compiler against `@types/koa` 3 (the workspace's) and 2
 * (the `types-koa2` alias), so a failed check fails the test run (and `tsc -p tsconfig.json` reports
 * it too, against `@types/koa` 3).
 */
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { HubAuth, HubAuthFlow, hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddleware, type HubAuthState, type HubUser } from '../src';
import { declarationsOf, expectType, typeCheck, type Equal } from '../../../test/contract/typing';

declare module '@hubauth/core' {
  interface HubUser {
    /** Sent by this test's imaginary Hub. */
    department?: string;
  }
}

const env = { JUPYTERHUB_API_TOKEN: 'x', JUPYTERHUB_SERVICE_NAME: 'whoami' };

function typedApps(): void {
  // The state type flows from hubAuth() into the middlewares after it, even from `new Koa()`.
  new Koa().use(hubAuth({ env })).use((_ctx) => {
    expectType<Equal<typeof _ctx.state.hubUser, HubUser | undefined>>();
    expectType<Equal<typeof _ctx.state.xsrfToken, string | null | undefined>>();
  });

  // An app declared with HubAuthState (alone or in an intersection).
  const app = new Koa<HubAuthState & { theme: string }>();
  app.use(hubAuth({ env }));
  app.use((ctx) => {
    expectType<Equal<typeof ctx.state.hubUser, HubUser | undefined>>();
    expectType<Equal<typeof ctx.state.theme, string>>();
    // @ts-expect-error hubUser is a HubUser
    ctx.state.hubUser = 'alice';
  });

  // Per-route guards on @koa/router, typed router or not.
  new Router().get('/x', hubAuthenticated(), (_ctx) => {
    expectType<Equal<typeof _ctx.state.hubUser, HubUser | undefined>>();
  });
  new Router<HubAuthState>().get('/x', hubAuthenticated({ hubGroups: ['staff'] }), (_ctx) => {
    expectType<Equal<typeof _ctx.state.hubUser, HubUser | undefined>>();
    expectType<Equal<typeof _ctx.params, Record<string, string>>>();
  });

  // Apps with a custom context type.
  const custom = new Koa<HubAuthState, { db: string }>();
  custom.use(hubAuth({ env })).use(hubAuthenticated()).use((_ctx) => {
    expectType<Equal<typeof _ctx.db, string>>();
  });

  // Behind a guard requireHubUser gives the caller as a HubUser, with no `!` or null check, whatever the state type.
  new Router<HubAuthState & { theme: string }>().get('/me', hubAuthenticated(), (ctx) => {
    // @ts-expect-error without the helper the user is optional
    const unchecked: string = ctx.state.hubUser.name;
    const user = requireHubUser(ctx);
    expectType<Equal<typeof user, HubUser>>();
    ctx.body = { unchecked, name: user.name };
  });
  new Koa().use(hubAuth({ env })).use((ctx) => {
    ctx.body = requireHubUser(ctx).groups;
  });

  // The middlewares are Koa middlewares over HubAuthState.
  const middleware: Koa.Middleware<HubAuthState> = hubAuth({ env });
  const guard: Koa.Middleware<HubAuthState> = hubAuthenticated();
  void [middleware, guard];
}

function augmentedUser(_user: HubUser): void {
  expectType<Equal<typeof _user.department, string | undefined>>();
  expectType<Equal<typeof _user.name, string>>();
  expectType<Equal<typeof _user.kind, 'user' | 'service'>>();
  expectType<Equal<typeof _user.somethingElse, unknown>>();
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
  // @ts-expect-error oauth is a boolean
  hubAuth({ oauth: 'yes' });
  // @ts-expect-error cookieSecret is a string or strings
  hubAuth({ cookieSecret: 42 });
  // @ts-expect-error instance is a HubAuth
  hubAuth({ instance: {} });
  // @ts-expect-error unknown option
  hubAuth({ errorMode: 'throw' });
  // @ts-expect-error onUnauthenticated is 'auto' | 'login' | 'reject'
  hubAuthenticated({ onUnauthenticated: 'redirect' });
  // @ts-expect-error hubUsers is a list
  hubAuthenticated({ hubUsers: 'admin' });
  // @ts-expect-error scopes is a list
  hubAuthenticated({ scopes: 'custom:reports' });
  // @ts-expect-error allowServices is a boolean
  hubAuthenticated({ allowServices: 'no' });
  // @ts-expect-error errors is 'respond' | 'throw'
  hubAuthenticated({ errors: true });
  // @ts-expect-error guards take access options, not middleware options
  hubAuthenticated({ apiToken: 'x' });
}

test('the typed apps build', () => {
  expect(() => typedApps()).not.toThrow();
  expect(() => properties()).not.toThrow();
  void [augmentedUser, rejectedOptions];
});

test.each([
  ['@types/koa 3', {}],
  ['@types/koa 2', { koa: [declarationsOf(join(__dirname, '..'), 'types-koa2')] }],
])('this file type-checks with %s', (_types, paths: Record<string, string[]>) => {
  expect(typeCheck(__filename, paths)).toEqual([]);
}, 60_000);
