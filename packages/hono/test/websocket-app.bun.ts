import type { Hono } from 'hono';
// hono/bun touches `Bun` when loaded: only the app served by Bun imports this module.
import { upgradeWebSocket, websocket } from 'hono/bun';
import type { HubAuthEnv, HubAuthMiddlewareOptions } from '../src';
import { websocketHono } from './websocket-app';

/** The websocket contract app on Bun: `hono/bun`'s helper, and the handlers `Bun.serve({ websocket })` needs. */
export function bunWebsocketHono(options: HubAuthMiddlewareOptions): { fetch: Hono<HubAuthEnv>['fetch']; websocket: typeof websocket } {
  return { fetch: websocketHono(options, upgradeWebSocket).fetch, websocket };
}
