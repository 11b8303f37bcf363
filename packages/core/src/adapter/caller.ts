/**
 * The per-request handle a handler uses to act as its caller: `hubAuth.api(...)` with the caller's
 * own Hub token, the same in every adapter. The token stays out of everything that serialises or
 * inspects the object.
 */
import type { Identity } from '../credentials';
import type { HubApi, HubApiResponse } from '../hub-api';
import type { HubAuth } from '../hub-auth';
import type { HubUser } from '../types';

/**
 * What a handler gets per request to act as its caller (`req.hubAuth` in Express,
 * `ctx.state.hubAuth` in Koa, `request.hubAuth` in Fastify, `c.get('hubAuth')` in Hono, the Web
 * handler's `{ hubAuth }`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';
 *
 * const app = express();
 * app.use(hubAuth({ requestScopes: ['read:servers!user'] })); // asks the Hub for the scope at login
 * app.get('/servers', hubAuthenticated({ requireScopes: ['read:servers!user'] }), async (req, res) => {
 *   const { name } = requireHubUser(req);
 *   const caller = req.hubAuth; // set together with req.hubUser
 *   if (!caller) throw new Error('app.use(hubAuth()) must run first');
 *   const { body } = await caller.api<{ servers: object }>('GET', `/users/${name}`);
 *   res.json(body?.servers ?? {});
 * });
 * ```
 */
export class HubCaller {
  // Private fields stay out of JSON.stringify and util.inspect, so a logged carrier shows no token.
  readonly #auth: HubAuth;
  readonly #identity: Identity;
  // Made on first use: most requests never call the Hub, and every adapter makes one HubCaller per request.
  #api: HubApi | undefined;

  constructor(auth: HubAuth, identity: Identity) {
    this.#auth = auth;
    this.#identity = identity;
  }

  /**
   * Calls the Hub API with the caller's own token; see {@link HubAuth.apiRequestAs}. A function of
   * its own, so `const { api } = req.hubAuth` works too.
   */
  get api(): HubApi {
    return (this.#api ??= <T = unknown>(method: string, path: string, body?: unknown): Promise<HubApiResponse<T>> =>
      this.#auth.apiRequestAs<T>(this.#identity, method, path, body));
  }

  /** The caller, when the Hub identified one. */
  get user(): HubUser | null {
    return this.#identity.user;
  }

  /** The xsrf token for forms and scripts (browser sessions only). */
  get xsrfToken(): string | null {
    return this.#identity.xsrfToken;
  }

  /**
   * The caller's Hub token (OAuth token of a browser login, API token of a header or URL). For
   * server-side use only: never send it to the browser or write it to a log.
   */
  get token(): string | undefined {
    return this.#auth.callerToken(this.#identity);
  }

  /** Without the token: what `JSON.stringify` of the carrier shows. */
  toJSON(): {
    /** The caller; the token stays out. */
    user: HubUser | null;
  } {
    return { user: this.user };
  }
}
