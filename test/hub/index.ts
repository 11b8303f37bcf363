/**
 * Starts a REAL JupyterHub (from the project-local virtualenvs made by scripts/ensure-hub.sh) for
 * the integration tests, and stops exactly what it started. See README.md beside this file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../ports';
import { httpRequest, type HttpResponse } from './http';
import {
  isAlive,
  mergeProcs,
  processTree,
  signalAll,
  waitAllDead,
  type ProcInfo,
} from './procs';

export { httpRequest } from './http';
export type { HttpRequestOptions, HttpResponse } from './http';

// ---------------------------------------------------------------------------------------------
// Paths and versions
// ---------------------------------------------------------------------------------------------

export type HubVersion = '6' | '5';
export const HUB_VERSIONS: readonly HubVersion[] = ['6', '5'];

/** Name of the service whose token the harness itself uses (`RunningHub.adminToken`). */
export const HARNESS_SERVICE_NAME = 'hubauth-harness';

/** Scopes of the harness's own token. */
export const HARNESS_SCOPES: readonly string[] = [
  'admin:users',
  'admin:groups',
  'admin:services',
  'admin:servers',
  'tokens',
  'list:services',
  'read:services',
  'read:roles',
  'read:hub',
  'proxy',
];

function findHarnessDir(): string {
  if (typeof __dirname !== 'undefined' && existsSync(path.join(__dirname, 'versions.json'))) {
    return __dirname;
  }
  // Not compiled to CommonJS: look for the repository from the working directory upwards.
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, 'test', 'hub');
    if (existsSync(path.join(candidate, 'versions.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find test/hub/versions.json above the working directory');
    dir = parent;
  }
}

/** The directory of this harness (test/hub). */
export const harnessDir: string = findHarnessDir();
/** The repository root. */
export const repoRoot: string = path.resolve(harnessDir, '..', '..');

function readPins(): Record<HubVersion, string> {
  const raw: unknown = JSON.parse(readFileSync(path.join(harnessDir, 'versions.json'), 'utf8'));
  if (typeof raw !== 'object' || raw === null) throw new Error('test/hub/versions.json: not an object');
  const pins: Partial<Record<HubVersion, string>> = {};
  for (const v of HUB_VERSIONS) {
    const pin: unknown = (raw as Record<string, unknown>)[v];
    if (typeof pin !== 'string') throw new Error(`test/hub/versions.json: no pin for Hub ${v}`);
    pins[v] = pin;
  }
  return pins as Record<HubVersion, string>;
}

/** The pip requirement pinned for a Hub major version, e.g. `jupyterhub==6.1.1`. */
export function hubPin(version: HubVersion): string {
  return readPins()[version];
}

/** The exact version pinned for a Hub major version, e.g. `6.1.1`. */
export function pinnedVersion(version: HubVersion): string {
  return hubPin(version).replace(/^jupyterhub==/, '');
}

/** The project-local virtualenv of a Hub version (`.venv-hub6`, `.venv-hub5`). */
export function venvPath(version: HubVersion): string {
  return path.join(repoRoot, `.venv-hub${version}`);
}

/** The virtualenv's Python (has `jupyterhub` importable, e.g. for Python reference services). */
export function venvPython(version: HubVersion): string {
  return path.join(venvPath(version), 'bin', 'python');
}

/** The virtualenv's `jupyterhub` executable. */
export function hubBinary(version: HubVersion): string {
  return path.join(venvPath(version), 'bin', 'jupyterhub');
}

/** configurable-http-proxy from npm (dependency of the `test` workspace package). */
export function chpBinary(): string {
  return path.join(repoRoot, 'test', 'node_modules', '.bin', 'configurable-http-proxy');
}

/** Why the Hub of `version` cannot be started, or undefined when it can. */
export function hubUnavailableReason(version: HubVersion): string | undefined {
  const venv = venvPath(version);
  const fix = `run \`bash scripts/ensure-hub.sh ${version}\``;
  if (!existsSync(hubBinary(version)) || !existsSync(venvPython(version))) {
    return `JupyterHub ${version} is not installed (${path.relative(repoRoot, venv)} missing or incomplete): ${fix}`;
  }
  const stampFile = path.join(venv, '.hubauth-pin');
  const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
  if (stamp !== hubPin(version)) {
    return `${path.relative(repoRoot, venv)} holds ${stamp || 'an unknown version'}, test/hub/versions.json pins ${hubPin(version)}: ${fix}`;
  }
  if (!existsSync(chpBinary())) {
    return 'configurable-http-proxy is not installed (test/node_modules/.bin): run `pnpm install`';
  }
  return undefined;
}

/** Throws a helpful error when the Hub of `version` is not installed. */
export function assertHubInstalled(version: HubVersion): void {
  const reason = hubUnavailableReason(version);
  if (reason) throw new Error(reason);
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

// Ports: chosen below the ephemeral range (see test/ports.ts).
export { freePort, freePorts, reservePorts } from '../ports';

// ---------------------------------------------------------------------------------------------
// Options and results
// ---------------------------------------------------------------------------------------------

export interface ManagedServiceSpec {
  /** Started by the Hub itself, e.g. `[process.execPath, 'server.js']`. */
  command: string[];
  /** Extra environment (the Hub passes little of its own: PATH, LANG, VIRTUAL_ENV, ...). */
  env?: Record<string, string>;
  /** Port on 127.0.0.1 the service must listen on (JUPYTERHUB_SERVICE_URL). Default: a free port. */
  port?: number;
  cwd?: string;
}

export interface ExternalServiceSpec {
  /** Where the service listens; the Hub proxies `/services/<name>/` to it. Omit for a token-only service. */
  url?: string;
  apiToken: string;
  oauthClientId?: string;
  oauthRedirectUri?: string;
}

export interface HubServiceSpec {
  name: string;
  managed?: ManagedServiceSpec;
  external?: ExternalServiceSpec;
  /** Register an OAuth client even without a URL (client id `service-<name>`, redirect
   * `/services/<name>/oauth_callback` unless given). Services with a URL always get one. */
  oauth?: boolean;
  /** The service's API token (= OAuth client secret). Default: random (managed), or external.apiToken. */
  apiToken?: string;
  oauthNoConfirm?: boolean;
  /** `oauth_client_allowed_scopes`: what OAuth tokens issued to this service may do. */
  oauthClientAllowedScopes?: string[];
  /** Scopes for the service's own token; becomes a role `<name>-scopes`. */
  scopes?: string[];
  display?: boolean;
  /** Wait until `publicUrl/services/<name>/` answers through the proxy (default: true when managed). */
  waitReachable?: boolean;
}

export interface RoleSpec {
  name: string;
  description?: string;
  scopes: string[];
  users?: string[];
  groups?: string[];
  services?: string[];
}

export interface HubConfigContext {
  publicUrl: string;
  hubUrl: string;
  apiUrl: string;
  tmpDir: string;
  version: HubVersion;
}

export interface StartHubOptions {
  version: HubVersion;
  services?: HubServiceSpec[];
  /** Allowed users (created in the Hub's database). Users named in groups/roles are added. Default: ['alice']. */
  users?: string[];
  /** Admin users (`c.Authenticator.admin_users`). */
  admins?: string[];
  groups?: Record<string, string[]>;
  roles?: RoleSpec[];
  /** DummyAuthenticator's shared password. Default: random; see `RunningHub.password`. */
  password?: string;
  /** Python appended to the generated jupyterhub_config.py (`c` is in scope). */
  extraConfig?: string | ((ctx: HubConfigContext) => string);
  /** Extra environment for the Hub process. */
  env?: Record<string, string>;
  /** `c.JupyterHub.log_level = 'DEBUG'`. */
  debug?: boolean;
  /** How long to wait for the Hub (and its managed services) to come up. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * `c.JupyterHub.internal_ssl = True`: the Hub's API and the proxy's API speak TLS with client
   * certificates (made by the Hub in `<tmpDir>/internal-ssl`), managed services get
   * `JUPYTERHUB_SSL_KEYFILE`/`_CERTFILE`/`_CLIENT_CA`, and `apiUrl` is `https://…`. The harness's
   * own calls then go through the public proxy (plain http, TLS from there to the Hub).
   */
  internalSsl?: boolean;
}

export interface ServiceInfo {
  name: string;
  apiToken: string;
  /** `/services/<name>/` */
  prefix: string;
  /** `publicUrl + prefix` (only meaningful when the service has a URL). */
  publicUrl: string;
  /** The service's own URL (JUPYTERHUB_SERVICE_URL for managed services), if any. */
  url?: string;
  port?: number;
  oauthClientId?: string;
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: HttpResponse['headers'];
}

export interface CreateTokenOptions {
  scopes?: string[];
  roles?: string[];
  /** Seconds. */
  expiresIn?: number;
  note?: string;
}

export interface RunningHub {
  /** Actual version reported by `GET /hub/api/`, e.g. `6.1.1`. */
  version: string;
  major: HubVersion;
  /** The proxy's public URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  publicUrl: string;
  /** The Hub's own URL, e.g. `http://127.0.0.1:41235/hub/`. */
  hubUrl: string;
  /** `http://127.0.0.1:<hub port>/hub/api` (what services get as JUPYTERHUB_API_URL). */
  apiUrl: string;
  /** configurable-http-proxy's REST API (`GET /api/routes` with `Authorization: token <proxyAuthToken>`). */
  proxyApiUrl: string;
  proxyAuthToken: string;
  /** Token of the harness service (scopes: HARNESS_SCOPES). */
  adminToken: string;
  /** DummyAuthenticator password (same for every user). */
  password: string;
  users: string[];
  services: Record<string, ServiceInfo>;
  tmpDir: string;
  logFile: string;
  /** Milliseconds from spawn to ready. */
  startupMs: number;
  /** The Hub's pid (leader of its own process group). */
  pid: number;
  /** Creates an API token for `user` (POST /users/<user>/tokens). */
  createUserToken(user: string, opts?: CreateTokenOptions): Promise<string>;
  /** The configured API token of a service (its tokens are `kind: service`). */
  serviceToken(name: string): string;
  /** Calls the Hub API (`path` relative to apiUrl, e.g. `/users/alice`) with adminToken, or `token`. */
  api<T = unknown>(method: string, apiPath: string, body?: unknown, token?: string): Promise<ApiResult<T>>;
  /** The last `lines` lines of the Hub's log (Hub, proxy and managed services). */
  logTail(lines?: number): string;
  /** Live processes of the Hub's tree (Hub, proxy, managed services). */
  processes(): ProcInfo[];
  /** Stops everything started for this Hub and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Config generation
// ---------------------------------------------------------------------------------------------

interface ServiceConfig {
  name: string;
  api_token: string;
  url?: string;
  command?: string[];
  environment?: Record<string, string>;
  cwd?: string;
  oauth_client_id?: string;
  oauth_redirect_uri?: string;
  oauth_no_confirm?: boolean;
  oauth_client_allowed_scopes?: string[];
  display?: boolean;
}


interface HubSpec {
  publicPort: number;
  hubPort: number;
  proxyApiPort: number;
  proxyAuthToken: string;
  proxyPidFile: string;
  chp: string;
  dbUrl: string;
  cookieSecretFile: string;
  password: string;
  users: string[];
  admins: string[];
  groups: Record<string, { users: string[] }>;
  roles: RoleSpec[];
  services: ServiceConfig[];
  logLevel: string;
  internalSsl: boolean;
  internalCertsLocation: string;
}

const CONFIG_TEMPLATE = `# Generated by test/hub/index.ts for one test run; deleted when the Hub stops.
import json

from jupyterhub.spawner import Spawner

with open(__SPEC_PATH__) as f:
    spec = json.load(f)


class NoSpawner(Spawner):
    """The test Hub never starts single-user servers."""

    async def start(self):
        raise RuntimeError("the test Hub does not spawn single-user servers")

    async def poll(self):
        return 0

    async def stop(self, now=False):
        return None


c = get_config()  # noqa: F821

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = spec["publicPort"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = spec["hubPort"]
c.JupyterHub.db_url = spec["dbUrl"]
c.JupyterHub.cookie_secret_file = spec["cookieSecretFile"]
c.JupyterHub.log_level = spec["logLevel"]
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.spawner_class = NoSpawner
# land on /hub/home after login instead of trying to start a server
c.JupyterHub.redirect_to_server = False

c.ConfigurableHTTPProxy.should_start = True
c.ConfigurableHTTPProxy.command = [spec["chp"]]
c.ConfigurableHTTPProxy.api_url = "%s://127.0.0.1:%i" % ("https" if spec["internalSsl"] else "http", spec["proxyApiPort"])
if spec["internalSsl"]:
    c.JupyterHub.internal_ssl = True
    c.JupyterHub.internal_certs_location = spec["internalCertsLocation"]
c.ConfigurableHTTPProxy.auth_token = spec["proxyAuthToken"]
c.ConfigurableHTTPProxy.pid_file = spec["proxyPidFile"]

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = spec["password"]
c.Authenticator.allowed_users = set(spec["users"])
c.Authenticator.admin_users = set(spec["admins"])

c.JupyterHub.load_groups = spec["groups"]
c.JupyterHub.load_roles = spec["roles"]
c.JupyterHub.services = spec["services"]
`;

function pyString(value: string): string {
  // A JSON string literal is a valid Python string literal.
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping for the exit safety net
// ---------------------------------------------------------------------------------------------

interface Tracked {
  procs: () => ProcInfo[];
  tmpDir: string;
}

const running = new Set<Tracked>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const t of running) {
      try {
        signalAll(t.procs(), 'SIGKILL');
      } catch {
        // best effort
      }
      try {
        rmSync(t.tmpDir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    running.clear();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `promise` does or after `ms`, whichever comes first (the timer is cleared). */
async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function tailOf(file: string, lines: number): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// startHub
// ---------------------------------------------------------------------------------------------

export async function startHub(opts: StartHubOptions): Promise<RunningHub> {
  const { version } = opts;
  assertHubInstalled(version);
  installExitHook();

  const secret = (): string => randomBytes(32).toString('hex');
  const serviceSpecs = opts.services ?? [];
  const managedWithoutPort = serviceSpecs.filter((s) => s.managed && s.managed.port === undefined).length;
  const ports = await freePorts(3 + managedWithoutPort);
  const [publicPort, hubPort, proxyApiPort] = ports as [number, number, number];
  let nextPort = 3;

  const tmpDir = mkdtempSync(path.join(os.tmpdir(), `hubauth-hub${version}-`));
  const publicUrl = `http://127.0.0.1:${publicPort}`;
  const hubScheme = opts.internalSsl ? 'https' : 'http';
  const hubUrl = `${hubScheme}://127.0.0.1:${hubPort}/hub/`;
  const apiUrl = `${hubScheme}://127.0.0.1:${hubPort}/hub/api`;
  // Without client certificates the harness cannot talk TLS to the Hub: it goes through the proxy.
  const harnessApiUrl = opts.internalSsl ? `${publicUrl}/hub/api` : apiUrl;
  const password = opts.password ?? secret().slice(0, 24);
  const adminToken = secret();

  // users: explicit + anyone named in groups, roles and admins
  const userSet = new Set(opts.users ?? ['alice']);
  for (const u of opts.admins ?? []) userSet.add(u);
  for (const members of Object.values(opts.groups ?? {})) for (const u of members) userSet.add(u);
  for (const r of opts.roles ?? []) for (const u of r.users ?? []) userSet.add(u);
  const users = [...userSet];

  const services: Record<string, ServiceInfo> = {};
  const serviceConfigs: ServiceConfig[] = [];
  const roles: RoleSpec[] = [
    {
      name: HARNESS_SERVICE_NAME,
      description: 'The integration-test harness',
      scopes: [...HARNESS_SCOPES],
      services: [HARNESS_SERVICE_NAME],
    },
  ];
  serviceConfigs.push({ name: HARNESS_SERVICE_NAME, api_token: adminToken, display: false });

  for (const s of serviceSpecs) {
    if (s.name === HARNESS_SERVICE_NAME) throw new Error(`service name ${s.name} is reserved`);
    if (services[s.name]) throw new Error(`duplicate service ${s.name}`);
    if (s.managed && s.external) throw new Error(`service ${s.name}: managed or external, not both`);
    const prefix = `/services/${s.name}/`;
    const apiToken = s.apiToken ?? s.external?.apiToken ?? secret();
    const cfg: ServiceConfig = { name: s.name, api_token: apiToken };
    const info: ServiceInfo = { name: s.name, apiToken, prefix, publicUrl: `${publicUrl}${prefix}` };
    if (s.managed) {
      const port = s.managed.port ?? (ports[nextPort++] as number);
      cfg.url = `http://127.0.0.1:${port}`;
      cfg.command = s.managed.command;
      if (s.managed.env) cfg.environment = s.managed.env;
      if (s.managed.cwd) cfg.cwd = s.managed.cwd;
      info.url = cfg.url;
      info.port = port;
    } else if (s.external) {
      if (s.external.url) {
        cfg.url = s.external.url;
        info.url = s.external.url;
      }
      if (s.external.oauthClientId) cfg.oauth_client_id = s.external.oauthClientId;
      if (s.external.oauthRedirectUri) cfg.oauth_redirect_uri = s.external.oauthRedirectUri;
    }
    if (s.oauth) {
      cfg.oauth_client_id ??= `service-${s.name}`;
      cfg.oauth_redirect_uri ??= `${prefix}oauth_callback`;
    }
    if (cfg.url || cfg.oauth_client_id) info.oauthClientId = cfg.oauth_client_id ?? `service-${s.name}`;
    if (s.oauthNoConfirm !== undefined) cfg.oauth_no_confirm = s.oauthNoConfirm;
    if (s.oauthClientAllowedScopes) cfg.oauth_client_allowed_scopes = s.oauthClientAllowedScopes;
    if (s.display !== undefined) cfg.display = s.display;
    if (s.scopes) roles.push({ name: `${s.name}-scopes`, scopes: s.scopes, services: [s.name] });
    serviceConfigs.push(cfg);
    services[s.name] = info;
  }

  for (const r of opts.roles ?? []) {
    const role: RoleSpec = { name: r.name, scopes: r.scopes };
    if (r.description !== undefined) role.description = r.description;
    if (r.users) role.users = r.users;
    if (r.groups) role.groups = r.groups;
    if (r.services) role.services = r.services;
    roles.push(role);
  }

  const groups: Record<string, { users: string[] }> = {};
  for (const [g, members] of Object.entries(opts.groups ?? {})) groups[g] = { users: members };

  const cookieSecretFile = path.join(tmpDir, 'jupyterhub_cookie_secret');
  writeFileSync(cookieSecretFile, secret(), { mode: 0o600 });
  const spec: HubSpec = {
    publicPort,
    hubPort,
    proxyApiPort,
    proxyAuthToken: secret(),
    proxyPidFile: path.join(tmpDir, 'jupyterhub-proxy.pid'),
    chp: chpBinary(),
    dbUrl: `sqlite:///${path.join(tmpDir, 'jupyterhub.sqlite')}`,
    cookieSecretFile,
    password,
    users,
    admins: opts.admins ?? [],
    groups,
    roles,
    services: serviceConfigs,
    logLevel: opts.debug ? 'DEBUG' : 'INFO',
    internalSsl: opts.internalSsl === true,
    internalCertsLocation: path.join(tmpDir, 'internal-ssl'),
  };
  const specPath = path.join(tmpDir, 'harness-spec.json');
  writeFileSync(specPath, JSON.stringify(spec, null, 2), { mode: 0o600 });
  const ctx: HubConfigContext = { publicUrl, hubUrl, apiUrl, tmpDir, version };
  const extra = typeof opts.extraConfig === 'function' ? opts.extraConfig(ctx) : (opts.extraConfig ?? '');
  const configPath = path.join(tmpDir, 'jupyterhub_config.py');
  writeFileSync(
    configPath,
    CONFIG_TEMPLATE.replace('__SPEC_PATH__', pyString(specPath)) + (extra ? `\n# extraConfig\n${extra}\n` : ''),
  );

  // The Hub's environment: ours minus anything JupyterHub-ish, with this node first on PATH (the
  // proxy is a node script started through `#!/usr/bin/env node`).
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('JUPYTERHUB_') || k.startsWith('JPY_')) continue;
    env[k] = v;
  }
  env.PATH = [path.dirname(process.execPath), env.PATH ?? ''].filter(Boolean).join(path.delimiter);
  env.PYTHONUNBUFFERED = '1';
  Object.assign(env, opts.env ?? {});

  const logFile = path.join(tmpDir, 'jupyterhub.log');
  const logFd = openSync(logFile, 'a');
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(
      venvPython(version),
      [path.join(harnessDir, 'python', 'launch_hub.py'), '--cleanup-dir', tmpDir, '--', '-f', configPath],
      { cwd: tmpDir, env, detached: true, stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw new Error(`could not start ${venvPython(version)}`);
  }
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
  });
  child.once('error', (err) => {
    exitStatus ??= `spawn error ${err.message}`;
  });
  // Don't keep the test runner alive for the Hub's sake (stop() and the exit hook end it).
  child.unref();

  const hubRoot = processTree(pid)[0];
  let known: ProcInfo[] = hubRoot ? [hubRoot] : [];
  const currentProcs = (): ProcInfo[] => {
    known = mergeProcs(known, processTree(pid)).filter(isAlive);
    return known;
  };
  const tracked: Tracked = { procs: currentProcs, tmpDir };
  running.add(tracked);

  let finalLog: string | undefined;
  const logTail = (lines = 80): string => {
    if (finalLog !== undefined) return finalLog.split('\n').slice(-lines).join('\n');
    return tailOf(logFile, lines);
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const procs = currentProcs();
      // SIGTERM the supervisor (launch_hub.py): it SIGTERMs the Hub, which stops its managed
      // services and the proxy, and then SIGKILLs whatever is left of the tree.
      if (exitStatus === undefined) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone already
        }
        await withTimeout(exited, 15000);
      }
      // Belt and braces: SIGKILL anything of the tree (and the supervisor's group) still alive.
      const left = mergeProcs(procs, currentProcs()).filter(isAlive);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // no such group
      }
      signalAll(left, 'SIGKILL');
      const stuck = await waitAllDead(left, 5000);
      finalLog = tailOf(logFile, 2000);
      running.delete(tracked);
      rmSync(tmpDir, { recursive: true, force: true });
      if (stuck.length > 0) {
        throw new Error(`processes survived SIGKILL: ${stuck.map((p) => `${p.pid} ${p.comm}`).join(', ')}`);
      }
    })();
    return stopping;
  };

  const api = async <T = unknown>(
    method: string,
    apiPath: string,
    body?: unknown,
    token?: string,
  ): Promise<ApiResult<T>> => {
    const res = await httpRequest(`${harnessApiUrl}${apiPath.startsWith('/') ? '' : '/'}${apiPath}`, {
      method,
      headers: { Authorization: `token ${token ?? adminToken}` },
      body,
    });
    return { status: res.status, body: (res.json ?? res.text) as T, headers: res.headers };
  };

  const fail = async (message: string): Promise<never> => {
    await stop().catch(() => undefined);
    const tail = logTail(60);
    throw new Error(`${message}\n--- JupyterHub ${version} log (last 60 lines) ---\n${tail}`);
  };

  // Wait for the API to answer and for the Hub to finish start-up (services started, routes added).
  const timeoutMs = opts.startTimeoutMs ?? 60000;
  const deadline = started + timeoutMs;
  let actualVersion: string | undefined;
  for (;;) {
    if (exitStatus !== undefined) return fail(`JupyterHub ${version} exited during start-up (${exitStatus})`);
    if (Date.now() > deadline) return fail(`JupyterHub ${version} did not start within ${timeoutMs} ms`);
    if (actualVersion === undefined) {
      try {
        const res = await httpRequest(`${harnessApiUrl}/`, { timeoutMs: 2000 });
        const v = (res.json as { version?: unknown } | undefined)?.version;
        if (res.status === 200 && typeof v === 'string') actualVersion = v;
      } catch {
        // not listening yet
      }
    }
    if (actualVersion !== undefined && logTail(400).includes('JupyterHub is now running')) break;
    await sleep(100);
  }

  // Managed services: reachable through the proxy?
  for (const s of serviceSpecs) {
    const info = services[s.name];
    if (!info?.url || !(s.waitReachable ?? s.managed !== undefined)) continue;
    let last: string;
    for (;;) {
      if (exitStatus !== undefined) return fail(`JupyterHub ${version} exited during start-up (${exitStatus})`);
      try {
        const res = await httpRequest(info.publicUrl, { timeoutMs: 2000 });
        if (res.status < 500) break;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        return fail(`service ${s.name} not reachable at ${info.publicUrl} within ${timeoutMs} ms (${last})`);
      }
      await sleep(100);
    }
  }
  currentProcs();
  const startupMs = Date.now() - started;

  const createUserToken = async (user: string, o: CreateTokenOptions = {}): Promise<string> => {
    const body: Record<string, unknown> = { note: o.note ?? 'hubauth integration test' };
    if (o.scopes) body.scopes = o.scopes;
    if (o.roles) body.roles = o.roles;
    if (o.expiresIn !== undefined) body.expires_in = o.expiresIn;
    const res = await api<{ token?: unknown }>('POST', `/users/${encodeURIComponent(user)}/tokens`, body);
    const token = typeof res.body === 'object' && res.body !== null ? res.body.token : undefined;
    if (res.status !== 201 || typeof token !== 'string') {
      throw new Error(`creating a token for ${user} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    return token;
  };

  return {
    version: actualVersion,
    major: version,
    publicUrl,
    hubUrl,
    apiUrl,
    proxyApiUrl: `${hubScheme}://127.0.0.1:${proxyApiPort}`,
    proxyAuthToken: spec.proxyAuthToken,
    adminToken,
    password,
    users,
    services,
    tmpDir,
    logFile,
    startupMs,
    pid,
    createUserToken,
    serviceToken(name: string): string {
      const info = services[name];
      if (!info) throw new Error(`no service ${name}`);
      return info.apiToken;
    },
    api,
    logTail,
    processes: () => currentProcs(),
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// The Python reference service
// ---------------------------------------------------------------------------------------------

export interface PythonWhoamiOptions {
  name?: string;
  port?: number;
  env?: Record<string, string>;
  oauthNoConfirm?: boolean;
  oauthClientAllowedScopes?: string[];
}

/**
 * A managed service running test/hub/python/whoami.py with the Hub's own Python, i.e.
 * `jupyterhub.services.auth.HubAuthenticated` of the same JupyterHub version. Routes under
 * `/services/<name>/`: `''` (token auth), `oauth/` (OAuth login), `oauth_callback`, `health`.
 */
export function pythonWhoamiService(version: HubVersion, opts: PythonWhoamiOptions = {}): HubServiceSpec {
  const spec: HubServiceSpec = {
    name: opts.name ?? 'whoami-py',
    managed: {
      command: [venvPython(version), path.join(harnessDir, 'python', 'whoami.py')],
      env: { PYTHONUNBUFFERED: '1', ...(opts.env ?? {}) },
    },
  };
  if (opts.port !== undefined && spec.managed) spec.managed.port = opts.port;
  if (opts.oauthNoConfirm !== undefined) spec.oauthNoConfirm = opts.oauthNoConfirm;
  if (opts.oauthClientAllowedScopes) spec.oauthClientAllowedScopes = opts.oauthClientAllowedScopes;
  return spec;
}
