// notes-app: a small "third-party" app that knows nothing about JupyterHub. hubauth-proxy puts it
// behind the Hub's login and tells it who is calling in the X-Hubauth-User and X-Hubauth-Groups
// headers (it trusts them because only the proxy can reach it: it listens on 127.0.0.1).
//
//   hubauth-proxy -- node examples/proxy/notes-app.mjs          # the proxy gives it PORT
//
// Routes (as the app sees them: the proxy strips the service prefix):
//   GET  /          a page with a live note board over a websocket
//   GET  /whoami    what the app was told, as JSON (headers included: the tests read them)
//   POST /notes     adds a note (form or JSON), answers JSON
//   GET  /ws        websocket: every note is broadcast to everyone, with its author
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 8501);
const notes = [];

/** Who the proxy says is calling (header values are percent-encoded UTF-8 where needed). */
function caller(headers) {
  const user = headers['x-hubauth-user'];
  const groups = headers['x-hubauth-groups'];
  return {
    user: user === undefined ? null : decodeURIComponent(user),
    groups: groups ? groups.split(',').map(decodeURIComponent) : [],
  };
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(who) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>notes</title></head><body>
<h1>Notes</h1><p>Hello <b id="user">${escape(who.user)}</b> (groups: ${escape(who.groups.join(', ') || 'none')})</p>
<form id="f"><input id="text" name="text" autocomplete="off"><button>add</button></form>
<ul id="notes"></ul><p id="status">connecting…</p>
<script>
const list = document.getElementById('notes');
const show = (n) => { const li = document.createElement('li'); li.textContent = n.author + ': ' + n.text; list.append(li); };
const ws = new WebSocket(new URL('ws', location.href.replace(/^http/, 'ws')));
ws.onopen = () => { document.getElementById('status').textContent = 'live'; };
ws.onclose = () => { document.getElementById('status').textContent = 'closed'; };
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.hello) window.wsHello = m; else show(m); };
document.getElementById('f').onsubmit = async (e) => {
  e.preventDefault();
  const text = document.getElementById('text').value;
  await fetch('notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  document.getElementById('text').value = '';
};
</script></body></html>`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const who = caller(req.headers);
  const path = new URL(req.url, 'http://app').pathname;
  const json = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.method === 'GET' && path === '/whoami') return json(200, { ...who, method: req.method, url: req.url, headers: req.headers });
  if (!who.user) return json(401, { error: 'no user: this app must be reached through hubauth-proxy' });
  if (req.method === 'GET' && path === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(who));
  if (req.method === 'POST' && path === '/notes') {
    const raw = await readBody(req).catch(() => '');
    let text;
    try {
      text = req.headers['content-type']?.includes('json') ? String(JSON.parse(raw).text ?? '') : new URLSearchParams(raw).get('text') ?? '';
    } catch {
      return json(400, { error: 'bad JSON' });
    }
    const note = { author: who.user, text: text.slice(0, 500) };
    notes.push(note);
    for (const client of wss.clients) client.send(JSON.stringify(note));
    return json(201, note);
  }
  return json(404, { error: 'not found', path });
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const who = caller(req.headers);
  if (!who.user || new URL(req.url, 'http://app').pathname !== '/ws') {
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.send(JSON.stringify({ hello: true, ...who, url: req.url, headers: req.headers }));
    for (const note of notes.slice(-20)) ws.send(JSON.stringify(note));
    ws.on('message', (data) => ws.send(JSON.stringify({ echo: String(data), author: who.user })));
  });
});

server.listen(port, '127.0.0.1', () => console.log(`notes-app listening on 127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)) && server.closeAllConnections());
