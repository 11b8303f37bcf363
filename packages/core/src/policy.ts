/**
 * The access policy: who may pass a guarded route. Pure functions of the caller's model, the
 * service-wide rules and the route's {@link AccessPolicy}; no request, no I/O.
 */
import type { HubAuthConfig } from './config';
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
   * Whether `kind: 'service'` callers may pass. Default: yes when their scopes allow it and no
   * `hubUsers`/`hubGroups` list is set; with such a list, only when this is `true`.
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

/** Why `user` may not pass `policy` under the service's `rules`, or `null` when it may. */
export function accessDenial(user: HubUser, policy: AccessPolicy, rules: ServiceRules): string | null {
  const who = `${user.kind} ${user.name} is not allowed`;
  if (user.kind === 'user') {
    if (rules.blockedUsers.has(user.name)) return `${who} (blocked)`;
    if (rules.usernamePattern && !rules.usernamePattern.test(user.name)) return `${who} (name does not match)`;
    if (rules.allowedUsers && !rules.allowedUsers.has(user.name)) return who;
  }
  // Only allowAll (accessScopes null, no policy list) skips the check: an explicit empty list grants
  // access to no one, as any-one-of-nothing should, rather than silently admitting every Hub identity.
  const required = policy.scopes ?? rules.accessScopes;
  if (required && required.length === 0) return `${who}: no scope grants access here`;
  if (required && !grants(required, user.scopes)) {
    return `${who}: it lacks ${required.length === 1 ? 'the scope' : 'any of the scopes'} ${required.join(', ')}`;
  }
  const named = policy.hubUsers !== undefined || policy.hubGroups !== undefined;
  if (user.kind === 'service') {
    if (policy.allowServices === false || (named && policy.allowServices !== true)) return `${who} (services are not allowed here)`;
    return null;
  }
  if (named) {
    const byName = policy.hubUsers?.includes(user.name) ?? false;
    const byGroup = policy.hubGroups?.some((g) => user.groups.includes(g)) ?? false;
    if (!byName && !byGroup) return who;
  }
  return null;
}

/**
 * {@link accessDenial}, remembered per (identity, policy): cached models and guard options are the
 * same objects request after request, so the scope check runs once per cache entry and route.
 * Weak on both keys: decisions go away with the cached model or the guard.
 */
export class DenialMemo {
  private readonly decisions = new WeakMap<HubUser, WeakMap<AccessPolicy, string | null>>();

  constructor(private readonly rules: ServiceRules) {}

  denial(user: HubUser, policy: AccessPolicy): string | null {
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
