// autocannon runs whose status codes are always checked: a stream of 401s, 403s or redirects is a
// failed run, never a throughput figure.
import autocannon from 'autocannon';

/**
 * Runs autocannon against `url` and returns the figures plus a list of problems (empty when every
 * response had the expected status and nothing failed).
 *
 * @param {object} o
 * @param {string} o.url
 * @param {Record<string,string>} [o.headers]
 * @param {number} o.connections
 * @param {number} [o.duration] seconds
 * @param {number} [o.amount] requests (instead of a duration)
 * @param {number} [o.expectStatus] default 200
 * @param {(client: any) => void} [o.setupClient]
 * @param {(req: any) => any} [o.setupRequest]
 * @param {number} [o.timeout] seconds
 */
export async function runLoad(o) {
  const expectStatus = o.expectStatus ?? 200;
  const request = { method: 'GET' };
  if (o.setupRequest) request.setupRequest = o.setupRequest;
  const result = await autocannon({
    url: o.url,
    headers: o.headers ?? {},
    connections: o.connections,
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.duration }),
    timeout: o.timeout ?? 10,
    pipelining: 1,
    requests: [request],
    ...(o.setupClient ? { setupClient: o.setupClient } : {}),
  });
  const statuses = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = Number(count);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const good = statuses[String(expectStatus)] ?? 0;
  const problems = [];
  const unexpected = Object.entries(statuses).filter(([code]) => code !== String(expectStatus));
  if (unexpected.length > 0) {
    problems.push(`unexpected statuses ${unexpected.map(([c, n]) => `${c}×${n}`).join(', ')}`);
  }
  if (expectStatus >= 200 && expectStatus < 300 && result.non2xx > 0 && unexpected.length === 0) {
    problems.push(`${result.non2xx} non-2xx`);
  }
  if (result.errors > 0) problems.push(`${result.errors} errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  if (good === 0) problems.push(`no ${expectStatus} response`);
  return {
    rps: good / result.duration,
    total,
    good,
    statuses,
    durationS: result.duration,
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    problems,
  };
}
