import { parseCookieHeader } from '../src/cookies';
import { XsrfTokens, submittedXsrfToken } from '../src/xsrf';
import { newSecret, request } from './support';

describe('XsrfTokens', () => {
  const secret = newSecret();
  const tokens = new XsrfTokens([secret]);

  it('issues cookie-safe tokens bound to one session credential', () => {
    const t = tokens.issue('session-token-a');
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(t).not.toContain('session-token-a');
    expect(tokens.verify(t, 'session-token-a')).toBe(true);
    expect(tokens.verify(t, 'session-token-b')).toBe(false);
    expect(tokens.issue('session-token-a')).not.toBe(t);
  });

  it('rejects forged, altered and oversized tokens', () => {
    const t = tokens.issue('s');
    const [nonce = '', mac = ''] = t.split('.');
    for (const bad of ['', '.', t.slice(0, -1), `${nonce}x.${mac}`, `${nonce}.`, `.${mac}`, `${t}.x`, 'a'.repeat(200)]) {
      expect(tokens.verify(bad, 's')).toBe(false);
    }
    expect(new XsrfTokens([newSecret()]).verify(t, 's')).toBe(false);
  });

  it('verifies under every secret, issues under the first', () => {
    const old = new XsrfTokens([secret]).issue('s');
    const rotated = new XsrfTokens([newSecret(), secret]);
    expect(rotated.verify(old, 's')).toBe(true);
    expect(tokens.verify(rotated.issue('s'), 's')).toBe(false);
  });

  it('finds the first _xsrf cookie valid for the session among several', () => {
    const good = tokens.issue('s');
    const other = tokens.issue('someone-else');
    const pairs = parseCookieHeader(`_xsrf=junk; _xsrf=${other}; x=1; _xsrf=${good}`);
    expect(tokens.fromCookies(pairs, 's')).toBe(good);
    expect(tokens.fromCookies(parseCookieHeader(`_xsrf=${other}`), 's')).toBeNull();
  });
});

describe('submittedXsrfToken', () => {
  it('reads X-XSRFToken, then X-CSRFToken, then a parsed _xsrf field, then ?_xsrf=', () => {
    const all = request('/p?_xsrf=query', {
      headers: { 'x-xsrftoken': 'h1', 'x-csrftoken': 'h2' },
      body: { _xsrf: 'field' },
    });
    expect(submittedXsrfToken(all)).toBe('h1');
    expect(submittedXsrfToken({ ...all, headers: { 'x-csrftoken': 'h2' } })).toBe('h2');
    expect(submittedXsrfToken({ ...all, headers: {} })).toBe('field');
    expect(submittedXsrfToken({ ...all, headers: {}, body: undefined })).toBe('query');
    expect(submittedXsrfToken(request('/p'))).toBeNull();
  });

  it('ignores bodies that are not parsed forms', () => {
    expect(submittedXsrfToken(request('/p', { body: '_xsrf=raw' }))).toBeNull();
    expect(submittedXsrfToken(request('/p', { body: [{ _xsrf: 'x' }] }))).toBeNull();
    expect(submittedXsrfToken(request('/p', { body: { _xsrf: 42 } }))).toBeNull();
  });
});
