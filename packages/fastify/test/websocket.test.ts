import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import { hubAuth, hubAuthenticated, type HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { PREFIX } from '../../../test/contract/types';

// Fastify + @fastify/websocket: an upgrade is routed like any request, so the plugin's hook and the
// route's preHandler guard run before the socket opens; a guard's answer refuses the upgrade.
describeWebsocketContract('Fastify + @fastify/websocket', async (options: HubAuthMiddlewareOptions) => {
  const app = Fastify();
  await app.register(websocket);
  await app.register(hubAuth, options);
  const greet = async (socket: { send(data: string): void }, request: { hubAuth: import('@hubauth/core').HubCaller | null }) => {
    const caller = request.hubAuth;
    if (!caller?.user) return;
    const { body } = await caller.api<{ name: string }>('GET', `/users/${caller.user.name}`);
    socket.send(JSON.stringify({ name: caller.user.name, act: body?.name }));
  };
  app.get(`${PREFIX}ws`, { websocket: true, preHandler: hubAuthenticated() }, (socket, request) => void greet(socket, request));
  app.get(`${PREFIX}ws-staff`, { websocket: true, preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, (socket, request) => void greet(socket, request));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
});
