/**
 * Fuzzing `next` validation: whatever a request target or a state carries, the URL a browser is
 * sent back to is a same-origin path under the service prefix that a header can carry unchanged,
 * and legitimate deep links under the prefix survive as they are.
 */
import fc from 'fast-check';
import { MAX_NEXT_LENGTH, safeNextUrl } from '../src/oauth';

const RUNS = { numRuns: 10_000 };
const BASES = ['http://svc.example', 'https://hub.example/services/whoami/page?x=1', 'http://svc.example/deep/a/b/c'];

const segmentChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_~'.split(''));
const segment = fc.string({ unit: segmentChar, minLength: 1, maxLength: 8 });
/** Prefixes as the configuration accepts them: `/`, or `/seg/.../`. */
const prefix = fc.oneof(
  fc.constantFrom('/', '/services/whoami/', '/user/alice/', '/services/a.b/'),
  fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}/`),
);

const HOSTILE = [
  '/', '//', '///', '\\', '/\\', '\\/', '.', '..', '/..', '/../', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C',
  '%00', '%0d%0a', '%09', '%20', '%', '%%', '%zz', '@', ':', '::', '?', '#', '&', '=', ';', '~', 'evil.example', 'services',
  'whoami', 'http:', 'https:', 'javascript:', 'data:', 'HTTP://', '\t', '\n', '\r', ' ', '\u0000', '\u007f', '\u0085', '\u00a0',
  '\u200b', '\u2028', '\uff0f', '\u2215', '\u2044', '\u3002', '\ufe68', '\uff3c', '%ef%bc%8f', 'a', 'A', '\ud800', '\u{1F511}',
];
/** Values built from pieces that have broken redirect checks before, optionally behind the prefix. */
const hostile = (p: string) =>
  fc
    .tuple(fc.constantFrom('', '', p, p.slice(0, -1), p.toUpperCase(), `/${p}`), fc.array(fc.constantFrom(...HOSTILE), { maxLength: 12 }))
    .map(([head, parts]) => head + parts.join(''));

const next = (p: string) =>
  fc.oneof(
    { arbitrary: hostile(p), weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
    { arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }), weight: 1 },
    { arbitrary: fc.webPath().map((path) => p + path.replace(/^\//, '')), weight: 1 },
  );

/** Everything a safe result must be; `null` when it is. */
function unsafe(result: string, p: string): string | null {
  if (!result.startsWith(p)) return 'not under the prefix';
  if (result.startsWith('//')) return 'scheme-relative';
  if (!/^[\x21-\x7e]+$/.test(result)) return 'not visible ASCII (controls, spaces, backslashes or non-ASCII)';
  if (result.includes('\\')) return 'backslash';
  if (result.length > MAX_NEXT_LENGTH) return 'too long';
  for (const base of BASES) {
    const url = new URL(result, base);
    if (url.origin !== new URL(base).origin) return `leaves ${base} for ${url.origin}`;
    if (!url.pathname.startsWith(p) && `${url.pathname}/` !== p) return `resolves outside the prefix: ${url.pathname}`;
  }
  return null;
}

describe('safeNextUrl, fuzzed', () => {
  test('always answers a same-origin path under the prefix, header-safe, stable when re-checked', () => {
    let kept = 0;
    fc.assert(
      fc.property(
        prefix.chain((p) => fc.tuple(fc.constant(p), next(p))),
        ([p, value]) => {
          const result = safeNextUrl(value, p);
          if (result !== p) kept++;
          const reason = unsafe(result, p);
          if (reason !== null) throw new Error(`${JSON.stringify(value)} → ${JSON.stringify(result)}: ${reason}`);
          return safeNextUrl(result, p) === result;
        },
      ),
      RUNS,
    );
    // Not only fallbacks: many values are kept (normalised), so the checks above bite.
    expect(kept).toBeGreaterThan(1_000);
  });

  test('keeps legitimate deep links under the prefix exactly', () => {
    const query = fc.array(fc.tuple(segment, fc.string({ unit: segmentChar, maxLength: 6 })), { maxLength: 3 }).map((q) => (q.length ? `?${q.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
    fc.assert(
      fc.property(prefix, fc.array(segment, { maxLength: 4 }), fc.boolean(), query, (p, segments, slash, q) => {
        const value = `${p}${segments.join('/')}${slash && segments.length ? '/' : ''}${q}`;
        return safeNextUrl(value, p) === value;
      }),
      RUNS,
    );
  });

  test('never throws, for any value of any type', () => {
    fc.assert(
      fc.property(fc.anything(), prefix, (value, p) => typeof safeNextUrl(value, p) === 'string'),
      RUNS,
    );
  });
});
