/**
 * The proxy's requests as core sees them: {@link NodeRequestView} from core's adapter seam, plus
 * the view the proxy identifies a cookie request with. The proxy checks where a cookie request
 * comes from itself (see `origin.ts`) instead of hubauth's xsrf token, which the upstream app
 * cannot carry; core is therefore shown such a request as a plain read without fetch metadata, so
 * that its xsrf rules do not apply a second time.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HubRequest } from '@hubauth/core';
import { NodeRequestView, type NodeRequestHooks } from '@hubauth/core/adapter';

const hooks: NodeRequestHooks<IncomingMessage> = {
  secure: (req) => (req.socket as TLSSocket).encrypted === true,
  ip: (req) => req.socket.remoteAddress,
};

/** Core's view of a request the proxy received directly. */
export function viewOf(req: IncomingMessage, url: string = req.url ?? '/', method?: string): NodeRequestView<IncomingMessage> {
  return new NodeRequestView(req, req, hooks, url, method);
}

/** Headers core reads only for its cross-site checks, which the proxy makes itself (with its own allowed origins). */
function crossSiteHeader(name: string): boolean {
  return name.startsWith('sec-fetch-') || name === 'origin' || name === 'sec-websocket-origin';
}

/**
 * The view to identify `request` with: the request itself when it carries no cookie (tokens need
 * no xsrf check), else a `GET` without fetch metadata and `Origin`.
 */
export function identificationView(request: HubRequest): HubRequest {
  if (request.headers.cookie === undefined) return request;
  const headers: Record<string, string | readonly string[] | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) if (!crossSiteHeader(name)) headers[name] = value;
  return {
    method: 'GET',
    url: request.url,
    headers,
    ...(request.rawHeaders ? { rawHeaders: request.rawHeaders } : {}),
    get secure() {
      return request.secure;
    },
    get ip() {
      return request.ip;
    },
  };
}

/** Path of a request target, without query or fragment. */
export function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

/** Whether the request asks to open a websocket (the handshake's own headers count too: a forward-auth check sees them, not `Upgrade`). */
export function isWebsocketRequest(headers: IncomingHttpHeaders): boolean {
  return (
    headers.upgrade?.toLowerCase() === 'websocket' ||
    headers['sec-websocket-key'] !== undefined ||
    headers['sec-fetch-mode'] === 'websocket'
  );
}
