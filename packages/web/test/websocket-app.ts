import { hubAuth, type FetchHandler, type HubAuthMiddlewareOptions, type HubCaller } from '../src';
import { greeting, WEBSOCKET_ROUTES } from '../../../test/contract/websocket-app';

/** What the app needs of Bun's `Server` (the fetch handler's second argument). */
interface UpgradingServer {
  upgrade(request: Request, options: { data: { caller: HubCaller } }): boolean;
}

/** What it needs of Bun's `ServerWebSocket`. */
interface Socket {
  data: { caller: HubCaller };
  send(text: string): unknown;
}

/**
 * The websocket contract app (test/contract/websocket.ts) for `Bun.serve({ fetch, websocket })`:
 * `protect()` guards the upgrade request like any other (a refusal is its plain 401/403/503), and
 * the handler upgrades with `server.upgrade(request)`, the caller as the socket's data.
 */
export function websocketFetch(options: HubAuthMiddlewareOptions): { fetch: FetchHandler; websocket: { open(ws: Socket): void; message(): void } } {
  const hub = hubAuth(options);
  const routes = new Map(Object.entries(WEBSOCKET_ROUTES).map(([path, policy]) => [
    path,
    hub.protect((request, { hubAuth: caller, env }) => {
      const upgraded = (env as UpgradingServer).upgrade(request, { data: { caller } });
      // After an upgrade Bun ignores the response; without one the request was no websocket handshake.
      return upgraded ? new Response(null) : new Response('websocket upgrade expected', { status: 426 });
    }, policy),
  ]));
  return {
    fetch: (request, env) => (routes.get(new URL(request.url).pathname) ?? hub.routes)(request, env),
    websocket: {
      open: (ws) => void greeting(ws.data.caller).then((text) => ws.send(text)),
      message() {},
    },
  };
}
