#!/usr/bin/env node
/** The `hubauth` command. */
import { parseArgs } from 'node:util';
import { runDoctor } from './doctor';
import { ConfigModuleError, loadOptions } from './load-config';
import { formatReport } from './report';

const USAGE = `Usage: hubauth doctor [--config <module>] [--json] [--timeout <ms>] [--no-color]

Checks a service's hubauth set-up against its JupyterHub, reading the same configuration as the
service: the JUPYTERHUB_* / HUBAUTH_* environment and, with --config, a module exporting the
options passed to hubAuth(). Prints one line per check (✔ ok, ! warning, ✘ failure) with the fix.
Exit status: 0 when nothing failed, 1 on any ✘, 2 on a usage error.

  --config <module>  ES module or CommonJS file: export default { ...options } (or a function)
  --json             machine-readable report on stdout
  --timeout <ms>     per request to the Hub (default 5000)
  --no-color         plain text (also when stdout is not a terminal or NO_COLOR is set)`;

/** Runs the command; resolves with the exit status. */
export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        'no-color': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`hubauth: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'doctor') {
    io.err(`hubauth: ${positionals.length ? `unknown command "${positionals.join(' ')}"` : 'no command'}\n\n${USAGE}\n`);
    return 2;
  }
  const timeoutMs = values.timeout === undefined ? 5_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
    io.err(`hubauth: --timeout "${values.timeout}" must be a number of milliseconds from 1 to 600000\n`);
    return 2;
  }
  let options = {};
  if (values.config !== undefined) {
    try {
      options = await loadOptions(values.config);
    } catch (err) {
      if (!(err instanceof ConfigModuleError)) throw err;
      io.err(`hubauth: ${err.message}\n`);
      return 2;
    }
  }
  const report = await runDoctor({ options, env: process.env, timeoutMs });
  if (values.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const color = !values['no-color'] && !process.env.NO_COLOR && process.stdout.isTTY === true;
    io.out(`${formatReport(report, { color })}\n`);
  }
  return report.ok ? 0 : 1;
}

// Run when executed as the bin (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:cli\.(?:c?js|mjs)|hubauth)$/.test(invoked)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hubauth: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
