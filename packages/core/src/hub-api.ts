/**
 * Calls to the Hub's REST API made on someone's behalf: the service itself (its API token) or the
 * caller of a request (their OAuth or API token). Both return the status and the parsed body, or a
 * typed error, never a raw reply. The caller's token is held where neither `JSON.stringify` nor
 * `util.inspect` nor a log line can reach it.
 */
import { HubApiError, HubUnavailableError, InvalidRequestError, ServiceCredentialsError } from './errors';
import type { Identity } from './credentials';
import type { HubClient } from './hub-client';

/** A successful Hub API reply. */
export interface HubApiResponse<T = unknown> {
  /** The Hub's status (2xx or 3xx). */
  status: number;
  /** The parsed JSON body; `null` for an empty reply (e.g. 204). */
  body: T | null;
}

/**
 * Calls the Hub API as the caller of the current request, e.g. `api('GET', '/users/alice')`.
 * `path` is relative to the API URL. Resolves with status and body; rejects with a
 * {@link HubApiError} carrying the Hub's status (a 403 from the Hub stays a 403) or a
 * {@link HubUnavailableError}.
 */
export type HubApi = <T = unknown>(method: string, path: string, body?: unknown) => Promise<HubApiResponse<T>>;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Checks method and path once per call; returns the normalised pair. */
function target(method: string, path: string): { method: string; path: string } {
  const m = typeof method === 'string' ? method.toUpperCase() : '';
  if (!METHODS.has(m)) throw new InvalidRequestError(`Hub API call with an unsupported method ${JSON.stringify(method)}`);
  if (typeof path !== 'string' || path === '') throw new InvalidRequestError('Hub API call without a path');
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) throw new InvalidRequestError('Hub API paths are relative to the API URL, not absolute URLs');
  const rel = path.startsWith('/') ? path : `/${path}`;
  // Relative to the API URL only: no scheme, no `..` segments, no fragments, no whitespace or controls.
  // eslint-disable-next-line no-control-regex
  if (/[\s#\u0000-\u001f\u007f\\]/.test(rel) || rel.startsWith('//') || /(^|\/)\.\.?(\/|\?|$)/.test(rel.split('?')[0] as string)) {
    throw new InvalidRequestError(`Hub API path ${JSON.stringify(path.slice(0, 100))} is not a plain path under the API URL`);
  }
  return { method: m, path: rel };
}

/** The Hub's own error message (`{"status": 403, "message": "..."}`), shortened to one line. */
function hubMessage(text: string): string {
  try {
    const data: unknown = JSON.parse(text);
    const message = data && typeof data === 'object' ? (data as { message?: unknown }).message : undefined;
    // eslint-disable-next-line no-control-regex
    if (typeof message === 'string') return message.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
  } catch {
    // not JSON: say nothing rather than echo an HTML page
  }
  return '';
}

/**
 * One Hub API call with `token`. `as` decides what an error status means: for the service's own
 * token, 401/403 are a configuration problem ({@link ServiceCredentialsError}, 500) and any other
 * error a 500/502 {@link HubApiError}; for a caller's token, the Hub's 4xx is the answer to pass on
 * (status and message kept) and a 5xx a 502.
 */
export async function callHubApi<T>(
  client: HubClient,
  token: string,
  as: 'service' | 'caller',
  method: string,
  path: string,
  body?: unknown,
): Promise<HubApiResponse<T>> {
  const t = target(method, path);
  const what = `${t.method} ${t.path.split('?')[0] as string}`;
  if (!token) {
    throw as === 'service'
      ? new ServiceCredentialsError('Hub API calls as the service need its API token (apiToken / JUPYTERHUB_API_TOKEN)')
      : new HubApiError(401, `No caller token to call ${what} with`, { asCaller: true });
  }
  const headers: Record<string, string> = { authorization: `token ${token}` };
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const reply = await client.request(t.method, t.path, { headers, ...(payload !== undefined ? { body: payload } : {}) });
  if (reply.status >= 400) {
    const said = hubMessage(reply.text);
    const detail = `The Hub answered ${reply.status} to ${what}${said ? `: ${said}` : ''}`;
    if (as === 'service' && (reply.status === 401 || reply.status === 403)) {
      throw new ServiceCredentialsError(`${detail} (the service's token was refused; check its roles and JUPYTERHUB_API_TOKEN)`);
    }
    throw new HubApiError(reply.status, detail, { asCaller: as === 'caller' });
  }
  if (reply.text.trim() === '' || t.method === 'HEAD') return { status: reply.status, body: null };
  try {
    return { status: reply.status, body: JSON.parse(reply.text) as T };
  } catch {
    throw new HubUnavailableError(`The Hub answered ${what} with something that is not JSON`, { status: 502 });
  }
}

/**
 * A caller's Hub token, held in a private field: `JSON.stringify`, `util.inspect` and log lines of
 * whatever carries it (an {@link Identity}) show no token. A class rather than a side table keyed
 * by the carrier: one small object per request, nothing for the garbage collector to track weakly.
 */
export class CallerToken {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The token itself, for a call to the Hub made on the caller's behalf. */
  reveal(): string {
    return this.#value;
  }

  /** What `JSON.stringify` shows in its place. */
  toJSON(): string {
    return '[redacted]';
  }
}

/** Attaches the caller's token to the identity it proved. */
export function attachCallerToken(identity: Pick<Identity, 'credential'>, token: string): void {
  identity.credential = new CallerToken(token);
}

/** The caller's token attached to `identity`, if any. */
export function callerToken(identity: Pick<Identity, 'credential'>): string | undefined {
  return identity.credential?.reveal();
}
