/** `runDoctor`: every check in order, each line ✔ / ! / ✘ with the fix. */
import type { Environment, HubAuthMiddlewareOptions } from '@hubauth/core';
import { checkCookieSecret, checkCookieSecurity } from './checks/cookies';
import { checkAccessScopes, checkHubApi, checkServiceToken } from './checks/hub';
import { checkOAuthClient, checkPublicHub, checkRedirectUri } from './checks/oauth';
import { checkStore } from './checks/store';
import { createContext, type DoctorContext } from './context';
import { makeReport, type Check, type DoctorReport } from './report';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** The options the service passes to `hubAuth()` (e.g. from `--config`). Default: none. */
  options?: HubAuthMiddlewareOptions;
  /** The environment the service runs with. Default: `process.env`. */
  env?: Environment;
  /** Milliseconds each Hub request may take (default 5,000). */
  timeoutMs?: number;
}

function configCheck(ctx: DoctorContext): Check {
  if (ctx.configError) {
    return { id: 'config', status: 'fail', title: 'Configuration', detail: ctx.configError.message, fix: `fix option "${ctx.configError.option}" as the message says` };
  }
  const config = ctx.config;
  const mode = ctx.oauth ? 'token and browser login (OAuth)' : 'token-only (no browser login)';
  return {
    id: 'config',
    status: 'ok',
    title: 'Configuration',
    detail: `valid: ${mode}${config?.serviceName ? `, service "${config.serviceName}"` : ''}, prefix "${config?.servicePrefix ?? '/'}"`,
  };
}

/**
 * Checks a service's hubauth set-up against its Hub, reading the configuration exactly as the
 * service would. Never throws for a broken set-up: that is what the report is for.
 *
 * @example
 * ```ts
 * import { runDoctor, formatReport } from 'hubauth';
 * const report = await runDoctor({ options: { servicePrefix: '/services/notes/' } });
 * console.log(formatReport(report));
 * process.exitCode = report.ok ? 0 : 1;
 * ```
 */
export async function runDoctor(doctorOptions: DoctorOptions = {}): Promise<DoctorReport> {
  const timeoutMs = doctorOptions.timeoutMs ?? 5_000;
  const ctx = createContext(doctorOptions.options ?? {}, doctorOptions.env ?? process.env, timeoutMs);
  const checks: Check[] = [configCheck(ctx)];
  checks.push(...(await checkHubApi(ctx)));
  checks.push(...(await checkServiceToken(ctx)));
  checks.push(...(await checkAccessScopes(ctx)));
  checks.push(...(await checkOAuthClient(ctx)));
  checks.push(...checkRedirectUri(ctx));
  checks.push(...(await checkPublicHub(ctx)));
  checks.push(...checkCookieSecret(ctx));
  checks.push(...checkCookieSecurity(ctx));
  checks.push(...(await checkStore(ctx)));
  return makeReport(checks);
}
