/**
 * The real JupyterHub the scenario files (service-tokens, browser-oauth) run against: all ten
 * examples (whoami-api and whoami-oauth in Express, Koa, Fastify and Hono on Node, and the plain fetch
 * handler of `@hubauth/web` served by `Bun.serve`) and the guard service of each framework as MANAGED services, one EXTERNAL service per framework that we start ourselves, token-only services whose
 * own tokens carry access scopes, and users, groups and roles for the access decisions.
 *
 * | who | what they hold |
 * |---|---|
 * | alice | role `alice-access`: `access:services`, `custom:hubauth:read`; group `staff` |
 * | bob | nothing beyond the default `user` role (`self`) |
 * | carol | role `carol-one`: `access:services!service=whoami-api-<fw>` for each framework only |
 * | erin | role `erin-access`: `access:services`; no group |
 * | dave-<fw> | group `members`, which carries role `members-access`: `access:services` |
 * | service svc-all | `access:services` |
 * | service svc-ours-<fw> | `access:services!service=whoami-api-<fw>`, `…!service=whoami-oauth-<fw>` |
 * | service svc-other | `access:services!service=other` (`other` is a registered, URL-less service) |
 *
 * | service | runs | configuration |
 * |---|---|---|
 * | whoami-api-<fw>, whoami-oauth-<fw> | managed, examples/<fw>/*.mjs | as the Hub sets it (`?token=` refused) |
 * | guard-<fw> | managed, support/guard-service.mjs | cache 1 s, `JUPYTERHUB_ALLOW_TOKEN_IN_URL=1` |
 * | ext-<fw> | external, examples/<fw>/whoami-oauth.mjs, started here | access scope `access:services!service=ext-<fw>` only, `JUPYTERHUB_ALLOW_TOKEN_IN_URL=1` |
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeBinary } from '../../runtimes';
import {
  repoRoot,
  reservePorts,
  startHub,
  type HubConfigContext,
  type HubServiceSpec,
  type HubVersion,
  type RunningHub,
} from '../../hub';

export const FRAMEWORKS = ['express', 'koa', 'fastify', 'hono', 'web'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The command that runs a service script of `fw`: Node, except `web` (`@hubauth/web`), which runs under Bun. */
export function serviceCommand(fw: Framework, script: string, preload?: string): string[] {
  if (fw === 'web') return [runtimeBinary('bun'), ...(preload ? ['--preload', preload] : []), script];
  return [process.execPath, ...(preload ? ['--require', preload] : []), script];
}

/** The custom scope the guard services' `/custom` route requires (held by alice). */
export const CUSTOM_SCOPE = 'custom:hubauth:read';
/** Seconds the guard services cache an identity. */
export const GUARD_CACHE_SECONDS = 1;
/** The group the guard services' `/staff` route requires (alice is a member). */
export const STAFF_GROUP = 'staff';
/** The group whose role gives dave-<fw> access; tests remove members to revoke it. */
export const MEMBERS_GROUP = 'members';

export const apiService = (fw: Framework): string => `whoami-api-${fw}`;
export const oauthService = (fw: Framework): string => `whoami-oauth-${fw}`;
export const guardService = (fw: Framework): string => `guard-${fw}`;
export const externalService = (fw: Framework): string => `ext-${fw}`;
export const oursServiceToken = (fw: Framework): string => `svc-ours-${fw}`;
export const daveOf = (fw: Framework): string => `dave-${fw}`;

const secret = (): string => randomBytes(32).toString('hex');

/** A service process started by the test (not by the Hub), with its output in a log file. */
export interface ExternalProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface IntegrationHub {
  hub: RunningHub;
  version: HubVersion;
  externals: ExternalProcess[];
  /** Public URL (through the proxy) of a service path, e.g. `url('guard-koa', 'staff')`. */
  url(service: string, subPath?: string): string;
  /** `/services/<name>/`. */
  prefix(service: string): string;
  /** Hub, proxy and managed services' log tail, followed by the external services' tails. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** The groups of services a file can run (default: all). Token-only services are always there. */
export type ServiceGroup = 'whoami-api' | 'whoami-oauth' | 'guard' | 'external';
export const ALL_GROUPS: readonly ServiceGroup[] = ['whoami-api', 'whoami-oauth', 'guard', 'external'];

export interface StartOptions {
  /** Python appended to the Hub's configuration. */
  extraConfig?: string;
  /** Which services to run (each group: one per framework). Fewer managed services start faster. */
  groups?: readonly ServiceGroup[];
}

function tail(file: string, lines: number): string {
  try {
    const all = readFileSync(file, 'utf8').split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts `examples/<fw>/whoami-oauth.mjs` ourselves, with the JUPYTERHUB_* environment we choose. */
function startExternal(name: string, fw: Framework, script: string, env: Record<string, string>, logDir: string): ExternalProcess {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const [command, ...args] = serviceCommand(fw, script, path.join(__dirname, 'die-with-parent.cjs'));
    child = spawn(
      command as string,
      args,
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), LANG: 'C.UTF-8', ...env },
        stdio: ['ignore', fd, fd],
      },
    );
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    name,
    child,
    logFile,
    logTail: (lines = 30) => tail(logFile, lines),
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const done = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000))),
        ]);
        clearTimeout(timer);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
}

/**
 * Starts one JupyterHub of `version` with the services of `opts.groups` (default: all, the external
 * ones included) and waits until each answers through the proxy. Stops everything it started when anything fails.
 */
export async function startIntegrationHub(version: HubVersion, opts: StartOptions = {}): Promise<IntegrationHub> {
  const cookieSecret = secret();
  const groups = new Set(opts.groups ?? ALL_GROUPS);
  const reserved = await reservePorts(groups.has('external') ? FRAMEWORKS.length : 0);
  const extPorts = reserved.ports;
  const extTokens = FRAMEWORKS.map(() => secret());

  const services: HubServiceSpec[] = [];
  for (const fw of FRAMEWORKS) {
    for (const kind of ['api', 'oauth'] as const) {
      if (!groups.has(`whoami-${kind}`)) continue;
      services.push({
        name: `whoami-${kind}-${fw}`,
        managed: {
          command: serviceCommand(fw, `examples/${fw}/whoami-${kind}.mjs`),
          cwd: repoRoot,
          env: { HUBAUTH_COOKIE_SECRET: cookieSecret },
        },
      });
    }
    if (!groups.has('guard')) continue;
    services.push({
      name: guardService(fw),
      managed: {
        command: [...serviceCommand(fw, 'test/integration/support/guard-service.mjs'), fw],
        cwd: repoRoot,
        env: {
          HUBAUTH_COOKIE_SECRET: cookieSecret,
          HUBAUTH_TEST_CACHE_MAX_AGE: String(GUARD_CACHE_SECONDS),
          GUARD_HUB_USERS: 'alice',
          GUARD_HUB_GROUPS: STAFF_GROUP,
          GUARD_SCOPES: CUSTOM_SCOPE,
          JUPYTERHUB_ALLOW_TOKEN_IN_URL: '1',
        },
      },
    });
  }
  const externalFrameworks = groups.has('external') ? FRAMEWORKS : [];
  externalFrameworks.forEach((fw, i) => {
    const name = externalService(fw);
    services.push({
      name,
      external: {
        url: `http://127.0.0.1:${extPorts[i] as number}`,
        apiToken: extTokens[i] as string,
        oauthClientId: `service-${name}`,
        oauthRedirectUri: `/services/${name}/oauth_callback`,
      },
      waitReachable: true,
    });
  });
  services.push({ name: 'svc-all', scopes: ['access:services'] });
  for (const fw of FRAMEWORKS) {
    services.push({
      name: oursServiceToken(fw),
      scopes: [`access:services!service=${apiService(fw)}`, `access:services!service=${oauthService(fw)}`],
    });
  }
  services.push({ name: 'other' });
  services.push({ name: 'svc-other', scopes: ['access:services!service=other'] });

  const logDir = mkdtempSync(path.join(os.tmpdir(), `hubauth-ext${version}-`));
  const externals: ExternalProcess[] = [];
  const prefix = (service: string): string => `/services/${service}/`;
  const stopExternals = async (): Promise<void> => {
    try {
      await Promise.all(externals.map((e) => e.stop()));
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  };

  // The Hub waits (about 30 s) for each external service it cannot reach at start-up, and the API
  // URL is only known once startHub has chosen its ports: the config callback learns it before the
  // Hub is spawned, so the external services are started from there.
  const extraConfig = (ctx: HubConfigContext): string => {
    void reserved.release(); // startHub has chosen its ports by now
    externalFrameworks.forEach((fw, i) => {
      const name = externalService(fw);
      externals.push(
        startExternal(name, fw, `examples/${fw}/whoami-oauth.mjs`, {
          JUPYTERHUB_API_TOKEN: extTokens[i] as string,
          JUPYTERHUB_API_URL: ctx.apiUrl,
          JUPYTERHUB_BASE_URL: '/',
          JUPYTERHUB_SERVICE_NAME: name,
          JUPYTERHUB_SERVICE_PREFIX: prefix(name),
          JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${extPorts[i] as number}`,
          JUPYTERHUB_CLIENT_ID: `service-${name}`,
          JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix(name)}oauth_callback`,
          // only the service-specific scope: holders of plain access:services must pass too
          JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:services!service=${name}`]),
          JUPYTERHUB_ALLOW_TOKEN_IN_URL: '1',
          HUBAUTH_COOKIE_SECRET: cookieSecret,
        }, logDir),
      );
    });
    return [
      `c.JupyterHub.custom_scopes = {${JSON.stringify(CUSTOM_SCOPE)}: {"description": "hubauth integration tests"}}`,
      opts.extraConfig ?? '',
    ].join('\n');
  };

  let hub: RunningHub;
  try {
    hub = await startHub({
      version,
      users: ['alice', 'bob', 'carol', 'erin', ...FRAMEWORKS.map(daveOf)],
      groups: { [STAFF_GROUP]: ['alice'], [MEMBERS_GROUP]: FRAMEWORKS.map(daveOf) },
      roles: [
        { name: 'alice-access', scopes: ['access:services', CUSTOM_SCOPE], users: ['alice'] },
        { name: 'carol-one', scopes: FRAMEWORKS.map((fw) => `access:services!service=${apiService(fw)}`), users: ['carol'] },
        { name: 'erin-access', scopes: ['access:services'], users: ['erin'] },
        { name: 'members-access', scopes: ['access:services'], groups: [MEMBERS_GROUP] },
      ],
      services,
      extraConfig,
    });
  } catch (err) {
    await reserved.release();
    const tails = externals.map((e) => `--- external service ${e.name} ---\n${e.logTail(15)}`).join('\n');
    await stopExternals().catch(() => undefined);
    if (err instanceof Error && tails) err.message += `\n${tails}`;
    throw err;
  }

  const url = (service: string, subPath = ''): string => `${hub.publicUrl}${prefix(service)}${subPath}`;
  const logTail = (lines = 60): string =>
    [
      hub.logTail(lines),
      ...externals.map((e) => `--- external service ${e.name} (last 15 lines) ---\n${e.logTail(15)}`),
    ].join('\n');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await stopExternals();
      } finally {
        await hub.stop();
      }
    })();
    return stopping;
  };

  return { hub, version, externals, url, prefix, logTail, stop };
}
