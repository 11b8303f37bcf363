// The app behind the proxies in the proxy phase: plain node:http, a small fixed JSON body, keep-alive.
// Listens on 127.0.0.1:$PORT.
import http from 'node:http';

const body = JSON.stringify({ ok: true, app: 'upstream' });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
