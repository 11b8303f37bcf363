import { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import { hubAuth, hubAuthenticated, type HubAuthEnv, type HubAuthMiddlewareOptions } from '../src';
import { greeting, WEBSOCKET_ROUTES } from '../../../test/contract/websocket-app';

/**
 * The websocket contract app (test/contract/websocket.ts) as a Hono app, with the runtime's
 * `upgradeWebSocket` (`@hono/node-server`'s on Node, `hono/bun`'s on Bun): an upgrade is routed like
 * any request, so the guard refuses it (401/403/503) before `upgradeWebSocket` runs.
 */
export function websocketHono(options: HubAuthMiddlewareOptions, upgradeWebSocket: UpgradeWebSocket): Hono<HubAuthEnv> {
  const app = new Hono<HubAuthEnv>();
  app.use(hubAuth(options));
  for (const [path, policy] of Object.entries(WEBSOCKET_ROUTES)) {
    app.get(
      path,
      hubAuthenticated(policy),
      upgradeWebSocket((c) => {
        const caller = c.get('hubAuth');
        return { onOpen: (_event, ws) => void greeting(caller).then((text) => ws.send(text)) };
      }),
    );
  }
  return app;
}

