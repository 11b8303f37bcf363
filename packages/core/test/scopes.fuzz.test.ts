/**
 * What scopes.property.test.ts does not cover: scope lists straight from a Hub reply, with strings
 * this version cannot parse. The raw checker refuses them with ScopeSyntaxError only; the access
 * decision never throws, and such a scope grants nothing while the others still count.
 */
import fc from 'fast-check';
import { HubAuth } from '../src/hub-auth';
import { ScopeSyntaxError, checkScopes, parseScope } from '../src/scopes';
import type { HubUser } from '../src/types';

const RUNS = { numRuns: 10_000 };
const REQUIRED = 'access:services!service=whoami';

const piece = fc.constantFrom('access:services', 'read:users', 'custom:x', '!', '=', 'service', 'user', 'server', 'group', 'org', 'whoami', 'alice', '/', '!service=whoami', '!user=', '!=', ':', '*', ' ');
/** Held scopes as a Hub might send them, parseable or not (but non-empty strings, as toUserModel demands). */
const heldScope = fc.oneof(
  fc.constantFrom('access:services', REQUIRED, 'access:services!service=other', 'access:services!user=alice', 'read:users!org=acme', 'access:services!service', 'access:services!', '!service=whoami'),
  fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
);
const parses = (scope: string): boolean => {
  try {
    parseScope(scope);
    return true;
  } catch {
    return false;
  }
};

const auth = new HubAuth({ env: {}, apiUrl: 'http://127.0.0.1:9/hub/api', servicePrefix: '/services/whoami/', accessScopes: [REQUIRED] });
afterAll(() => auth.close());

const user = (scopes: string[]): HubUser => ({ kind: 'user', name: 'alice', admin: false, groups: [], scopes });

describe('held scopes from the Hub, fuzzed', () => {
  test('checkScopes throws ScopeSyntaxError and nothing else', () => {
    fc.assert(
      fc.property(fc.array(heldScope, { maxLength: 6 }), (held) => {
        try {
          checkScopes([REQUIRED], held);
          return held.every(parses);
        } catch (err) {
          return err instanceof ScopeSyntaxError && !held.every(parses);
        }
      }),
      RUNS,
    );
  });

  test('the access decision never throws, and only a parseable grant admits', () => {
    let admitted = 0;
    fc.assert(
      fc.property(fc.array(heldScope, { maxLength: 6 }), (held) => {
        const denial = auth.accessDenial(user(held));
        const expected = held.includes('access:services') || held.includes(REQUIRED);
        if (denial === null) admitted++;
        return (denial === null) === expected;
      }),
      RUNS,
    );
    expect(admitted).toBeGreaterThan(1_000);
  });
});
