/**
 * Compile-time checks of the public types: handlers get a typed caller, the results are fetch
 * handlers for Bun, Deno and Next.js, options reject wrong values. The test below type-checks this
 * file with the TypeScript compiler, so a failed check fails the test run.
 */
import { HubAuth, hubAuth, hubAuthenticated, type FetchHandler, type HubUser, type Identification, type WebHubAuth } from '../src';
import { expectType, typeCheck, type Equal } from '../../../test/contract/typing';

const env = { JUPYTERHUB_API_TOKEN: 'x', JUPYTERHUB_SERVICE_NAME: 'whoami' };

function typedHandlers(): void {
  const service = hubAuthenticated((request, { hubUser, xsrfToken: _xsrf, env: _runtime }) => {
    expectType<Equal<typeof request, Request>>();
    expectType<Equal<typeof hubUser, HubUser>>();
    expectType<Equal<typeof _xsrf, string | null>>();
    expectType<Equal<typeof _runtime, unknown>>();
    return Response.json(hubUser);
  }, { env, hubGroups: ['staff'], trustProxy: true });
  expectType<Equal<typeof service, FetchHandler>>();
  // What Bun.serve, Deno.serve and Next.js route handlers accept.
  const bunFetch: (request: Request, server: { requestIP(r: Request): { address: string } | null }) => Response | Promise<Response> = service;
  const denoHandler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response> = service;
  // Next.js checks a route handler's return type against `Response | Promise<Response>` (and void).
  const nextRoute: (request: Request, context: { params: Promise<Record<string, string>> }) => Response | Promise<Response> = service;
  void [bunFetch, denoHandler, nextRoute];

  const hub = hubAuth({ env });
  expectType<Equal<typeof hub, WebHubAuth>>();
  expectType<Equal<typeof hub.auth, HubAuth>>();
  hub.open(async (_request, { hubUser }) => {
    expectType<Equal<typeof hubUser, HubUser | null>>();
    return new Response(hubUser?.name ?? 'anonymous');
  });
  hub.protect(async () => new Response('ok'), { scopes: ['custom:reports'] });
  void (async () => {
    const result: Identification = await hub.identify(new Request('http://h/'));
    if (result.response === null) expectType<Equal<typeof result.state.identity.user, HubUser | null>>();
  });
}

function rejectedOptions(): void {
  // @ts-expect-error the handler must return a Response
  hubAuthenticated(() => 'hello');
  // @ts-expect-error errors is 'respond' | 'throw'
  hubAuthenticated(() => new Response(), { errors: 'log' });
  // @ts-expect-error hubUsers is a list
  hubAuthenticated(() => new Response(), { hubUsers: 'admin' });
  // @ts-expect-error unknown option
  hubAuth({ errorMode: 'throw' });
  // @ts-expect-error protect takes an access policy, not middleware options
  hubAuth().protect(() => new Response(), { apiToken: 'x' });
}

test('the typed handlers build', () => {
  expect(() => typedHandlers()).not.toThrow();
  void rejectedOptions;
});

test('this file type-checks', () => {
  expect(typeCheck(__filename)).toEqual([]);
}, 60_000);
