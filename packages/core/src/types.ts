/**
 * Framework-neutral shapes. Adapters translate their framework's request into a {@link HubRequest}
 * and write a {@link HubResponse} back; every decision in between is made by core.
 */
import type { HubAuthLogger } from './config';

/**
 * Request headers: lower-case names, values as Node delivers them in `IncomingMessage.headers`.
 * A view over a Web `Request` passes `Object.fromEntries(request.headers)`: repeated headers arrive
 * joined with `, `, and core refuses an `Authorization` value joined that way (400) just as it refuses
 * several `Authorization` headers on Node.
 */
export type HubRequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The parts of an incoming request that authentication needs: what an adapter's request view
 * provides (`@hubauth/core/adapter` has the view for Node's `IncomingMessage`). Properties may be
 * getters: `secure`, `ip` and `body` are read only when a decision needs them.
 */
export interface HubRequest {
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** The request target as received: path plus query, e.g. `/services/whoami/page?x=1`. */
  url: string;
  /** Request headers (lower-case names, see {@link HubRequestHeaders}). */
  headers: HubRequestHeaders;
  /**
   * Node's `IncomingMessage.rawHeaders`, when available. Node keeps only the first `Authorization`
   * header in `headers`; with the raw list, a request carrying several is refused instead. Absent for
   * a Web `Request`, whose `Headers` join repeated values (detected from the joined value).
   */
  rawHeaders?: readonly string[];
  /**
   * Whether the browser reached us over https, as the framework resolved it (it knows whether to
   * trust `X-Forwarded-Proto`). Used only for the `Secure` cookie attribute when no public URL is configured.
   */
  secure?: boolean;
  /** Client address as the framework resolved it (for post-auth hooks and logs; core decides nothing on it). */
  ip?: string;
  /**
   * The request body, when the framework already parsed one: an `_xsrf` form field is read from it
   * (a plain object, `URLSearchParams` or `FormData`).
   */
  body?: unknown;
  /**
   * Reads the body on demand, when no parsed {@link body} is at hand (a Web `Request`, e.g.
   * `() => request.clone().formData()` for form posts). Core calls it at most once per request, and
   * only for a cookie-authenticated unsafe request that carries no `X-XSRFToken` header; the result is
   * read like {@link body}. A rejection counts as "no field".
   */
  readBody?(): Promise<unknown>;
  /**
   * The framework's id for this request (Fastify's `request.id`), for log lines. Without it, an
   * `X-Request-Id` header is used when it holds a short visible-ASCII value.
   */
  requestId?: string;
  /**
   * A logger bound to this request (Fastify's `request.log`, a pino child carrying `reqId`), used for
   * this request's log lines instead of the configured one.
   */
  log?: HubAuthLogger;
}

/** A response core asks the adapter to send (redirects, callback results, rendered errors). */
export interface HubResponse {
  /** HTTP status. */
  status: number;
  /** Headers with lower-case names; `set-cookie` is always an array. */
  headers: Record<string, string | string[]>;
  /** Body, if any. */
  body?: string;
}

/** A JupyterHub server model, as found in a user model's `servers`. */
export interface HubServer {
  /** The server's name; `''` for the default server. */
  name: string;
  /** Whether the server is running and answering. */
  ready?: boolean;
  /** `'spawn'` or `'stop'` while one is in progress, else `null`. */
  pending?: string | null;
  /** The server's path on the Hub's host, e.g. `/user/alice/`. */
  url?: string;
  /** The server's absolute URL when the Hub knows its public host, else `null`. */
  full_url?: string | null;
  [field: string]: unknown;
}

/**
 * The identity the Hub returns from `GET /hub/api/user`: a user or a service.
 * Fields depend on the token's scopes; unknown fields are kept. Returned models are frozen.
 * Augment this interface to type extra fields your Hub sends.
 */
export interface HubUser {
  /** `user` or `service`. */
  kind: 'user' | 'service';
  /** User or service name. */
  name: string;
  /** Whether the Hub considers this identity an admin. */
  admin: boolean;
  /** Group names (users only; empty for services). */
  groups: readonly string[];
  /** The token's fully expanded scopes. */
  scopes: readonly string[];
  /** Hub login session of an OAuth token; `null` for API tokens. */
  session_id?: string | null;
  /** Id of the token (JupyterHub 5+). */
  token_id?: string;
  /** Authenticator-provided display information (JupyterHub 6+). */
  user_info?: Readonly<Record<string, unknown>> | null;
  /** Role names (users only, when the token may read roles). */
  roles?: readonly string[];
  /** The path of the running default server, e.g. `/user/alice/`; `null` when it is not running. */
  server?: string | null;
  /** `'spawn'` or `'stop'` while the default server is starting or stopping, else `null`. */
  pending?: string | null;
  /** When the user was created (ISO 8601). */
  created?: string;
  /** When the Hub last saw the user active (ISO 8601); `null` if never. */
  last_activity?: string | null;
  /** Servers by name (`''` is the default one), with the `read:servers` scope. */
  servers?: Readonly<Record<string, HubServer>>;
  [field: string]: unknown;
}
