/**
 * Shared helpers of core's unit tests: request builders, a minimal browser (cookie jar plus manual
 * redirect following against the fake Hub), a recording logger and a transcript of everything the
 * library produced, so that tests can assert that no secret ever leaks into it.
 */
import { randomBytes } from 'node:crypto';
import type { FakeHub, FakeUser } from '@hubauth/testing';
import type { HubAuthLogger, HubOAuthOptions } from '../src/config';
import { CookieSealer } from '../src/cookies';
import { isHubAuthError } from '../src/errors';
import type { HubOAuth } from '../src/hub-oauth';
import type { HubRequest, HubRequestHeaders, HubResponse } from '../src/types';

export const PREFIX = '/services/whoami/';

/** Open-redirect and header-injection vectors for `next`. None may leave the service. */
export const HOSTILE_NEXT: ReadonlyArray<readonly [label: string, next: string]> = [
  ['scheme-relative', '//evil.example/'],
  ['triple slash', '///evil.example/'],
  ['slash backslash', '/\\evil.example/'],
  ['backslash slash', '\\/evil.example/'],
  ['two backslashes', '\\\\evil.example/'],
  ['https: without slashes', 'https:evil.example'],
  ['absolute https', 'https://evil.example/'],
  ['absolute http under the prefix path', 'http://evil.example/services/whoami/'],
  ['upper-case scheme', 'HTTPS://evil.example/'],
  ['encoded slashes', '/%2F%2Fevil.example'],
  ['encoded slashes, lower case', '/%2f%2fevil.example/'],
  ['encoded CRLF at the start', '%0d%0aSet-Cookie:x=y'],
  ['raw CRLF', `${PREFIX}\r\nSet-Cookie: x=y`],
  ['userinfo', '/@evil.example'],
  ['scheme-relative userinfo', '//@evil.example'],
  ['javascript:', 'javascript:alert(1)'],
  ['mixed-case javascript:', 'JaVaScRiPt:alert(1)'],
  ['space before javascript:', ' javascript:alert(1)'],
  ['data:', 'data:text/html,<script>alert(1)</script>'],
  ['over-long', `${PREFIX}${'a'.repeat(2048)}`],
  ['a path outside the prefix', '/services/other/'],
  ['a sibling prefix', '/services/whoamiX/'],
  ['a shorter path', '/services/who'],
  ['dot-dot out of the prefix', `${PREFIX}..`],
  ['dot-dot to a scheme-relative path', `${PREFIX}..//evil.example`],
  ['double dot-dot to a scheme-relative path', `${PREFIX}../..//evil.example`],
  ['encoded dot-dot', `${PREFIX}%2e%2e/%2e%2e//evil.example`],
  ['dot segment then two slashes', '/.//evil.example'],
  ['fullwidth solidus', '/\uff0fevil.example'],
  ['two fullwidth solidi', '\uff0f\uff0fevil.example'],
  ['division slashes', '/\u2215\u2215evil.example'],
  ['tab inside //', '/\t/evil.example'],
  ['newline inside //', '/\n/evil.example'],
  ['carriage return inside //', '/\r/evil.example'],
  ['NUL', `${PREFIX}\u0000`],
  ['C1 control', `${PREFIX}\u0085x`],
  ['leading tab', '\t//evil.example'],
  ['leading space', ' //evil.example'],
  ['empty', ''],
  ['query only', '?next=//evil.example'],
  ['fragment only', '#//evil.example'],
  ['http: with one slash', 'http:/evil.example'],
  ['a URL inside the path', '/http://evil.example'],
];

/** A fresh 64-character cookie secret. */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

export function request(url: string, init: Partial<Omit<HubRequest, 'url'>> = {}): HubRequest {
  return { method: 'GET', headers: {}, ...init, url };
}

/** A top-level browser navigation. */
export function navigation(url: string, headers: HubRequestHeaders = {}): HubRequest {
  return request(url, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html,*/*', ...headers } });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A logger that keeps every line. */
export class RecordingLogger implements HubAuthLogger {
  readonly lines: string[] = [];
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
}

/** Everything the library handed back during a test file: responses, errors, log lines. */
export class Transcript {
  private readonly parts: string[] = [];

  add(value: unknown): void {
    if (value instanceof Error) {
      const headers = isHubAuthError(value) ? value.headers : {};
      this.parts.push(`${value.name}: ${value.message} ${JSON.stringify(headers)}`);
      return;
    }
    this.parts.push(typeof value === 'string' ? value : JSON.stringify(value));
  }

  get text(): string {
    return this.parts.join('\n');
  }

  get size(): number {
    return this.parts.length;
  }

  /** The secrets that appear anywhere in what was recorded. */
  leaked(secrets: Iterable<string>): string[] {
    const text = this.text;
    return [...new Set(secrets)].filter((s) => s.length >= 8 && text.includes(s));
  }
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** Parses one `Set-Cookie` value (attribute names lower-cased; flags map to ''). */
export function parseSetCookie(header: string): ParsedSetCookie {
  const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    if (i < 0) attributes.set(attr.toLowerCase(), '');
    else attributes.set(attr.slice(0, i).toLowerCase(), attr.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

export function setCookies(response: { headers: Record<string, string | string[]> } | { setCookies: string[] }): string[] {
  if ('setCookies' in response) return response.setCookies;
  const value = response.headers['set-cookie'];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

export function location(response: HubResponse): string {
  const value = response.headers.location;
  if (typeof value !== 'string') throw new Error(`no location in ${JSON.stringify(response)}`);
  return value;
}

/** A cookie jar that applies `Set-Cookie` headers the way a browser does (ignoring paths and domains). */
export class Browser {
  readonly jar = new Map<string, string>();

  apply(response: { headers: Record<string, string | string[]> } | { setCookies: string[] }): void {
    for (const header of setCookies(response)) {
      const cookie = parseSetCookie(header);
      const maxAge = cookie.attributes.get('max-age');
      if (maxAge !== undefined && Number(maxAge) <= 0) this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
  }

  cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined;
    return [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  /** A request carrying this browser's cookies. */
  request(url: string, init: Partial<Omit<HubRequest, 'url'>> = {}): HubRequest {
    const cookie = this.cookieHeader();
    return request(url, { ...init, headers: { ...(cookie ? { cookie } : {}), ...init.headers } });
  }

  navigate(url: string, headers: HubRequestHeaders = {}): HubRequest {
    return this.request(url, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html,*/*', ...headers } });
  }

  clone(): Browser {
    const copy = new Browser();
    for (const [n, v] of this.jar) copy.jar.set(n, v);
    return copy;
  }
}

/**
 * Follows the authorize redirect on the fake Hub the way a browser would (the Hub's user must be
 * signed in with `hub.signInAtHub`) and returns where the Hub sent the browser: the callback path + query.
 */
export async function authorizeAtHub(hub: FakeHub, authorizeLocation: string): Promise<string> {
  const url = new URL(authorizeLocation, hub.url);
  if (url.origin !== hub.url) throw new Error(`authorize URL ${url.href} is not on the fake Hub`);
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  const target = res.headers.get('location');
  if (res.status !== 302 || target === null) throw new Error(`the Hub answered ${res.status} to authorize`);
  return target;
}

/** Options of a HubOAuth wired to the fake Hub, with no environment. */
export function oauthOptions(hub: FakeHub, extra: HubOAuthOptions = {}): HubOAuthOptions {
  return {
    env: {},
    apiUrl: hub.apiUrl,
    apiToken: hub.serviceToken,
    clientId: hub.clientId,
    serviceName: hub.serviceName,
    servicePrefix: PREFIX,
    hubHost: hub.url,
    ...extra,
  };
}

/** Runs a whole login in `browser`: begin, authorize at the Hub, callback. Returns the callback response. */
export async function login(
  auth: HubOAuth,
  hub: FakeHub,
  browser: Browser,
  user: FakeUser,
  url = `${PREFIX}page?x=1`,
): Promise<HubResponse> {
  hub.signInAtHub(user);
  const start = auth.beginLogin(browser.navigate(url));
  browser.apply(start);
  const callback = await authorizeAtHub(hub, location(start));
  const done = await auth.handleCallback(browser.navigate(callback));
  browser.apply(done);
  return done;
}

/** Opens a login cookie value the way HubOAuth seals it; returns the Hub token inside. */
export function tokenInSessionCookie(secret: string, cookieName: string, value: string): string | null {
  const opened = new CookieSealer([secret], 'session').open(cookieName, value);
  if (!opened) return null;
  const payload = JSON.parse(opened.payload) as { t?: unknown };
  return typeof payload.t === 'string' ? payload.t : null;
}

/** Awaits `promise` and returns its rejection (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection, but the promise resolved');
}
