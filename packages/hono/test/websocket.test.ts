import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import type { HubAuthMiddlewareOptions } from '../src';
import { describeWebsocketContract } from '../../../test/contract/websocket';
import { runtimeWebsocketFactory } from '../../../test/runtimes';
import { websocketHono } from './websocket-app';

jest.setTimeout(30_000);

// Hono on Node: @hono/node-server's own websocket support (a `ws` server given to serve()); the
// upgrade goes through the app, so hubAuth() and the route's guard run before upgradeWebSocket.
describeWebsocketContract('Hono on Node + @hono/node-server', async (options: HubAuthMiddlewareOptions) => {
  const app = websocketHono(options, upgradeWebSocket);
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: new WebSocketServer({ noServer: true }) } });
  if (!server.listening) await once(server, 'listening');
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      (server as import('node:http').Server).closeAllConnections();
      server.close(() => resolve());
    }),
  };
});

// Hono on Bun: hono/bun's upgradeWebSocket and websocket handlers, the app served by Bun.serve.
describeWebsocketContract('Hono on Bun + hono/bun', runtimeWebsocketFactory('hono'));
