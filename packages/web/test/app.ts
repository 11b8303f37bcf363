import { once } from 'node:events';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { hubAuth, type FetchHandler, type HubAuthMiddlewareOptions, type HubAuthenticatedOptions, type HubHandler } from '../src';
import { PREFIX, teamPolicy, type ContractApp } from '../../../test/contract/types';

/**
 * The contract app as plain fetch handlers: one `hubAuth()` shared by a route table of
 * `protect()`/`open()` handlers, `routes` for everything else (the callback, logout, 404).
 */
export function contractFetch(options: HubAuthMiddlewareOptions, team: HubAuthenticatedOptions = teamPolicy()): FetchHandler {
  const hub = hubAuth(options);
  const me: HubHandler = (_request, { hubUser }) => Response.json(hubUser);
  const ok: HubHandler = (_request, { hubUser }) => Response.json({ ok: true, name: hubUser.name });
  const guarded = (policy: HubAuthenticatedOptions = {}, handler = me) => hub.protect(handler, policy);
  const table: Record<string, FetchHandler> = {
    [`GET ${PREFIX}`]: guarded(),
    [`GET ${PREFIX}api/me`]: guarded(),
    [`POST ${PREFIX}api/me`]: guarded({}, ok),
    [`DELETE ${PREFIX}api/me`]: guarded({}, ok),
    [`GET ${PREFIX}admins`]: guarded({ hubUsers: ['admin'] }),
    [`GET ${PREFIX}staff`]: guarded({ hubGroups: ['staff'] }),
    [`GET ${PREFIX}custom`]: guarded({ scopes: ['custom:reports'] }),
    [`GET ${PREFIX}users-only`]: guarded({ allowServices: false }),
    [`GET ${PREFIX}api-only`]: guarded({ onUnauthenticated: 'reject' }),
    [`GET ${PREFIX}services`]: guarded({ allowServices: true }),
    [`GET ${PREFIX}team`]: guarded(team),
    [`GET ${PREFIX}open`]: hub.open((_request, { hubUser, xsrfToken }) => Response.json({ user: hubUser, xsrf: xsrfToken })),
  };
  const act = guarded({}, async (request, { hubAuth }) => {
    const name = new URL(request.url).pathname.slice(`${PREFIX}act/`.length);
    try {
      return Response.json((await hubAuth.api('GET', `/users/${name}`)).body);
    } catch (err) {
      const status = (err as { status: number }).status;
      return Response.json({ status }, { status });
    }
  });
  return (request, env) => {
    if (new URL(request.url).pathname.startsWith(`${PREFIX}act/`)) return act(request, env);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const handler = table[`${method} ${new URL(request.url).pathname}`] ?? hub.routes;
    return handler(request, env);
  };
}

/** Serves a fetch handler on Node (through `@hono/node-server`) as a contract app; `team` is what its `team` route guards with. */
export async function serveOnNode(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
  team: HubAuthenticatedOptions = teamPolicy(),
): Promise<ContractApp> {
  const server = createAdaptorServer({ fetch }) as Server;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    team,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
