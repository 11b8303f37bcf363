// lib/hub.ts
import { hubAuth, type FetchHandler, type WebHubAuth } from '@hubauth/web';

// Made at the first request, not at import: `next build` imports every route to read its
// configuration, without the environment JupyterHub gives the service. Kept on globalThis so that
// every route shares one authenticator (one cookie secret, one login in progress, one cache),
// however Next.js bundles or reloads the modules.
const shared = globalThis as typeof globalThis & { hubauth?: WebHubAuth };
export const hub = (): WebHubAuth => (shared.hubauth ??= hubAuth({ trustProxy: true })); // reads JUPYTERHUB_*

/** A route handler that `make` builds at the route's first request. */
export function route(make: (hub: WebHubAuth) => FetchHandler): FetchHandler {
  let handler: FetchHandler | undefined;
  return (request, env) => (handler ??= make(hub()))(request, env);
}
