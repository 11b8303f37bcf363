// Three valid callers during the flood, in their own process (so the flood's load generator does not
// delay them), each from its own loopback address (a client of its own, as real users are):
//   cached  a token whose identity is cached               (127.0.0.2)
//   cookie  the login cookie of a browser session           (127.0.0.3)
//   fresh   a brand-new valid token on every request        (127.0.0.4)
// One request per caller every PROBE_INTERVAL_MS on its own keep-alive connection. Each request's
// latency is filed under the window it started in: {window: '<name>'} starts a window (the phase
// alternates quiet windows and flood windows); on 'stop' it answers with
// {cached, cookie, fresh}, each {<window>: {latencies: [ms...], statuses: {code: count}}}, and exits.
import http from 'node:http';

const url = new URL(process.env.PROBE_URL);
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 10);
// Fresh tokens are `${PROBE_FRESH_PREFIX}${i}`, i < PROBE_FRESH_COUNT (all known to the fake Hub).
const freshPrefix = process.env.PROBE_FRESH_PREFIX;
const freshCount = Number(process.env.PROBE_FRESH_COUNT);
let freshNext = 0;
const callers = {
  cached: { address: '127.0.0.2', headers: () => ({ authorization: `token ${process.env.PROBE_TOKEN}` }) },
  cookie: { address: '127.0.0.3', headers: () => ({ cookie: process.env.PROBE_COOKIE }) },
  fresh: { address: '127.0.0.4', headers: () => ({ authorization: `token ${freshPrefix}${freshNext++ % freshCount}` }) },
};
let window = 'warm-up';
for (const caller of Object.values(callers)) {
  caller.agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: caller.address });
  caller.windows = {};
}
let running = true;

function record(caller, name, status, ms) {
  const w = (caller.windows[name] ??= { latencies: [], statuses: {} });
  if (ms !== undefined) w.latencies.push(ms);
  w.statuses[status] = (w.statuses[status] ?? 0) + 1;
}

function once(caller) {
  const name = window;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { headers: caller.headers(), agent: caller.agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        record(caller, name, res.statusCode, Number(process.hrtime.bigint() - started) / 1e6);
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      record(caller, name, 'error');
      resolve();
    });
  });
}

async function loop(caller) {
  while (running) {
    const t0 = Date.now();
    await once(caller);
    const wait = interval - (Date.now() - t0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

process.on('message', (msg) => {
  if (msg === 'stop') running = false;
  else if (msg && typeof msg.window === 'string') window = msg.window;
});

process.send('ready');
await Promise.all(Object.values(callers).map(loop));
for (const c of Object.values(callers)) c.agent.destroy();
// Disconnecting only once the (large) message is sent.
process.send(Object.fromEntries(Object.entries(callers).map(([name, c]) => [name, c.windows])), () => process.disconnect());
