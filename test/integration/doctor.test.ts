/**
 * `hubauth doctor` against a real JupyterHub (6.x and 5.x): a correct service set-up passes, and
 * each broken set-up — wrong token, unknown client id, mismatched redirect URI, Hub down, no access
 * scope, wrong base URL — gets its own ✘ with the fix. The service `notes` is external (the Hub
 * proxies `/services/notes/` to a URL nobody needs to serve here) with an OAuth client.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatReport, runDoctor, type Check, type DoctorReport } from 'hubauth';
import { main } from '../../packages/cli/src/cli';
import { freePort, HUB_VERSIONS, repoRoot, startHub, type HubVersion, type RunningHub } from '../hub';

jest.setTimeout(120_000);

const SERVICE_TOKEN = `notes-${'5'.repeat(24)}`;
const COOKIE_SECRET = randomBytes(32).toString('hex');

/** The environment the Hub gives the managed service `notes` (plus the cookie secret). */
function serviceEnv(hub: RunningHub): Record<string, string> {
  return {
    JUPYTERHUB_API_URL: hub.apiUrl,
    JUPYTERHUB_API_TOKEN: SERVICE_TOKEN,
    JUPYTERHUB_CLIENT_ID: 'service-notes',
    JUPYTERHUB_SERVICE_NAME: 'notes',
    JUPYTERHUB_SERVICE_PREFIX: '/services/notes/',
    JUPYTERHUB_OAUTH_CALLBACK_URL: '/services/notes/oauth_callback',
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify(['access:services!service=notes', 'access:services']),
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_PUBLIC_HUB_URL: `${hub.publicUrl}/hub/`,
    JUPYTERHUB_PUBLIC_URL: `${hub.publicUrl}/services/notes/`,
    HUBAUTH_COOKIE_SECRET: COOKIE_SECRET,
  };
}

function check(report: DoctorReport, id: string): Check {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check "${id}" in:\n${formatReport(report)}`);
  return found;
}

/** Asserts that exactly the checks `ids` failed, and returns the first of them. */
function expectFailures(report: DoctorReport, ids: string[]): Check {
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
  expect({ failed, report: formatReport(report) }).toEqual({ failed: ids, report: expect.any(String) });
  expect(report.ok).toBe(false);
  return check(report, ids[0] as string);
}

describe.each(HUB_VERSIONS)('hubauth doctor against JupyterHub %s', (version: HubVersion) => {
  let hub: RunningHub;
  let env: Record<string, string>;

  beforeAll(async () => {
    hub = await startHub({
      version,
      users: ['alice', 'bob'],
      groups: { staff: ['alice'] },
      roles: [{ name: 'notes-users', scopes: ['access:services!service=notes'], groups: ['staff'] }],
      services: [
        {
          name: 'notes',
          external: { url: `http://127.0.0.1:${await freePort()}`, apiToken: SERVICE_TOKEN },
          waitReachable: false,
        },
      ],
    });
    env = serviceEnv(hub);
  });
  afterAll(() => hub?.stop());

  it('passes a correct service, and says who is admitted', async () => {
    const report = await runDoctor({ env });
    expect({ ok: report.ok, report: formatReport(report) }).toEqual({ ok: true, report: expect.any(String) });
    expect(check(report, 'hub-api').detail).toMatch(new RegExp(`^JupyterHub ${hub.version.replace(/\./g, '\\.')} at .*, \\d+ ms$`));
    expect(check(report, 'service-token')).toMatchObject({ status: 'ok', detail: expect.stringContaining('service "notes"') });
    expect(check(report, 'oauth-client')).toMatchObject({ status: 'ok', detail: expect.stringContaining('"service-notes" is known') });
    expect(check(report, 'redirect-uri')).toMatchObject({ status: 'ok' });
    expect(check(report, 'public-hub')).toMatchObject({ status: 'ok' });
    expect(check(report, 'access-admits').detail).toContain('everyone granted access to service "notes", or everyone with access to all services');
    expect(check(report, 'cookie-secret')).toMatchObject({ status: 'ok' });
    // Nothing secret in the report.
    const text = JSON.stringify(report);
    expect(text).not.toContain(SERVICE_TOKEN);
    expect(text).not.toContain(COOKIE_SECRET);
  });

  it('wrong token: the Hub does not accept it', async () => {
    const report = await runDoctor({ env: { ...env, JUPYTERHUB_API_TOKEN: 'not-the-service-token' } });
    // The token endpoint refuses the client too, since the token is its secret.
    const failed = expectFailures(report, ['service-token', 'oauth-client']);
    expect(failed.detail).toBe('the Hub does not accept it (403)');
    expect(failed.fix).toContain('JUPYTERHUB_API_TOKEN');
    expect(JSON.stringify(report)).not.toContain('not-the-service-token');
  });

  it('unknown client id: names the client of the service that owns the token', async () => {
    const report = await runDoctor({ env: { ...env, JUPYTERHUB_CLIENT_ID: 'service-nopes' } });
    const failed = expectFailures(report, ['oauth-client']);
    expect(failed.detail).toContain('does not know client "service-nopes"');
    expect(failed.fix).toContain('JUPYTERHUB_CLIENT_ID="service-notes"');
  });

  it('mismatched redirect URI: the option differs from what the Hub registered', async () => {
    const report = await runDoctor({ env, options: { oauthRedirectUri: '/services/notes/callback' } });
    const failed = expectFailures(report, ['redirect-uri']);
    expect(failed.detail).toContain('"/services/notes/callback" is not the redirect URI the Hub registered');
    expect(failed.fix).toContain('"/services/notes/oauth_callback"');
  });

  it('Hub down: the API URL refuses connections', async () => {
    const port = await freePort();
    const report = await runDoctor({ env: { ...env, JUPYTERHUB_API_URL: `http://127.0.0.1:${port}/hub/api` } });
    const failed = expectFailures(report, ['hub-api']);
    expect(failed.detail).toBe(`unreachable at http://127.0.0.1:${port}/hub/api (ECONNREFUSED)`);
    expect(failed.fix).toContain('start the Hub');
    expect(check(report, 'service-token').status).toBe('skip');
  });

  it('no access scope: the service would refuse to start', async () => {
    const { JUPYTERHUB_OAUTH_ACCESS_SCOPES: _scopes, JUPYTERHUB_SERVICE_NAME: _name, ...rest } = env;
    const report = await runDoctor({ env: rest });
    const failed = expectFailures(report, ['config', 'access-scopes']);
    expect(failed.detail).toContain('no access scope is configured');
    expect(check(report, 'access-scopes').fix).toContain('JUPYTERHUB_OAUTH_ACCESS_SCOPES');
    // The Hub is still checked.
    expect(check(report, 'hub-api').status).toBe('ok');
    expect(check(report, 'service-token').status).toBe('ok');
  });

  it('wrong base URL: browsers would be sent to a Hub path that does not exist', async () => {
    const report = await runDoctor({ env: { ...env, JUPYTERHUB_BASE_URL: '/jhub/', JUPYTERHUB_PUBLIC_HUB_URL: '' , JUPYTERHUB_HOST: hub.publicUrl } });
    const failed = expectFailures(report, ['base-url', 'public-hub']);
    expect(failed.fix).toContain('JUPYTERHUB_BASE_URL');
    expect(check(report, 'public-hub').detail).toMatch(`no Hub at "${hub.publicUrl}/jhub/hub/" (status `);
  });

  it('wrong base URL in the API URL: finds the API and says where it is', async () => {
    const report = await runDoctor({ env: { ...env, JUPYTERHUB_API_URL: hub.apiUrl.replace('/hub/api', '/jhub/hub/api') } });
    const failed = expectFailures(report, ['hub-api']);
    expect(failed.detail).toMatch(/no JupyterHub API at .*\/jhub\/hub\/api \(status \d+\)/);
    expect(failed.fix).toContain(`set JUPYTERHUB_API_URL="${hub.apiUrl}"`);
  });

  it('the command: --json, --config, the exit status, and the built bin', async () => {
    const saved = { ...process.env };
    let out = '';
    const io = { out: (s: string) => (out += s), err: (s: string) => (out += s) };
    try {
      Object.assign(process.env, env);
      expect(await main(['doctor', '--json'], io)).toBe(0);
      expect(JSON.parse(out)).toMatchObject({ ok: true, counts: { fail: 0 } });
      out = '';
      expect(await main(['doktor'], io)).toBe(2);
      expect(out).toContain('unknown command "doktor"');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }

    // The built bin, as `npx hubauth doctor` runs it, with a config module.
    const bin = path.join(repoRoot, 'packages', 'cli', 'dist', 'cli.js');
    if (!existsSync(bin)) throw new Error('packages/cli is not built: run pnpm build');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hubauth-doctor-'));
    try {
      const config = path.join(dir, 'hubauth.config.mjs');
      writeFileSync(config, `export default { oauthRedirectUri: '/services/notes/elsewhere' };\n`);
      const run = (args: string[], extra: Record<string, string> = {}) =>
        spawnSync(process.execPath, [bin, ...args], { env: { ...saved, ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });
      const withConfig = run(['doctor', '--config', config]);
      expect({ status: withConfig.status, stdout: withConfig.stdout }).toEqual({
        status: 1,
        stdout: expect.stringMatching(/^✘ Redirect URI: "\/services\/notes\/elsewhere" is not the redirect URI[^\n]*\n {4}fix: /m),
      });
      const wrongToken = run(['doctor'], { JUPYTERHUB_API_TOKEN: 'wrong' });
      expect({ status: wrongToken.status, stdout: wrongToken.stdout }).toEqual({
        status: 1,
        stdout: expect.stringMatching(/^✘ Service token: the Hub does not accept it \(403\)$/m),
      });
      const ok = run(['doctor', '--json']);
      expect({ status: ok.status, ok: (JSON.parse(ok.stdout) as DoctorReport).ok }).toEqual({ status: 0, ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
