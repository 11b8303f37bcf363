/** A real upstream for the proxy tests: HTTP and websockets, echoing what it receives. */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  url: string;
  port: number;
  /** Every request and upgrade received, oldest first. */
  seen: Seen[];
  /** Open TCP connections right now. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * `/hang` never answers; `/slow-body` sends headers, then nothing; `/cookie` sets an app cookie;
 * anything else answers 200 with JSON of what it saw. Websockets: the first message describes the
 * upgrade, then every message is echoed.
 */
export async function startUpstream(port = 0): Promise<Upstream> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(record);
      if (req.url === '/hang') return;
      if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('start');
        return;
      }
      const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
      if (req.url === '/cookie') headers['set-cookie'] = ['app=1; Path=/'];
      res.writeHead(200, headers).end(JSON.stringify(record));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ method: 'UPGRADE', url: req.url ?? '', headers: req.headers, body: '' });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ url: req.url, headers: req.headers }));
      ws.on('message', (data: Buffer) => ws.send(data.toString()));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    seen,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
