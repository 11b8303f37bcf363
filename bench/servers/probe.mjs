// A valid user's client during the flood, in its own process so the flood's load generator does
// not delay it: one keep-alive connection, one request every PROBE_INTERVAL_MS, latencies recorded.
// On the IPC message 'mark' it answers with the figures so far and starts afresh; on 'stop' it
// answers with the figures since the mark and exits. Figures: {count, statuses, p50, p99, max} (ms).
import http from 'node:http';
import { percentile } from '../lib/util.mjs';

const url = new URL(process.env.PROBE_URL);
const headers = { authorization: `token ${process.env.PROBE_TOKEN}` };
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let latencies = [];
let statuses = {};
let running = true;

function figures() {
  return {
    count: latencies.length,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : NaN,
  };
}

function once() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { headers, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      statuses.error = (statuses.error ?? 0) + 1;
      resolve();
    });
  });
}

process.on('message', (msg) => {
  if (msg === 'stop') running = false;
  if (msg === 'mark') {
    process.send(figures());
    latencies = [];
    statuses = {};
  }
});

process.send('ready');
while (running) {
  const t0 = Date.now();
  await once();
  const wait = interval - (Date.now() - t0);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
process.send(figures());
agent.destroy();
process.disconnect();
