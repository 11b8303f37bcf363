/**
 * Two replicas of one service sharing Redis, against the real JupyterHub (6.x and 5.x) in headless Chromium: a
 * browser logs in through replica A (the Hub's proxy route), replica B knows it too (same cookie
 * secret, identity from Redis); after a logout at A, replica B refuses a copy of the same browser's
 * login cookie at once, although B had the identity in its own cache for 300 s.
 * Replicas are test/redis/replica.mjs (BUILT packages); redis-server is Debian's, on a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort, HUB_VERSIONS, startHub, type HubVersion, type RunningHub } from '../hub';
import { hubLogin, launchBrowser, approveConsent, type BrowserSession } from '../hub/browser';
import { startRedis, type RunningRedis } from '../redis';

jest.setTimeout(180_000);

const SERVICE = 'replicated';
const PREFIX = `/services/${SERVICE}/`;

async function startReplica(children: ChildProcess[], port: number, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [path.join(__dirname, '../redis/replica.mjs')], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}: ${output}`)));
  });
  return `http://127.0.0.1:${port}`;
}

describe.each(HUB_VERSIONS.map((v) => [v] as [HubVersion]))('two replicas sharing Redis, real JupyterHub %s, Chromium', (version) => {
  let hub: RunningHub;
  let redis: RunningRedis;
  let browser: BrowserSession;
  const children: ChildProcess[] = [];
  let replicaB = '';

  beforeAll(async () => {
    const apiToken = randomBytes(16).toString('hex');
    const [portA, portB] = [await freePort(), await freePort()];
    redis = await startRedis();
    hub = await startHub({
      version,
      users: ['alice'],
      roles: [{ name: 'alice-access', scopes: ['access:services'], users: ['alice'] }],
      services: [{ name: SERVICE, external: { url: `http://127.0.0.1:${portA}`, apiToken }, oauthNoConfirm: true }],
    });
    const env = {
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_API_TOKEN: apiToken,
      JUPYTERHUB_CLIENT_ID: `service-${SERVICE}`,
      JUPYTERHUB_SERVICE_NAME: SERVICE,
      JUPYTERHUB_SERVICE_PREFIX: PREFIX,
      JUPYTERHUB_OAUTH_CALLBACK_URL: `${PREFIX}oauth_callback`,
      HUBAUTH_COOKIE_SECRET: randomBytes(32).toString('hex'),
      HUBAUTH_REDIS_URL: redis.url,
    };
    await startReplica(children, portA, env); // A: the Hub's proxy routes the service to it
    replicaB = await startReplica(children, portB, env);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    for (const child of children) child.kill('SIGTERM');
    await hub?.stop();
    await redis?.stop();
  });

  test('log out at replica A: replica B refuses the same browser at once', async () => {
    const page = browser.page;
    const atA = `${hub.publicUrl}${PREFIX}whoami`;
    await page.goto(atA);
    if (new URL(page.url()).pathname === '/hub/login') {
      await hubLogin(page, hub.publicUrl, 'alice', hub.password, { next: new URL(page.url()).searchParams.get('next') ?? undefined });
    }
    await approveConsent(page);
    await page.waitForURL(atA);
    expect(JSON.parse((await page.textContent('body')) ?? '{}')).toEqual({ name: 'alice' });

    // Cookies ignore ports: B, on its own port of the same host, gets the same login cookie.
    const atB = `${replicaB}${PREFIX}whoami`;
    const resB = await page.goto(atB);
    expect(resB?.status()).toBe(200);
    expect(JSON.parse((await page.textContent('body')) ?? '{}')).toEqual({ name: 'alice' });
    const loginCookie = (await browser.cookies(atB)).filter((c) => c.name === `service-${SERVICE}`);
    expect(loginCookie).toHaveLength(1);

    // Logout at A (through the Hub's proxy); the copy of the cookie goes back into the browser.
    await page.goto(`${hub.publicUrl}${PREFIX}logout`);
    await browser.context.addCookies(loginCookie);
    const started = Date.now();
    const again = await page.request.get(atB, { maxRedirects: 0 });
    expect(again.status()).toBe(401);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
