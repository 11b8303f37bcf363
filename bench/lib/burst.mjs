// The coalescing burst: `n` keep-alive connections are opened first (with unauthenticated requests
// to the health route), then one request with the same new token is written on every connection
// in the same tick. Resolves with each request's status and latency.
import http from 'node:http';
import { percentile } from './util.mjs';

function get(url, headers, agent) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.get(url, { headers, agent, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: `error ${err.code ?? err.message}`, ms: NaN }));
  });
}

export async function burst({ n, warmUrl, url, token }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n, scheduling: 'fifo' });
  try {
    const warm = await Promise.all(Array.from({ length: n }, () => get(warmUrl, {}, agent)));
    const bad = warm.filter((r) => r.status !== 200).length;
    if (bad > 0) throw new Error(`burst: ${bad} of ${n} connection warm-up requests failed`);
    const sockets = Object.values(agent.freeSockets).reduce((a, list) => a + list.length, 0);
    const headers = { authorization: `token ${token}` };
    const results = await Promise.all(Array.from({ length: n }, () => get(url, headers, agent)));
    const statuses = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const ms = results.map((r) => r.ms).filter(Number.isFinite);
    return { sockets, statuses, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
  } finally {
    agent.destroy();
  }
}
