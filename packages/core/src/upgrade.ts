/**
 * Websocket upgrades on a Node server (`server.on('upgrade', …)`, as `ws` uses it), which reach no
 * framework middleware: the same identification and guard as any request, then either the caller or
 * a plain HTTP refusal written on the socket. Credentials, as the Hub's own services take them: the
 * token header, `?token=` (always allowed on an upgrade), or the login cookie unless
 * `allowWebsocketCookieAuth` is off. An upgrade is never redirected to a login page.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubRequest, HubResponse } from './types';

/** The upgrade request as core sees it. */
export function upgradeRequest(req: IncomingMessage): HubRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    ...(req.socket.remoteAddress ? { ip: req.socket.remoteAddress } : {}),
  };
}

/** Answers an upgrade with a plain HTTP response (401, 403, 503, …) and closes the socket. */
export function refuseUpgrade(socket: Duplex, response: HubResponse): void {
  if (socket.destroyed) return;
  const body = response.body ?? '';
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(response.headers)) {
    // No cookies on a refusal: nothing follows on this connection that could use them.
    if (name === 'set-cookie') continue;
    lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
  }
  lines.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close');
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
