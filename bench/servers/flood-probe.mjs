// Three valid callers during the flood, in their own process (so the flood's load generator does not
// delay them), each from its own loopback address (a client of its own, as real users are):
//   cached  a token whose identity is cached               (127.0.0.2)
//   cookie  the login cookie of a browser session           (127.0.0.3)
//   fresh   a brand-new valid token on every request        (127.0.0.4)
// One request per caller every PROBE_INTERVAL_MS on its own keep-alive connection. On 'mark' it
// answers with {cached, cookie, fresh} figures ({count, statuses, p50, p99, max} in ms) and starts
// afresh; on 'stop' it answers with the figures since the mark and exits.
import http from 'node:http';
import { percentile } from '../lib/util.mjs';

const url = new URL(process.env.PROBE_URL);
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 10);
const freshTokens = JSON.parse(process.env.PROBE_FRESH_TOKENS);
let freshNext = 0;
const callers = {
  cached: { address: '127.0.0.2', headers: () => ({ authorization: `token ${process.env.PROBE_TOKEN}` }) },
  cookie: { address: '127.0.0.3', headers: () => ({ cookie: process.env.PROBE_COOKIE }) },
  fresh: { address: '127.0.0.4', headers: () => ({ authorization: `token ${freshTokens[freshNext++ % freshTokens.length]}` }) },
};
for (const caller of Object.values(callers)) {
  caller.agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: caller.address });
  caller.latencies = [];
  caller.statuses = {};
}
let running = true;

const figures = () =>
  Object.fromEntries(
    Object.entries(callers).map(([name, c]) => [
      name,
      { count: c.latencies.length, statuses: c.statuses, p50: percentile(c.latencies, 50), p99: percentile(c.latencies, 99), max: c.latencies.length ? Math.max(...c.latencies) : NaN },
    ]),
  );

function once(caller) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { headers: caller.headers(), agent: caller.agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        caller.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        caller.statuses[res.statusCode] = (caller.statuses[res.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      caller.statuses.error = (caller.statuses.error ?? 0) + 1;
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
  if (msg === 'mark') {
    process.send(figures());
    for (const c of Object.values(callers)) {
      c.latencies = [];
      c.statuses = {};
    }
  }
});

process.send('ready');
await Promise.all(Object.values(callers).map(loop));
process.send(figures());
for (const c of Object.values(callers)) c.agent.destroy();
process.disconnect();
