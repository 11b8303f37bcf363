/**
 * JupyterHub scope checking, as a service performs it.
 *
 * A scope is either a bare `base` (for example `access:services`) or a filtered `base!kind=value`
 * (for example `access:servers!server=alice/`), where `kind` is one of `user`, `group`, `server` or
 * `service`. The scope list a Hub reports for a token is already expanded and reduced, so this module
 * never expands subscopes or metascopes; it only compares filters.
 *
 * Semantics follow the Hub's own check for services:
 *
 * - Both sides are reduced to `base → everything | { kind → values }`. An unfiltered scope makes its
 *   base "everything" and absorbs every filtered scope of that base on the same side.
 * - For a base present on both sides, "everything" on one side yields the other side's filters as
 *   they are. Otherwise the values of each kind present on both sides are intersected, and a server
 *   `u/name` on either side is also kept when user `u` is on the other side.
 * - A server never covers its user, and group filters are only ever matched against identical group
 *   filters: membership is unknown without the Hub's database.
 * - {@link checkScopes} keeps only the *required* strings found in that intersection, so an
 *   unfiltered requirement is met only by an unfiltered grant.
 *
 * `custom:` scopes are ordinary literal strings (a `*` in them matches only itself).
 *
 * @packageDocumentation
 */
import { ScopeSyntaxError } from './errors';

export { ScopeSyntaxError };

/** The filter kinds a scope may carry. */
export type ScopeFilterKind = 'user' | 'group' | 'server' | 'service';

/** The filter kinds a scope may carry, in a stable order. */
export const SCOPE_FILTER_KINDS: readonly ScopeFilterKind[] = Object.freeze(['user', 'group', 'server', 'service']);

/** The filter part of a scope: `!kind=value`. */
export interface ScopeFilter {
  /** What the scope is restricted to. */
  kind: ScopeFilterKind;
  /**
   * The user, group, server or service name. Server values are `<user>/<server name>`; the default
   * server is `<user>/`. Never empty.
   */
  value: string;
}

/** A scope string split into its base and optional filter. */
export interface ParsedScope {
  /** The scope name, e.g. `access:servers` or `custom:grades:read`. Never empty. */
  base: string;
  /** The restriction, absent for an unfiltered scope. */
  filter?: ScopeFilter;
}

function isFilterKind(kind: string): kind is ScopeFilterKind {
  return kind === 'user' || kind === 'group' || kind === 'server' || kind === 'service';
}

/**
 * Split a scope string into its base and optional filter, validating it.
 *
 * The string is split on its first `!` and the filter on its first `=`, so a filter value may itself
 * contain `!` or `=`; `` `${base}!${kind}=${value}` `` always rebuilds the input exactly.
 *
 * @param scope - A scope such as `read:users` or `access:servers!server=alice/`.
 * @returns The base, plus the filter when there is one.
 * @throws {@link ScopeSyntaxError} when `scope` is not a string, the base is empty, the filter has no
 *   `=` (a bare `!user`, `!service` or `!server` is only meaningful inside a Hub role definition), the
 *   filter kind is not one of `user`, `group`, `server`, `service`, or the filter value is empty.
 *
 * @example
 * ```ts
 * import { parseScope } from '@hubauth/core';
 *
 * parseScope('access:servers!server=alice/');
 * // → { base: 'access:servers', filter: { kind: 'server', value: 'alice/' } }
 * ```
 */
export function parseScope(scope: string): ParsedScope {
  if (typeof scope !== 'string') throw new ScopeSyntaxError(scope, 'a scope must be a string');
  const bang = scope.indexOf('!');
  const base = bang === -1 ? scope : scope.slice(0, bang);
  if (base === '') throw new ScopeSyntaxError(scope, 'the scope name is empty');
  if (bang === -1) return { base };
  const filter = scope.slice(bang + 1);
  const eq = filter.indexOf('=');
  if (eq === -1) {
    throw new ScopeSyntaxError(
      scope,
      filter === '' ? 'the filter after "!" is empty' : `the filter "!${filter}" has no "=value"`,
    );
  }
  const kind = filter.slice(0, eq);
  if (!isFilterKind(kind)) {
    throw new ScopeSyntaxError(scope, `unknown filter kind "${kind}" (expected user, group, server or service)`);
  }
  const value = filter.slice(eq + 1);
  if (value === '') throw new ScopeSyntaxError(scope, `the "${kind}" filter value is empty`);
  return { base, filter: { kind, value } };
}

// ---------------------------------------------------------------------------------------------------
// Reduced scope sets

/** Marks a base held without restriction. */
const ALL = 'all' as const;
type Filters = Map<ScopeFilterKind, Set<string>>;
type Reduced = Map<string, Filters | typeof ALL>;

/** Parsed scopes are immutable and scope strings repeat a lot, so keep a bounded cache of them. */
const PARSE_CACHE_LIMIT = 2048;
const parseCache = new Map<string, Readonly<ParsedScope>>();

function parseCached(scope: string): Readonly<ParsedScope> {
  let parsed = parseCache.get(scope);
  if (parsed === undefined) {
    parsed = parseScope(scope);
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
    parseCache.set(scope, parsed);
  }
  return parsed;
}

/**
 * Validate every scope and reduce them to `base → ALL | { kind → values }`. With `relevant`, scopes
 * whose base it lacks are validated but left out, since an intersection with it cannot contain them.
 */
function reduce(scopes: readonly string[], relevant?: Reduced): Reduced {
  const reduced: Reduced = new Map();
  for (const scope of scopes) {
    const { base, filter } = parseCached(scope);
    if (relevant !== undefined && !relevant.has(base)) continue;
    const current = reduced.get(base);
    if (filter === undefined) {
      reduced.set(base, ALL);
    } else if (current === undefined) {
      reduced.set(base, new Map([[filter.kind, new Set([filter.value])]]));
    } else if (current !== ALL) {
      const values = current.get(filter.kind);
      if (values === undefined) current.set(filter.kind, new Set([filter.value]));
      else values.add(filter.value);
    }
  }
  return reduced;
}

/** The user a server value (`<user>/<name>`) belongs to. */
function serverOwner(server: string): string {
  const slash = server.indexOf('/');
  return slash === -1 ? server : server.slice(0, slash);
}

/** Intersect the filters of one base when neither side holds it unrestricted. */
function intersectFilters(a: Filters, b: Filters): Filters {
  const common: Filters = new Map();
  for (const [kind, valuesA] of a) {
    const valuesB = b.get(kind);
    if (valuesB === undefined) continue;
    const both = new Set<string>();
    for (const value of valuesA) if (valuesB.has(value)) both.add(value);
    common.set(kind, both);
  }
  // A server on one side is covered by its user on the other side (both directions).
  // A user is never covered by a server, and groups cannot be resolved without the Hub's database.
  const servers = common.get('server') ?? new Set<string>();
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const xServers = x.get('server');
    const yUsers = y.get('user');
    if (xServers === undefined || yUsers === undefined) continue;
    for (const server of xServers) {
      if (!servers.has(server) && yUsers.has(serverOwner(server))) servers.add(server);
    }
  }
  if (servers.size > 0) common.set('server', servers);
  return common;
}

function intersectReduced(a: Reduced, b: Reduced): Reduced {
  const common: Reduced = new Map();
  for (const [base, filtersA] of a) {
    const filtersB = b.get(base);
    if (filtersB === undefined) continue;
    if (filtersA === ALL) common.set(base, filtersB);
    else if (filtersB === ALL) common.set(base, filtersA);
    else common.set(base, intersectFilters(filtersA, filtersB));
  }
  return common;
}

function unreduce(reduced: Reduced): Set<string> {
  const scopes = new Set<string>();
  for (const [base, filters] of reduced) {
    if (filters === ALL) {
      scopes.add(base);
      continue;
    }
    for (const [kind, values] of filters) for (const value of values) scopes.add(`${base}!${kind}=${value}`);
  }
  return scopes;
}

/** Accept a single scope string wherever a collection is expected (a string is itself iterable). */
function toList(scopes: string | Iterable<string>): string[] {
  return typeof scopes === 'string' ? [scopes] : Array.from(scopes);
}

/**
 * Intersect two expanded scope collections: the permissions granted by both.
 *
 * The result is reduced (an unfiltered scope absorbs the filtered scopes of its base), symmetric in
 * its arguments, and resolves servers against users in both directions. Group filters only match
 * identical group filters. Subscopes are not expanded: `read:users` and `read:users:name` are
 * unrelated here.
 *
 * @param a - Expanded scopes, e.g. what a service requires.
 * @param b - Expanded scopes, e.g. the `scopes` of a Hub user model.
 * @returns A new set of scope strings.
 * @throws {@link ScopeSyntaxError} when any scope on either side is malformed.
 *
 * @example
 * ```ts
 * import { intersectScopes } from '@hubauth/core';
 *
 * intersectScopes(['read:servers!user=abc'], ['read:servers!server=abc/xyz']);
 * // → Set { 'read:servers!server=abc/xyz' }
 * ```
 */
export function intersectScopes(a: Iterable<string>, b: Iterable<string>): Set<string> {
  return unreduce(intersectReduced(reduce(toList(a)), reduce(toList(b))));
}

/**
 * Check held scopes against required scopes, the way a JupyterHub service does.
 *
 * Returns the required scopes that are granted, i.e. `required ∩ intersectScopes(required, held)`.
 * Access is allowed when the result is non-empty: holding **any one** of the required scopes is
 * enough. Consequences worth knowing:
 *
 * - an unfiltered requirement (`access:services`) is met only by the unfiltered grant, never by a
 *   filtered one (`access:services!service=x`);
 * - an unfiltered grant meets every filtered requirement of its base;
 * - a user-filtered grant meets a server-filtered requirement for that user's servers, but a
 *   server-filtered grant never meets a user-filtered requirement;
 * - group-filtered grants meet only identical group-filtered requirements;
 * - when `required` lists a base both unfiltered and filtered, the unfiltered one absorbs the
 *   others before comparing, as the Hub does: the filtered ones then match only identical grants;
 * - an empty `required` grants nothing.
 *
 * @param required - One scope, or scopes any one of which grants access.
 * @param held - The expanded scopes of the token (the `scopes` of the Hub's user model). A single
 *   string is treated as one scope.
 * @returns A new set of the granted required scopes; empty means denied.
 * @throws {@link ScopeSyntaxError} when any scope on either side is malformed.
 *
 * @example
 * ```ts
 * import { checkScopes } from '@hubauth/core';
 *
 * checkScopes(['access:services', 'access:services!service=whoami'], ['access:services!service=whoami']);
 * // → Set { 'access:services!service=whoami' }
 * checkScopes('access:services', ['access:services!service=whoami']);
 * // → Set {}  (denied: the requirement is unfiltered)
 * ```
 */
export function checkScopes(required: string | Iterable<string>, held: string | Iterable<string>): Set<string> {
  const requiredList = toList(required);
  const wanted = reduce(requiredList);
  const granted = unreduce(intersectReduced(wanted, reduce(toList(held), wanted)));
  const result = new Set<string>();
  for (const scope of requiredList) if (granted.has(scope)) result.add(scope);
  return result;
}

/**
 * Whether `held` grants any of `required`: `checkScopes(required, held).size > 0`.
 *
 * @param required - One scope, or scopes any one of which grants access.
 * @param held - The expanded scopes of the token.
 * @throws {@link ScopeSyntaxError} when any scope on either side is malformed.
 */
export function hasAccess(required: string | Iterable<string>, held: string | Iterable<string>): boolean {
  return checkScopes(required, held).size > 0;
}

/**
 * The access scopes a Hub-managed service is configured with: the unfiltered
 * `access:services` and `access:services!service=<name>`.
 *
 * @param serviceName - The service's name (`JUPYTERHUB_SERVICE_NAME`).
 * @returns A new two-element array.
 * @throws {@link ScopeSyntaxError} when `serviceName` is empty.
 */
export function defaultAccessScopes(serviceName: string): string[] {
  const filtered = `access:services!service=${serviceName}`;
  parseScope(filtered);
  return ['access:services', filtered];
}
