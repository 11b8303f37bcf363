/**
 * The routes core serves itself: one table, `{ name, methods, path, handler }`, that adapters mount
 * (or let core answer in their catch-all middleware). Token-only authentication has none.
 */
import { pathOf } from './request';
import type { HubRequest, HubResponse } from './types';

/** Names of core's own routes. */
export type HubRouteName = 'callback' | 'logout';

/** A route core serves: the OAuth callback (`GET|HEAD <callback>`) or logout (`GET|POST <prefix>logout`). */
export interface HubRoute {
  /** Which route this is. */
  readonly name: HubRouteName;
  /** Upper-case methods served; other methods on the path fall through to the application. */
  readonly methods: readonly string[];
  /** Absolute path, e.g. `/services/whoami/oauth_callback`. */
  readonly path: string;
  /** Answers the request. Rejects with a {@link HubAuthError} for the adapter to render or throw. */
  readonly handler: (request: HubRequest) => Promise<HubResponse>;
}

/** The route of `routes` that serves `request`, or `null`. */
export function matchRoute(routes: readonly HubRoute[], request: HubRequest): HubRoute | null {
  if (routes.length === 0) return null;
  const path = pathOf(request.url);
  let method: string | undefined;
  for (const route of routes) {
    if (route.path !== path) continue;
    method ??= request.method.toUpperCase();
    if (route.methods.includes(method)) return route;
  }
  return null;
}
