/**
 * The access policy: who may pass a guarded route. Pure functions of the caller's model, the
 * service-wide rules and the route's {@link AccessPolicy}; no request, no I/O.
 */
import type { HubAuthConfig } from './config';
import { ConfigError } from './errors';
import { checkRequiredScopes, resolveOwnerScopes } from './requested-scopes';
import { checkScopes, parseScope } from './scopes';
import type { HubUser } from './types';

/** What a guarded route requires. Every list is optional; the service's access scopes always apply. */
export interface AccessPolicy {
  /** Scopes that grant access (any one), instead of the service's access scopes. */
  scopes?: readonly string[];
  /** Only these users (Python's `hub_users`). Combined with `hubGroups` by OR. */
  hubUsers?: readonly string[];
  /** Only members of these groups (Python's `hub_groups`). */
  hubGroups?: readonly string[];
  /**
   * Scopes the caller must hold, all of them, in addition to the access check, e.g. the scopes a
   * route needs to act for the caller: `['read:tokens!user']`. `!user` means "the caller's own"
   * (`!user=<caller>`), as in the Hub's `oauth_client_allowed_scopes`.
   */
  requireScopes?: readonly string[];
  /**
   * Services allowed here, by name (Python's `hub_services`); other services are refused. Their
   * scopes still apply. Naming a service lets it in beside `hubUsers`/`hubGroups` and the service's
   * `allowedUsers`/`usernamePattern`.
   */
  hubServices?: readonly string[];
  /**
   * Whether `kind: 'service'` callers may pass. Default: yes when their scopes allow it and no list
   * of who may come in is set (`hubUsers`/`hubGroups` here, `allowedUsers`/`usernamePattern` for the
   * service); with such a list, only when this is `true`. `blockedUsers` blocks services too.
   */
  allowServices?: boolean;
  /**
   * What an anonymous caller gets: `auto` (default) sends browser navigations to the Hub's login
   * and answers 401 to everything else; `login` always redirects; `reject` always answers 401.
   */
  onUnauthenticated?: 'auto' | 'login' | 'reject';
}

/** The service-wide rules, from the configuration. */
export type ServiceRules = Pick<HubAuthConfig, 'accessScopes' | 'allowedUsers' | 'blockedUsers' | 'usernamePattern'>;

/** Whether `held` grants any of `required`; held scopes this version cannot parse grant nothing. */
function grants(required: readonly string[], held: readonly string[]): boolean {
  try {
    return checkScopes(required, held).size > 0;
  } catch {
    // A newer Hub may send filter kinds we do not know: ignore those scopes instead of failing.
    const known = held.filter((scope) => {
      try {
        parseScope(scope);
        return true;
      } catch {
        return false;
      }
    });
    return checkScopes(required, known).size > 0;
  }
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** `one of the users "a", "b" or a member of the groups "g"`: what `hubUsers`/`hubGroups` ask for. */
function namedRequirement(policy: AccessPolicy): string {
  const parts: string[] = [];
  if (policy.hubUsers?.length) parts.push(policy.hubUsers.length === 1 ? `the user ${quoted(policy.hubUsers)}` : `one of the users ${quoted(policy.hubUsers)}`);
  if (policy.hubGroups?.length) parts.push(`a member of ${policy.hubGroups.length === 1 ? 'the group' : 'one of the groups'} ${quoted(policy.hubGroups)}`);
  return parts.length ? parts.join(' or ') : 'a user or group that is listed (hubUsers and hubGroups are empty)';
}

/**
 * Why `user` may not pass `policy` under the service's `rules`, or `null` when it may.
 * `blockedUsers` blocks a name whatever its kind (a block is never a no-op); `allowedUsers` and
 * `usernamePattern` restrict users, and while either is set, services pass only routes that allow
 * them explicitly (`allowServices: true`), as with a route's own `hubUsers`/`hubGroups`.
 */
export function accessDenial(user: HubUser, policy: AccessPolicy, rules: ServiceRules): string | null {
  const who = `${user.kind} ${user.name} is not allowed`;
  // A mistyped requirement is the route's bug, not the caller's: a ConfigError for every caller.
  const wanted = policy.requireScopes && checkRequiredScopes(policy.requireScopes);
  if (rules.blockedUsers.has(user.name)) return `${who} (blocked)`;
  if (user.kind === 'user') {
    if (rules.usernamePattern && !rules.usernamePattern.test(user.name)) return `${who} (name does not match)`;
    if (rules.allowedUsers && !rules.allowedUsers.has(user.name)) return `${who}: not in allowedUsers`;
  }
  // Only allowAll (accessScopes null, no policy list) skips the check: an explicit empty list grants
  // access to no one, as any-one-of-nothing should, rather than silently admitting every Hub identity.
  const required = policy.scopes ?? rules.accessScopes;
  if (required && required.length === 0) return `${who}: no scope grants access here`;
  if (required && !grants(required, user.scopes)) {
    return `${who}: it lacks ${required.length === 1 ? 'the scope' : 'any of the scopes'} ${required.join(', ')}`;
  }
  if (wanted) {
    const resolved = resolveOwnerScopes(wanted, user);
    // An owner filter that does not fit the caller (`!user` for a service) cannot be met.
    const missing = resolved.length < wanted.length ? wanted : resolved.filter((scope) => !grants([scope], user.scopes));
    if (missing.length > 0) {
      return `${who}: it lacks the scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (asked for at login with requestScopes)`;
    }
  }
  const named = policy.hubUsers !== undefined || policy.hubGroups !== undefined;
  if (user.kind === 'service') {
    if (policy.allowServices === false) return `${who} (services are not allowed here)`;
    if (policy.hubServices !== undefined) return policy.hubServices.includes(user.name) ? null : `${who} (not one of the services allowed here)`;
    // A list of who may come in is a restriction: services get past one only when a route says so.
    const restricted = named || rules.allowedUsers !== null || rules.usernamePattern !== null;
    if (restricted && policy.allowServices !== true) return `${who} (services are not allowed here)`;
    return null;
  }
  if (named) {
    const byName = policy.hubUsers?.includes(user.name) ?? false;
    const byGroup = policy.hubGroups?.some((g) => user.groups.includes(g)) ?? false;
    if (!byName && !byGroup) return `${who}: this route requires ${namedRequirement(policy)}`;
  }
  return null;
}

/** Policies made by {@link freezePolicy}: only their decisions are remembered. */
const frozenPolicies = new WeakSet<object>();

/**
 * A validated, frozen copy of a guard's policy. Guards call it once, when they are created: editing
 * the options object afterwards changes nothing, so every caller — one whose decision is remembered
 * and one seen for the first time — meets the same policy. Throws {@link ConfigError} for a malformed
 * policy (lists that are not lists of strings, a scope that does not parse, an unknown mode).
 * Other fields (such as an adapter's `errors`) are copied as they are.
 *
 * @example
 * ```ts
 * import { HubAuth, freezePolicy, type HubRequest } from '@hubauth/core';
 *
 * const auth = new HubAuth();
 * const staffOnly = freezePolicy({ hubGroups: ['staff'] }); // validated and frozen once, not per request
 *
 * export async function decide(request: HubRequest) {
 *   const identity = await auth.authenticate(request);
 *   return auth.authorize(identity, request, staffOnly); // allow | redirect | deny
 * }
 * ```
 */
export function freezePolicy<T extends AccessPolicy>(policy: T, where = 'hubAuthenticated'): Readonly<T> {
  if (frozenPolicies.has(policy)) return policy;
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
    throw new ConfigError(where, 'takes an options object, e.g. { hubGroups: ["staff"] }');
  }
  const copy: Record<string, unknown> = { ...(policy as Record<string, unknown>) };
  for (const key of ['scopes', 'requireScopes', 'hubUsers', 'hubGroups', 'hubServices'] as const) {
    const list: unknown = policy[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && item !== '')) {
      throw new ConfigError(`${where}.${key}`, 'must be an array of non-empty strings');
    }
    if (key === 'scopes') {
      for (const scope of list as string[]) {
        try {
          parseScope(scope);
        } catch (err) {
          throw new ConfigError(`${where}.scopes`, `${JSON.stringify(scope)} is not a scope: ${(err as Error).message}`);
        }
      }
    }
    if (key === 'requireScopes') checkRequiredScopes(list, `${where}.requireScopes`);
    copy[key] = Object.freeze([...(list as string[])]);
  }
  if (policy.allowServices !== undefined && typeof policy.allowServices !== 'boolean') {
    throw new ConfigError(`${where}.allowServices`, 'must be true or false');
  }
  if (policy.onUnauthenticated !== undefined && !['auto', 'login', 'reject'].includes(policy.onUnauthenticated)) {
    throw new ConfigError(`${where}.onUnauthenticated`, 'must be "auto", "login" or "reject"');
  }
  const frozen = Object.freeze(copy) as Readonly<T>;
  frozenPolicies.add(frozen);
  return frozen;
}

/**
 * {@link accessDenial}, remembered per (identity, policy): cached models and frozen guard policies
 * are the same objects request after request, so the scope check runs once per cache entry and route.
 * Only policies made by {@link freezePolicy} are remembered: any other object may be edited later.
 * Weak on both keys: decisions go away with the cached model or the guard.
 */
export class DenialMemo {
  private readonly decisions = new WeakMap<HubUser, WeakMap<AccessPolicy, string | null>>();

  constructor(private readonly rules: ServiceRules) {}

  denial(user: HubUser, policy: AccessPolicy): string | null {
    if (!frozenPolicies.has(policy)) return accessDenial(user, policy, this.rules);
    let byPolicy = this.decisions.get(user);
    if (!byPolicy) {
      byPolicy = new WeakMap();
      this.decisions.set(user, byPolicy);
    }
    let denial = byPolicy.get(policy);
    if (denial === undefined) {
      denial = accessDenial(user, policy, this.rules);
      byPolicy.set(policy, denial);
    }
    return denial;
  }
}
