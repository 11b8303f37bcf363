/**
 * OAuth 2 authorization-code pieces that need no I/O: `next` URL validation, PKCE, and the
 * stateless login state (a sealed state parameter plus a sealed per-flow cookie).
 */
import type { CookieSealer } from './cookies';
import { digest, randomBytes } from './crypto';

/** Longest `next` URL kept; longer ones fall back to the service prefix. */
export const MAX_NEXT_LENGTH = 2048;

const ORIGIN = 'http://next.invalid';
// C0 controls, DEL, C1 controls, and backslashes, which browsers read as slashes.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\\]/;

/**
 * Returns `next` when it is a same-origin path under `prefix`, else `prefix`. The value is parsed,
 * not prefix-matched: scheme-relative (`//host`, `/\host`), absolute and `javascript:` URLs, control
 * characters, encoded tricks that normalise outside the prefix, and over-long values all fall back.
 */
export function safeNextUrl(next: unknown, prefix: string): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_NEXT_LENGTH) return prefix;
  if (!next.startsWith('/') || next.startsWith('//') || UNSAFE.test(next)) return prefix;
  let url: URL;
  try {
    url = new URL(next, ORIGIN);
  } catch {
    return prefix;
  }
  if (url.origin !== ORIGIN || url.username || url.password) return prefix;
  const path = url.pathname;
  // After normalisation ("/a/..//b" → "//b") the path must still be an absolute path, not a host.
  if (!path.startsWith('/') || path.startsWith('//')) return prefix;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path !== bare && !path.startsWith(prefix)) return prefix;
  const result = (path === bare ? prefix : path) + url.search;
  return result.length > MAX_NEXT_LENGTH ? prefix : result;
}

/** A PKCE verifier (43 characters) and its S256 challenge. */
export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: digest(verifier) };
}

/** What travels through the Hub in `state`: the flow id and where to return. Encrypted, so opaque. */
export interface StateParam {
  id: string;
  next: string;
  issuedAt: number;
  /** Name of the flow's state cookie (absent in states sealed by earlier versions). */
  cookie?: string;
}

/** What stays in the browser's per-flow cookie: the flow id and the PKCE verifier. */
export interface StateCookie {
  id: string;
  verifier: string;
  issuedAt: number;
}

/** Seals and opens login state. `name` binds both to this service's state cookie name. */
export class StateCodec {
  constructor(
    private readonly sealer: CookieSealer,
    private readonly name: string,
    private readonly maxAge: number,
  ) {}

  /** A new flow: its id, PKCE pair, the `state` parameter and the cookie value. */
  create(next: string, now = Date.now(), cookieName: string = this.name): { state: string; cookie: string; challenge: string } {
    const id = randomBytes(16).toString('base64url');
    const { verifier, challenge } = createPkcePair();
    const issuedAt = Math.floor(now / 1000);
    return {
      state: this.sealer.seal(`${this.name}:param`, JSON.stringify({ id, next, issuedAt, cookie: cookieName } satisfies StateParam)),
      cookie: this.sealer.seal(this.name, JSON.stringify({ id, verifier, issuedAt } satisfies StateCookie)),
      challenge,
    };
  }

  /** Opens a `state` parameter: the value, `'expired'`, or `null` when forged or foreign. */
  openParam(state: string, now = Date.now()): StateParam | 'expired' | null {
    const parsed = this.openJson(`${this.name}:param`, state);
    if (!parsed || typeof parsed.id !== 'string' || typeof parsed.next !== 'string' || typeof parsed.issuedAt !== 'number') {
      return null;
    }
    if (parsed.cookie !== undefined && typeof parsed.cookie !== 'string') return null;
    return this.expired(parsed.issuedAt, now) ? 'expired' : (parsed as unknown as StateParam);
  }

  /** Opens a state cookie value (sealed under the base name, whatever suffix the cookie has). */
  openCookie(value: string, now = Date.now()): StateCookie | null {
    const parsed = this.openJson(this.name, value);
    if (!parsed || typeof parsed.id !== 'string' || typeof parsed.verifier !== 'string' || typeof parsed.issuedAt !== 'number') {
      return null;
    }
    return this.expired(parsed.issuedAt, now) ? null : (parsed as unknown as StateCookie);
  }

  private expired(issuedAt: number, now: number): boolean {
    const age = Math.floor(now / 1000) - issuedAt;
    return age > this.maxAge || age < -60;
  }

  private openJson(name: string, value: string): Record<string, unknown> | null {
    const opened = this.sealer.open(name, value);
    if (!opened) return null;
    try {
      const data: unknown = JSON.parse(opened.payload);
      return data && typeof data === 'object' ? (data as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}
