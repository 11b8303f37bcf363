import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebSocketServer } from 'ws';
import { hubAuth, type HubAuthenticatedOptions, type HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { PREFIX } from '../../../test/contract/types';

// Express + ws: upgrades reach the HTTP server, not Express; the middleware's upgrade() guards them.
describeWebsocketContract('Express + ws', async (options: HubAuthMiddlewareOptions) => {
  const app = express();
  const auth = hubAuth(options);
  app.use(auth);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const wss = new WebSocketServer({ noServer: true });
  const policies: Record<string, HubAuthenticatedOptions> = { [`${PREFIX}ws`]: {}, [`${PREFIX}ws-staff`]: { hubGroups: ['staff'] } };
  server.on('upgrade', (req, socket, head) => {
    const policy = policies[new URL(req.url ?? '/', 'http://x').pathname];
    if (!policy) return void socket.destroy();
    void auth.upgrade(req, socket, policy).then(async (caller) => {
      if (!caller?.user) return;
      const { body } = await caller.api<{ name: string }>('GET', `/users/${caller.user.name}`);
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ name: caller.user?.name, act: body?.name })));
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
});
