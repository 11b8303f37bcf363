/**
 * `hubauth-proxy`: runs as a JupyterHub service (managed or external) and puts an app behind the
 * Hub's login. See the package README for every option.
 */
import { parseArgs } from 'node:util';
import { ConfigError, isHubAuthError } from '@hubauth/core';
import { AppProcess, freePort } from './app-process';
import type { HubAuthProxyOptions } from './options';
import { HubAuthProxy } from './proxy';

const USAGE = `Usage: hubauth-proxy [options] [-- <command> [args…]]

Puts a web app behind JupyterHub login. Run it as a JupyterHub service: it reads the JUPYTERHUB_*
environment the Hub gives a managed service (set it yourself for an external one).

  --upstream URL          the app, e.g. http://127.0.0.1:8501 (env HUBAUTH_PROXY_UPSTREAM); with a
                          command and no --upstream, a free port on 127.0.0.1 is chosen
  --ip HOST, --port N     where the proxy listens (default: JUPYTERHUB_SERVICE_URL, else 127.0.0.1:8000)
  --hub-users a,b         only these users (repeatable); OR-ed with --hub-groups
  --hub-groups a,b        only members of these groups (repeatable)
  --scopes s1,s2          scopes that grant access instead of the service's access scopes
  --allow-services        let services (kind: service) through even with --hub-users/--hub-groups
  --strip-prefix          remove the service prefix before proxying (default)
  --keep-prefix           keep it (apps configured with their base path)
  --header-user NAME      identity header names (defaults X-Hubauth-User, X-Hubauth-Groups,
  --header-groups NAME      X-Hubauth-User-Model); an empty NAME sends none
  --header-model NAME
  --allow-origin ORIGIN   another origin whose pages may use the login cookie to change state (repeatable)
  --upstream-timeout S    seconds the app may stay silent before 504 (default 300; 0: none)
  --forward-auth-path P   forward-auth endpoint below the prefix (default _hubauth/auth)
  --token-only            no browser login, tokens only
  --ready-timeout S       seconds the command has to start listening (default 60)
  --restart POLICY        never (default: exit with the app), on-failure, always
  -h, --help              this help

The command gets its port as {port} in its arguments and as PORT, e.g.
  hubauth-proxy -- streamlit run app.py --server.port {port} --server.headless true`;

const OPTIONS = {
  upstream: { type: 'string' },
  ip: { type: 'string' },
  port: { type: 'string' },
  'hub-users': { type: 'string', multiple: true },
  'hub-groups': { type: 'string', multiple: true },
  scopes: { type: 'string', multiple: true },
  'allow-services': { type: 'boolean' },
  'strip-prefix': { type: 'boolean' },
  'keep-prefix': { type: 'boolean' },
  'header-user': { type: 'string' },
  'header-groups': { type: 'string' },
  'header-model': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'upstream-timeout': { type: 'string' },
  'forward-auth-path': { type: 'string' },
  'token-only': { type: 'boolean' },
  'ready-timeout': { type: 'string' },
  restart: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What the command line asks for. */
export interface CliPlan {
  /** Options for {@link HubAuthProxy}. */
  proxy: HubAuthProxyOptions;
  /** Where the proxy listens. */
  host: string;
  /** The port it listens on. */
  port: number;
  /** The app's command (after `--`), empty when there is none. */
  command: string[];
  /** Milliseconds the app has to start listening. */
  readyTimeoutMs: number;
  /** What to do when the app exits. */
  restart: 'never' | 'on-failure' | 'always';
  /** `--help` was given. */
  help: boolean;
}

function list(values: string[] | undefined): string[] | undefined {
  return values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(flag, `must be a number of seconds, got "${value}" (--${flag})`);
  return Math.round(n * 1000);
}

/** Parses the command line (without `node` and the script). Throws {@link ConfigError}. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliPlan {
  const split = argv.indexOf('--');
  const own = split < 0 ? [...argv] : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  let values;
  try {
    ({ values } = parseArgs({ args: own, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new ConfigError('arguments', `${(err as Error).message}; see hubauth-proxy --help`);
  }
  if (values['strip-prefix'] && values['keep-prefix']) throw new ConfigError('stripPrefix', 'give --strip-prefix or --keep-prefix, not both');
  if (split >= 0 && command.length === 0) throw new ConfigError('command', 'nothing follows "--"; give the command that starts the app');

  const serviceUrl = env.JUPYTERHUB_SERVICE_URL ? new URL(env.JUPYTERHUB_SERVICE_URL) : null;
  const host = values.ip ?? serviceUrl?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  const portText = values.port ?? (serviceUrl ? serviceUrl.port || (serviceUrl.protocol === 'https:' ? '443' : '80') : '8000');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError('port', `"${portText}" is not a port (--port, or the port of JUPYTERHUB_SERVICE_URL)`);
  }
  const restart = (values.restart ?? 'never') as CliPlan['restart'];
  if (!['never', 'on-failure', 'always'].includes(restart)) {
    throw new ConfigError('restart', `must be never, on-failure or always, got "${restart}" (--restart)`);
  }
  const header = (v: string | undefined): string | null | undefined => (v === undefined ? undefined : v === '' ? null : v);
  const proxy: HubAuthProxyOptions = {
    env,
    ...(values.upstream !== undefined ? { upstream: values.upstream } : {}),
    ...(values['hub-users'] ? { hubUsers: list(values['hub-users']) } : {}),
    ...(values['hub-groups'] ? { hubGroups: list(values['hub-groups']) } : {}),
    ...(values.scopes ? { scopes: list(values.scopes) } : {}),
    ...(values['allow-services'] ? { allowServices: true } : {}),
    ...(values['keep-prefix'] ? { stripPrefix: false } : {}),
    identityHeaders: { user: header(values['header-user']), groups: header(values['header-groups']), model: header(values['header-model']) },
    ...(values['allow-origin'] ? { allowedOrigins: values['allow-origin'] } : {}),
    ...(values['upstream-timeout'] !== undefined ? { upstreamTimeoutMs: seconds(values['upstream-timeout'], 'upstream-timeout', 0) } : {}),
    ...(values['forward-auth-path'] !== undefined ? { forwardAuthPath: values['forward-auth-path'] } : {}),
    ...(values['token-only'] ? { oauth: false } : {}),
  };
  for (const key of ['user', 'groups', 'model'] as const) {
    if (proxy.identityHeaders?.[key] === undefined) delete proxy.identityHeaders?.[key];
  }
  return {
    proxy,
    host,
    port,
    command,
    readyTimeoutMs: seconds(values['ready-timeout'], 'ready-timeout', 60_000),
    restart,
    help: values.help === true,
  };
}

/**
 * Runs `hubauth-proxy` until it is stopped (a signal, or the app's exit); resolves with the exit code
 * (2 for a configuration error).
 *
 * @example
 * ```ts
 * import { main } from '@hubauth/proxy';
 *
 * process.exitCode = await main(['--upstream', 'http://127.0.0.1:8501', '--hub-groups', 'staff']);
 * ```
 */
export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let plan: CliPlan;
  try {
    plan = parseCommandLine(argv, env);
    if (plan.help) {
      console.log(USAGE);
      return 0;
    }
  } catch (err) {
    console.error(`hubauth-proxy: ${(err as Error).message}`);
    return 2;
  }
  let app: AppProcess | null = null;
  let proxy: HubAuthProxy;
  try {
    if (plan.command.length) {
      const upstream = plan.proxy.upstream ?? env.HUBAUTH_PROXY_UPSTREAM;
      const url = upstream ? new URL(String(upstream)) : new URL(`http://127.0.0.1:${await freePort()}`);
      plan.proxy.upstream = url;
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      app = new AppProcess({ command: plan.command, port, host: url.hostname.replace(/^\[|\]$/g, ''), readyTimeoutMs: plan.readyTimeoutMs, restart: plan.restart, env });
    }
    proxy = new HubAuthProxy(plan.proxy);
  } catch (err) {
    console.error(`hubauth-proxy: ${(err as Error).message}`);
    return isHubAuthError(err) ? 2 : 1;
  }
  const log = proxy.auth.config.logger;
  try {
    await proxy.listen(plan.port, plan.host);
  } catch (err) {
    console.error(`hubauth-proxy: cannot listen on ${plan.host}:${plan.port}: ${(err as Error).message}`);
    await proxy.close();
    return 1;
  }
  const where = proxy.options.upstream ? `→ ${proxy.options.upstream.href}` : '(forward-auth only)';
  log.info?.(`hubauth-proxy listening on http://${plan.host}:${plan.port}${proxy.prefix} ${where}`);

  return new Promise<number>((resolve) => {
    let finished = false;
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    const finish = async (code: number): Promise<void> => {
      if (finished) return;
      finished = true;
      for (const signal of signals) process.off(signal, onSignal);
      await proxy.close();
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info?.(`${signal}: stopping`);
      if (app) void app.stop(signal).then(() => finish(0));
      else void finish(0);
    };
    for (const signal of signals) process.once(signal, onSignal);
    if (app) {
      const child = app;
      child.on('exit', (code, signal) => {
        log.warn(`the app exited (${signal ?? `code ${code}`}); stopping`);
        void finish(code ?? 1);
      });
      child.on('ready', () => log.info?.(`the app is listening on ${proxy.options.upstream?.host ?? ''}`));
      child.start().catch((err: Error) => {
        log.error(err.message);
        void child.stop().then(() => finish(1));
      });
    }
  });
}
