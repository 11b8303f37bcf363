/**
 * Hostile inputs of the adversarial suite, as data. Each list is played against every adapter by
 * `run.ts`; the numbers of cases are what the tables hold, times the adapters.
 */
import { PREFIX } from '../contract/types';

/** Where an open-redirect vector is placed by the test: `{hub}` is replaced by the fake Hub's host:port. */
export interface NextVector {
  name: string;
  /** The raw request target, sent byte for byte (`{hub}` → the Hub's `host:port`). */
  target: string;
}

/**
 * Open-redirect and header-injection vectors for the `next` URL of a login. Each is sent as the raw
 * request target of a browser navigation: a catch-all route would see exactly this as its URL.
 */
export const NEXT_VECTORS: readonly NextVector[] = [
  { name: 'scheme-relative', target: '//evil.example/' },
  { name: 'scheme-relative with the service path', target: `//evil.example${PREFIX}` },
  { name: 'triple slash', target: '///evil.example/' },
  { name: 'slash backslash', target: '/\\evil.example/' },
  { name: 'backslash slash', target: '\\/evil.example/' },
  { name: 'https: without slashes', target: 'https:evil.example' },
  { name: 'http: with one slash', target: 'http:/evil.example/' },
  { name: 'encoded slashes', target: '/%2F%2Fevil.example' },
  { name: 'double-encoded slashes under the prefix', target: `${PREFIX}%252F%252Fevil.example` },
  { name: 'encoded backslashes under the prefix', target: `${PREFIX}%5C%5Cevil.example` },
  { name: 'encoded CRLF header injection in the query', target: `${PREFIX}?%0d%0aSet-Cookie:%20injected=1` },
  { name: 'encoded CRLF header injection in the path', target: `${PREFIX}%0d%0aSet-Cookie:%20injected=1` },
  { name: 'raw CRLF header injection', target: `${PREFIX}\r\nSet-Cookie: injected=1` },
  { name: 'userinfo', target: '/@evil.example' },
  { name: 'userinfo with credentials and the service path', target: `//user:pass@evil.example${PREFIX}` },
  { name: 'fullwidth solidi (raw UTF-8)', target: '/\uff0f\uff0fevil.example/' },
  { name: 'fullwidth solidi (encoded)', target: '/%EF%BC%8F%EF%BC%8Fevil.example/' },
  { name: 'division slashes under the prefix (raw UTF-8)', target: `${PREFIX}\u2215\u2215evil.example` },
  { name: 'over-long (4 KB query)', target: `${PREFIX}?q=${'a'.repeat(4096)}` },
  { name: 'absolute-form URL to the Hub host', target: 'http://{hub}/hub/' },
  { name: 'absolute-form URL to the Hub host with the service path', target: `http://{hub}${PREFIX}` },
  { name: 'absolute-form URL to another host with the service path', target: `http://evil.example${PREFIX}` },
  { name: 'absolute https URL with the service path', target: `https://evil.example${PREFIX}api/me` },
  { name: 'a path outside the prefix', target: '/services/other/' },
  { name: 'the prefix in upper case', target: PREFIX.toUpperCase() },
  { name: 'the prefix without its slash, query //evil', target: `${PREFIX.slice(0, -1)}?//evil.example` },
  { name: 'javascript:', target: 'javascript:alert(1)' },
  { name: 'dot-dot to a scheme-relative path', target: `${PREFIX}..//evil.example` },
  { name: 'dot-dots from a real route', target: `${PREFIX}api/me/..//..//..//evil.example` },
  { name: 'encoded dot-dots', target: `${PREFIX}%2e%2e/%2e%2e//evil.example` },
  { name: 'raw tab', target: `${PREFIX}\t/evil.example` },
  { name: 'encoded tab then //', target: `${PREFIX}?%09//evil.example` },
  { name: 'raw newline inside //', target: '/\n/evil.example' },
  { name: 'fragment in the request target', target: `${PREFIX}api/me#//evil.example` },
  { name: 'a next parameter pointing away', target: `${PREFIX}?next=https://evil.example/` },
  { name: 'backslashes in the query', target: `${PREFIX}api/me?\\\\evil.example` },
  { name: 'asterisk-form', target: '*' },
  { name: 'semicolon path parameter', target: `${PREFIX};/evil.example` },
  { name: 'trailing slash on a route', target: `${PREFIX}api/me/` },
  { name: 'doubled final slash', target: `${PREFIX}/` },
  { name: 'percent-encoded letter in the prefix', target: '/services/%77hoami/' },
  { name: 'encoded NUL in the query', target: `${PREFIX}?%00` },
];

/** How a vector that took a browser to the Hub must come back: a same-origin path under the prefix. */
export function unsafeLocationReason(location: string, prefix = PREFIX): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(location)) return 'control character';
  if (location.includes('\\')) return 'backslash';
  if (/^[a-z][a-z0-9+.-]*:/i.test(location)) return 'has a scheme';
  if (location.startsWith('//')) return 'scheme-relative';
  if (!location.startsWith(prefix)) return 'outside the service prefix';
  const resolved = new URL(location, 'http://svc.example');
  if (resolved.origin !== 'http://svc.example') return `resolves to ${resolved.origin}`;
  if (!resolved.pathname.startsWith(prefix)) return `resolves to the path ${resolved.pathname}`;
  return null;
}

/** An `Authorization` header (or several) and what it must produce. */
export interface HeaderVector {
  name: string;
  /** Header values; `{alice}`/`{carol}` are replaced by valid tokens. Each becomes its own header line. */
  authorization: ReadonlyArray<string | Buffer>;
  /** Acceptable statuses. */
  status: readonly number[];
  /** Whether the request may reach the Hub (false: the lookup count must stay 0). */
  hubCall: boolean;
}

// Node keeps only the first of several Authorization headers in `headers`; adapters also pass
// `rawHeaders`, so core sees them all and refuses the request.

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Hostile or unusual `Authorization` headers, sent raw to a guarded API route. */
export const HEADER_VECTORS: readonly HeaderVector[] = [
  { name: 'empty value', authorization: [''], status: [401], hubCall: false },
  { name: 'only spaces', authorization: ['   '], status: [401], hubCall: false },
  { name: 'scheme without token', authorization: ['token'], status: [400], hubCall: false },
  { name: 'bearer with trailing spaces only', authorization: ['Bearer    '], status: [400], hubCall: false },
  { name: 'two tokens', authorization: ['token abc def'], status: [400], hubCall: false },
  { name: 'tab between two tokens', authorization: ['token abc\tdef'], status: [400], hubCall: false },
  { name: 'huge token (64 KB)', authorization: [`token ${'a'.repeat(64 * 1024)}`], status: [400, 431], hubCall: false },
  { name: 'over-long token (4097 characters)', authorization: [`token ${'a'.repeat(4097)}`], status: [400], hubCall: false },
  { name: 'non-ASCII token (UTF-8)', authorization: ['token t\u00f6k\u00e9n'], status: [400], hubCall: false },
  { name: 'non-breaking space before the token (latin1)', authorization: [latin1('token\u00a0abcdef')], status: [400, 401], hubCall: false },
  { name: 'non-breaking space inside the token (latin1)', authorization: [latin1('token abc\u00a0def')], status: [400], hubCall: false },
  { name: 'emoji token', authorization: ['bearer \u{1F511}\u{1F511}'], status: [400], hubCall: false },
  { name: 'NUL inside the token', authorization: ['token abc\u0000def'], status: [400], hubCall: false },
  { name: 'vertical tab inside the token', authorization: ['token abc\u000bdef'], status: [400], hubCall: false },
  { name: 'DEL inside the token', authorization: ['token abc\u007fdef'], status: [400], hubCall: false },
  { name: 'Basic scheme', authorization: ['Basic YWxpY2U6cHc='], status: [401], hubCall: false },
  { name: 'Digest scheme', authorization: ['Digest username="alice", realm="x", nonce="1", uri="/", response="2"'], status: [401], hubCall: false },
  { name: 'Negotiate scheme', authorization: ['Negotiate YIIBhgYGKwYBBQUCoIIB'], status: [401], hubCall: false },
  { name: 'scheme glued to the token', authorization: ['tokenabcdef'], status: [401], hubCall: false },
  { name: 'scheme with an equals sign', authorization: ['token=abcdef'], status: [401], hubCall: false },
  { name: 'scheme with a colon', authorization: ['Bearer:abcdef'], status: [401], hubCall: false },
  { name: 'scheme with a comma', authorization: ['Bearer,abcdef'], status: [401], hubCall: false },
  { name: 'bare token without a scheme', authorization: ['{alice}'], status: [401], hubCall: false },
  { name: 'valid token then a second token', authorization: ['token {alice} {carol}'], status: [400], hubCall: false },
  { name: 'two Authorization headers, both valid', authorization: ['token {alice}', 'token {carol}'], status: [400], hubCall: false },
  { name: 'two Authorization headers, valid then garbage', authorization: ['token {alice}', 'token \u00ff\u00ff'], status: [400], hubCall: false },
  { name: 'two Authorization headers, Basic then a valid token', authorization: ['Basic YWxpY2U6cHc=', 'token {alice}'], status: [400], hubCall: false },
  // Well-formed, so they are asked about; the Hub does not know them.
  { name: 'unknown token of exactly 4096 characters', authorization: [`token ${'b'.repeat(4096)}`], status: [401], hubCall: true },
  { name: 'unknown token of punctuation', authorization: ['token !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'], status: [401], hubCall: true },
  // Whitespace the parser tolerates around a valid token.
  { name: 'tab after the scheme', authorization: ['token\t{alice}'], status: [200], hubCall: true },
  { name: 'several spaces and trailing spaces', authorization: ['BeArEr    {alice}   '], status: [200], hubCall: true },
];
