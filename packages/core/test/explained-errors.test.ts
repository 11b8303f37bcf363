/**
 * Errors that explain themselves: configuration mistakes and refusals that name what was required.
 * (An unparsed form body and refused browser form posts: packages/express/test/explained-errors.test.ts.)
 */
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { ConfigError, HubAuth, HubOAuth, HubAuthFlow } from '../src/index';
import { closestOption } from '../src/config';

const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob', groups: ['interns'] });
});
afterAll(() => hub.close());

function configError(build: () => unknown): ConfigError {
  try {
    build();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration mistakes are ConfigErrors that say what to do', () => {
  it.each([
    ['cookieSecret: 12345', { cookieSecret: 12345 }, 'cookieSecret', /must be a string or a list of strings, got a number/],
    ['cookieSecret: [secret, 7]', { cookieSecret: ['x'.repeat(40), 7] }, 'cookieSecret', /secret #2 must be a string, got a number/],
    ['cookieSecret: {}', { cookieSecret: {} }, 'cookieSecret', /got an object/],
    ['apiUrl: 8081', { apiUrl: 8081 }, 'apiUrl', /must be a string, got "8081" \(a number\)/],
    ['cacheMaxAge: "300"', { cacheMaxAge: '300' }, 'cacheMaxAge', /must be a number from 0 to \d+, got "300"/],
    ['allowTokenInUrl: "yes"', { allowTokenInUrl: 'yes' }, 'allowTokenInUrl', /must be true or false, got "yes"/],
    ['env: null', { env: null }, 'env', /must be an object of environment variables/],
    ['logger: console.log', { logger: console.log }, 'logger', /must have warn\(\) and error\(\) methods/],
  ])('%s', (_label, extra, option, message) => {
    const err = configError(() => new HubOAuth({ env: hub.env(), logger: quiet, ...(extra as object) }));
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/\(see docs\/errors\.md#err_hubauth_config\)$/);
  });

  it('never shows a secret in the message', () => {
    const err = configError(() => new HubOAuth({ env: hub.env(), logger: quiet, cookieSecret: ['x'.repeat(40), 'tooshort-but-secret'] }));
    expect(err.message).not.toContain('tooshort-but-secret');
  });

  it('names the closest known option for a typo', () => {
    expect(configError(() => new HubOAuth({ env: hub.env(), logger: quiet, cookieSecert: 'x'.repeat(40) } as never)).message).toMatch(
      /invalid option "cookieSecert": unknown option; did you mean "cookieSecret"\?/,
    );
    expect(configError(() => new HubAuth({ env: hub.env(), logger: quiet, accesScopes: [] } as never)).option).toBe('accesScopes');
    expect(closestOption('apitoken')).toBe('apiToken');
    expect(closestOption('hubgroups')).toBe('hubGroups');
    expect(closestOption('zzzzzzzz')).toBeNull();
    const unrelated = configError(() => new HubAuth({ env: hub.env(), logger: quiet, zzzzzzzz: 1 } as never));
    expect(unrelated.message).toMatch(/the options are apiToken, apiUrl/);
  });

  it('accepts every adapter option', () => {
    expect(() => new HubAuthFlow({ env: hub.env(), logger: quiet, oauth: true, errors: 'throw' }).auth.close()).not.toThrow();
  });
});

describe('refusals name what was required', () => {
  let auth: HubAuth;
  beforeAll(() => {
    auth = new HubAuth({ env: hub.env(), logger: quiet });
  });
  afterAll(() => auth.close());
  const bob = { kind: 'user' as const, name: 'bob', admin: false, groups: ['interns'], scopes: ['access:services!service=notes'] };

  it('hubGroups and hubUsers', () => {
    expect(auth.accessDenial(bob, { hubGroups: ['staff'] })).toBe('user bob is not allowed: this route requires a member of the group "staff"');
    expect(auth.accessDenial(bob, { hubUsers: ['alice', 'carol'], hubGroups: ['staff', 'admins'] })).toBe(
      'user bob is not allowed: this route requires one of the users "alice", "carol" or a member of one of the groups "staff", "admins"',
    );
  });
});

