// The cache-hit table: what authentication adds to a request whose token is already cached, per
// framework and runtime, from phase 1's runs (bare and guarded servers of one framework on one
// runtime, same route, same body, same load, same run).
//
// Headline: the server CPU that authentication adds to one cached request, (guarded − bare) µs of
// CPU per request, measured in process (bench/inprocess.mjs: no sockets, no load generator sharing
// the cores, many short paired runs) where the framework runs on Node. It compares directly with
// what Python's HubAuthenticated adds (about 210–290 µs per request on these machines). Beside it,
// the same difference from the load runs' server CPU, and the throughput ratio guarded ÷ bare.
import { fmtInt, fmtRatio } from '../lib/util.mjs';

const rate = (label, s) => `${label} ${s.valid ? fmtInt(s.rps) : 'INVALID'} req/s`;

/** Table rows `[section, figure, measured, target, verdict, from]` for the cache-hit section. */
export function cacheHitRows({ frameworks, warm, inProcess = {}, targets, parseTarget }) {
  const rows = [];
  for (const fw of frameworks) {
    const bare = warm[`${fw}:bare`];
    const guarded = warm[`${fw}:guarded`];
    const whoami = warm[`${fw}:whoami`];
    const onNode = parseTarget(fw).runtime === 'node';
    const valid = bare.valid && guarded.valid;

    const own = inProcess[fw];
    if (own) rows.push(inProcessRow(fw, own, targets));

    const added = guarded.cpuPerRequestUs - bare.cpuPerRequestUs;
    const cpuOk = valid && Number.isFinite(added);
    // Where the in-process figure carries the target, the load runs' difference is reported beside it.
    const cpuTarget = onNode && !own;
    const cpuVerdict = !cpuOk ? 'invalid' : !cpuTarget ? 'reported' : added <= targets.addedCpuUs ? 'met' : `missed by ${fmtRatio(added - targets.addedCpuUs, 1)} µs`;
    rows.push([
      'Cache-hit overhead',
      `${fw}: server CPU that authentication adds per cached request, under load (guarded − bare)`,
      cpuOk ? `${fmtRatio(added, 1)} µs` : 'INVALID',
      cpuTarget ? `≤ ${targets.addedCpuUs} µs` : '—',
      cpuVerdict,
      `guarded ${fmtRatio(guarded.cpuPerRequestUs, 1)} µs, bare ${fmtRatio(bare.cpuPerRequestUs, 1)} µs of server CPU per request (medians of the same rounds)`,
    ]);

    const ratio = guarded.rps / bare.rps;
    const ratioVerdict = !Number.isFinite(ratio) ? 'invalid' : !onNode ? 'reported' : ratio >= targets.overhead ? 'met' : `missed by ${fmtRatio(targets.overhead - ratio)}`;
    rows.push([
      'Cache-hit overhead',
      `${fw}: throughput guarded ÷ bare (same {"ok":true} body)`,
      fmtRatio(ratio),
      onNode ? `≥ ${targets.overhead}` : '—',
      ratioVerdict,
      `${rate('guarded', guarded)}, ${rate('bare', bare)}`,
    ]);

    const wr = whoami.rps / bare.rps;
    rows.push([
      'Cache-hit overhead',
      `${fw}: guarded whoami (full model) ÷ bare`,
      fmtRatio(wr),
      '—',
      Number.isFinite(wr) ? 'reported' : 'invalid',
      `${rate('whoami', whoami)}, ${rate('bare', bare)}; server CPU per request ${fmtInt(whoami.cpuPerRequestUs)} µs vs ${fmtInt(bare.cpuPerRequestUs)} µs`,
    ]);
  }
  // Adapters measured only in process (`@hubauth/web` on Node, served by @hono/node-server).
  for (const [name, own] of Object.entries(inProcess)) {
    if (!frameworks.includes(name)) rows.push(inProcessRow(`${name} (Node, @hono/node-server)`, own, targets));
  }
  return rows;
}

/** The headline row of one adapter: its in-process (guarded − bare) CPU per cached request. */
function inProcessRow(name, own, targets) {
  const ok = Number.isFinite(own.added);
  return [
    'Cache-hit overhead',
    `${name}: CPU that authentication adds per cached request, in process (guarded − bare)`,
    ok ? `${fmtRatio(own.added, 1)} µs` : 'INVALID',
    `≤ ${targets.addedCpuUs} µs`,
    !ok ? 'invalid' : own.added <= targets.addedCpuUs ? 'met' : `missed by ${fmtRatio(own.added - targets.addedCpuUs, 1)} µs`,
    `guarded ${fmtRatio(own.guarded, 1)} µs, bare ${fmtRatio(own.bare, 1)} µs of CPU per request (medians of ${own.rounds.length} paired runs; the pairs' middle half added ${own.addedSpread.map((x) => fmtRatio(x, 1)).join(' to ')} µs)`,
  ];
}
