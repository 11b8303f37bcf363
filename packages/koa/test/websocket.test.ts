import { once } from 'node:events';
import Koa from 'koa';
import { hubAuth, type HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { serveUpgrades } from '../../../test/contract/websocket-node';

// Koa + ws: upgrades reach the HTTP server, not Koa; the middleware's upgrade() guards them.
describeWebsocketContract('Koa + ws', async (options: HubAuthMiddlewareOptions) => {
  const auth = hubAuth(options);
  const server = new Koa().use(auth).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return serveUpgrades(server, (req, socket, policy) => auth.upgrade(req, socket, policy));
});
