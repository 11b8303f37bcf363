/**
 * Fuzzing the cookie codec: a sealed value opens to exactly its payload under its own name and
 * secrets, and any change to it — or another name, purpose or secret — opens to nothing. The parser
 * and the opener never throw, whatever a browser (or an attacker) sends.
 */
import fc from 'fast-check';
import { CookieSealer, getCookie, parseCookieHeader, serializeCookie } from '../src/cookies';
import { StateCodec } from '../src/oauth';

const RUNS = { numRuns: 10_000 };

const SECRETS = ['fuzz-secret-one-0123456789abcdef0123', 'fuzz-secret-two-0123456789abcdef0123', 'fuzz-secret-three-0123456789abcdef01'];
const [ONE, TWO, THREE] = SECRETS as [string, string, string];
// Sealers are built once: key derivation is the slow part, and it is not what is being fuzzed.
const sealer = new CookieSealer([ONE], 'session');
const rotated = new CookieSealer([TWO, ONE], 'session');
const rotatedOut = new CookieSealer([TWO, THREE], 'session');
const otherPurpose = new CookieSealer([ONE], 'oauth-state');

const TOKEN_CHAR = fc.constantFrom(...'!#$%&\'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
const cookieName = fc.oneof(
  fc.constantFrom('service-whoami', '__Host-service-whoami', 'service-whoami-oauth-state', 'service-whoami-oauth-state:param', 'jupyterhub-hub-login'),
  fc.string({ unit: TOKEN_CHAR, minLength: 1, maxLength: 24 }),
);
/** Payloads: what JSON.stringify produces is always well-formed UTF-16, so lone surrogates are out of scope. */
const payload = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)),
  fc.json({ maxDepth: 2 }),
);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const mutationChar = fc.constantFrom(...B64URL, '.', '+', '/', '=', '%', ' ', ';', ',', '"', '\u00e9', '\u0000', '\ud83d');

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; text: string }
  | { kind: 'swap' }
  | { kind: 'case'; at: number }
  | { kind: 'standard-base64' }
  | { kind: 'quote' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: mutationChar }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: mutationChar }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), text: fc.string({ unit: mutationChar, minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('swap' as const) }),
  fc.record({ kind: fc.constant('case' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('standard-base64' as const) }),
  fc.record({ kind: fc.constant('quote' as const) }),
);

function mutate(value: string, m: Mutation): string {
  const at = 'at' in m ? m.at % value.length : 0;
  switch (m.kind) {
    case 'replace':
      return value.slice(0, at) + m.char + value.slice(at + 1);
    case 'insert':
      return value.slice(0, at) + m.char + value.slice(at);
    case 'delete':
      return value.slice(0, at) + value.slice(at + 1);
    case 'truncate':
      return value.slice(0, at);
    case 'append':
      return value + m.text;
    case 'swap': {
      const dot = value.lastIndexOf('.');
      return `${value.slice(dot + 1)}.${value.slice(0, dot)}`;
    }
    case 'case': {
      const c = value[at] ?? '';
      const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return value.slice(0, at) + flipped + value.slice(at + 1);
    }
    case 'standard-base64':
      return value.replace(/-/g, '+').replace(/_/g, '/');
    case 'quote':
      return `"${value}"`;
  }
}

describe('CookieSealer, fuzzed', () => {
  test('round-trips any payload under any cookie name, with a cookie-safe value', () => {
    fc.assert(
      fc.property(cookieName, payload, (name, text) => {
        const sealed = sealer.seal(name, text);
        // serializeCookie throws on a value a Set-Cookie header cannot carry.
        serializeCookie('x', sealed, { path: '/' });
        const opened = sealer.open(name, sealed);
        return opened !== null && opened.payload === text && opened.stale === false;
      }),
      RUNS,
    );
  });

  test('rejects every mutation of a sealed value', () => {
    let changed = 0;
    fc.assert(
      fc.property(cookieName, payload, mutation, (name, text, m) => {
        const sealed = sealer.seal(name, text);
        const mutated = mutate(sealed, m);
        if (mutated === sealed) return true;
        changed++;
        return sealer.open(name, mutated) === null && rotated.open(name, mutated) === null;
      }),
      RUNS,
    );
    expect(changed).toBeGreaterThan(9_000);
  });

  test('rejects a value under another name, another purpose, or without its secret', () => {
    fc.assert(
      fc.property(cookieName, cookieName, payload, (name, other, text) => {
        const sealed = sealer.seal(name, text);
        return (
          (other === name || sealer.open(other, sealed) === null) &&
          otherPurpose.open(name, sealed) === null &&
          rotatedOut.open(name, sealed) === null
        );
      }),
      RUNS,
    );
  });

  test('rotation: a value sealed under an older secret opens as stale; a new one as current', () => {
    fc.assert(
      fc.property(cookieName, payload, (name, text) => {
        const old = rotated.open(name, sealer.seal(name, text));
        const current = rotated.open(name, rotated.seal(name, text));
        return old?.payload === text && old.stale && current?.payload === text && !current.stale && sealer.open(name, rotated.seal(name, text)) === null;
      }),
      RUNS,
    );
  });

  test('never throws on any name and value, and opens nothing it did not seal', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...B64URL, '.'), maxLength: 200 }),
      fc.tuple(fc.string({ unit: fc.constantFrom(...B64URL), minLength: 38, maxLength: 120 }), fc.string({ unit: fc.constantFrom(...B64URL), minLength: 43, maxLength: 43 })).map(([a, b]) => `${a}.${b}`),
      fc.integer({ min: 8180, max: 8200 }).map((n) => `${'A'.repeat(n - 44)}.${'B'.repeat(43)}`),
    );
    fc.assert(
      fc.property(fc.oneof(cookieName, fc.string({ unit: 'binary', maxLength: 20 })), value, (name, v) => sealer.open(name, v) === null),
      RUNS,
    );
  });
});

describe('cookie parsing and the OAuth state codec, fuzzed', () => {
  const piece = fc.oneof(
    fc.constantFrom(';', '=', ' ', '"', '%', '%zz', '%3B', '%3D', '%E0%A4%A', '\t', ',', 'a', 'service-whoami', '_xsrf', '\u00ff', '\ud800'),
    fc.string({ unit: 'binary', maxLength: 6 }),
  );
  const header = fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.array(piece, { maxLength: 24 }).map((p) => p.join('')));

  test('parseCookieHeader never throws; names are non-empty, trimmed and free of ; and =', () => {
    fc.assert(
      fc.property(fc.oneof(header, fc.array(header, { maxLength: 3 })), (h) => {
        const pairs = parseCookieHeader(h);
        return pairs.every(([n, v]) => n !== '' && n === n.trim() && !n.includes(';') && !n.includes('=') && typeof v === 'string');
      }),
      RUNS,
    );
  });

  test('a sealed value survives any cookie header around it, first one wins', () => {
    fc.assert(
      fc.property(header, payload, header, (before, text, after) => {
        const sealed = sealer.seal('service-whoami', text);
        const cookie = `${before.replace(/service-whoami/g, 'x')}; service-whoami=${sealed}; ${after}`;
        const value = getCookie(parseCookieHeader(cookie), 'service-whoami');
        return value === sealed && sealer.open('service-whoami', value)?.payload === text;
      }),
      RUNS,
    );
  });

  test('the state codec never throws and refuses anything it did not issue', () => {
    const stateSealer = new CookieSealer([ONE], 'oauth-state');
    const codec = new StateCodec(stateSealer, 'service-whoami-oauth-state', 600);
    const json = fc.json({ maxDepth: 2 });
    fc.assert(
      fc.property(json, fc.string({ unit: 'binary', maxLength: 120 }), (data, garbage) => {
        // Anything sealed with the right key but not a flow (a value of another shape) is refused.
        const param = codec.openParam(stateSealer.seal('service-whoami-oauth-state:param', data));
        const cookie = codec.openCookie(stateSealer.seal('service-whoami-oauth-state', data));
        const parsed: unknown = JSON.parse(data);
        const isFlow = (keys: string[]) =>
          parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && keys.every((k) => k in (parsed as Record<string, unknown>));
        return (
          (param === null || param === 'expired' || isFlow(['id', 'next', 'issuedAt'])) &&
          (cookie === null || isFlow(['id', 'verifier', 'issuedAt'])) &&
          codec.openParam(garbage) === null &&
          codec.openCookie(garbage) === null
        );
      }),
      RUNS,
    );
  });
});
