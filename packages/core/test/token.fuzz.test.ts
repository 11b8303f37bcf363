/**
 * Fuzzing the credential parsers: whatever arrives in an `Authorization` header or a request target,
 * the parser answers "no token", one well-formed token, or an InvalidRequestError (400), and a
 * well-formed token always comes back exactly as sent.
 */
import fc from 'fast-check';
import { InvalidRequestError, isHubAuthError } from '../src/errors';
import { queryParam } from '../src/request';
import { MAX_TOKEN_LENGTH, extractToken, isWellFormedToken, parseAuthorizationHeader } from '../src/token';

const RUNS = { numRuns: 10_000 };
const WELL_FORMED = /^[\x21-\x7e]+$/;

const visible = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** Characters that are not allowed in a token, but that a header can carry in some form. */
const hostileChar = fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f', '\u0000', '\u007f', '\u0085', '\u00a0', '\u00ff', '\u2003', '\u200b', '\ufeff', '\uff0f', '\u{1F511}', '\ud800');
const token = fc.string({ unit: visible, minLength: 1, maxLength: 64 });
const longToken = fc.integer({ min: MAX_TOKEN_LENGTH - 3, max: MAX_TOKEN_LENGTH + 3 }).chain((n) => fc.constant('t'.repeat(n)));
const anyCase = (word: string) =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) =>
    [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''),
  );
const ourScheme = fc.oneof(anyCase('token'), anyCase('bearer'));
const otherScheme = fc.constantFrom('Basic', 'Digest', 'Negotiate', 'tokens', 'bearers', 'tok', 'Bearer:', 'token=', 'Bearer,', '', ' token', 'MAC');
const blanks = fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 1, maxLength: 4 });
const anyBlanks = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });

/** Header values: random text, and values assembled from schemes, blanks, tokens and hostile characters. */
const headerValue = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 1 },
  { arbitrary: fc
    .tuple(
      fc.oneof(ourScheme, otherScheme),
      fc.oneof(blanks, fc.string({ unit: hostileChar, maxLength: 2 })),
      fc.array(fc.oneof({ arbitrary: token, weight: 4 }, { arbitrary: fc.string({ unit: hostileChar, minLength: 1, maxLength: 2 }), weight: 1 }, longToken), {
        maxLength: 4,
      }),
      anyBlanks,
    )
    .map(([scheme, sep, parts, tail]) => `${scheme}${sep}${parts.join('')}${tail}`), weight: 4 },
);

/** Runs the parser and classifies the outcome, failing on anything but the three allowed ones. */
function outcome(value: string | readonly string[] | undefined): { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'invalid'; message: string } {
  try {
    const result = parseAuthorizationHeader(value);
    return result === null ? { kind: 'none' } : { kind: 'token', token: result };
  } catch (err) {
    if (err instanceof InvalidRequestError && isHubAuthError(err) && err.status === 400 && err.code === 'ERR_HUBAUTH_INVALID_REQUEST') {
      return { kind: 'invalid', message: err.message };
    }
    throw err;
  }
}

describe('parseAuthorizationHeader, fuzzed', () => {
  test('answers none, one well-formed token, or InvalidRequestError, and nothing else', () => {
    const seen = { none: 0, token: 0, invalid: 0 };
    fc.assert(
      fc.property(headerValue, (value) => {
        const result = outcome(value);
        seen[result.kind]++;
        if (result.kind === 'token') {
          // Only our schemes yield a token, and the token is the rest of the value, trimmed.
          return (
            WELL_FORMED.test(result.token) &&
            result.token.length <= MAX_TOKEN_LENGTH &&
            isWellFormedToken(result.token) &&
            /^(token|bearer)[ \t]/i.test(value) &&
            value.replace(/^(token|bearer)[ \t]+/i, '').replace(/[ \t]+$/, '') === result.token
          );
        }
        if (result.kind === 'invalid') {
          // The message never repeats what was sent after the scheme.
          const rest = value.replace(/^(token|bearer)[ \t]*/i, '').trim();
          return rest.length < 6 || !result.message.includes(rest);
        }
        return true;
      }),
      RUNS,
    );
    // The generators reach all three outcomes often, so the property is not vacuous.
    expect(Math.min(seen.none, seen.token, seen.invalid)).toBeGreaterThan(500);
  });

  test('round-trips every well-formed token under either scheme, any case, any blanks', () => {
    fc.assert(
      fc.property(ourScheme, blanks, fc.oneof(token, longToken.filter((t) => t.length <= MAX_TOKEN_LENGTH)), anyBlanks, (scheme, sep, t, tail) => {
        const value = `${scheme}${sep}${t}${tail}`;
        return parseAuthorizationHeader(value) === t && parseAuthorizationHeader([value]) === t;
      }),
      RUNS,
    );
  });

  test('refuses with a 400 any token with a character outside visible ASCII, or too long', () => {
    const bad = fc.oneof(
      fc.tuple(token, fc.string({ unit: fc.constantFrom('\u0000', '\u007f', '\u0085', '\u00a0', '\u00ff', '\u2003', '\ufeff', '\u{1F511}', '\ud800', '\u0001', '\u001b'), minLength: 1, maxLength: 3 }), token).map(
        ([a, b, c]) => `${a}${b}${c}`,
      ),
      fc.integer({ min: MAX_TOKEN_LENGTH + 1, max: MAX_TOKEN_LENGTH + 64 }).map((n) => 'x'.repeat(n)),
    );
    fc.assert(
      fc.property(ourScheme, blanks, bad, (scheme, sep, t) => outcome(`${scheme}${sep}${t}`).kind === 'invalid'),
      RUNS,
    );
  });

  test('several headers are refused; a list of one is read like a string', () => {
    fc.assert(
      fc.property(fc.array(headerValue, { minLength: 0, maxLength: 3 }), (values) => {
        const result = outcome(values);
        if (values.length > 1) return result.kind === 'invalid';
        if (values.length === 0) return result.kind === 'none';
        return JSON.stringify(result) === JSON.stringify(outcome(values[0]));
      }),
      RUNS,
    );
  });
});

describe('request targets and token extraction, fuzzed', () => {
  const target = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc
      .array(fc.constantFrom('/', '?', '#', '&', '=', '%', '%2', '%zz', '%E0%A4%A', '%00', 'token', '_xsrf', 'a', '+', ';', '\u00ff', '\ud800', ' ', '\n'), { maxLength: 16 })
      .map((parts) => parts.join('')),
  );

  test('queryParam never throws and returns null or a string', () => {
    fc.assert(
      fc.property(target, fc.constantFrom('token', '_xsrf', 'state', 'code', ''), (url, name) => {
        const value = queryParam(url, name);
        return value === null || typeof value === 'string';
      }),
      RUNS,
    );
  });

  test('extractToken answers null, a well-formed token, or InvalidRequestError', () => {
    const headers = fc.record(
      {
        authorization: headerValue,
        'sec-fetch-mode': fc.constantFrom('navigate', 'websocket', 'cors'),
        upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(target, headers, fc.boolean(), (url, h, allowUrl) => {
        try {
          const found = extractToken({ method: 'GET', url, headers: h }, allowUrl);
          return found === null || isWellFormedToken(found.token);
        } catch (err) {
          return err instanceof InvalidRequestError;
        }
      }),
      RUNS,
    );
  });
});
