import { Hono, type Context } from 'hono';
import { hubAuth, hubAuthenticated, type HubAuthEnv, type HubAuthGuardedEnv, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions } from '../src';
import { PREFIX, teamPolicy } from '../../../test/contract/types';

/** The contract app (test/contract/types.ts) as a Hono app; its `fetch` runs on any runtime. */
export function contractHono(options: HubAuthMiddlewareOptions, team: HubAuthenticatedOptions = teamPolicy()): Hono<HubAuthEnv> {
  const app = new Hono<HubAuthEnv>();
  app.use(hubAuth(options));
  // Guarded handlers read the caller as users are told to: after hubAuthenticated() Hono types it as
  // present (HubAuthGuardedEnv), no `!` or check.
  const me = (c: Context<HubAuthGuardedEnv>) => c.json(c.get('hubUser'));
  const ok = (c: Context<HubAuthGuardedEnv>) => c.json({ ok: true, name: c.get('hubUser').name });
  app.get(PREFIX, hubAuthenticated(), me);
  app.get(`${PREFIX}api/me`, hubAuthenticated(), me);
  app.post(`${PREFIX}api/me`, hubAuthenticated(), ok);
  app.delete(`${PREFIX}api/me`, hubAuthenticated(), ok);
  app.get(`${PREFIX}admins`, hubAuthenticated({ hubUsers: ['admin'] }), me);
  app.get(`${PREFIX}staff`, hubAuthenticated({ hubGroups: ['staff'] }), me);
  app.get(`${PREFIX}custom`, hubAuthenticated({ scopes: ['custom:reports'] }), me);
  app.get(`${PREFIX}users-only`, hubAuthenticated({ allowServices: false }), me);
  app.get(`${PREFIX}api-only`, hubAuthenticated({ onUnauthenticated: 'reject' }), me);
  app.get(`${PREFIX}act/:name`, hubAuthenticated(), async (c) => {
    try {
      return c.json((await c.get('hubAuth')!.api('GET', `/users/${c.req.param('name')}`)).body);
    } catch (err) {
      const status = (err as { status: number }).status;
      return Response.json({ status }, { status });
    }
  });
  app.get(`${PREFIX}services`, hubAuthenticated({ allowServices: true }), me);
  app.get(`${PREFIX}team`, hubAuthenticated(team), me);
  app.get(`${PREFIX}open`, (c) => c.json({ user: c.get('hubUser') ?? null, xsrf: c.get('xsrfToken') ?? null }));
  return app;
}
