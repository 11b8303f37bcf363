/**
 * Node's `IncomingMessage` as core's {@link HubRequest}. The method can be replaced for one step:
 * the proxy identifies a state-changing request as if it were a read, because it checks the
 * request's origin instead of hubauth's xsrf token (the upstream app cannot carry that token).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HubRequest } from '@hubauth/core';

/** The request as core sees it. */
export class NodeRequestView implements HubRequest {
  method: string;
  url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
  constructor(private readonly req: IncomingMessage, url: string = req.url ?? '/', method: string = req.method ?? 'GET') {
    this.method = method;
    this.url = url;
    this.headers = req.headers;
    this.rawHeaders = req.rawHeaders;
  }
  get secure(): boolean {
    return (this.req.socket as TLSSocket).encrypted === true;
  }
  get ip(): string | undefined {
    return this.req.socket.remoteAddress;
  }
}

/** Path of a request target, without query or fragment. */
export function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

/** Whether the request asks to open a websocket (the handshake's own headers count too: a forward-auth check sees them, not `Upgrade`). */
export function isWebsocketRequest(headers: IncomingMessage['headers']): boolean {
  return (
    headers.upgrade?.toLowerCase() === 'websocket' ||
    headers['sec-websocket-key'] !== undefined ||
    headers['sec-fetch-mode'] === 'websocket'
  );
}
