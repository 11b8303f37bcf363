/**
 * Scopes a service asks the Hub for at login (the `scope` parameter of the authorize request), and
 * scope requirements relative to the caller (`!user` = "the caller's own").
 *
 * The Hub grants an OAuth token the scopes the service asks for, each cut down to what the user
 * holds, and refuses the login (`invalid_scope`) when the service asks for a scope its registration
 * (`oauth_client_allowed_scopes`) does not allow. Without a request, it grants everything that
 * registration allows. The Hub hands a spawned server its registration as
 * `JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES`; services get `[]` there, so for them the list is
 * whatever the administrator wrote in `jupyterhub_config.py`.
 */
import { ConfigError } from './errors';
import { parseScope } from './scopes';

/** Scope names JupyterHub defines (5.x and 6.x); `custom:` scopes are the deployment's own. */
const HUB_SCOPE_NAMES: ReadonlySet<string> = new Set([
  'self', 'inherit', 'admin-ui',
  'admin:users', 'admin:auth_state', 'users', 'delete:users', 'list:users', 'read:users', 'read:users:name',
  'read:users:groups', 'read:users:activity', 'users:activity',
  'read:roles', 'read:roles:users', 'read:roles:services', 'read:roles:groups',
  'admin:servers', 'admin:server_state', 'servers', 'read:servers', 'start:servers', 'delete:servers',
  'tokens', 'read:tokens',
  'admin:groups', 'groups', 'list:groups', 'read:groups', 'read:groups:name', 'delete:groups',
  'admin:services', 'list:services', 'read:services', 'read:services:name',
  'read:hub', 'access:servers', 'access:services',
  'users:shares', 'read:users:shares', 'groups:shares', 'read:groups:shares', 'read:shares', 'shares',
  'proxy', 'shutdown', 'read:metrics',
]);

/** Filters without a value: the owner of the token (`!user`), its service, or its server. */
const OWNER_FILTERS: ReadonlySet<string> = new Set(['user', 'service', 'server']);

/**
 * Checks one scope as the Hub accepts it in a request or a registration: a known name (or
 * `custom:…`), optionally `!kind=value` or one of the owner filters `!user`, `!service`, `!server`.
 * Returns why not, or `null`.
 */
export function requestableScopeProblem(scope: unknown): string | null {
  if (typeof scope !== 'string' || scope === '') return 'a scope must be a non-empty string';
  const bang = scope.indexOf('!');
  const base = bang < 0 ? scope : scope.slice(0, bang);
  if (!HUB_SCOPE_NAMES.has(base) && !/^custom:[^\s!]+$/.test(base)) {
    if (base === 'identify') return '"identify" is no longer a scope (the Hub always grants identification)';
    return `"${base}" is not a JupyterHub scope (custom scopes start with "custom:")`;
  }
  if (bang < 0) return null;
  const filter = scope.slice(bang + 1);
  if (OWNER_FILTERS.has(filter)) return null;
  try {
    parseScope(scope);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Whether `allowed` (a registration, owner filters unresolved) lets a client ask for `scope`: the
 * same string, or the same name unfiltered.
 */
function allows(allowed: readonly string[], scope: string): boolean {
  if (allowed.includes('inherit') || allowed.includes(scope)) return true;
  const base = scope.split('!')[0] as string;
  return allowed.includes(base);
}

/** Where the scopes to request come from, validated. */
export interface RequestedScopesSource {
  /** `requestScopes` as given, if any. */
  option: readonly string[] | undefined;
  /** `JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES` as given, if any. */
  allowedEnv: string | undefined;
}

const OPTION = 'requestScopes';
const ALLOWED_ENV = 'JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES';

/**
 * The scopes to send with every login (empty: send none, and the Hub grants what the registration
 * allows). Throws {@link ConfigError} for an unknown or malformed scope, or one the Hub's
 * registration, when it is known, does not allow.
 */
export function resolveRequestedScopes({ option, allowedEnv }: RequestedScopesSource): readonly string[] {
  let allowed: string[] | null = null;
  if (allowedEnv !== undefined && allowedEnv.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(allowedEnv);
    } catch {
      throw new ConfigError(OPTION, `env ${ALLOWED_ENV} must be a JSON list of scopes, e.g. ["read:servers!user"]`);
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw new ConfigError(OPTION, `env ${ALLOWED_ENV} must be a JSON list of scope strings`);
    }
    allowed = parsed as string[];
  }
  if (option === undefined) {
    // What the Hub would grant anyway; sent explicitly so that hubUser.scopes is predictable.
    return Object.freeze(allowed && allowed.length > 0 ? [...allowed] : []);
  }
  if (!Array.isArray(option)) throw new ConfigError(OPTION, 'must be a list of scope strings, e.g. ["read:servers!user"]');
  for (const scope of option) {
    const problem = requestableScopeProblem(scope);
    if (problem) {
      throw new ConfigError(OPTION, `${problem} [option "${OPTION}"]; use scopes as written in the Hub's oauth_client_allowed_scopes`);
    }
  }
  if (allowed && allowed.length > 0) {
    const extra = option.filter((s) => !allows(allowed, s));
    if (extra.length > 0) {
      throw new ConfigError(
        OPTION,
        `asks for ${extra.join(', ')}, which the Hub does not allow this client (${ALLOWED_ENV} = ${JSON.stringify(allowed)}); ` +
          `add ${extra.length === 1 ? 'it' : 'them'} to oauth_client_allowed_scopes in jupyterhub_config.py or request less`,
      );
    }
  }
  return Object.freeze([...new Set(option)]);
}

/**
 * Resolves the owner filters of required scopes for one caller: `read:tokens!user` becomes
 * `read:tokens!user=<name>` for a user (and `!service=<name>` for a service). A scope with an owner
 * filter that does not fit the caller's kind resolves to nothing, so it is never met.
 */
export function resolveOwnerScopes(scopes: readonly string[], caller: { kind: 'user' | 'service'; name: string }): string[] {
  const out: string[] = [];
  for (const scope of scopes) {
    const bang = scope.indexOf('!');
    const filter = bang < 0 ? '' : scope.slice(bang + 1);
    if (!OWNER_FILTERS.has(filter)) {
      out.push(scope);
      continue;
    }
    if (filter === 'user' && caller.kind === 'user') out.push(`${scope}=${caller.name}`);
    else if (filter === 'service' && caller.kind === 'service') out.push(`${scope}=${caller.name}`);
    else if (filter === 'server' && caller.kind === 'user') out.push(`${scope.slice(0, bang)}!user=${caller.name}`);
  }
  return out;
}

/** Checks a guard's `requireScopes` once, at construction. Throws {@link ConfigError}. */
export function checkRequiredScopes(scopes: unknown, option = 'requireScopes'): readonly string[] {
  if (!Array.isArray(scopes)) throw new ConfigError(option, 'must be a list of scope strings, e.g. ["read:tokens!user"]');
  for (const scope of scopes) {
    const problem = requestableScopeProblem(scope);
    if (problem) throw new ConfigError(option, `${problem} [option "${option}"]`);
  }
  return scopes as string[];
}
