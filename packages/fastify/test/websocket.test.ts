import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import { hubAuth, hubAuthenticated, type HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { greeting, WEBSOCKET_ROUTES } from '../../../test/contract/websocket-app';

// Fastify + @fastify/websocket: an upgrade is routed like any request, so the plugin's hook and the
// route's preHandler guard run before the socket opens; a guard's answer refuses the upgrade.
describeWebsocketContract('Fastify + @fastify/websocket', async (options: HubAuthMiddlewareOptions) => {
  const app = Fastify();
  await app.register(websocket);
  await app.register(hubAuth, options);
  for (const [path, policy] of Object.entries(WEBSOCKET_ROUTES)) {
    app.get(path, { websocket: true, preHandler: hubAuthenticated(policy) }, (socket, request) => {
      if (request.hubAuth) void greeting(request.hubAuth).then((text) => socket.send(text));
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
});
