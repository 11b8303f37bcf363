/**
 * Reading a {@link HubRequest}: header and query values, and the classifications every decision
 * uses (browser navigation or API call, unsafe method, websocket upgrade, https).
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

/** A top-level browser navigation (redirect to login, HTML error page) rather than an API call (401, JSON). */
export function isNavigation(request: HubRequest): boolean {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return false;
  const mode = headerValue(request.headers, 'sec-fetch-mode');
  if (mode !== undefined) return mode === 'navigate';
  return /\btext\/html\b/i.test(headerValue(request.headers, 'accept') ?? '');
}

/** Whether the request is a websocket upgrade (the Hub accepts `?token=` for those). */
export function isWebsocket(request: HubRequest): boolean {
  return headerValue(request.headers, 'sec-fetch-mode') === 'websocket' ||
    headerValue(request.headers, 'upgrade')?.toLowerCase() === 'websocket';
}

/**
 * Whether cookies set in the answer get the `Secure` attribute: as configured (a public https URL,
 * the `__Host-` prefix), else as the framework resolved the request's protocol.
 */
export function isSecure(request: HubRequest, configured: boolean | null): boolean {
  return configured ?? request.secure === true;
}
