import fc from 'fast-check';
import { acceptsHtml, forwardedProto, isForeignWebsocketOrigin, isNavigation, isSecure, needsXsrfCheck } from '../src/request';
import { request } from './support';

describe('acceptsHtml', () => {
  it.each([
    ['text/html', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['application/json, text/html;q=0.1', true],
    ['TEXT/HTML; Q=1', true],
    ['text/html;q=abc', true],
    ['text/html;q=0', false],
    ['application/json, text/html;q=0', false],
    ['text/html ; q=0.000, */*', false],
    ['text/html;level=1;q=0', false],
    ['*/*', false],
    ['text/htmlx', false],
    ['application/json', false],
    ['', false],
  ])('%j → %s', (accept, expected) => {
    expect(acceptsHtml(accept)).toBe(expected);
  });

  it('never throws, whatever the header', () => {
    fc.assert(fc.property(fc.string(), (accept) => typeof acceptsHtml(accept) === 'boolean'));
  });
});

describe('isNavigation', () => {
  it('lets Sec-Fetch-Mode decide over Accept', () => {
    expect(isNavigation(request('/', { headers: { 'sec-fetch-mode': 'cors', accept: 'text/html' } }))).toBe(false);
    expect(isNavigation(request('/', { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html;q=0' } }))).toBe(true);
    expect(isNavigation(request('/', { headers: { accept: 'application/json, text/html;q=0' } }))).toBe(false);
    expect(isNavigation(request('/', { headers: { accept: 'text/html' } }))).toBe(true);
  });

  it('is never a navigation for methods other than GET and HEAD', () => {
    expect(isNavigation(request('/', { method: 'POST', headers: { 'sec-fetch-mode': 'navigate' } }))).toBe(false);
    expect(isNavigation(request('/', { method: 'head', headers: { 'sec-fetch-mode': 'navigate' } }))).toBe(true);
  });
});

describe("needsXsrfCheck (JupyterHub's _needs_check_xsrf)", () => {
  const cases: ReadonlyArray<readonly [string, string | undefined, string | undefined, boolean]> = [
    // method, Sec-Fetch-Mode, Sec-Fetch-Site, needs the token
    ['GET', undefined, undefined, false],
    ['HEAD', undefined, undefined, false],
    ['OPTIONS', undefined, undefined, false],
    ['GET', 'navigate', 'none', false],
    ['GET', 'navigate', 'cross-site', false],
    ['GET', 'websocket', 'cross-site', false],
    ['GET', 'no-cors', 'same-origin', false],
    ['HEAD', 'no-cors', 'same-origin', false],
    ['GET', 'no-cors', 'same-site', true],
    ['GET', 'no-cors', 'cross-site', true],
    ['GET', 'no-cors', undefined, true],
    ['GET', 'cors', 'same-origin', true],
    ['GET', 'cors', 'cross-site', true],
    ['GET', 'same-origin', 'same-origin', true],
    ['POST', undefined, undefined, true],
    ['POST', 'navigate', 'same-origin', true],
    ['POST', 'no-cors', 'same-origin', true],
    ['DELETE', 'cors', 'same-origin', true],
    ['PATCH', 'websocket', undefined, false],
  ];
  it.each(cases)('%s with Sec-Fetch-Mode %s, Sec-Fetch-Site %s → %s', (method, mode, site, expected) => {
    const headers: Record<string, string> = {};
    if (mode) headers['sec-fetch-mode'] = mode;
    if (site) headers['sec-fetch-site'] = site;
    expect(needsXsrfCheck(request('/', { method, headers }))).toBe(expected);
  });

  it('reads the headers case-insensitively', () => {
    expect(needsXsrfCheck(request('/', { headers: { 'sec-fetch-mode': 'No-CORS', 'sec-fetch-site': 'Same-Origin' } }))).toBe(false);
    expect(needsXsrfCheck(request('/', { headers: { 'sec-fetch-mode': 'CORS' } }))).toBe(true);
  });
});

describe('isForeignWebsocketOrigin', () => {
  const ws = (origin: string | undefined, host = 'service.example:8000') =>
    request('/ws', { headers: { host, upgrade: 'websocket', ...(origin === undefined ? {} : { origin }) } });

  it('accepts the Host the browser connected to, whatever the scheme, and no Origin at all', () => {
    expect(isForeignWebsocketOrigin(ws('http://service.example:8000'), '')).toBe(false);
    expect(isForeignWebsocketOrigin(ws('https://SERVICE.example:8000'), '')).toBe(false);
    expect(isForeignWebsocketOrigin(ws('https://service.example', 'service.example:443'), '')).toBe(false);
    expect(isForeignWebsocketOrigin(ws(undefined), '')).toBe(false);
  });

  it('accepts the public URL host when a proxy rewrote Host', () => {
    expect(isForeignWebsocketOrigin(ws('https://jupyter.example.org', '10.0.0.5:8000'), 'https://jupyter.example.org/services/x/')).toBe(false);
    expect(isForeignWebsocketOrigin(ws('https://evil.example.org', '10.0.0.5:8000'), 'https://jupyter.example.org/services/x/')).toBe(true);
  });

  it('refuses other hosts, siblings, look-alikes, opaque and unreadable origins', () => {
    for (const origin of ['http://evil.example', 'http://user.service.example:8000', 'http://service.example:8001', 'http://service.example:8000.evil', 'null', '', 'not a url', 'file://']) {
      expect({ origin, foreign: isForeignWebsocketOrigin(ws(origin), '') }).toEqual({ origin, foreign: true });
    }
  });
});

describe('forwardedProto', () => {
  it.each([
    [{ 'x-forwarded-proto': 'https' }, 'https'],
    [{ 'x-forwarded-proto': 'HTTPS, http' }, 'https'],
    [{ 'x-forwarded-proto': 'http, https' }, 'http'],
    [{ 'x-scheme': 'https' }, 'https'],
    [{ forwarded: 'for=192.0.2.1;proto=https;host=x' }, 'https'],
    [{ forwarded: 'for="[2001:db8::1]";Proto="HTTPS", for=10.0.0.1;proto=http' }, 'https'],
    [{ forwarded: 'for=192.0.2.1', 'x-forwarded-proto': 'https' }, 'https'],
    [{ forwarded: 'proto=http', 'x-forwarded-proto': 'https' }, 'http'],
    [{ 'x-forwarded-proto': 'wss' }, null],
    [{ forwarded: 'proto=gopher' }, null],
    [{}, null],
  ])('%j → %s', (headers, expected) => {
    expect(forwardedProto(request('/', { headers }))).toBe(expected);
  });
});

describe('isSecure', () => {
  it('follows the configuration, else the connection or a forwarded https', () => {
    expect(isSecure(request('/', { headers: { 'x-forwarded-proto': 'https' } }), false)).toBe(false);
    expect(isSecure(request('/'), true)).toBe(true);
    expect(isSecure(request('/', { headers: { 'x-forwarded-proto': 'https' } }), null)).toBe(true);
    expect(isSecure(request('/', { headers: { forwarded: 'proto=https' } }), null)).toBe(true);
    expect(isSecure(request('/', { secure: true }), null)).toBe(true);
    expect(isSecure(request('/', { headers: { 'x-forwarded-proto': 'http' } }), null)).toBe(false);
    expect(isSecure(request('/'), null)).toBe(false);
  });
});
