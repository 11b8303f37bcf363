/** The Hub API: reachable, its version and latency; the service's own token; who the access scopes admit. */
import { expectedServiceName, type DoctorContext } from '../context';
import { jsonOf, millis, probe, ProbeError, type ProbeReply } from '../probe';
import type { Check } from '../report';

const UNREACHABLE_FIX: Record<string, string> = {
  ECONNREFUSED:
    'nothing listens there: start the Hub, or set JUPYTERHUB_API_URL to its internal API URL as seen from this host ' +
    '(the Hub sets it for managed services; c.JupyterHub.hub_connect_url changes it)',
  ENOTFOUND: 'the host name does not resolve from this host: fix the host in JUPYTERHUB_API_URL',
  EAI_AGAIN: 'the host name does not resolve from this host: fix the host in JUPYTERHUB_API_URL',
  TIMEOUT: 'no answer in time: a firewall, a wrong host or port in JUPYTERHUB_API_URL, or a Hub that hangs',
};

function describeUrl(apiUrl: string): string {
  return apiUrl.startsWith('http+unix:') ? `unix socket ${decodeURIComponent(new URL(apiUrl).hostname)}` : apiUrl;
}

async function get(ctx: DoctorContext, url: string, token?: string): Promise<ProbeReply> {
  return probe(url, {
    timeoutMs: ctx.timeoutMs,
    tls: ctx.base?.tls ?? null,
    ...(token ? { headers: { authorization: `token ${token}` } } : {}),
  });
}

/** Where the API really is, when `apiUrl` is wrong but the Hub answers at `/hub/api` of the same origin. */
async function findApi(ctx: DoctorContext, apiUrl: string): Promise<string | null> {
  if (apiUrl.startsWith('http+unix:')) return null;
  const origin = new URL(apiUrl).origin;
  const candidate = `${origin}/hub/api`;
  if (candidate === apiUrl) return null;
  try {
    const reply = await get(ctx, `${candidate}/`);
    const body = jsonOf(reply) as { version?: unknown } | undefined;
    return reply.status === 200 && typeof body?.version === 'string' ? candidate : null;
  } catch {
    return null;
  }
}

export async function checkHubApi(ctx: DoctorContext): Promise<Check[]> {
  const base = ctx.base;
  if (!base) return [{ id: 'hub-api', status: 'skip', title: 'Hub API', detail: 'not checked: the API URL is not valid', fix: 'fix the configuration first' }];
  const checks: Check[] = [];
  const where = describeUrl(base.apiUrl);
  let reply: ProbeReply;
  try {
    reply = await get(ctx, `${base.apiUrl}/`);
  } catch (err) {
    const code = err instanceof ProbeError ? err.code : 'ERROR';
    checks.push({
      id: 'hub-api',
      status: 'fail',
      title: 'Hub API',
      detail: `unreachable at ${where} (${code === 'TIMEOUT' ? `no answer within ${ctx.timeoutMs} ms` : code})`,
      fix: UNREACHABLE_FIX[code] ?? 'check JUPYTERHUB_API_URL and that the Hub runs',
    });
    return checks;
  }
  const body = jsonOf(reply) as { version?: unknown } | undefined;
  if (reply.status !== 200 || typeof body?.version !== 'string') {
    const found = await findApi(ctx, base.apiUrl);
    checks.push({
      id: 'hub-api',
      status: 'fail',
      title: 'Hub API',
      detail: `no JupyterHub API at ${where} (status ${reply.status}${reply.status === 200 ? ', not the API’s JSON' : ''})`,
      fix: found
        ? `the Hub answers at "${found}": set JUPYTERHUB_API_URL="${found}" (and JUPYTERHUB_BASE_URL to the Hub's base_url)`
        : "JupyterHub's API is at <base_url>hub/api: check the path of JUPYTERHUB_API_URL against c.JupyterHub.base_url",
    });
    return checks;
  }
  ctx.hubReachable = true;
  const version = body.version;
  const major = Number.parseInt(version, 10);
  checks.push(
    major >= 4
      ? { id: 'hub-api', status: 'ok', title: 'Hub API', detail: `JupyterHub ${version} at ${where}, ${millis(reply.ms)}` }
      : {
          id: 'hub-api',
          status: 'warn',
          title: 'Hub API',
          detail: `JupyterHub ${version} at ${where}, ${millis(reply.ms)}`,
          fix: 'hubauth is tested with JupyterHub 5 and 6; upgrade the Hub',
        },
  );
  // The API path and the base URL are configured separately; when they disagree, browsers are sent
  // to a Hub path that does not exist.
  if (!base.apiUrl.startsWith('http+unix:')) {
    const apiPath = new URL(base.apiUrl).pathname.replace(/\/+$/, '');
    if (apiPath !== `${base.hubPrefix}api`) {
      checks.push({
        id: 'base-url',
        status: 'fail',
        title: 'Hub base URL',
        detail: `the API is at "${apiPath}", but the base URL "${base.hubPrefix.replace(/hub\/$/, '')}" puts it at "${base.hubPrefix}api"`,
        fix: `set JUPYTERHUB_BASE_URL (option hubBaseUrl) to the Hub's c.JupyterHub.base_url, here "${apiPath.replace(/hub\/api$/, '')}"`,
      });
    }
  }
  return checks;
}

export async function checkServiceToken(ctx: DoctorContext): Promise<Check[]> {
  const base = ctx.base;
  const title = 'Service token';
  if (!base || !ctx.hubReachable) return [{ id: 'service-token', status: 'skip', title, detail: 'not checked: the Hub API is not reachable' }];
  if (!base.apiToken) {
    return [
      ctx.oauth
        ? { id: 'service-token', status: 'fail', title, detail: 'missing', fix: "set JUPYTERHUB_API_TOKEN to the service's api_token: browser login needs it as the OAuth client secret" }
        : { id: 'service-token', status: 'ok', title, detail: 'none, and token-only authentication does not need one (apiRequest() would)' },
    ];
  }
  let reply: ProbeReply;
  try {
    reply = await get(ctx, `${base.apiUrl}/user`, base.apiToken);
  } catch (err) {
    return [{ id: 'service-token', status: 'fail', title, detail: `the Hub did not answer (${(err as ProbeError).code})`, fix: 'see the Hub API line' }];
  }
  if (reply.status === 401 || reply.status === 403) {
    return [
      {
        id: 'service-token',
        status: 'fail',
        title,
        detail: `the Hub does not accept it (${reply.status})`,
        fix:
          "set JUPYTERHUB_API_TOKEN to this service's api_token from c.JupyterHub.services (a managed service gets it " +
          'from the Hub); look for a stray newline, a revoked or an expired token',
      },
    ];
  }
  const model = jsonOf(reply) as { kind?: unknown; name?: unknown; scopes?: unknown } | undefined;
  if (reply.status !== 200 || typeof model?.name !== 'string') {
    return [{ id: 'service-token', status: 'fail', title, detail: `unexpected answer from /user (status ${reply.status})`, fix: 'see the Hub API line' }];
  }
  const owner = {
    kind: typeof model.kind === 'string' ? model.kind : 'user',
    name: model.name,
    scopes: Array.isArray(model.scopes) ? model.scopes.filter((s): s is string => typeof s === 'string') : [],
  };
  ctx.tokenOwner = owner;
  const expected = expectedServiceName(base);
  if (owner.kind !== 'service') {
    return [
      {
        id: 'service-token',
        status: ctx.oauth ? 'fail' : 'warn',
        title,
        detail: `it is a token of user "${owner.name}", not of a service`,
        fix: "use the service's own api_token (c.JupyterHub.services): it is the OAuth client secret, and a user's token acts with that user's rights",
      },
    ];
  }
  if (expected && owner.name !== expected) {
    return [
      {
        id: 'service-token',
        status: 'fail',
        title,
        detail: `it belongs to service "${owner.name}", not to "${expected}"`,
        fix: `use the api_token of service "${expected}", or set JUPYTERHUB_SERVICE_NAME / JUPYTERHUB_CLIENT_ID for "${owner.name}"`,
      },
    ];
  }
  return [{ id: 'service-token', status: 'ok', title, detail: `valid, service "${owner.name}", ${millis(reply.ms)}` }];
}

/** Who holds a scope, in the Hub's terms. */
function describeScope(scope: string): string {
  if (scope === 'access:services') return 'everyone with access to all services';
  const match = /^access:services!service=(.+)$/.exec(scope);
  if (match) return `everyone granted access to service "${match[1]}"`;
  const user = /^access:services!user=(.+)$/.exec(scope);
  if (user) return `user "${user[1]}"`;
  return `holders of "${scope}"`;
}

export async function checkAccessScopes(ctx: DoctorContext): Promise<Check[]> {
  const title = 'Access scopes';
  // Core names serviceName instead when an OAuth client id is set: the service's name is then all that is missing.
  const missing = ctx.configError;
  if (missing && (missing.option === 'accessScopes' || (missing.option === 'serviceName' && missing.message.includes('no access scope')))) {
    return [
      {
        id: 'access-scopes',
        status: 'fail',
        title,
        detail: 'none configured, so any valid Hub token would be accepted: the service refuses to start',
        fix:
          'run under JupyterHub (it sets JUPYTERHUB_OAUTH_ACCESS_SCOPES), or set JUPYTERHUB_SERVICE_NAME or the accessScopes ' +
          'option (e.g. ["access:services!service=<name>"]); allowAll: true admits every Hub identity on purpose',
      },
    ];
  }
  const config = ctx.config;
  if (!config) return [{ id: 'access-scopes', status: 'skip', title, detail: 'not checked: the configuration is invalid' }];
  if (config.accessScopes === null) {
    return [{ id: 'access-scopes', status: 'warn', title, detail: 'allowAll: every user and service the Hub vouches for is admitted', fix: 'set accessScopes unless this is intended' }];
  }
  const scopes = config.accessScopes;
  const checks: Check[] = [];
  const expected = ctx.tokenOwner?.kind === 'service' ? ctx.tokenOwner.name : expectedServiceName(config);
  const foreign = scopes.filter((s) => s.startsWith('access:services!service=') && expected && s !== `access:services!service=${expected}`);
  if (foreign.length) {
    checks.push({
      id: 'access-scopes',
      status: 'warn',
      title,
      detail: `${foreign.map((s) => `"${s}"`).join(', ')} admit${foreign.length === 1 ? 's' : ''} the users of another service`,
      fix: `use "access:services!service=${expected}" (JUPYTERHUB_OAUTH_ACCESS_SCOPES)`,
    });
  }
  const limits = [
    config.allowedUsers ? `only users ${[...config.allowedUsers].map((u) => `"${u}"`).join(', ')} (allowedUsers)` : '',
    config.blockedUsers.size ? `never ${[...config.blockedUsers].map((u) => `"${u}"`).join(', ')} (blockedUsers)` : '',
    config.usernamePattern ? `names matching ${String(config.usernamePattern)} (usernamePattern)` : '',
  ].filter(Boolean);
  checks.push({
    id: 'access-admits',
    status: 'ok',
    title: 'Who is admitted',
    detail:
      `${scopes.map((s) => `"${s}"`).join(' or ')}: ${[...new Set(scopes.map(describeScope))].join(', or ')}` +
      ` (through roles in c.JupyterHub.load_roles; the admin role has all)${limits.length ? `; then ${limits.join(', ')}` : ''}.` +
      ' The Hub API cannot list which roles hold a scope, so doctor cannot name the users',
  });
  return checks;
}
