import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { startFakeHub, type FakeHub } from '../../../test/fake-hub';
import { freePort } from '../../../test/ports';
import { main, parseCommandLine } from '../src/cli';
import { AppProcess, ConfigError } from '../src';

const APP = path.resolve(__dirname, '../../../examples/proxy/notes-app.mjs');

function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('parseCommandLine', () => {
  const env = { JUPYTERHUB_SERVICE_URL: 'http://127.0.0.1:10555' };

  test('reads the listening address from JUPYTERHUB_SERVICE_URL and the rest from flags', () => {
    const plan = parseCommandLine(
      ['--upstream', 'http://127.0.0.1:8501', '--hub-users', 'alice,bob', '--hub-users', 'carol', '--hub-groups', 'staff', '--keep-prefix', '--header-model', '', '--upstream-timeout', '2.5'],
      env,
    );
    expect(plan).toMatchObject({ host: '127.0.0.1', port: 10555, command: [], restart: 'never' });
    expect(plan.proxy).toMatchObject({
      upstream: 'http://127.0.0.1:8501',
      hubUsers: ['alice', 'bob', 'carol'],
      hubGroups: ['staff'],
      stripPrefix: false,
      identityHeaders: { model: null },
      upstreamTimeoutMs: 2500,
    });
  });

  test('everything after -- is the command', () => {
    const plan = parseCommandLine(['--port', '9000', '--', 'streamlit', 'run', 'app.py', '--server.port', '{port}'], {});
    expect(plan.command).toEqual(['streamlit', 'run', 'app.py', '--server.port', '{port}']);
    expect(plan.port).toBe(9000);
  });

  test.each([
    [['--nope'], /Unknown option/],
    [['--strip-prefix', '--keep-prefix'], /not both/],
    [['--'], /nothing follows/],
    [['--port', 'x'], /not a port/],
    [['--restart', 'sometimes'], /never, on-failure or always/],
    [['--upstream-timeout', 'soon'], /seconds/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseCommandLine(argv, {})).toThrow(ConfigError);
    expect(() => parseCommandLine(argv, {})).toThrow(message);
  });
});

describe('AppProcess', () => {
  test('fills in the port, waits until the app listens, and stops it with a signal', async () => {
    const port = await freePort();
    const app = new AppProcess({ command: [process.execPath, APP, '--port-was={port}'], port, env: { PATH: process.env.PATH ?? '' } });
    expect(app.argv.at(-1)).toBe(`--port-was=${port}`);
    await app.start();
    expect((await get(port, '/whoami')).status).toBe(200);
    const exit = new Promise((resolve) => app.once('exit', (code, signal) => resolve({ code, signal })));
    expect(await app.stop()).toBe(0);
    await exit;
    await expect(get(port, '/whoami')).rejects.toThrow();
  });

  test('an app that exits before listening fails the start', async () => {
    const app = new AppProcess({ command: [process.execPath, '-e', 'process.exit(3)'], port: await freePort(), readyTimeoutMs: 5000 });
    await expect(app.start()).rejects.toThrow(/exited before it listened/);
  });

  test('a command that cannot be started fails the start at once and exits', async () => {
    const app = new AppProcess({ command: ['/nonexistent/hubauth-test-app'], port: await freePort(), readyTimeoutMs: 30_000, logger: { warn: () => undefined, error: () => undefined } });
    const exit = new Promise((resolve) => app.once('exit', (code) => resolve(code)));
    const started = Date.now();
    await expect(app.start()).rejects.toThrow(/exited before it listened/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(exit).resolves.toBe(127);
  });

  test('on-failure restarts an app that crashed', async () => {
    const port = await freePort();
    const app = new AppProcess({ command: [process.execPath, APP], port, restart: 'on-failure', env: { PATH: process.env.PATH ?? '' } });
    await app.start();
    const restarted = new Promise<void>((resolve) => app.once('ready', () => resolve()));
    app.kill('SIGKILL');
    await restarted;
    expect((await get(port, '/whoami')).status).toBe(200);
    await app.stop();
  }, 15_000);

  test('invalid options are ConfigErrors', () => {
    expect(() => new AppProcess({ command: [], port: 1 })).toThrow(ConfigError);
    expect(() => new AppProcess({ command: ['x'], port: 0 })).toThrow(/port/);
  });

  test('the app gets PORT but not the service credentials', async () => {
    const port = await freePort();
    const script = "require('http').createServer((q, s) => s.end(JSON.stringify(process.env))).listen(Number(process.env.PORT), '127.0.0.1')";
    const app = new AppProcess({
      command: [process.execPath, '-e', script],
      port,
      env: { PATH: process.env.PATH ?? '', JUPYTERHUB_API_TOKEN: 'secret-token', HUBAUTH_COOKIE_SECRET: 'secret-cookie', JUPYTERHUB_SERVICE_PREFIX: '/services/x/' },
    });
    await app.start();
    const env = JSON.parse((await get(port, '/')).body) as Record<string, string>;
    await app.stop();
    expect(env.PORT).toBe(String(port));
    expect(env.JUPYTERHUB_SERVICE_PREFIX).toBe('/services/x/');
    expect(env.JUPYTERHUB_API_TOKEN).toBeUndefined();
    expect(env.HUBAUTH_COOKIE_SECRET).toBeUndefined();
  });
});

describe('hubauth-proxy main()', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({ clientId: 'service-notes', redirectUri: '/services/notes/oauth_callback' });
  });
  afterAll(() => hub.close());

  test('starts the app, proxies to it with the identity, and exits with it', async () => {
    const port = await freePort();
    const token = hub.issueToken({ name: 'alice', groups: [], scopes: ['access:services!service=notes'] });
    const env = {
      PATH: process.env.PATH ?? '',
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_API_TOKEN: hub.serviceToken,
      JUPYTERHUB_CLIENT_ID: hub.clientId,
      JUPYTERHUB_SERVICE_NAME: 'notes',
      JUPYTERHUB_SERVICE_PREFIX: '/services/notes/',
      JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}`,
      HUBAUTH_COOKIE_SECRET: 'cli-test-secret-0123456789abcdef0123456789',
    };
    const log = jest.spyOn(console, 'info').mockImplementation(() => undefined);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const running = main(['--', process.execPath, APP], env);
      let whoami = { status: 0, body: '' };
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        whoami = await get(port, '/services/notes/whoami', { authorization: `token ${token}` }).catch(() => whoami);
        if (whoami.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(whoami.status).toBe(200);
      const seen = JSON.parse(whoami.body) as { user: string; headers: Record<string, string> };
      expect(seen.user).toBe('alice');
      // the app never sees the service's credentials
      expect(JSON.stringify(seen)).not.toContain(hub.serviceToken);
      // the app exits (here: killed) → the proxy exits with it
      const pid = Number(
        (await new Promise<string>((resolve) => {
          execFile('pgrep', ['-P', String(process.pid), '-f', 'notes-app.mjs'], (_e, out) => resolve(out));
        })).trim(),
      );
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGTERM');
      expect(await running).toBe(0);
      await expect(get(port, '/services/notes/whoami')).rejects.toThrow();
    } finally {
      log.mockRestore();
      warn.mockRestore();
    }
  }, 20_000);

  test('a configuration error exits with 2 and says what to fix', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['--upstream', 'ftp://x'], { JUPYTERHUB_SERVICE_NAME: 'x' })).toBe(2);
      expect(String(error.mock.calls[0]?.[0])).toMatch(/upstream/);
    } finally {
      error.mockRestore();
    }
  });
});
