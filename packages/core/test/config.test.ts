import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveHubAuthConfig, resolveHubOAuthConfig, type Environment, type HubAuthOptions } from '../src/config';
import { ConfigError } from '../src/errors';
import { HubAuth } from '../src/hub-auth';
import { RecordingLogger, newSecret } from './support';

const managedEnv: Environment = {
  JUPYTERHUB_API_TOKEN: 'svc-api-token-0123456789',
  JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/jh/hub/api/',
  JUPYTERHUB_BASE_URL: '/jh/',
  JUPYTERHUB_SERVICE_PREFIX: '/jh/services/whoami',
  JUPYTERHUB_SERVICE_NAME: 'whoami',
  JUPYTERHUB_CLIENT_ID: 'service-whoami',
  JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:services", "access:services!service=whoami"]',
  JUPYTERHUB_OAUTH_CALLBACK_URL: '/jh/services/whoami/oauth_callback',
  HUBAUTH_COOKIE_SECRET: 'c'.repeat(64),
};

/** The ConfigError thrown by `fn`. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw new Error(`expected a ConfigError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

function auth(env: Environment, options: HubAuthOptions = {}) {
  return resolveHubAuthConfig({ env, ...options });
}

describe('resolveHubAuthConfig: the managed-service environment', () => {
  it('reads every JUPYTERHUB_* variable', () => {
    const c = auth(managedEnv);
    expect(c.apiToken).toBe(managedEnv.JUPYTERHUB_API_TOKEN);
    expect(c.apiUrl).toBe('http://127.0.0.1:8081/jh/hub/api');
    expect(c.hubPrefix).toBe('/jh/hub/');
    expect(c.servicePrefix).toBe('/jh/services/whoami/');
    expect(c.serviceName).toBe('whoami');
    expect(c.clientId).toBe('service-whoami');
    expect(c.accessScopes).toEqual(['access:services', 'access:services!service=whoami']);
    expect(c.allowTokenInUrl).toBe(false);
    expect(c.tls).toBeNull();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('has secure, bounded defaults', () => {
    const c = auth({ JUPYTERHUB_SERVICE_NAME: 'x' });
    expect(c.apiUrl).toBe('http://127.0.0.1:8081/hub/api');
    expect(c.servicePrefix).toBe('/');
    expect(c.hubPrefix).toBe('/hub/');
    expect(c.cacheMaxAge).toBe(300);
    expect(c.negativeCacheMaxAge).toBe(30);
    expect(c.cacheMaxEntries).toBe(10_000);
    expect(c.requestTimeoutMs).toBe(10_000);
    expect(c.maxConcurrentLookups).toBe(16);
    expect(c.maxPendingLookups).toBe(1_000);
    expect(c.allowedUsers).toBeNull();
    expect(c.blockedUsers.size).toBe(0);
  });

  it('prefers options over the environment', () => {
    const c = auth(managedEnv, { apiToken: 'opt-token', servicePrefix: '/svc', accessScopes: ['custom:x'] });
    expect(c.apiToken).toBe('opt-token');
    expect(c.servicePrefix).toBe('/svc/');
    expect(c.accessScopes).toEqual(['custom:x']);
  });

  it('reads process.env when no env option is given', () => {
    const saved = process.env.JUPYTERHUB_SERVICE_NAME;
    process.env.JUPYTERHUB_SERVICE_NAME = 'from-process-env';
    try {
      expect(resolveHubAuthConfig({}).accessScopes).toEqual(['access:services!service=from-process-env']);
    } finally {
      if (saved === undefined) delete process.env.JUPYTERHUB_SERVICE_NAME;
      else process.env.JUPYTERHUB_SERVICE_NAME = saved;
    }
  });

  it('falls back to JUPYTERHUB_OAUTH_SCOPES, then to the service name', () => {
    expect(auth({ JUPYTERHUB_OAUTH_SCOPES: '["access:services!service=a"]' }).accessScopes).toEqual([
      'access:services!service=a',
    ]);
    expect(auth({ JUPYTERHUB_SERVICE_NAME: 'b' }).accessScopes).toEqual(['access:services!service=b']);
    expect(auth({ JUPYTERHUB_SERVICE_NAME: 'b', JUPYTERHUB_OAUTH_ACCESS_SCOPES: '  ' }).accessScopes).toEqual([
      'access:services!service=b',
    ]);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['YES', true],
    [' on ', true],
    ['0', false],
    ['False', false],
    ['no', false],
    ['off', false],
    ['', false],
  ])('parses JUPYTERHUB_ALLOW_TOKEN_IN_URL=%j as %s', (raw, expected) => {
    expect(auth({ ...managedEnv, JUPYTERHUB_ALLOW_TOKEN_IN_URL: raw }).allowTokenInUrl).toBe(expected);
  });

  it('accepts an http+unix:// API URL', () => {
    expect(auth({ ...managedEnv, JUPYTERHUB_API_URL: 'http+unix://%2Ftmp%2Fhub.sock/hub/api' }).apiUrl).toBe(
      'http+unix://%2Ftmp%2Fhub.sock/hub/api',
    );
  });

  it('caps the negative-cache lifetime at the positive one', () => {
    const c = auth(managedEnv, { cacheMaxAge: 5, negativeCacheMaxAge: 60 });
    expect(c.negativeCacheMaxAge).toBe(5);
  });

  it('anchors a string usernamePattern', () => {
    const c = auth(managedEnv, { usernamePattern: '[a-z]+' });
    expect(c.usernamePattern?.test('alice')).toBe(true);
    expect(c.usernamePattern?.test('alice!')).toBe(false);
  });

  it('reads the TLS files when both key and certificate are given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubauth-tls-'));
    try {
      writeFileSync(join(dir, 'key.pem'), 'KEY');
      writeFileSync(join(dir, 'cert.pem'), 'CERT');
      writeFileSync(join(dir, 'ca.pem'), 'CA');
      const c = auth({
        ...managedEnv,
        JUPYTERHUB_SSL_KEYFILE: join(dir, 'key.pem'),
        JUPYTERHUB_SSL_CERTFILE: join(dir, 'cert.pem'),
        JUPYTERHUB_SSL_CLIENT_CA: join(dir, 'ca.pem'),
      });
      expect(c.tls?.key.toString()).toBe('KEY');
      expect(c.tls?.cert.toString()).toBe('CERT');
      expect(c.tls?.ca?.toString()).toBe('CA');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveHubAuthConfig: errors name the option and the variable', () => {
  it('bad JSON in JUPYTERHUB_OAUTH_ACCESS_SCOPES', () => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_OAUTH_ACCESS_SCOPES: '[access:services' }));
    expect(err.option).toBe('accessScopes');
    expect(err.code).toBe('ERR_HUBAUTH_CONFIG');
    expect(err.status).toBe(500);
    expect(err.expose).toBe(false);
    expect(err.message).toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
    expect(err.message).toMatch(/JSON list/);
  });

  it.each(['{"a": 1}', '"access:services"', '[1, 2]', 'null'])('a JUPYTERHUB_OAUTH_ACCESS_SCOPES of %s', (raw) => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_OAUTH_ACCESS_SCOPES: raw }));
    expect(err.option).toBe('accessScopes');
    expect(err.message).toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
  });

  it('an invalid scope in JUPYTERHUB_OAUTH_ACCESS_SCOPES', () => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:services!service"]' }));
    expect(err.option).toBe('accessScopes');
    expect(err.message).toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
  });

  it('an invalid scope in the deprecated JUPYTERHUB_OAUTH_SCOPES names that variable', () => {
    const err = configError(() => auth({ JUPYTERHUB_OAUTH_SCOPES: '["access:services!nope=x"]' }));
    expect(err.option).toBe('accessScopes');
    expect(err.message).toContain('JUPYTERHUB_OAUTH_SCOPES');
    expect(err.message).not.toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
  });

  it('an invalid scope in the accessScopes option', () => {
    const err = configError(() => auth(managedEnv, { accessScopes: ['ok', 'x!user='] }));
    expect(err.option).toBe('accessScopes');
  });

  it.each(['maybe', '2', 'enabled'])('a bad boolean (%j)', (raw) => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_ALLOW_TOKEN_IN_URL: raw }));
    expect(err.option).toBe('allowTokenInUrl');
    expect(err.message).toContain('JUPYTERHUB_ALLOW_TOKEN_IN_URL');
  });

  it.each(['not a url', '/hub/api', 'ftp://hub/api', 'http://user:pw@hub/api'])('a bad API URL (%j)', (raw) => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_API_URL: raw }));
    expect(err.option).toBe('apiUrl');
    expect(err.message).toContain('JUPYTERHUB_API_URL');
    expect(err.message).not.toContain(':pw@');
  });

  it.each(['http://user:hunter2secret@hub name/api', 'ftp://user:hunter2secret@hub/api', 'http://:hunter2secret@/api'])(
    'never echoes the credentials of a bad URL (%j)',
    (raw) => {
      const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_API_URL: raw }));
      expect(err.option).toBe('apiUrl');
      expect(err.message).not.toContain('hunter2secret');
    },
  );

  it.each([
    ['hubHost', 'JUPYTERHUB_HOST', 'hub.example.org'],
    ['publicUrl', 'JUPYTERHUB_PUBLIC_URL', 'javascript:alert(1)'],
    ['publicHubUrl', 'JUPYTERHUB_PUBLIC_HUB_URL', '//hub.example.org/hub/'],
  ])('a bad %s', (option, variable, raw) => {
    const err = configError(() => auth({ ...managedEnv, [variable]: raw }));
    expect(err.option).toBe(option);
    expect(err.message).toContain(variable);
  });

  it.each(['/a b/', '/a?b/', '//evil/', '/a\\b/', '/a;Domain=evil/', '/a\u0000/'])('a service prefix that is not a path (%j)', (raw) => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_SERVICE_PREFIX: raw }));
    expect(err.option).toBe('servicePrefix');
    expect(err.message).toContain('JUPYTERHUB_SERVICE_PREFIX');
  });

  it.each([
    ['a trailing newline', 'svc-token-0123456789\n'],
    ['a space', 'svc token 0123456789'],
    ['non-ASCII', 'svc-token-0123456789\u00e9'],
  ])('an API token with %s, which cannot be sent in a header: named, never echoed', (_label, token) => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_API_TOKEN: token }));
    expect(err.option).toBe('apiToken');
    expect(err.message).toContain('JUPYTERHUB_API_TOKEN');
    expect(err.message).not.toContain('0123456789');
  });

  it('no access scope and no allowAll: refuses to accept every Hub token', () => {
    const err = configError(() => auth({}));
    expect(err.option).toBe('accessScopes');
    expect(err.message).toMatch(/allowAll/);
    expect(err.message).toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
    // An empty list is no access scope either.
    expect(() => auth({ JUPYTERHUB_OAUTH_ACCESS_SCOPES: '[]' })).toThrow(ConfigError);
    expect(() => auth({}, { accessScopes: [] })).toThrow(ConfigError);
  });

  it('allowAll works, and then no scope is required', () => {
    const c = auth({}, { allowAll: true });
    expect(c.accessScopes).toBeNull();
    expect(() => auth({}, { allowAll: 'yes' as unknown as boolean })).toThrow(ConfigError);
  });

  it('a TLS key without a certificate names the missing certificate', () => {
    const err = configError(() => auth({ ...managedEnv, JUPYTERHUB_SSL_KEYFILE: '/no/such/key.pem' }));
    expect(err.option).toBe('tls.certFile');
    expect(err.message).toContain('JUPYTERHUB_SSL_CERTFILE');
  });

  it('a TLS certificate without a key names the missing key', () => {
    const err = configError(() => auth(managedEnv, { tls: { certFile: '/no/such/cert.pem' } }));
    expect(err.option).toBe('tls.keyFile');
    expect(err.message).toContain('JUPYTERHUB_SSL_KEYFILE');
  });

  it('an unreadable TLS file', () => {
    const err = configError(() =>
      auth({ ...managedEnv, JUPYTERHUB_SSL_KEYFILE: '/no/such/key.pem', JUPYTERHUB_SSL_CERTFILE: '/no/such/cert.pem' }),
    );
    expect(err.option).toBe('tls.keyFile');
    expect(err.message).toContain('ENOENT');
  });

  it.each([
    ['cacheMaxAge', -1],
    ['cacheMaxAge', Number.NaN],
    ['negativeCacheMaxAge', Number.POSITIVE_INFINITY],
    ['cacheMaxEntries', 0],
    ['cacheMaxEntries', 1.5],
    ['requestTimeoutMs', 0],
    ['maxConcurrentLookups', 0],
    ['maxPendingLookups', -1],
  ])('a bad number for %s (%s)', (option, value) => {
    const err = configError(() => auth(managedEnv, { [option]: value }));
    expect(err.option).toBe(option);
  });

  it('a bad usernamePattern, user list or hook', () => {
    expect(configError(() => auth(managedEnv, { usernamePattern: '(' })).option).toBe('usernamePattern');
    expect(configError(() => auth(managedEnv, { allowedUsers: 'alice' as unknown as string[] })).option).toBe(
      'allowedUsers',
    );
    expect(configError(() => auth(managedEnv, { blockedUsers: [1] as unknown as string[] })).option).toBe('blockedUsers');
    expect(configError(() => auth(managedEnv, { postAuthHook: 'x' as unknown as () => null })).option).toBe(
      'postAuthHook',
    );
  });

  it('a non-object options value', () => {
    expect(configError(() => resolveHubAuthConfig(null as unknown as HubAuthOptions)).option).toBe('options');
  });

  it('HubAuth construction throws the same ConfigError', () => {
    expect(() => new HubAuth({ env: {} })).toThrow(ConfigError);
  });
});

describe('usernamePattern given as a RegExp', () => {
  it.each([/^[a-z]+$/g, /^[a-z]+$/y, /^[a-z]+$/gi])('gives the same answer every time (%s)', (pattern) => {
    const c = auth(managedEnv, { usernamePattern: pattern });
    const answers = [1, 2, 3, 4].map(() => c.usernamePattern?.test('alice'));
    expect(answers).toEqual([true, true, true, true]);
    expect(c.usernamePattern?.test('ALICE!')).toBe(false);
  });
});

describe('resolveHubOAuthConfig', () => {
  it('derives the OAuth endpoints, cookie names and paths', () => {
    const c = resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_HOST: 'https://hub.example.org/' } });
    expect(c.oauthRedirectUri).toBe('/jh/services/whoami/oauth_callback');
    expect(c.authorizeUrl).toBe('https://hub.example.org/jh/hub/api/oauth2/authorize');
    expect(c.tokenUrl).toBe('http://127.0.0.1:8081/jh/hub/api/oauth2/token');
    expect(c.hubLogoutUrl).toBe('https://hub.example.org/jh/hub/logout');
    expect(c.cookieName).toBe('service-whoami');
    expect(c.cookiePath).toBe('/jh/services/whoami/');
    expect(c.cookieSecure).toBeNull();
    expect(c.cookieSecretIsRandom).toBe(false);
    expect(c.stateMaxAge).toBe(600);
    expect(c.allowWebsocketCookieAuth).toBe(true);
    expect(c.logoutRedirect).toBe('hub');
  });

  it('uses the public Hub URL for browser-facing endpoints', () => {
    const c = resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_PUBLIC_HUB_URL: 'https://pub.example.org/jh/hub' } });
    expect(c.authorizeUrl).toBe('https://pub.example.org/jh/hub/api/oauth2/authorize');
    expect(c.hubLogoutUrl).toBe('https://pub.example.org/jh/hub/logout');
  });

  it('defaults the redirect URI to <prefix>oauth_callback; a host-relative Hub URL without JUPYTERHUB_HOST', () => {
    const { JUPYTERHUB_OAUTH_CALLBACK_URL: _omit, ...env } = managedEnv;
    const c = resolveHubOAuthConfig({ env });
    expect(c.oauthRedirectUri).toBe('/jh/services/whoami/oauth_callback');
    expect(c.authorizeUrl).toBe('/jh/hub/api/oauth2/authorize');
  });

  it('takes Secure from the public URL, and forces it with the host prefix', () => {
    expect(resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_PUBLIC_URL: 'https://x.org/s/' } }).cookieSecure).toBe(
      true,
    );
    expect(resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_PUBLIC_URL: 'http://x.org/s/' } }).cookieSecure).toBe(
      false,
    );
    const host = resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: '1' } });
    expect(host.cookieName).toBe('__Host-service-whoami');
    expect(host.cookiePath).toBe('/');
    expect(host.cookieSecure).toBe(true);
  });

  it('splits HUBAUTH_COOKIE_SECRET on commas; the first secret signs', () => {
    const a = newSecret();
    const b = newSecret();
    const c = resolveHubOAuthConfig({ env: { ...managedEnv, HUBAUTH_COOKIE_SECRET: ` ${a} , ${b} ,` } });
    expect(c.cookieSecrets).toEqual([a, b]);
    expect(resolveHubOAuthConfig({ env: managedEnv, cookieSecret: [b, a] }).cookieSecrets).toEqual([b, a]);
  });

  it('a short cookie secret: error names the option and the variable, never the secret', () => {
    const short = 'too-short-secret-abc';
    const err = configError(() => resolveHubOAuthConfig({ env: { ...managedEnv, HUBAUTH_COOKIE_SECRET: `${newSecret()},${short}` } }));
    expect(err.option).toBe('cookieSecret');
    expect(err.message).toContain('HUBAUTH_COOKIE_SECRET');
    expect(err.message).toContain('#2');
    expect(err.message).not.toContain(short);
    expect(configError(() => resolveHubOAuthConfig({ env: managedEnv, cookieSecret: '' })).option).toBe('cookieSecret');
  });

  it('without a cookie secret: a random one and a warning about replicas', () => {
    const logger = new RecordingLogger();
    const { HUBAUTH_COOKIE_SECRET: _omit, ...env } = managedEnv;
    const c = resolveHubOAuthConfig({ env, logger });
    expect(c.cookieSecretIsRandom).toBe(true);
    expect(c.cookieSecrets[0]).toHaveLength(64);
    expect(logger.lines.join('\n')).toMatch(/replicas/);
    expect(logger.lines.join('\n')).not.toContain(c.cookieSecrets[0]);
  });

  it('needs a client id and the API token', () => {
    const { JUPYTERHUB_CLIENT_ID: _c, ...noClient } = managedEnv;
    const e1 = configError(() => resolveHubOAuthConfig({ env: noClient }));
    expect(e1.option).toBe('clientId');
    expect(e1.message).toContain('JUPYTERHUB_CLIENT_ID');
    const { JUPYTERHUB_API_TOKEN: _t, ...noToken } = managedEnv;
    const e2 = configError(() => resolveHubOAuthConfig({ env: noToken }));
    expect(e2.option).toBe('apiToken');
    expect(e2.message).toContain('JUPYTERHUB_API_TOKEN');
  });

  it.each(['service-my app', 'service-a;b', 'service-\u00e9', 'service-a"b'])('a client id that cannot name a cookie (%j)', (id) => {
    const err = configError(() => resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_CLIENT_ID: id } }));
    expect(err.option).toBe('clientId');
    expect(err.message).toContain('JUPYTERHUB_CLIENT_ID');
  });

  it('accepts the client ids the Hub makes, including escaped user names', () => {
    for (const id of ['service-whoami', 'jupyterhub-user-alice%40example.org', 'jupyterhub-user-bob-server.1']) {
      expect(resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_CLIENT_ID: id } }).cookieName).toBe(id);
    }
  });

  it('a bad redirect URI, host-prefix flag, state lifetime or logout target', () => {
    expect(configError(() => resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_OAUTH_CALLBACK_URL: 'oauth_callback' } })).option).toBe(
      'oauthRedirectUri',
    );
    const flag = configError(() => resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: 'sure' } }));
    expect(flag.option).toBe('cookieHostPrefix');
    expect(flag.message).toContain('JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED');
    expect(configError(() => resolveHubOAuthConfig({ env: managedEnv, stateMaxAge: 1 })).option).toBe('stateMaxAge');
    expect(
      configError(() => resolveHubOAuthConfig({ env: managedEnv, logoutRedirect: 'elsewhere' as unknown as 'hub' })).option,
    ).toBe('logoutRedirect');
  });

  it('never puts the API token in an error', () => {
    const token = managedEnv.JUPYTERHUB_API_TOKEN ?? '';
    const messages = [
      () => resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_API_URL: 'nope' } }),
      () => resolveHubOAuthConfig({ env: { ...managedEnv, HUBAUTH_COOKIE_SECRET: 'short' } }),
      () => resolveHubOAuthConfig({ env: { ...managedEnv, JUPYTERHUB_CLIENT_ID: '' } }),
    ].map((fn) => configError(fn).message);
    for (const m of messages) expect(m).not.toContain(token);
  });
});
