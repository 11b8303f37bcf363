/**
 * Token extraction: the `Authorization` header (`token` or `bearer`), then `?token=` where allowed.
 * Malformed credentials are rejected here, before any Hub call.
 */
import { InvalidRequestError } from './errors';
import { isWebsocket, queryParam } from './request';
import type { HubRequest } from './types';

/** Where a token was found. */
export type TokenSource = 'header' | 'url';

/** A token found on a request. */
export interface FoundToken {
  /** The token itself. Never log it. */
  token: string;
  /** Where it was found. */
  source: TokenSource;
}

/** Longest token accepted; Hub tokens are far shorter, anything longer is an attack or a mistake. */
export const MAX_TOKEN_LENGTH = 4096;

// Visible ASCII only: no spaces, no controls, nothing a header or a log line could be bent with.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const SCHEME = /^(token|bearer)(?:[ \t]+|$)/i;
// Two credentials joined by ", " (as `Headers.get` joins repeated headers), one of them ours:
// `token a, token b`, `Bearer a, Basic b`, `Basic x, bearer y`.
const JOINED =
  /^(?:(?:token|bearer)[ \t]+[^,]*,[ \t]+[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+\S|[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+[^,]*,[ \t]+(?:token|bearer)(?:[ \t]|$))/i;

/** Whether `token` could be a Hub token at all: 1 to {@link MAX_TOKEN_LENGTH} visible ASCII characters. */
export function isWellFormedToken(token: unknown): token is string {
  return typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH && TOKEN_CHARS.test(token);
}

function checkToken(token: string, where: string): string {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidRequestError(`The ${where} token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  if (!TOKEN_CHARS.test(token)) {
    throw new InvalidRequestError(`The ${where} token contains characters a token cannot have`);
  }
  return token;
}

/** Whether `value` starts with `scheme` (lower-case letters), in any case. */
function startsWithScheme(value: string, scheme: string): boolean {
  for (let i = 0; i < scheme.length; i++) {
    if ((value.charCodeAt(i) | 0x20) !== scheme.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The common header, read without regular expressions (they were most of the cost of a cached
 * request's parsing): `token <t>` or `bearer <t>`, one space, then a token of visible ASCII without a
 * comma. Anything else — `undefined` — goes through the full parser, which accepts or refuses it.
 */
function plainToken(value: string): string | undefined {
  const space = value.indexOf(' ');
  if (space === 5 ? !startsWithScheme(value, 'token') : space === 6 ? !startsWithScheme(value, 'bearer') : true) return undefined;
  const length = value.length - space - 1;
  if (length === 0 || length > MAX_TOKEN_LENGTH) return undefined;
  for (let i = space + 1; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x2c) return undefined;
  }
  return value.slice(space + 1);
}

/**
 * Parses an `Authorization` header. Returns the token for the `token` and `bearer` schemes
 * (case-insensitive), `null` when there is no header or another scheme is used, and throws
 * {@link InvalidRequestError} when the scheme is ours but the value is not exactly one token.
 */
export function parseAuthorizationHeader(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') {
    if (value.length > 1) throw new InvalidRequestError('Several Authorization headers were sent');
    value = value[0] ?? '';
  }
  const plain = plainToken(value);
  if (plain !== undefined) return plain;
  if (value.includes(',') && JOINED.test(value)) {
    // Web `Headers` (and proxies) join repeated headers with ", ": a second credential after a comma
    // is a second Authorization header, refused like Node's several.
    throw new InvalidRequestError('Several Authorization headers were sent');
  }
  const match = SCHEME.exec(value);
  if (!match) return null;
  const rest = value.slice(match[0].length).replace(/[ \t]+$/, '');
  if (rest === '') throw new InvalidRequestError(`The Authorization header has no token after "${match[1]}"`);
  if (/[ \t]/.test(rest)) throw new InvalidRequestError('The Authorization header must carry exactly one token');
  return checkToken(rest, 'Authorization');
}

/** How many times a header occurs in Node's flat `rawHeaders` list (names are case-insensitive). */
function countHeader(rawHeaders: readonly string[], lowerName: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) count++;
  }
  return count;
}

/**
 * Finds the request's token: the `Authorization` header first, then `?token=` when
 * `allowTokenInUrl` is on or the request is a websocket upgrade.
 * Throws {@link InvalidRequestError} for malformed credentials.
 */
export function extractToken(request: HubRequest, allowTokenInUrl: boolean): FoundToken | null {
  if (request.headers.authorization !== undefined && request.rawHeaders && countHeader(request.rawHeaders, 'authorization') > 1) {
    // Another hop (a proxy, a log) may read a different one of them than we would.
    throw new InvalidRequestError('Several Authorization headers were sent');
  }
  const header = parseAuthorizationHeader(request.headers.authorization);
  if (header !== null) return { token: header, source: 'header' };
  if (allowTokenInUrl || isWebsocket(request)) {
    const fromUrl = queryParam(request.url, 'token');
    if (fromUrl) return { token: checkToken(fromUrl, 'URL'), source: 'url' };
  }
  return null;
}
