/**
 * Reading a {@link HubRequest}: header and query values, and the classifications every decision
 * uses (browser navigation or API call, unsafe method, whether the xsrf token is needed — JupyterHub's
 * fetch-metadata rule —, websocket upgrade and its origin, https as the browser saw it).
 */
import type { HubRequest, HubRequestHeaders } from './types';

/** Returns the first value of a header, or the list joined with `, ` when a client sent it several times. */
export function headerValue(headers: HubRequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.length === 1 ? value[0] : value.join(', ');
}

/** Reads one query parameter from a request target without throwing on malformed encodings. */
export function queryParam(url: string, name: string): string | null {
  // The fragment goes first: a `?` inside it does not start a query.
  const hash = url.indexOf('#');
  const target = hash < 0 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  if (q < 0) return null;
  const search = target.slice(q + 1);
  // URLSearchParams decodes leniently: a broken %-escape stays as written instead of throwing.
  return new URLSearchParams(search).get(name);
}

/** The path of a request target, without query or fragment. */
export function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether an HTTP method may change state (needs xsrf protection under cookie auth). */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** `Sec-Fetch-Mode`, lower-cased; `unspecified` when the client sent none (old browsers, scripts, curl). */
function fetchMode(request: HubRequest): string {
  return headerValue(request.headers, 'sec-fetch-mode')?.trim().toLowerCase() || 'unspecified';
}

/**
 * Whether an `Accept` header asks for HTML: `text/html` with a q-value above 0. `text/html;q=0`
 * means "anything but HTML" (RFC 9110 §12.4.2); a wildcard alone is what API clients send.
 */
export function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';');
    if (type.trim().toLowerCase() !== 'text/html') continue;
    let q = 1;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = Number(param.slice(eq + 1).trim());
      // An unreadable q-value is ignored, like the rest of a malformed range: the type was still named.
      if (Number.isFinite(value)) q = value;
    }
    if (q > 0) return true;
  }
  return false;
}

/**
 * A top-level browser navigation (redirect to login, HTML error page) rather than an API call (401,
 * JSON). `Sec-Fetch-Mode` decides when present; without it, an `Accept` that wants HTML does.
 */
export function isNavigation(request: HubRequest): boolean {
  const method = request.method.toUpperCase();
  // A websocket handshake is a GET too, but a login page is no answer to it.
  if ((method !== 'GET' && method !== 'HEAD') || isWebsocket(request)) return false;
  const mode = fetchMode(request);
  if (mode !== 'unspecified') return mode === 'navigate';
  return acceptsHtml(headerValue(request.headers, 'accept'));
}

/**
 * JupyterHub's rule for a cookie-authenticated request (`_needs_check_xsrf`, 5.x and 6.x): the xsrf
 * token is required unless the request is a websocket upgrade (its `Origin` is checked instead), a
 * read-only navigation, a read-only request without fetch metadata, or a read-only same-origin
 * `no-cors` request (images, scripts and styles of the service's own pages, which cannot read what
 * they load). A script's `fetch()` (`cors`, `same-origin`) and a `no-cors` load from another site or
 * a sibling host need the token, whatever the method.
 */
export function needsXsrfCheck(request: HubRequest): boolean {
  const mode = fetchMode(request);
  if (mode === 'websocket') return false;
  if (isUnsafeMethod(request.method)) return true;
  if (mode === 'navigate' || mode === 'unspecified') return false;
  if (mode === 'no-cors') return headerValue(request.headers, 'sec-fetch-site')?.trim().toLowerCase() !== 'same-origin';
  return true;
}

/** Whether the request is a websocket upgrade (the Hub accepts `?token=` for those). */
export function isWebsocket(request: HubRequest): boolean {
  return headerValue(request.headers, 'sec-fetch-mode') === 'websocket' ||
    headerValue(request.headers, 'upgrade')?.toLowerCase() === 'websocket';
}

/** The scheme and `host[:port]` of an origin or URL, as the URL parser normalises them; `null` when unreadable. */
function hostOf(url: string): { protocol: string; host: string } | null {
  try {
    const parsed = new URL(url);
    return parsed.host ? { protocol: parsed.protocol, host: parsed.host } : null;
  } catch {
    return null;
  }
}

/**
 * Whether a websocket upgrade was opened by a page of another origin (cross-site websocket
 * hijacking: browsers send cookies with websockets whatever the page). Like Tornado's and Jupyter
 * Server's check, the `Origin`'s host must be the `Host` the browser connected to, or the host of the
 * configured public URL (for proxies that rewrite `Host`). No `Origin` at all is not a browser.
 */
export function isForeignWebsocketOrigin(request: HubRequest, publicUrl: string): boolean {
  const origin = headerValue(request.headers, 'origin') ?? headerValue(request.headers, 'sec-websocket-origin');
  if (origin === undefined) return false;
  const from = hostOf(origin.trim());
  if (!from) return true;
  const host = headerValue(request.headers, 'host');
  if (host && hostOf(`${from.protocol}//${host.trim()}`)?.host === from.host) return false;
  if (publicUrl && hostOf(publicUrl)?.host === from.host) return false;
  return true;
}

function scheme(value: string | undefined): 'http' | 'https' | null {
  const v = value?.trim().replace(/^"|"$/g, '').toLowerCase();
  return v === 'http' || v === 'https' ? v : null;
}

/**
 * The protocol the browser used, as a TLS-terminating proxy forwards it (`Forwarded: proto=`, then
 * `X-Scheme` / `X-Forwarded-Proto`), or `null` when no proxy said. Like JupyterHub's own cookie
 * code, the outermost value counts: what matters is what the browser saw.
 */
export function forwardedProto(request: HubRequest): 'http' | 'https' | null {
  const forwarded = headerValue(request.headers, 'forwarded');
  if (forwarded) {
    const first = forwarded.split(',', 1)[0] ?? '';
    for (const field of first.split(';')) {
      const eq = field.indexOf('=');
      if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'proto') {
        const proto = scheme(field.slice(eq + 1));
        if (proto) return proto;
      }
    }
  }
  const header = headerValue(request.headers, 'x-scheme') ?? headerValue(request.headers, 'x-forwarded-proto');
  return scheme(header?.split(',', 1)[0]);
}

/**
 * Whether cookies set in the answer get the `Secure` attribute: as configured (a public https URL,
 * the `__Host-` prefix), else as the framework resolved the request's protocol — or a proxy
 * forwarding https, believed even without trust-proxy: adding `Secure` is safe in that direction
 * (a client that lies gets cookies its own browser keeps off http; no one else is affected).
 */
export function isSecure(request: HubRequest, configured: boolean | null): boolean {
  return configured ?? (request.secure === true || forwardedProto(request) === 'https');
}
