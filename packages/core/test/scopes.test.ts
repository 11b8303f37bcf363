import {
  checkScopes,
  defaultAccessScopes,
  hasAccess,
  intersectScopes,
  parseScope,
  SCOPE_FILTER_KINDS,
  ScopeSyntaxError,
  type ParsedScope,
} from '../src/scopes';

const SERVICE_DEFAULT = ['access:services', 'access:services!service=whoami'];
const USER_SERVER_DEFAULT = ['access:servers!server=alice/', 'access:servers!user=alice'];

const sorted = (scopes: Iterable<string>): string[] => [...scopes].sort();

describe('parseScope', () => {
  test.each<[string, ParsedScope]>([
    ['read:users', { base: 'read:users' }],
    ['access:services', { base: 'access:services' }],
    ['custom:grades:*', { base: 'custom:grades:*' }],
    ['access:servers!server=alice/', { base: 'access:servers', filter: { kind: 'server', value: 'alice/' } }],
    ['access:servers!server=alice/lab', { base: 'access:servers', filter: { kind: 'server', value: 'alice/lab' } }],
    ['read:users!user=alice', { base: 'read:users', filter: { kind: 'user', value: 'alice' } }],
    ['read:users!group=staff', { base: 'read:users', filter: { kind: 'group', value: 'staff' } }],
    ['access:services!service=whoami', { base: 'access:services', filter: { kind: 'service', value: 'whoami' } }],
    ['custom:grades:read!user=bob', { base: 'custom:grades:read', filter: { kind: 'user', value: 'bob' } }],
    // only the first "!" and the first "=" split: the rest belongs to the value
    ['read:users!user=a!b', { base: 'read:users', filter: { kind: 'user', value: 'a!b' } }],
    ['read:users!user=a=b', { base: 'read:users', filter: { kind: 'user', value: 'a=b' } }],
    ['read:users!user=a!group=b', { base: 'read:users', filter: { kind: 'user', value: 'a!group=b' } }],
    ['read:users!user=josé', { base: 'read:users', filter: { kind: 'user', value: 'josé' } }],
  ])('%s', (scope, expected) => {
    expect(parseScope(scope)).toEqual(expected);
  });

  test.each([
    ['x!user=', 'empty filter value'],
    ['access:servers!server=', 'empty server value'],
    ['x!user', 'bare user filter'],
    ['x!service', 'bare service filter'],
    ['x!server', 'bare server filter'],
    ['x!group', 'bare group filter'],
    ['x!', 'empty filter'],
    ['x!=alice', 'empty filter kind'],
    ['x!users=alice', 'unknown kind'],
    ['x!USER=alice', 'kinds are case-sensitive'],
    ['x!share=alice/', 'unknown kind'],
    ['!user=alice', 'empty base'],
    ['', 'empty scope'],
  ])('%j throws (%s)', (scope) => {
    expect(() => parseScope(scope)).toThrow(ScopeSyntaxError);
  });

  test('the error carries a stable code, its name and the offending scope', () => {
    let caught: unknown;
    try {
      parseScope('access:services!service');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScopeSyntaxError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as ScopeSyntaxError;
    expect(error.code).toBe('ERR_HUBAUTH_SCOPE_SYNTAX');
    expect(error.name).toBe('ScopeSyntaxError');
    expect(error.scope).toBe('access:services!service');
    expect(error.message).toContain('"access:services!service"');
  });

  test('a non-string scope is a syntax error, not a TypeError', () => {
    expect(() => parseScope(42 as unknown as string)).toThrow(ScopeSyntaxError);
    expect(() => checkScopes(['x'], [null as unknown as string])).toThrow(ScopeSyntaxError);
  });

  test('filter kinds', () => {
    expect(SCOPE_FILTER_KINDS).toEqual(['user', 'group', 'server', 'service']);
  });
});

type Expected = readonly string[] | 'throws';

// Every row of the worked-examples table: required, held, granted subset (empty = denied).
const WORKED_EXAMPLES: [string, readonly string[], readonly string[], Expected][] = [
  ['filtered requirement, unfiltered grant', ['access:services!service=whoami'], ['access:services'], ['access:services!service=whoami']],
  ['filtered requirement, same filter', ['access:services!service=whoami'], ['access:services!service=whoami'], ['access:services!service=whoami']],
  ['filtered requirement, other service', ['access:services!service=whoami'], ['access:services!service=other'], []],
  ['unfiltered requirement, filtered grant', ['access:services'], ['access:services!service=whoami'], []],
  ['managed-service default, filtered grant', SERVICE_DEFAULT, ['access:services!service=whoami'], ['access:services!service=whoami']],
  ['managed-service default, unfiltered grant', SERVICE_DEFAULT, ['access:services'], ['access:services']],
  ['any of several services', ['access:services!service=a', 'access:services!service=b'], ['access:services!service=b'], ['access:services!service=b']],
  ['user-server default, server grant', USER_SERVER_DEFAULT, ['access:servers!server=alice/'], ['access:servers!server=alice/']],
  ['user-server default, user grant', USER_SERVER_DEFAULT, ['access:servers!user=alice'], USER_SERVER_DEFAULT],
  ['user-server default, other server', USER_SERVER_DEFAULT, ['access:servers!server=alice/other'], []],
  ['user-server default, group grant', USER_SERVER_DEFAULT, ['access:servers!group=staff'], []],
  ['a server does not cover its user', ['access:servers!user=alice'], ['access:servers!server=alice/'], []],
  ['unfiltered requirement, user-filtered grant', ['read:users'], ['read:users!user=alice'], []],
  ['no subscope expansion', ['read:users:name'], ['read:users'], []],
  ['custom scopes are literal', ['custom:grades:*'], ['custom:grades:read'], []],
  ['bare filter in the requirement', ['access:services!service'], ['access:services'], 'throws'],
  ['bare filter in the requirement, nothing held', ['access:services!service'], [], 'throws'],
];

describe('checkScopes: worked examples', () => {
  test.each(WORKED_EXAMPLES)('%s', (_name, required, held, expected) => {
    if (expected === 'throws') {
      expect(() => checkScopes(required, held)).toThrow(ScopeSyntaxError);
      expect(() => hasAccess(required, held)).toThrow(ScopeSyntaxError);
      return;
    }
    expect(sorted(checkScopes(required, held))).toEqual(sorted(expected));
    expect(hasAccess(required, held)).toBe(expected.length > 0);
    // Sets and generators are accepted as well as arrays, with the same result.
    expect(sorted(checkScopes(new Set(required), new Set(held)))).toEqual(sorted(expected));
    expect(sorted(checkScopes(required.values(), held.values()))).toEqual(sorted(expected));
  });
});

describe('checkScopes: further cases', () => {
  test.each<[string, string | readonly string[], string | readonly string[], readonly string[]]>([
    ['a single required string', 'access:services', ['access:services'], ['access:services']],
    ['a single held string is one scope, not characters', 'access:services', 'access:services', ['access:services']],
    ['nothing required grants nothing', [], ['access:services', 'read:users'], []],
    ['nothing held', SERVICE_DEFAULT, [], []],
    ['unrelated scopes held', SERVICE_DEFAULT, ['read:users', 'access:servers'], []],
    ['duplicates are harmless', ['access:services', 'access:services'], ['access:services', 'access:services'], ['access:services']],
    ['a user grant covers every server of that user', ['access:servers!server=alice/lab'], ['access:servers!user=alice'], ['access:servers!server=alice/lab']],
    ['the owner is the part before the first slash', ['access:servers!server=abc/xyz'], ['access:servers!user=ab'], []],
    ['a server value without a slash belongs to the whole value', ['access:servers!server=alice'], ['access:servers!user=alice'], ['access:servers!server=alice']],
    ['the same group matches', ['access:servers!group=staff'], ['access:servers!group=staff'], ['access:servers!group=staff']],
    ['an unfiltered grant covers a group requirement', ['access:servers!group=staff'], ['access:servers'], ['access:servers!group=staff']],
    ['a user grant does not cover a group requirement', ['access:servers!group=staff'], ['access:servers!user=alice'], []],
    ['another kind of filter on the same value does not match', ['access:services!service=alice'], ['access:services!user=alice'], []],
    ['a filter on another base does not match', ['access:services!service=whoami'], ['access:servers!service=whoami'], []],
    ['unfiltered and filtered grants together', ['access:services!service=whoami'], ['access:services!service=other', 'access:services'], ['access:services!service=whoami']],
    ['values may contain "!" and "="', ['read:users!user=a!b=c'], ['read:users!user=a!b=c'], ['read:users!user=a!b=c']],
    ['values are compared exactly', ['read:users!user=Alice'], ['read:users!user=alice'], []],
    ['a share of a server is a server grant', ['access:servers!server=owner/lab', 'access:servers!user=owner'], ['access:servers!server=owner/lab', 'read:users!user=me'], ['access:servers!server=owner/lab']],
    // When the requirement lists a base both unfiltered and filtered, the unfiltered scope absorbs
    // the filtered ones before the comparison, exactly as the Hub reduces scope sets:
    ['absorbed filtered requirements are not returned for an unfiltered grant', SERVICE_DEFAULT, ['access:services', 'access:services!service=whoami'], ['access:services']],
    ['absorbed filtered requirements match only identical grants', ['access:servers', 'access:servers!server=alice/'], ['access:servers!user=alice'], []],
    ['… while on their own they resolve against the user', ['access:servers!server=alice/'], ['access:servers!user=alice'], ['access:servers!server=alice/']],
  ])('%s', (_name, required, held, expected) => {
    expect(sorted(checkScopes(required, held))).toEqual(sorted(expected));
  });

  test('a malformed held scope throws even if its base is not required', () => {
    expect(() => checkScopes(SERVICE_DEFAULT, ['access:services', 'read:users!user='])).toThrow(ScopeSyntaxError);
    expect(() => checkScopes(SERVICE_DEFAULT, ['read:users!user=', 'access:services'])).toThrow(ScopeSyntaxError);
    expect(() => checkScopes(SERVICE_DEFAULT, ['read:users!users=alice'])).toThrow(ScopeSyntaxError);
  });

  test('a malformed required scope throws even when an unfiltered one absorbs it', () => {
    expect(() => checkScopes(['x', 'x!user='], ['x'])).toThrow(ScopeSyntaxError);
    expect(() => checkScopes(['x!user=', 'x'], ['x'])).toThrow(ScopeSyntaxError);
  });

  test('results are fresh sets the caller may change', () => {
    const first = checkScopes(SERVICE_DEFAULT, ['access:services']);
    first.add('mutated');
    first.delete('access:services');
    expect(sorted(checkScopes(SERVICE_DEFAULT, ['access:services']))).toEqual(['access:services']);
  });

  test('repeated checks with other held scopes are independent', () => {
    const required = ['access:servers!server=alice/', 'access:servers!user=alice'];
    for (let i = 0; i < 3000; i += 1) {
      const held = i % 2 === 0 ? [`access:servers!user=u${i}`] : ['access:servers!user=alice', `read:users!user=u${i}`];
      expect(hasAccess(required, held)).toBe(i % 2 === 1);
    }
  });
});

describe('intersectScopes', () => {
  // The expectations of the Hub's own intersection tests that apply without a database.
  test.each<[string, readonly string[], readonly string[], readonly string[]]>([
    ['both empty', [], [], []],
    ['one side empty', [], ['users'], []],
    ['user and group on one side only', ['users!user=x', 'users!group=y'], [], []],
    ['users on both sides', ['users!user=x', 'users!user=y', 'users!group=y'], ['users!user=x'], ['users!user=x']],
    ['users and groups on both sides', ['users!user=x', 'users!group=y'], ['users!user=x', 'users!group=y', 'users!user=z'], ['users!user=x', 'users!group=y']],
    ['a group never resolves a user', ['users!group=y', 'users!user=z'], ['users!user=x'], []],
    ['a group never resolves a server', ['users!group=y', 'users!user=z'], ['users!server=x/y'], []],
    ['a server resolves under its user next to a group', ['users!group=y', 'users!user=x'], ['users!server=x/y'], ['users!server=x/y']],
    ['a server resolves under its user', ['read:servers!user=abc'], ['read:servers!server=abc/xyz'], ['read:servers!server=abc/xyz']],
    ['a user name prefix is not the owner', ['read:servers!user=abc'], ['read:servers!server=abcd/xyz'], []],
    // further facts
    ['unfiltered on both sides', ['read:users'], ['read:users'], ['read:users']],
    ['unfiltered yields the other side as it is', ['read:users'], ['read:users!group=g', 'read:users!user=u', 'read:users!server=v/'], ['read:users!group=g', 'read:users!user=u', 'read:users!server=v/']],
    ['the result is reduced', ['read:users', 'read:users!user=u'], ['read:users', 'read:users!user=v'], ['read:users']],
    ['servers from both sides', ['s!server=ux/a', 's!user=uy'], ['s!server=uy/b', 's!user=ux'], ['s!server=ux/a', 's!server=uy/b']],
    ['identical servers are kept', ['s!server=ux/a'], ['s!server=ux/a', 's!user=uz'], ['s!server=ux/a']],
    ['only common bases', ['a', 'b!user=x'], ['b!user=x', 'c'], ['b!user=x']],
  ])('%s', (_name, a, b, expected) => {
    expect(sorted(intersectScopes(a, b))).toEqual(sorted(expected));
    expect(sorted(intersectScopes(b, a))).toEqual(sorted(expected));
  });

  test('throws on a malformed scope on either side', () => {
    expect(() => intersectScopes(['x!user'], ['x'])).toThrow(ScopeSyntaxError);
    expect(() => intersectScopes(['x'], ['y!server='])).toThrow(ScopeSyntaxError);
  });
});

describe('defaultAccessScopes', () => {
  test('the scopes a managed service is configured with', () => {
    expect(defaultAccessScopes('whoami')).toEqual(['access:services', 'access:services!service=whoami']);
  });

  test('they grant the service to its users and to holders of access:services', () => {
    const required = defaultAccessScopes('whoami');
    expect(hasAccess(required, ['access:services!service=whoami'])).toBe(true);
    expect(hasAccess(required, ['access:services'])).toBe(true);
    expect(hasAccess(required, ['access:services!service=other'])).toBe(false);
    expect(hasAccess(required, ['access:servers!user=whoami'])).toBe(false);
  });

  test('returns a new array each time', () => {
    const first = defaultAccessScopes('whoami');
    first.push('mutated');
    expect(defaultAccessScopes('whoami')).toHaveLength(2);
  });

  test('an empty service name is rejected', () => {
    expect(() => defaultAccessScopes('')).toThrow(ScopeSyntaxError);
  });
});
