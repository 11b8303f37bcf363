/**
 * The contract every adapter's test app satisfies, so that one table of scenarios
 * (test/contract/scenarios.ts) runs unchanged against Express, Koa and Fastify.
 */
import type { Server } from 'node:http';
import type { HubAuthMiddlewareOptions, HubAuthenticatedOptions } from '@hubauth/core';

/** Routes every contract app serves, all under the service prefix `PREFIX`. */
export const PREFIX = '/services/whoami/';

/**
 * The app an adapter builds for the contract suite:
 * - `app.use(hubAuth(options))` globally;
 * - `GET  PREFIX`              guarded `hubAuthenticated()`             → 200 JSON of the user
 * - `GET  PREFIX + 'api/me'`   guarded `hubAuthenticated()`             → 200 JSON of the user
 * - `POST PREFIX + 'api/me'`   guarded `hubAuthenticated()`             → 200 JSON `{ ok: true, name }`
 * - `DELETE PREFIX + 'api/me'` guarded `hubAuthenticated()`             → 200 JSON `{ ok: true, name }`
 * - `GET  PREFIX + 'admins'`   guarded `{ hubUsers: ['admin'] }`        → 200 JSON of the user
 * - `GET  PREFIX + 'staff'`    guarded `{ hubGroups: ['staff'] }`       → 200 JSON of the user
 * - `GET  PREFIX + 'custom'`   guarded `{ scopes: ['custom:reports'] }` → 200 JSON of the user
 * - `GET  PREFIX + 'users-only'` guarded `{ allowServices: false }`     → 200 JSON of the user
 * - `GET  PREFIX + 'api-only'` guarded `{ onUnauthenticated: 'reject' }` → 200 JSON of the user
 * - `GET  PREFIX + 'act/<name>'` guarded `hubAuthenticated()` → the Hub's `GET /users/<name>` made with
 *   the caller's token through the adapter's `hubAuth.api`: 200 with the Hub's model, or the status
 *   of the `HubApiError` it threw, as `{ status }`
 * - `GET  PREFIX + 'services'` guarded `{ allowServices: true }`       → 200 JSON of the user
 * - `GET  PREFIX + 'team'`     guarded by the object `teamPolicy()` returned, kept as `ContractApp.team`
 *                              (the adversarial suite edits it after the guard was created) → 200 JSON of the user
 * - `GET  PREFIX + 'open'`     not guarded → 200 JSON `{ user: <hubUser or null>, xsrf: <xsrf token or null> }`
 * JSON of the user = the `HubUser` as set on the request by the adapter.
 */
export interface ContractApp {
  server: Server;
  close(): Promise<void>;
  /**
   * Apps served in another process (Bun, Deno) set that process's clock (`Date.now`) to `ms`, or back
   * to real time with `null`, where a suite mocks the clock. In-process apps share the mocked clock.
   */
  setClock?(ms: number | null): Promise<void>;
  /** The very options object given to the `team` route's guard. */
  team: HubAuthenticatedOptions;
}

/** The `team` route's guard options, a fresh mutable object per app: `{ hubUsers: ['alice'] }`. */
export function teamPolicy(): HubAuthenticatedOptions & { hubUsers: string[] } {
  return { hubUsers: ['alice'] };
}

/** Builds a listening app (on 127.0.0.1, any port) with the adapter under test. */
export type ContractAppFactory = (options: HubAuthMiddlewareOptions) => Promise<ContractApp>;
