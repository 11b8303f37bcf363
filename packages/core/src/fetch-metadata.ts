/**
 * What kind of browser request this is, from fetch metadata (`Sec-Fetch-*`), `Accept` and `Origin`:
 * a navigation (redirect to login) or an API call (401); whether a cookie-authenticated request
 * needs the xsrf token (JupyterHub's rule); whether a websocket upgrade comes from a foreign page.
 */
import { headerValue } from './token';
import type { HubRequest } from './types';

/** `Sec-Fetch-Mode`, lower-cased; `unspecified` when the client sent none (old browsers, scripts, curl). */
function fetchMode(request: HubRequest): string {
  return headerValue(request.headers, 'sec-fetch-mode')?.trim().toLowerCase() || 'unspecified';
}

function isReadOnly(method: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS';
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
 * A top-level browser navigation (sent to the Hub's login) rather than an API call (401).
 * `Sec-Fetch-Mode` decides when present; without it, an `Accept` that wants HTML does.
 */
export function isNavigation(request: HubRequest): boolean {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
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
  if (!isReadOnly(request.method)) return true;
  if (mode === 'navigate' || mode === 'unspecified') return false;
  if (mode === 'no-cors') return headerValue(request.headers, 'sec-fetch-site')?.trim().toLowerCase() !== 'same-origin';
  return true;
}

/** The `host[:port]` of an origin or URL, as the URL parser normalises it; `null` when unreadable. */
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
