/**
 * Browser steps shared by the integration files: logging in through a service (service → Hub
 * authorize → Hub login form → consent → callback → service), reading JSON pages, and `fetch()`
 * from inside a page.
 */
import type { BrowserSession, Cookie, Page } from '../../hub/browser';
import { approveConsent, hubLogin } from '../../hub/browser';
import type { IntegrationHub } from './hub-setup';

export const AUTHORIZE_PATH = '/hub/api/oauth2/authorize';

export interface ServiceLogin {
  /** Every request the page made to the Hub's authorize endpoint, in order. */
  authorizeUrls: URL[];
  /** Whether the Hub's login form was filled in. */
  loginForm: boolean;
  /** Whether the Hub's consent page was shown (and approved). */
  consent: boolean;
}

/** Fills in the Hub's login form if the page is on it (keeping its `next`). Returns whether it was. */
export async function loginIfAsked(page: Page, ix: IntegrationHub, user: string): Promise<boolean> {
  await page.waitForLoadState('load');
  const here = new URL(page.url());
  if (here.pathname !== '/hub/login') return false;
  const next = here.searchParams.get('next');
  await hubLogin(page, ix.hub.publicUrl, user, ix.hub.password, next ? { next } : {});
  return true;
}

/** Records the URLs of the authorize requests `page` makes until `stop()` is called. */
export function watchAuthorize(page: Page): { urls: URL[]; stop(): void } {
  const urls: URL[] = [];
  const onRequest = (request: { url(): string }): void => {
    const url = new URL(request.url());
    if (url.pathname === AUTHORIZE_PATH) urls.push(url);
  };
  page.on('request', onRequest);
  return { urls, stop: () => page.off('request', onRequest) };
}

/**
 * Opens `url` (under a service) and completes whatever the Hub asks for — its login form as `user`,
 * its consent page — until the browser is back at `landing` (default: `url`).
 */
export async function loginThroughService(
  page: Page,
  ix: IntegrationHub,
  url: string,
  user: string,
  landing: string = url,
): Promise<ServiceLogin> {
  const watch = watchAuthorize(page);
  try {
    await page.goto(url);
    const loginForm = await loginIfAsked(page, ix, user);
    const consent = await approveConsent(page);
    await page.waitForURL(landing, { timeout: 5000 });
    return { authorizeUrls: watch.urls, loginForm, consent };
  } finally {
    watch.stop();
  }
}

/** The page's body parsed as JSON (Chromium shows a JSON reply as text). */
export async function pageJson<T = Record<string, unknown>>(page: Page): Promise<T> {
  const text = await page.locator('body').innerText();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${page.url()} did not show JSON: ${text.slice(0, 300)}`);
  }
}

export interface FetchResult {
  status: number;
  redirected: boolean;
  url: string;
  wwwAuthenticate: string | null;
  body: string;
}

/** `fetch(url, init)` from inside the page (same origin, the page's cookies), plus an optional X-XSRFToken. */
export async function pageFetch(
  page: Page,
  url: string,
  init: { method?: string; xsrf?: 'from-cookie' | string } = {},
): Promise<FetchResult> {
  return page.evaluate(
    async ({ url, method, xsrf }) => {
      // runs in the page (no DOM types in this project)
      const { document, location } = globalThis as unknown as { document: { cookie: string }; location: { pathname: string } };
      const headers: Record<string, string> = {};
      if (xsrf === 'from-cookie') {
        const pair = document.cookie.split('; ').find((c) => c.startsWith('_xsrf='));
        if (!pair) throw new Error(`no _xsrf cookie visible at ${location.pathname}: ${document.cookie}`);
        headers['X-XSRFToken'] = decodeURIComponent(pair.slice('_xsrf='.length));
      } else if (xsrf) {
        headers['X-XSRFToken'] = xsrf;
      }
      const r = await fetch(url, { method: method ?? 'GET', headers });
      return {
        status: r.status,
        redirected: r.redirected,
        url: r.url,
        wwwAuthenticate: r.headers.get('www-authenticate'),
        body: await r.text(),
      };
    },
    { url, method: init.method, xsrf: init.xsrf },
  );
}

/** Cookies of the browser a service's pages see, by name. */
export async function cookiesByName(cookies: Promise<Cookie[]>): Promise<Map<string, Cookie[]>> {
  const map = new Map<string, Cookie[]>();
  for (const c of await cookies) map.set(c.name, [...(map.get(c.name) ?? []), c]);
  return map;
}

export interface TokenModel {
  id: string;
  /** The OAuth client's description, e.g. `JupyterHub service whoami-oauth-koa`; `JupyterHub` for API tokens. */
  oauth_client?: string;
  session_id?: string | null;
  expires_at?: string | null;
  scopes?: string[];
}

/** The OAuth client description the Hub gives a service's client in token models. */
export const serviceClientDescription = (service: string): string => `JupyterHub service ${service}`;

/** `user`'s tokens issued to service OAuth clients. */
export async function serviceTokensOf(ix: IntegrationHub, user: string, service?: string): Promise<TokenModel[]> {
  const res = await ix.hub.api<{ api_tokens: TokenModel[] }>('GET', `/users/${encodeURIComponent(user)}/tokens`);
  if (res.status !== 200) throw new Error(`listing ${user}'s tokens: HTTP ${res.status}`);
  return res.body.api_tokens.filter((t) =>
    service === undefined ? t.oauth_client?.startsWith('JupyterHub service ') : t.oauth_client === serviceClientDescription(service),
  );
}

/**
 * Deletes `user`'s tokens issued to services, so that the next login shows the Hub's consent page
 * again (the Hub skips it while a token of the same client covers the requested scopes).
 */
export async function revokeServiceTokens(ix: IntegrationHub, user: string): Promise<void> {
  for (const t of await serviceTokensOf(ix, user)) {
    const res = await ix.hub.api('DELETE', `/users/${encodeURIComponent(user)}/tokens/${t.id}`);
    if (res.status !== 204) throw new Error(`deleting ${user}'s token ${t.id}: HTTP ${res.status}`);
  }
}

/**
 * A clean browser for the next scenario: no cookies (no Hub login, no service login), a single
 * blank tab, and none of `users`' service tokens (so the consent page shows again).
 */
export async function resetBrowser(browser: BrowserSession, ix: IntegrationHub, users: readonly string[] = ['alice']): Promise<Page> {
  for (const user of users) await revokeServiceTokens(ix, user);
  await browser.context.clearCookies();
  for (const p of browser.context.pages()) if (p !== browser.page) await p.close();
  await browser.page.goto('about:blank');
  return browser.page;
}
