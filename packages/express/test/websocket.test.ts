import { once } from 'node:events';
import express from 'express';
import { hubAuth, type HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { serveUpgrades } from '../../../test/contract/websocket-node';

// Express + ws: upgrades reach the HTTP server, not Express; the middleware's upgrade() guards them.
describeWebsocketContract('Express + ws', async (options: HubAuthMiddlewareOptions) => {
  const app = express();
  const auth = hubAuth(options);
  app.use(auth);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return serveUpgrades(server, (req, socket, policy) => auth.upgrade(req, socket, policy));
});
