/**
 * Internal SSL for real: a JupyterHub (6.x and 5.x) started with `c.JupyterHub.internal_ssl = True`
 * serves its API only over TLS with client certificates. The managed Node service
 * (support/actor-service.mjs, Express) gets `JUPYTERHUB_SSL_KEYFILE`, `_CERTFILE` and `_CLIENT_CA`
 * from the Hub and an https API URL; hubauth reads them and talks to the Hub with its client
 * certificate: identifying a token, a browser login (code exchange over TLS), and acting for the
 * user. A client without a certificate is refused by the Hub at the TLS handshake.
 */
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { HUB_VERSIONS, httpRequest, repoRoot, startHub, type HubVersion, type RunningHub } from '../hub';
import { approveConsent, launchBrowser, type BrowserSession } from '../hub/browser';
import { loginIfAsked, pageJson } from './support/browser-flows';
import { withDiagnostics } from './support/fixture';

jest.setTimeout(180_000);

const SERVICE = 'tls-actor';
const SCOPES = ['read:tokens!user', 'read:users:name!user'];

/** A request to the Hub's API without a client certificate (the server's certificate not checked). */
function bareTls(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode ?? 0}`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe.each(HUB_VERSIONS)('JupyterHub %s with internal_ssl', (version: HubVersion) => {
  let hub: RunningHub | undefined;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    const launching = launchBrowser();
    try {
      hub = await startHub({
        version,
        internalSsl: true,
        users: ['alice'],
        roles: [{ name: 'service-users', scopes: ['access:services'], users: ['alice'] }],
        services: [
          {
            name: SERVICE,
            managed: {
              command: [process.execPath, 'test/integration/support/actor-service.mjs', 'express'],
              cwd: repoRoot,
              env: { HUBAUTH_COOKIE_SECRET: randomBytes(32).toString('hex'), ACTOR_REQUEST_SCOPES: JSON.stringify(SCOPES) },
            },
            oauthClientAllowedScopes: SCOPES,
          },
        ],
      });
    } finally {
      browser = await launching.catch(() => undefined);
    }
    if (!browser) await launching;
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  const scenario = (body: (h: RunningHub, b: BrowserSession) => Promise<void>) => async () => {
    try {
      if (!hub || !browser) throw new Error(`JupyterHub ${version} or Chromium did not start`);
      await body(hub, browser);
    } catch (err) {
      throw withDiagnostics(err, hub && ({ hub, logTail: (n = 60) => hub!.logTail(n) } as never), browser);
    }
  };

  test('the Hub requires a client certificate on its API', () =>
    scenario(async (h) => {
      expect(h.apiUrl.startsWith('https://')).toBe(true);
      expect(await bareTls(`${h.apiUrl}/`)).toMatch(/^error /);
    })());

  test('the managed Node service identifies a token over TLS with its client certificate', () =>
    scenario(async (h) => {
      const base = `${h.publicUrl}/services/${SERVICE}/`;
      const token = await h.createUserToken('alice', { scopes: [`access:services!service=${SERVICE}`, 'read:tokens!user', 'read:users:name!user'] });
      const me = await httpRequest(base, { headers: { authorization: `token ${token}` } });
      expect(me.status).toBe(200);
      expect(me.json).toEqual(expect.objectContaining({ name: 'alice', kind: 'user' }));
      const tls = await httpRequest(`${base}tls`, { headers: { authorization: `token ${token}` } });
      expect(tls.json).toEqual({ apiUrl: h.apiUrl, keyfile: true, certfile: true, clientCa: true });
      // Acting for the caller goes over the same TLS connection pool.
      const mine = await httpRequest(`${base}mine`, { headers: { authorization: `token ${token}` } });
      expect(mine.status).toBe(200);
      expect((mine.json as { name: string }).name).toBe('alice');
      expect(h.logTail(300)).toMatch(/200 GET \/hub\/api\/user \(alice@127\.0\.0\.1\)/);
    })());

  test('a browser login: the code exchange and the lookups go over TLS', () =>
    scenario(async (h, b) => {
      const page = b.page;
      const base = `${h.publicUrl}/services/${SERVICE}/`;
      await page.goto(`${base}mine`);
      await loginIfAsked(page, { hub: h } as never, 'alice');
      await approveConsent(page);
      await page.waitForURL(`${base}mine`, { timeout: 10_000 });
      const mine = await pageJson<{ name: string; tokens: string[] }>(page);
      expect(mine.name).toBe('alice');
      expect(mine.tokens.length).toBeGreaterThan(0);
      expect(h.logTail(300)).toMatch(/200 POST \/hub\/api\/oauth2\/token \(tls-actor@127\.0\.0\.1\)/);
    })());
});
