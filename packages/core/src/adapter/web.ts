/**
 * The Web-standard side of the adapter seam: a {@link HubRequest} view of a Web `Request`, and core's
 * {@link HubResponse} as a Web `Response`. `@hubauth/web` and `@hubauth/hono` are built on it, and so is
 * any adapter for a `fetch`-style runtime (Bun, Deno, Next.js route handlers, Cloudflare-like workers).
 *
 * Where Node and the Fetch standard differ, the view gives each Node-specific behaviour a Web meaning:
 * - several `Authorization` headers: `Headers` joins them with `", "`; a joined value whose later parts
 *   start a new credential (`scheme` then a space, or a bare scheme) counts as several headers → 400;
 * - several `Cookie` headers (HTTP/2 splits them): joined with `"; "` again, as Node does;
 * - the `_xsrf` form field: read from a clone of the body, only for cookie-authenticated unsafe
 *   requests with a form body and no xsrf header, and at most {@link MAX_XSRF_FORM_BYTES};
 * - Secure: the request URL's scheme, or `X-Forwarded-Proto` when `trustProxy` says the proxy sets it
 *   (core adds `Secure` for a forwarded https in any case: that direction is safe untrusted);
 * - the client address: given by the runtime (Bun's `server.requestIP`, Deno's `info.remoteAddr`,
 *   `@hono/node-server`'s `incoming.socket`), never guessed from headers.
 */
import type { HubAuthFlow, FlowStep, RequestAuthState } from './flow';
import type { HubOAuthConfig } from '../config';
import { isUnsafeMethod } from '../request';
import type { HubRequest, HubRequestHeaders, HubResponse } from '../types';

/** Largest form body read to find an `_xsrf` field (bytes); larger forms must send the `X-XSRFToken` header. */
export const MAX_XSRF_FORM_BYTES = 1024 * 1024;

/** How a Web request view learns what the `Request` itself does not say. */
export interface WebRequestInit {
  /**
   * The runtime's second argument to the fetch handler: Bun's `Server`, Deno's `ServeHandlerInfo`, or
   * `@hono/node-server`'s `{ incoming }`. Used only to learn the client address.
   */
  env?: unknown;
  /** The client address, when the caller knows it better than {@link WebRequestInit.env}. */
  ip?: string;
  /**
   * Believe `X-Forwarded-Proto` for the Secure cookie decision. Only behind a proxy that sets it
   * (JupyterHub's proxy does). Default `false`: only the request URL's scheme counts.
   * A configured `https` public URL (`JUPYTERHUB_PUBLIC_URL`) makes cookies Secure regardless.
   */
  trustProxy?: boolean;
}

// A token68 or auth-param list never has a space right after a token followed by ", ": a part that
// starts with `scheme ` (or is a bare scheme) is a second credential.
const CREDENTIAL_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]|$)/;

/** The `Authorization` values a joined header holds: one unless a later part starts a new credential. */
export function splitAuthorization(joined: string): string[] {
  if (!joined.includes(', ')) return [joined];
  const parts = joined.split(', ');
  return parts.slice(1).some((part) => CREDENTIAL_START.test(part)) ? parts : [joined];
}

/** The client address the runtime reports, if any (Bun, Deno, `@hono/node-server`). */
export function clientAddress(request: Request, env: unknown): string | undefined {
  if (env === null || typeof env !== 'object') return undefined;
  const runtime = env as {
    requestIP?: (request: Request) => { address?: string } | null;
    remoteAddr?: { hostname?: unknown };
    incoming?: { socket?: { remoteAddress?: string } };
  };
  if (typeof runtime.requestIP === 'function') return runtime.requestIP(request)?.address ?? undefined;
  if (typeof runtime.remoteAddr?.hostname === 'string') return runtime.remoteAddr.hostname;
  return runtime.incoming?.socket?.remoteAddress;
}

/** Node's request behind a Web `Request`, when the runtime hands it over (`@hono/node-server`'s `env.incoming`). */
function nodeIncoming(env: unknown): { headers: HubRequestHeaders; rawHeaders: readonly string[] } | undefined {
  const incoming = (env as { incoming?: { headers?: unknown; rawHeaders?: unknown } } | null | undefined)?.incoming;
  return incoming && typeof incoming.headers === 'object' && incoming.headers !== null && Array.isArray(incoming.rawHeaders)
    ? (incoming as { headers: HubRequestHeaders; rawHeaders: readonly string[] })
    : undefined;
}

/** Core's view of a Web `Request`. Headers, the Secure decision and the address are read on first use. */
export class WebHubRequest implements HubRequest {
  readonly method: string;
  readonly url: string;
  /** Set by {@link readXsrfField} when the form's `_xsrf` field is needed. */
  body?: {
    /** The form's `_xsrf` field; `null` when it has none. */
    _xsrf: string | null;
  };
  rawHeaders?: readonly string[];
  private headerRecord?: HubRequestHeaders;

  /**
   * @param request - The Web request this view reads.
   * @param init - How to read what a `Request` does not say (the client address, a trusted proxy).
   */
  constructor(
    /** The Web request this view reads. */
    readonly request: Request,
    private readonly init: WebRequestInit = {},
  ) {
    this.method = request.method;
    // `Request.url` is absolute; core wants the request target (path and query).
    const href = request.url;
    const slash = href.indexOf('/', href.indexOf('//') + 2);
    this.url = slash < 0 ? '/' : href.slice(slash);
  }

  get headers(): HubRequestHeaders {
    if (this.headerRecord) return this.headerRecord;
    const incoming = nodeIncoming(this.init.env);
    if (incoming) {
      // On Node (`@hono/node-server`), the headers Node parsed already: building Web `Headers` from
      // them costs more than the whole cached lookup, and `rawHeaders` still counts Authorization lines.
      this.rawHeaders = incoming.rawHeaders;
      return (this.headerRecord = incoming.headers);
    }
    const record: Record<string, string> = {};
    for (const [name, value] of this.request.headers) record[name] = value;
    if (record.cookie?.includes(', ')) record.cookie = record.cookie.replaceAll(', ', '; ');
    if (record.authorization !== undefined) {
      const values = splitAuthorization(record.authorization);
      if (values.length > 1) this.rawHeaders = values.flatMap((value) => ['authorization', value]);
    }
    return (this.headerRecord = record);
  }

  get secure(): boolean {
    if (this.request.url.startsWith('https:')) return true;
    if (!this.init.trustProxy) return false;
    const forwarded = this.request.headers.get('x-forwarded-proto');
    return forwarded !== null && forwarded.split(',')[0]?.trim().toLowerCase() === 'https';
  }

  get ip(): string | undefined {
    return this.init.ip ?? clientAddress(this.request, this.init.env);
  }
}

const FORM_TYPES = /^(?:application\/x-www-form-urlencoded|multipart\/form-data)\s*(?:;|$)/i;

/**
 * Whether core will need the body's `_xsrf` field: an unsafe request with a form body, the login
 * cookie and no xsrf header. Everything else never has its body touched.
 */
export function needsXsrfField(view: WebHubRequest, flow: HubAuthFlow): boolean {
  if (!flow.auth.oauthEnabled || !isUnsafeMethod(view.method) || view.request.body === null) return false;
  const headers = view.request.headers;
  if (headers.has('x-xsrftoken') || headers.has('x-csrftoken')) return false;
  if (!FORM_TYPES.test(headers.get('content-type') ?? '')) return false;
  const cookieName = (flow.auth.config as Partial<HubOAuthConfig>).cookieName;
  return cookieName !== undefined && (headers.get('cookie') ?? '').includes(`${cookieName}=`);
}

/** Reads a stream up to `limit` bytes; `null` when it is longer. */
async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not awaited: cancelling one branch of a cloned (teed) body settles only when the other is done too.
      reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Puts the form's `_xsrf` field on the view (`view.body`) from a clone of the request, leaving the
 * original body to the application. A form larger than `limit`, or one that does not parse, has no field
 * (the request then fails the xsrf check with a 403, as a missing field does).
 */
export async function readXsrfField(view: WebHubRequest, limit = MAX_XSRF_FORM_BYTES): Promise<void> {
  let field: string | null = null;
  try {
    const declared = Number(view.request.headers.get('content-length') ?? 0);
    const clone = view.request.clone();
    const bytes = declared > limit || !clone.body ? null : await readLimited(clone.body, limit);
    if (bytes) {
      const type = view.request.headers.get('content-type') ?? '';
      if (/^application\/x-www-form-urlencoded/i.test(type)) {
        field = new URLSearchParams(new TextDecoder().decode(bytes)).get('_xsrf');
      } else {
        const value = (await new Response(bytes, { headers: { 'content-type': type } }).formData()).get('_xsrf');
        field = typeof value === 'string' ? value : null;
      }
    }
  } catch {
    field = null;
  }
  view.body = { _xsrf: field };
}

/**
 * The first step of a Web request: serves the callback and logout routes, or identifies the caller
 * (without rejecting anyone). A cached token is answered without reading anything else.
 */
export async function identifyWebRequest(
  flow: HubAuthFlow,
  request: Request,
  init?: WebRequestInit,
): Promise<{
  /** What to do next. */
  step: FlowStep;
  /** The caller's state for the guards; `null` when core answered (its own routes). */
  state: RequestAuthState | null;
}> {
  const view = new WebHubRequest(request, init);
  const cached = flow.identifyCached(view);
  if (cached) return { step: CONTINUE, state: cached };
  return identifyWebView(flow, view);
}

/**
 * {@link identifyWebRequest} for a view whose cached identification ({@link HubAuthFlow.identifyCached})
 * came back `undefined`: reads the `_xsrf` form field when core will need it, then identifies. For
 * adapters that answer cached callers synchronously and take this path for the others.
 *
 * @example
 * ```ts
 * import { HubAuthFlow, WebHubRequest, identifyWebView } from '@hubauth/core/adapter';
 *
 * const flow = new HubAuthFlow();
 * export async function stateOf(request: Request) {
 *   const view = new WebHubRequest(request);
 *   return flow.identifyCached(view) ?? (await identifyWebView(flow, view)).state;
 * }
 * ```
 */
export async function identifyWebView(
  flow: HubAuthFlow,
  view: WebHubRequest,
): Promise<{
  /** What to do next. */
  step: FlowStep;
  /** The caller's state for the guards; `null` when core answered (its own routes). */
  state: RequestAuthState | null;
}> {
  if (needsXsrfField(view, flow)) await readXsrfField(view);
  return flow.identify(view);
}

const CONTINUE: FlowStep = Object.freeze({ type: 'next' });

/** Core's response as a Web `Response`; each `Set-Cookie` stays its own header. */
export function toWebResponse(response: HubResponse): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else for (const item of value) headers.append(name, item);
  }
  return new Response(response.body ?? null, { status: response.status, headers });
}

/** Applies `change` to the response's headers, or to a copy when they are immutable (`fetch()`, `Response.redirect()`). */
function editHeaders(response: Response, change: (headers: Headers) => void): Response {
  try {
    change(response.headers);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    change(copy.headers);
    return copy;
  }
}

/**
 * Adds `Set-Cookie` headers to a response the application made. A response with immutable headers
 * is copied first; otherwise the same response is returned.
 */
export function withSetCookies(response: Response, cookies: readonly string[]): Response {
  if (cookies.length === 0) return response;
  return editHeaders(response, (headers) => {
    for (const cookie of cookies) headers.append('set-cookie', cookie);
  });
}

/**
 * Whether {@link finishWebResponse} may have to change a response to `request` even without cookies
 * to add: the request asked to close the connection, on a runtime that does not say so itself.
 * An adapter can skip finishing when this is `false` and it has no cookies to set.
 */
export function needsFinishing(request: Request, env?: unknown): boolean {
  // Node's own server (under `@hono/node-server`) answers Connection: close by itself.
  return !nodeIncoming(env) && request.headers.get('connection')?.toLowerCase().includes('close') === true;
}

/**
 * The response to send for `request`: the application's, with hubauth's cookies, and with
 * `Connection: close` when the request asked for it. Bun closes such connections without saying so,
 * and a keep-alive client that forwarded the header (JupyterHub's proxy does) then reuses the closed
 * socket for the next request: "socket hang up", a 503 for the browser. Saying it is what RFC 9112
 * asks of a server anyway, and harmless on runtimes that already do.
 */
export function finishWebResponse(request: Request, response: Response, cookies: readonly string[], env?: unknown): Response {
  const closing = needsFinishing(request, env) && !response.headers.has('connection');
  if (!closing) return withSetCookies(response, cookies);
  return editHeaders(response, (headers) => {
    for (const cookie of cookies) headers.append('set-cookie', cookie);
    headers.set('connection', 'close');
  });
}
