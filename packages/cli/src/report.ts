/** The doctor's findings and how they are printed. */

/** `ok` ✔, `warn` ! (works, but fix it), `fail` ✘ (broken), `skip` – (could not be checked). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the report. */
export interface Check {
  /** Stable id, e.g. `hub-api`, `service-token`, `oauth-client`. */
  id: string;
  /** The verdict. */
  status: CheckStatus;
  /** What was checked, e.g. `Hub API`. */
  title: string;
  /** What was found. Never contains a token or a secret. */
  detail: string;
  /** What to do, for `warn` and `fail` (and for `skip`, how to make it checkable). */
  fix?: string;
}

/** Everything the doctor found. */
export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  /** Every check, in the order they ran. */
  checks: Check[];
  /** How many checks ended with each status. */
  counts: Record<CheckStatus, number>;
}

const SYMBOL: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✘', skip: '–' };
const COLOR: Record<CheckStatus, string> = { ok: '32', warn: '33', fail: '31', skip: '90' };

/** Builds a report from its checks. */
export function makeReport(checks: Check[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return { ok: counts.fail === 0, checks, counts };
}

/** The report as text, one line per check and an indented fix under each problem. */
export function formatReport(report: DoctorReport, options: { color?: boolean } = {}): string {
  const paint = (status: CheckStatus, text: string) => (options.color ? `\u001b[${COLOR[status]}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${paint(check.status, SYMBOL[check.status])} ${check.title}: ${check.detail}`);
    if (check.fix && check.status !== 'ok') lines.push(`    fix: ${check.fix}`);
  }
  const { ok, warn, fail, skip } = report.counts;
  lines.push('');
  lines.push(`${ok} ok, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failure${fail === 1 ? '' : 's'}${skip ? `, ${skip} not checked` : ''}`);
  return lines.join('\n');
}
