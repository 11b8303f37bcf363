/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) for the integration
 * tests, plus helpers for the Hub's login form and OAuth confirmation page.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Cookie, type Page } from 'playwright-core';

export type { BrowserContext, Cookie, Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Why Chromium cannot be launched, or undefined when it can. */
export function chromiumUnavailableReason(executablePath = CHROMIUM_PATH): string | undefined {
  return existsSync(executablePath)
    ? undefined
    : `${executablePath} is missing: run \`bash scripts/ensure-chromium.sh\``;
}

export interface LaunchBrowserOptions {
  executablePath?: string;
  headless?: boolean;
  extraArgs?: string[];
  /** Default timeout for page actions and navigations (ms). Default 15000. */
  timeoutMs?: number;
}

export interface BrowserSession {
  /** A persistent context on a fresh, temporary user-data dir. */
  context: BrowserContext;
  /** The first page of the context. */
  page: Page;
  userDataDir: string;
  newPage(): Promise<Page>;
  /** The last URL any page of this session navigated to (for failure diagnostics). */
  lastUrl(): string;
  /** Cookies of the context, optionally only those sent to `url`. */
  cookies(url?: string): Promise<Cookie[]>;
  /** Closes Chromium and removes the user-data dir. Idempotent. */
  close(): Promise<void>;
}

export async function launchBrowser(opts: LaunchBrowserOptions = {}): Promise<BrowserSession> {
  const executablePath = opts.executablePath ?? CHROMIUM_PATH;
  const reason = chromiumUnavailableReason(executablePath);
  if (reason) throw new Error(reason);
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'hubauth-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: opts.headless ?? true,
      args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
      timeout: 30000,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const timeoutMs = opts.timeoutMs ?? 15000;
  context.setDefaultTimeout(timeoutMs);
  context.setDefaultNavigationTimeout(timeoutMs);

  let last = '';
  const watch = (page: Page): void => {
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) last = frame.url();
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());

  let closing: Promise<void> | undefined;
  return {
    context,
    page,
    userDataDir,
    newPage: () => context.newPage(),
    lastUrl: () => last,
    cookies: (url?: string) => (url === undefined ? context.cookies() : context.cookies(url)),
    close(): Promise<void> {
      closing ??= (async () => {
        try {
          await context.close();
        } finally {
          rmSync(userDataDir, { recursive: true, force: true });
        }
      })();
      return closing;
    },
  };
}

export interface HubLoginOptions {
  /** Passed as `?next=` to /hub/login. */
  next?: string;
}

/**
 * Logs in through the Hub's login form (`/hub/login`, fields `username` and `password`). Resolves
 * once the Hub has redirected away from the form; throws with the form's error text otherwise.
 */
export async function hubLogin(
  page: Page,
  hubPublicUrl: string,
  user: string,
  password: string,
  opts: HubLoginOptions = {},
): Promise<void> {
  const base = hubPublicUrl.replace(/\/+$/, '');
  const query = opts.next ? `?next=${encodeURIComponent(opts.next)}` : '';
  await page.goto(`${base}/hub/login${query}`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/hub/login')),
    page.click('#login_submit'),
  ]);
  await page.waitForLoadState('load');
  if (response.status() !== 302) {
    const error = await page
      .locator('.login_error')
      .first()
      .textContent({ timeout: 1000 })
      .catch(() => null);
    throw new Error(
      `Hub login as ${user} failed: POST /hub/login answered ${response.status()}` +
        (error ? `: ${error.trim()}` : '') +
        ` (now at ${page.url()})`,
    );
  }
}

/**
 * Clicks "Authorize" on the Hub's OAuth confirmation page if that page is shown, and waits for the
 * browser to leave it. Returns whether the page was shown.
 */
export async function approveConsent(page: Page): Promise<boolean> {
  await page.waitForLoadState('load');
  if (!new URL(page.url()).pathname.includes('/oauth2/authorize')) return false;
  const button = page.locator('form button[type="submit"]', { hasText: 'Authorize' });
  if ((await button.count()) === 0) return false;
  await Promise.all([
    page.waitForURL((u) => !u.pathname.includes('/oauth2/authorize')),
    button.first().click(),
  ]);
  await page.waitForLoadState('load');
  return true;
}
