/**
 * Smoke test of the real-Hub harness (test/hub) against each pinned JupyterHub major version:
 * the Hub starts, its API identifies user tokens, a managed service gets its environment and is
 * proxied, Chromium can log in through the Hub's form, and stop() leaves no process behind.
 *
 * Hub 5 vs 6 differences seen here (6.1.1 vs 5.5.4):
 * - `GET /hub/api/user` includes `user_info` (null with DummyAuthenticator) in 6 only.
 * - The Python HubOAuth of 6 sends PKCE (`code_challenge`, S256) to /hub/api/oauth2/authorize; 5 does not.
 * - Managed services get the same environment from both: JUPYTERHUB_API_TOKEN (+ legacy
 *   JPY_API_TOKEN), _API_URL, _BASE_URL, _CLIENT_ID, _COOKIE_HOST_PREFIX_ENABLED=0, _HOST='',
 *   _OAUTH_ACCESS_SCOPES, _OAUTH_SCOPES (deprecated), _OAUTH_CALLBACK_URL, _OAUTH_CLIENT_ALLOWED_SCOPES,
 *   _PUBLIC_URL='' and _PUBLIC_HUB_URL='' (no c.JupyterHub.public_url), _SERVICE_NAME,
 *   _SERVICE_PREFIX, _SERVICE_URL, _USER='' and _SERVER_NAME='', plus only PATH and LANG of the
 *   Hub's own environment.
 * - Hub 5 prints a JupyterEventsVersionWarning at start-up; both warn that
 *   DummyAuthenticator.password is deprecated (since 5.3) in favour of SharedPasswordAuthenticator.
 */
import { readFileSync } from 'node:fs';
import {
  HUB_VERSIONS,
  httpRequest,
  pinnedVersion,
  pythonWhoamiService,
  startHub,
  type HubVersion,
  type RunningHub,
} from '../hub';
import { approveConsent, hubLogin, launchBrowser, type BrowserSession } from '../hub/browser';
import { isAlive, listProcs } from '../hub/procs';

// Starting a Hub takes seconds; jest's project-level testTimeout is not applied to projects.
jest.setTimeout(120_000);

/** A managed service: answers every request with the JUPYTERHUB_* part of its environment. */
const ECHO_SERVICE = `
const http = require('http');
const bind = new URL(process.env.JUPYTERHUB_SERVICE_URL);
http.createServer((req, res) => {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (/^(JUPYTERHUB_|JPY_)/.test(k)) env[k] = v;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, env, envKeys: Object.keys(process.env).sort() }));
}).listen(Number(bind.port), bind.hostname);
`;

interface EchoReply {
  url: string;
  env: Record<string, string>;
  envKeys: string[];
}

interface UserModel {
  kind?: string;
  name?: string;
  admin?: boolean;
  scopes?: string[];
  [key: string]: unknown;
}

describe.each(HUB_VERSIONS.map((v) => [v] as [HubVersion]))('JupyterHub %s (real Hub harness)', (version) => {
  let hub: RunningHub | undefined;
  let browser: BrowserSession | undefined;

  /** Runs a test body; on failure prints the Hub log tail and the browser's last URL. */
  const diagnose = async (body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (err) {
      const lines = [`JupyterHub ${version} test failed.`];
      if (browser) lines.push(`browser last URL: ${browser.lastUrl() || '(none)'}`);
      if (hub) lines.push(`--- Hub log tail ---\n${hub.logTail(80)}`);
      console.error(lines.join('\n'));
      throw err;
    }
  };

  beforeAll(async () => {
    const t0 = Date.now();
    hub = await startHub({
      version,
      users: ['alice'],
      roles: [{ name: 'alice-services', scopes: ['access:services'], users: ['alice'] }],
      services: [
        { name: 'echo', managed: { command: [process.execPath, '-e', ECHO_SERVICE] } },
        pythonWhoamiService(version, { name: 'whoami-py' }),
      ],
    });
    console.log(
      `JupyterHub ${hub.version}: ready in ${hub.startupMs} ms (startHub total ${Date.now() - t0} ms), ` +
        `public ${hub.publicUrl}, api ${hub.apiUrl}`,
    );
  });

  afterAll(async () => {
    await browser?.close();
    if (hub) {
      const t0 = Date.now();
      await hub.stop();
      console.log(`JupyterHub ${version}: stopped in ${Date.now() - t0} ms`);
    }
  });

  const theHub = (): RunningHub => {
    if (!hub) throw new Error('the Hub did not start');
    return hub;
  };

  test('GET /hub/api/ reports the pinned version', () =>
    diagnose(async () => {
      const h = theHub();
      expect(h.version).toBe(pinnedVersion(version));
      expect(h.version.split('.')[0]).toBe(version);
      const res = await httpRequest(`${h.apiUrl}/`);
      expect(res.status).toBe(200);
      expect(res.json).toEqual(expect.objectContaining({ version: h.version }));
    }));

  test('a user token identifies alice on GET /hub/api/user; a bogus token gets 403', () =>
    diagnose(async () => {
      const h = theHub();
      const token = await h.createUserToken('alice', { scopes: ['read:users:name!user=alice'] });
      const ok = await h.api<UserModel>('GET', '/user', undefined, token);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual(expect.objectContaining({ kind: 'user', name: 'alice', admin: false }));
      console.log(`JupyterHub ${version}: GET /hub/api/user ->`, JSON.stringify(ok.body));

      const bogus = await h.api('GET', '/user', undefined, 'not-a-real-token');
      expect(bogus.status).toBe(403);

      const svc = await h.api<UserModel>('GET', '/user', undefined, h.serviceToken('echo'));
      expect(svc.status).toBe(200);
      expect(svc.body).toEqual(expect.objectContaining({ kind: 'service', name: 'echo' }));
    }));

  test('the managed service gets its environment and is proxied at /services/<name>/', () =>
    diagnose(async () => {
      const h = theHub();
      const res = await httpRequest(`${h.publicUrl}/services/echo/some/path?x=1`);
      expect(res.status).toBe(200);
      const reply = res.json as EchoReply;
      expect(reply.url).toBe('/services/echo/some/path?x=1');
      const env = reply.env;
      expect(env.JUPYTERHUB_API_TOKEN).toBe(h.serviceToken('echo'));
      expect(env.JPY_API_TOKEN).toBe(h.serviceToken('echo')); // legacy copy, still set by 5 and 6
      expect(env.JUPYTERHUB_SERVICE_PREFIX).toBe('/services/echo/');
      expect(env.JUPYTERHUB_SERVICE_NAME).toBe('echo');
      expect(env.JUPYTERHUB_CLIENT_ID).toBe('service-echo');
      expect(env.JUPYTERHUB_API_URL).toBe(h.apiUrl);
      expect(env.JUPYTERHUB_SERVICE_URL).toBe(h.services.echo?.url);
      expect(JSON.parse(env.JUPYTERHUB_OAUTH_ACCESS_SCOPES ?? 'null')).toEqual([
        'access:services',
        'access:services!service=echo',
      ]);
      const shown = { ...env, JUPYTERHUB_API_TOKEN: '<redacted>', JPY_API_TOKEN: '<redacted>' };
      console.log(
        `JupyterHub ${version}: managed service environment:\n${JSON.stringify(shown, null, 2)}\n` +
          `all variable names: ${reply.envKeys.join(' ')}`,
      );
    }));

  test('the Python reference whoami (HubAuthenticated) accepts a token with access:services', () =>
    diagnose(async () => {
      const h = theHub();
      const url = `${h.publicUrl}/services/whoami-py/`;
      const token = await h.createUserToken('alice', { scopes: ['access:services!service=whoami-py'] });
      const ok = await httpRequest(url, { headers: { Authorization: `token ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual(expect.objectContaining({ kind: 'user', name: 'alice' }));

      const noAccess = await h.createUserToken('alice', { scopes: ['read:users:name!user=alice'] });
      const denied = await httpRequest(url, { headers: { Authorization: `token ${noAccess}` } });
      expect(denied.status).toBe(403);
    }));

  test('Chromium logs in as alice through the Hub login form', () =>
    diagnose(async () => {
      const h = theHub();
      browser = await launchBrowser();
      const { page } = browser;
      await hubLogin(page, h.publicUrl, 'alice', h.password);
      const landed = new URL(page.url());
      console.log(`JupyterHub ${version}: after login the browser is at ${landed.pathname}`);
      expect(landed.pathname).toMatch(/^\/hub\/(home|spawn)/);
      const names = (await browser.cookies(h.publicUrl + '/hub/')).map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining(['jupyterhub-hub-login', 'jupyterhub-session-id']));
    }));

  test('Chromium completes OAuth with the Python reference whoami (consent page, callback, cookie)', () =>
    diagnose(async () => {
      const h = theHub();
      if (!browser) throw new Error('the login test did not run');
      const { page } = browser;
      await page.goto(`${h.publicUrl}/services/whoami-py/oauth/`);
      // no earlier token for this client and no oauth_no_confirm: the Hub asks for consent
      expect(await approveConsent(page)).toBe(true);
      expect(new URL(page.url()).pathname).toBe('/services/whoami-py/oauth/');
      const model = JSON.parse(await page.locator('body').innerText()) as UserModel;
      expect(model).toEqual(expect.objectContaining({ kind: 'user', name: 'alice' }));
      expect(model.scopes).toContain('access:services!service=whoami-py');
      const cookies = await browser.cookies(`${h.publicUrl}/services/whoami-py/`);
      expect(cookies.map((c) => c.name)).toContain('service-whoami-py');
    }));

  test('stop() leaves no process behind', () =>
    diagnose(async () => {
      const h = theHub();
      const procs = h.processes();
      const names = procs.map((p) => p.comm);
      // Hub (python), proxy (node) and the two managed services
      expect(procs.length).toBeGreaterThanOrEqual(4);
      console.log(`JupyterHub ${version}: process tree ${procs.map((p) => `${p.pid}:${p.comm}`).join(' ')}`);
      expect(names.some((n) => n.startsWith('python'))).toBe(true);
      await h.stop();
      expect(procs.filter(isAlive)).toEqual([]);
      // nothing anywhere still refers to this Hub's temp dir or ports
      const stray = listProcs().filter((p) => {
        try {
          const cmd = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
          return cmd.includes(h.tmpDir) || cmd.includes(String(new URL(h.publicUrl).port));
        } catch {
          return false;
        }
      });
      expect(stray).toEqual([]);
    }));
});
