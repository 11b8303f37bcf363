/**
 * A websocket contract server for adapters whose upgrades reach Node's HTTP server rather than the
 * framework (Express, Koa): `server.on('upgrade')` hands each upgrade to the adapter's
 * `upgrade(req, socket, policy)`, which refuses it on the socket or resolves with the caller.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HubAuthenticatedOptions, HubCaller } from '@hubauth/core';
import { WebSocketServer } from 'ws';
import type { IncomingMessage } from 'node:http';
import { greeting, WEBSOCKET_ROUTES } from './websocket-app';
import type { WebsocketServer } from './websocket';

type Upgrade = (req: IncomingMessage, socket: Duplex, policy: HubAuthenticatedOptions) => Promise<HubCaller | null>;

/** Serves the websocket routes on a listening `server`, guarded by `upgrade`. */
export function serveUpgrades(server: Server, upgrade: Upgrade): WebsocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const policy = WEBSOCKET_ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!policy) return void socket.destroy();
    void upgrade(req, socket, policy).then(async (caller) => {
      if (!caller) return;
      const text = await greeting(caller);
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(text));
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
}
