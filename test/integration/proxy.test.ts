/**
 * `hubauth-proxy` against a real JupyterHub (6.x and 5.x), through its real proxy, in headless
 * Chromium, with a real upstream app (examples/proxy/notes-app.mjs: HTTP and websockets):
 *
 * - `notes`: a managed service, `hubauth-proxy -- node notes-app.mjs` (the proxy starts the app on a
 *   port of its choosing). Log in through the proxy; the app shows the user; a websocket through the
 *   proxy opens and carries the identity; identity headers set by the page never reach the app;
 *   a page of another origin (another port of 127.0.0.1: same site, so the Lax login cookie IS
 *   sent) can neither POST with the cookie nor open a websocket with it.
 * - `notes-staff`: the same with `--hub-groups staff`: bob gets 403, alice the app.
 * - Tokens: an API token reaches the app as its user, spoofed headers are dropped, the token is not
 *   passed on; anonymous API calls get 401.
 * - Signals: SIGTERM to `hubauth-proxy -- <app>` stops the app it started, then the proxy (exit 0).
 * - `fwd`: nginx (Debian's) in front of the app with `auth_request` to the proxy's forward-auth
 *   endpoint: an anonymous browser is sent to the Hub's login, comes back logged in and sees the app
 *   with its user; an anonymous API call gets 401; spoofed headers are replaced.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { HUB_VERSIONS, freePorts, httpRequest, repoRoot, startHub, type HubVersion, type RunningHub } from '../hub';
import { approveConsent, launchBrowser, type BrowserSession, type Page } from '../hub/browser';
import { loginIfAsked } from './support/browser-flows';
import type { IntegrationHub } from './support/hub-setup';
import { nginxUnavailableReason, startNginx, type RunningNginx } from './support/nginx';

jest.setTimeout(120_000);

const BIN = path.join(repoRoot, 'packages/proxy/dist/bin.js');
const APP = path.join(repoRoot, 'examples/proxy/notes-app.mjs');
const secret = (): string => randomBytes(32).toString('hex');

/** What the browser pages are, as far as these tests look (the project compiles without the DOM library). */
interface PageGlobals {
  document: {
    getElementById(id: string): { textContent: string | null } | null;
    querySelector(selector: string): { textContent: string | null } | null;
  };
  wsHello: Whoami;
  attack(): Promise<{ post: string; ws: string }>;
}

interface Whoami {
  user: string | null;
  groups: string[];
  url: string;
  headers: Record<string, string>;
}

/** A process we start ourselves (not the Hub), stopped at the end. */
function startProcess(args: string[], env: Record<string, string>): { child: ChildProcess; log: () => string; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ['--require', path.join(__dirname, 'support/die-with-parent.cjs'), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    log: () => output.split('\n').slice(-20).join('\n'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForHttp(url: string, ok: (status: number) => boolean = (s) => s > 0): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await httpRequest(url).then((r) => r.status, () => 0);
    if (ok(status)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A page of another origin (same site: another port of 127.0.0.1) that tries to use the proxy with the browser's cookie. */
function startEvilSite(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const html = `<!doctype html><html><body><script>
window.attack = async () => {
  const post = await fetch(${JSON.stringify(`${target}notes`)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ text: 'forged' }) })
    .then(() => 'sent', (e) => 'failed: ' + e.message);
  const ws = await new Promise((resolve) => {
    const s = new WebSocket(${JSON.stringify(`${target.replace(/^http/, 'ws')}ws`)});
    s.onmessage = (e) => resolve('opened: ' + e.data);
    s.onerror = () => resolve('refused');
    setTimeout(() => resolve('timeout'), 5000);
  });
  return { post, ws };
};
</script></body></html>`;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r()) && server.closeAllConnections()) });
    });
  });
}

/** Opens `url`, logs in at the Hub as `user` if asked, approves the consent page, and waits to be back on `url`'s origin. */
async function browse(page: Page, hub: RunningHub, url: string, user: string): Promise<void> {
  await page.goto(url);
  await loginIfAsked(page, { hub } as IntegrationHub, user);
  await approveConsent(page);
  await page.waitForURL((u) => u.href.startsWith(url.replace(/\?.*$/, '')), { timeout: 10_000 });
}

const skipNginx = nginxUnavailableReason();

describe.each(HUB_VERSIONS.map((v) => [v] as const))('hubauth-proxy on JupyterHub %s', (version: HubVersion) => {
  let hub: RunningHub;
  let browser: BrowserSession;
  let nginx: RunningNginx | undefined;
  const processes: Array<{ stop: () => Promise<void>; log: () => string }> = [];
  let fwdPort: number;
  let appPort: number;
  let nginxPort: number;

  beforeAll(async () => {
    const cookieSecret = secret();
    const fwdToken = secret();
    [fwdPort, appPort, nginxPort] = (await freePorts(3)) as [number, number, number];
    const launching = launchBrowser();
    const managed = (extra: string[]) => ({
      command: [process.execPath, BIN, ...extra, '--', process.execPath, APP],
      cwd: repoRoot,
      env: { HUBAUTH_COOKIE_SECRET: cookieSecret },
    });
    try {
      hub = await startHub({
        version,
        users: ['alice', 'bob'],
        groups: { staff: ['alice'] },
        roles: [{ name: 'everyone-access', scopes: ['access:services'], users: ['alice', 'bob'] }],
        services: [
          { name: 'notes', managed: managed([]) },
          { name: 'notes-staff', managed: managed(['--hub-groups', 'staff']) },
          {
            name: 'fwd',
            oauth: true,
            external: {
              apiToken: fwdToken,
              oauthClientId: 'service-fwd',
              oauthRedirectUri: `http://127.0.0.1:${nginxPort}/services/fwd/oauth_callback`,
            },
          },
        ],
      });
    } finally {
      browser = await launching;
    }
    // nginx → (auth_request) → hubauth-proxy in forward-auth mode; nginx → the app itself.
    const app = startProcess([APP], { PORT: String(appPort) });
    processes.push(app);
    const fwd = startProcess([BIN, '--port', String(fwdPort)], {
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_API_TOKEN: fwdToken,
      JUPYTERHUB_BASE_URL: '/',
      JUPYTERHUB_SERVICE_NAME: 'fwd',
      JUPYTERHUB_SERVICE_PREFIX: '/services/fwd/',
      JUPYTERHUB_CLIENT_ID: 'service-fwd',
      JUPYTERHUB_OAUTH_CALLBACK_URL: `http://127.0.0.1:${nginxPort}/services/fwd/oauth_callback`,
      JUPYTERHUB_PUBLIC_HUB_URL: `${hub.publicUrl}/hub/`,
      HUBAUTH_COOKIE_SECRET: cookieSecret,
    });
    processes.push(fwd);
    await waitForHttp(`http://127.0.0.1:${appPort}/whoami`);
    await waitForHttp(`http://127.0.0.1:${fwdPort}/services/fwd/_hubauth/auth`);
    if (!skipNginx) {
      nginx = await startNginx(nginxPort, nginxForwardAuthConfig(nginxPort, fwdPort, appPort));
    }
  });

  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await Promise.all(processes.map((p) => p.stop()));
    await hub?.stop();
  });

  const notesUrl = (sub = ''): string => `${hub.publicUrl}/services/notes/${sub}`;

  test('log in through the proxy: the app sees the user, and a websocket through the proxy carries the identity', async () => {
    const page = await browser.newPage();
    await browse(page, hub, notesUrl(), 'alice');
    await expect(page.locator('#user').innerText()).resolves.toBe('alice');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent === 'live');
    const hello = await page.evaluate(() => (globalThis as unknown as PageGlobals).wsHello);
    expect(hello.user).toBe('alice');
    expect(hello.groups).toEqual(['staff']);
    expect(hello.url).toBe('/ws');
    // neither hubauth's login cookie nor the Hub's session id reach the app
    expect(hello.headers.cookie ?? '').not.toMatch(/service-notes|jupyterhub-session-id/);
    // a note posted by the page (same origin, the app's own fetch: no xsrf token) comes back over the websocket
    await page.fill('#text', 'hello from alice');
    await page.click('button');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('#notes li')?.textContent === 'alice: hello from alice');
    // identity headers set by the page itself are replaced
    const spoofed = await page.evaluate(async () => {
      const res = await fetch('whoami', { headers: { 'X-Hubauth-User': 'mallory', 'X-Hubauth-Groups': 'admins' } });
      return (await res.json()) as Whoami;
    });
    expect(spoofed.user).toBe('alice');
    expect(spoofed.groups).toEqual(['staff']);
    await page.close();
  });

  test('a page of another origin can neither POST nor open a websocket with the login cookie', async () => {
    const page = await browser.newPage();
    await browse(page, hub, notesUrl(), 'alice');
    const evil = await startEvilSite(notesUrl());
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(notesUrl('notes'))) statuses.push(r.status());
    });
    const wsErrors: string[] = [];
    page.on('websocket', (ws) => ws.on('socketerror', (e) => wsErrors.push(e)));
    try {
      await page.goto(evil.url);
      const result = await page.evaluate(() => (globalThis as unknown as PageGlobals).attack());
      expect(result).toEqual({ post: 'sent', ws: 'refused' });
      // 403, not 401: the cookie was sent (same site) and refused for its origin
      expect(statuses).toEqual([403]);
      expect(wsErrors.join(' ')).toMatch(/403/);
    } finally {
      await evil.close();
    }
    // the forged note never reached the app (it would be among the notes every new websocket gets)
    await page.goto(notesUrl());
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent === 'live');
    const texts = await page.locator('#notes li').allInnerTexts();
    expect(texts.join('\n')).not.toContain('forged');
    await page.close();
  });

  test('--hub-groups: bob gets 403, alice the app', async () => {
    const bobToken = await hub.createUserToken('bob');
    const aliceToken = await hub.createUserToken('alice');
    const url = `${hub.publicUrl}/services/notes-staff/whoami`;
    expect((await httpRequest(url, { headers: { authorization: `token ${bobToken}` } })).status).toBe(403);
    const alice = await httpRequest(url, { headers: { authorization: `token ${aliceToken}` } });
    expect(alice.status).toBe(200);
    expect((JSON.parse(alice.text) as Whoami).user).toBe('alice');
  });

  test('tokens: the app gets the user, never the token or spoofed headers; anonymous API calls get 401', async () => {
    const token = await hub.createUserToken('bob');
    const res = await httpRequest(notesUrl('whoami?x=1'), {
      headers: { authorization: `token ${token}`, 'x-hubauth-user': 'alice', x_hubauth_groups: 'staff', 'X-Hubauth-User-Model': '{}' },
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.text) as Whoami;
    expect(seen.user).toBe('bob');
    expect(seen.groups).toEqual([]);
    expect(seen.url).toBe('/whoami?x=1');
    expect(JSON.parse(seen.headers['x-hubauth-user-model'] as string)).toMatchObject({ name: 'bob', kind: 'user' });
    expect(JSON.stringify(seen)).not.toContain(token);
    expect(seen.headers.x_hubauth_groups).toBeUndefined();
    expect((await httpRequest(notesUrl('whoami'))).status).toBe(401);
  });

  test('a signal to hubauth-proxy stops the app it started, then the proxy', async () => {
    const [port] = (await freePorts(1)) as [number];
    const proxy = startProcess([BIN, '--port', String(port), '--', process.execPath, APP], {
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_API_TOKEN: hub.serviceToken('fwd'),
      JUPYTERHUB_SERVICE_NAME: 'fwd',
      JUPYTERHUB_SERVICE_PREFIX: '/services/fwd/',
      JUPYTERHUB_CLIENT_ID: 'service-fwd',
      HUBAUTH_COOKIE_SECRET: secret(),
    });
    processes.push(proxy);
    const token = await hub.createUserToken('alice');
    const url = `http://127.0.0.1:${port}/services/fwd/whoami`;
    await waitForHttp(url, (s) => s === 200 || s === 401);
    const deadline = Date.now() + 20_000;
    let res = await httpRequest(url, { headers: { authorization: `token ${token}` } });
    while (res.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await httpRequest(url, { headers: { authorization: `token ${token}` } });
    }
    expect((JSON.parse(res.text) as Whoami).user).toBe('alice');
    const children = await new Promise<number[]>((resolve) =>
      execFile('pgrep', ['-P', String(proxy.child.pid)], (_e, out) => resolve(out.split('\n').filter(Boolean).map(Number))),
    );
    expect(children).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
    proxy.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(children.filter(alive)).toEqual([]);
  });

  (skipNginx ? test.skip : test)('nginx auth_request: anonymous → the Hub login, logged in → the app with the user', async () => {
    const base = `http://127.0.0.1:${nginxPort}/services/fwd/`;
    const api = await httpRequest(`${base}whoami`);
    expect(api.status).toBe(401);
    const token = await hub.createUserToken('bob');
    const withToken = await httpRequest(`${base}whoami`, { headers: { authorization: `token ${token}`, 'x-hubauth-user': 'alice' } });
    expect(withToken.status).toBe(200);
    expect((JSON.parse(withToken.text) as Whoami).user).toBe('bob');

    const context = await launchBrowser();
    try {
      const page = await context.newPage();
      const visited: string[] = [];
      page.on('request', (r) => visited.push(new URL(r.url()).pathname));
      await browse(page, hub, `${base}?from=nginx`, 'alice');
      expect(visited).toContain('/hub/api/oauth2/authorize');
      expect(new URL(page.url()).search).toBe('?from=nginx');
      await expect(page.locator('#user').innerText()).resolves.toBe('alice');
      const seen = await page.evaluate(async () => (await (await fetch('whoami', { headers: { 'X-Hubauth-User': 'mallory' } })).json()) as Whoami);
      expect(seen.user).toBe('alice');
      expect(seen.headers.cookie ?? '').not.toContain('service-fwd');
    } finally {
      await context.close();
    }
  });
});

/**
 * The documented nginx set-up (packages/proxy/README.md): the app at /services/fwd/, the proxy's
 * callback and login endpoints next to it, every other request checked with `auth_request`.
 */
function nginxForwardAuthConfig(port: number, proxyPort: number, appPort: number): string {
  return `
  server {
    listen 127.0.0.1:${port};
    # hubauth-proxy's own routes: the OAuth callback, logout and the login endpoint
    location ~ ^/services/fwd/(oauth_callback|logout|_hubauth/login)$ {
      proxy_pass http://127.0.0.1:${proxyPort};
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
    }
    location = /_hubauth_check {
      internal;
      proxy_pass http://127.0.0.1:${proxyPort}/services/fwd/_hubauth/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }
    location @hubauth_login {
      rewrite ^ /services/fwd/_hubauth/login break;
      proxy_pass http://127.0.0.1:${proxyPort};
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
    }
    location /services/fwd/ {
      auth_request /_hubauth_check;
      error_page 401 = @hubauth_login;
      auth_request_set $hubauth_user $upstream_http_x_hubauth_user;
      auth_request_set $hubauth_groups $upstream_http_x_hubauth_groups;
      auth_request_set $hubauth_model $upstream_http_x_hubauth_user_model;
      auth_request_set $hubauth_cookie $upstream_http_x_hubauth_cookie;
      proxy_set_header X-Hubauth-User $hubauth_user;
      proxy_set_header X-Hubauth-Groups $hubauth_groups;
      proxy_set_header X-Hubauth-User-Model $hubauth_model;
      proxy_set_header Host $http_host;
      # the app gets neither hubauth's login cookie nor a Hub token
      proxy_set_header Cookie $hubauth_cookie;
      proxy_set_header Authorization "";
      proxy_pass http://127.0.0.1:${appPort}/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $http_connection;
    }
  }`;
}
