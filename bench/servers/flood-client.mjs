// The flood's load generator in a process of its own, so that the benchmark can run it at a lower
// CPU priority than the server under test: like the Hub, it stands for another machine, and on a
// 2-core machine it would otherwise take the server's core and be counted as the server's latency.
// Messages in: {id, op: 'flood', url, connections, amount, prefix} — `amount` requests at full speed
// (no pacing), each with `Authorization: token <prefix><n>` for a new n. Out: {id, result} (runLoad's).
import { runLoad } from '../lib/load.mjs';

let n = 0;
process.on('message', async (msg) => {
  if (msg.op !== 'flood') throw new Error(`flood client: unknown op ${msg.op}`);
  const result = await runLoad({
    url: msg.url,
    connections: msg.connections,
    amount: msg.amount,
    expectStatus: 401,
    setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `token ${msg.prefix}${(n++).toString(36)}` } }),
  });
  process.send({ id: msg.id, result });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
