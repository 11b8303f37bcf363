import fc from 'fast-check';
import { checkScopes, hasAccess, intersectScopes, parseScope, ScopeSyntaxError, type ScopeFilterKind } from '../src/scopes';

const RUNS = { numRuns: 10000 };

// Small alphabets so that bases, names and servers collide often.
const base = fc.constantFrom('access:services', 'access:servers', 'read:users', 'custom:x:y', 'custom:x:*');
const name = fc.constantFrom('a', 'b', 'ab', 'a!b', 'b=a');
const serverName = fc.constantFrom('', 's', 't', 's/t');
const server = fc.tuple(name, serverName).map(([user, srv]) => `${user}/${srv}`);
const kind = fc.constantFrom<ScopeFilterKind>('user', 'group', 'server', 'service');

const filterValue = (k: ScopeFilterKind): fc.Arbitrary<string> => (k === 'server' ? server : name);
const filtered = (b: string, k: ScopeFilterKind, v: string): string => `${b}!${k}=${v}`;

const filteredScope = fc
  .tuple(base, kind)
  .chain(([b, k]) => filterValue(k).map((v) => filtered(b, k, v)));
const scope = fc.oneof({ arbitrary: filteredScope, weight: 4 }, { arbitrary: base, weight: 1 });
const scopes = fc.array(scope, { maxLength: 8 });
const requiredScopes = fc.array(scope, { minLength: 1, maxLength: 4 });

const baseOf = (s: string): string => parseScope(s).base;
const isUnfiltered = (s: string): boolean => parseScope(s).filter === undefined;
const ownerOf = (srv: string): string => srv.split('/')[0] ?? srv;

/**
 * An independent, per-scope statement of the check: whether one required scope is granted, given
 * every required scope (an unfiltered required scope absorbs the filtered ones of its base) and the
 * held scopes.
 */
function grantedBySpec(s: string, required: readonly string[], held: readonly string[]): boolean {
  const { base: b, filter } = parseScope(s);
  const heldAll = held.includes(b);
  if (filter === undefined) return heldAll;
  if (required.includes(b)) return !heldAll && held.includes(s);
  if (heldAll || held.includes(s)) return true;
  return filter.kind === 'server' && held.includes(filtered(b, 'user', ownerOf(filter.value)));
}

describe('scope properties', () => {
  test('(1) the result is a subset of the required scopes', () => {
    fc.assert(
      fc.property(requiredScopes, scopes, (required, held) => {
        return [...checkScopes(required, held)].every((s) => required.includes(s));
      }),
      RUNS,
    );
  });

  test('(2) holding exactly the required scopes grants every one not absorbed by its unfiltered base', () => {
    fc.assert(
      fc.property(requiredScopes, (required) => {
        const result = checkScopes(required, required);
        const kept = required.filter((s) => isUnfiltered(s) || !required.includes(baseOf(s)));
        return result.size > 0 && kept.every((s) => result.has(s));
      }),
      RUNS,
    );
  });

  test('(3) holding the unfiltered base grants any filtered requirement of that base', () => {
    fc.assert(
      fc.property(filteredScope, scopes, scopes, (s, others, held) => {
        const b = baseOf(s);
        const required = [s, ...others.filter((o) => o !== b)];
        const alone = checkScopes(s, [b]);
        return checkScopes(required, [...held, b]).has(s) && alone.size === 1 && alone.has(s);
      }),
      RUNS,
    );
  });

  test('(4) a user-filtered requirement is granted only by the unfiltered base or that same user', () => {
    fc.assert(
      fc.property(base, name, scopes, (b, user, held) => {
        const required = filtered(b, 'user', user);
        const expected = held.includes(b) || held.includes(required);
        // in particular, another user's filter (or any server of this user) never grants it
        const others = held.filter((h) => h !== b && h !== required);
        const decoys = [filtered(b, 'user', `${user}x`), filtered(b, 'server', `${user}/`)];
        return hasAccess(required, held) === expected && !hasAccess(required, [...others, ...decoys]);
      }),
      RUNS,
    );
  });

  test('(4b) a server-filtered requirement is granted by the base, that server, or its owner', () => {
    fc.assert(
      fc.property(base, server, scopes, (b, srv, held) => {
        const required = filtered(b, 'server', srv);
        const expected =
          held.includes(b) || held.includes(required) || held.includes(filtered(b, 'user', ownerOf(srv)));
        return hasAccess(required, held) === expected;
      }),
      RUNS,
    );
  });

  test('(5) no exception escapes for well-formed input, whatever the collection type', () => {
    fc.assert(
      fc.property(scopes, scopes, scope, (a, b, one) => {
        // any exception fails the property
        checkScopes(a, b);
        checkScopes(one, new Set(b));
        checkScopes(a.values(), b.values());
        hasAccess(a, b);
        intersectScopes(a, b);
      }),
      RUNS,
    );
  });

  test('(6) parseScope on any string returns a faithful split or throws ScopeSyntaxError', () => {
    const piece = fc.constantFrom('!', '=', '/', 'user', 'group', 'server', 'service', 'read:users', ':', '*', ' ', '');
    const tricky = fc.array(fc.oneof(piece, fc.string({ maxLength: 3 })), { maxLength: 6 }).map((p) => p.join(''));
    const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), tricky);
    fc.assert(
      fc.property(anyString, (s) => {
        let parsed;
        try {
          parsed = parseScope(s);
        } catch (error) {
          return error instanceof ScopeSyntaxError && error.code === 'ERR_HUBAUTH_SCOPE_SYNTAX' && error.scope === s;
        }
        const { base: b, filter } = parsed;
        const rebuilt = filter ? filtered(b, filter.kind, filter.value) : b;
        return b !== '' && !b.includes('!') && rebuilt === s && filter?.value !== '';
      }),
      RUNS,
    );
  });

  test('(7) the check agrees with the per-scope specification', () => {
    fc.assert(
      fc.property(requiredScopes, scopes, (required, held) => {
        const result = checkScopes(required, held);
        return required.every((s) => result.has(s) === grantedBySpec(s, required, held)) && [...result].every((s) => required.includes(s));
      }),
      RUNS,
    );
  });

  test('(8) the intersection is symmetric and the check is the required part of it', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const ab = intersectScopes(a, b);
        const ba = intersectScopes(b, a);
        const check = checkScopes(a, b);
        return (
          ab.size === ba.size &&
          [...ab].every((s) => ba.has(s)) &&
          a.every((s) => check.has(s) === ab.has(s)) &&
          [...check].every((s) => a.includes(s))
        );
      }),
      RUNS,
    );
  });

  test('(9) holding more scopes never takes access away', () => {
    fc.assert(
      fc.property(requiredScopes, scopes, scopes, (required, held, more) => {
        const before = checkScopes(required, held);
        const after = checkScopes(required, [...held, ...more]);
        // A granted scope stays granted, unless an unfiltered grant of a base that the requirement
        // lists unfiltered too now matches instead (the requirement absorbs its filtered scopes).
        return (before.size === 0 || after.size > 0) && [...before].every((s) => after.has(s) || after.has(baseOf(s)));
      }),
      RUNS,
    );
  });
});
