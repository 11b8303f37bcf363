import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddlewareOptions } from '../src';
import { PREFIX, teamPolicy, type ContractApp, type ContractAppFactory } from '../../../test/contract/types';

/** Builds the contract app on a given Express major (`express` is the default export of 4.x or 5.x). */
export function makeApp(express: () => Express): ContractAppFactory {
  return async (options: HubAuthMiddlewareOptions): Promise<ContractApp> => {
    const app = express();
    app.use(hubAuth(options));
    // Guarded handlers read the caller as users are told to: typed as present, no `!` or check.
    const me = (req: Request, res: Response) => res.json(requireHubUser(req));
    const ok = (req: Request, res: Response) => res.json({ ok: true, name: requireHubUser(req).name });
    app.get(PREFIX, hubAuthenticated(), me);
    app.get(`${PREFIX}api/me`, hubAuthenticated(), me);
    app.post(`${PREFIX}api/me`, hubAuthenticated(), ok);
    app.delete(`${PREFIX}api/me`, hubAuthenticated(), ok);
    app.get(`${PREFIX}admins`, hubAuthenticated({ hubUsers: ['admin'] }), me);
    app.get(`${PREFIX}staff`, hubAuthenticated({ hubGroups: ['staff'] }), me);
    app.get(`${PREFIX}custom`, hubAuthenticated({ scopes: ['custom:reports'] }), me);
    app.get(`${PREFIX}users-only`, hubAuthenticated({ allowServices: false }), me);
    app.get(`${PREFIX}api-only`, hubAuthenticated({ onUnauthenticated: 'reject' }), me);
    app.get(`${PREFIX}act/:name`, hubAuthenticated(), (req, res) => {
      req.hubAuth?.api('GET', `/users/${req.params.name as string}`).then(
        ({ body }) => res.json(body),
        (err: { status: number }) => res.status(err.status).json({ status: err.status }),
      );
    });
    app.get(`${PREFIX}services`, hubAuthenticated({ allowServices: true }), me);
    const team = teamPolicy();
    app.get(`${PREFIX}team`, hubAuthenticated(team), me);
    app.get(`${PREFIX}open`, (req, res) => res.json({ user: req.hubUser ?? null, xsrf: res.locals.xsrfToken ?? null }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    void (server.address() as AddressInfo);
    return {
      server,
      team,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  };
}
