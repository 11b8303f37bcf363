import {
  HubAuthFlow,
  MAX_XSRF_FORM_BYTES,
  WebHubRequest,
  clientAddress,
  needsXsrfField,
  readXsrfField,
  splitAuthorization,
  toWebResponse,
  withSetCookies,
  finishWebResponse,
} from '../src/adapter';
import { extractToken } from '../src';

const env = { JUPYTERHUB_API_TOKEN: 'x', JUPYTERHUB_SERVICE_NAME: 'whoami', JUPYTERHUB_SERVICE_PREFIX: '/services/whoami/' };
const oauthFlow = new HubAuthFlow({ env, clientId: 'service-whoami', cookieSecret: 'web-request-secret-0123456789abcdef' });
const tokenFlow = new HubAuthFlow({ env, oauth: false });
const SESSION = 'service-whoami=sealed.value';

function post(body: string | FormData, headers: Record<string, string>): Request {
  return new Request('http://127.0.0.1/services/whoami/form', { method: 'POST', body, headers: { cookie: SESSION, ...headers } });
}

describe('splitAuthorization: several Authorization headers arrive joined with ", "', () => {
  test.each([
    ['token abc', ['token abc']],
    ['token a,b', ['token a,b']],
    ['Digest username="alice", realm="x", nonce="1"', ['Digest username="alice", realm="x", nonce="1"']],
    ['token abc, token def', ['token abc', 'token def']],
    ['Basic YWxpY2U6cHc=, token abc', ['Basic YWxpY2U6cHc=', 'token abc']],
    ['token abc, Bearer', ['token abc', 'Bearer']],
  ])('%s', (joined, parts) => {
    expect(splitAuthorization(joined)).toEqual(parts);
  });

  test('a joined pair is refused by core (400), as Node refuses two header lines', () => {
    const headers = new Headers();
    headers.append('authorization', 'token abc');
    headers.append('authorization', 'token def');
    const view = new WebHubRequest(new Request('http://127.0.0.1/x', { headers }));
    expect(() => extractToken(view, false)).toThrow(expect.objectContaining({ status: 400, message: 'Several Authorization headers were sent' }));
    const single = new WebHubRequest(new Request('http://127.0.0.1/x', { headers: { authorization: 'token abc' } }));
    expect(extractToken(single, false)).toEqual({ token: 'abc', source: 'header' });
  });
});

describe('WebHubRequest', () => {
  test('the request target is the path and query of the absolute URL', () => {
    expect(new WebHubRequest(new Request('http://h:1/services/whoami/a?b=1&c')).url).toBe('/services/whoami/a?b=1&c');
    expect(new WebHubRequest(new Request('https://h')).url).toBe('/');
  });

  test('headers are lower-cased; split Cookie headers are joined as Node joins them', () => {
    const headers = new Headers({ 'X-Thing': 'one', Cookie: 'a=1' });
    headers.append('cookie', 'b=2');
    const view = new WebHubRequest(new Request('http://h/', { headers }));
    expect(view.headers['x-thing']).toBe('one');
    expect(view.headers.cookie).toBe('a=1; b=2');
    expect(view.rawHeaders).toBeUndefined();
  });

  test("on Node (@hono/node-server's env.incoming), Node's parsed headers and rawHeaders are used as they are", () => {
    const incoming = { headers: { authorization: 'token abc', cookie: 'a=1; b=2' }, rawHeaders: ['Authorization', 'token abc', 'authorization', 'token def'] };
    const view = new WebHubRequest(new Request('http://h/', { headers: { authorization: 'ignored' } }), { env: { incoming } });
    expect(view.headers).toBe(incoming.headers);
    expect(() => extractToken(view, false)).toThrow(expect.objectContaining({ status: 400 }));
    const closing = new Request('http://h/', { headers: { connection: 'close' } });
    // Node's server says Connection: close by itself there.
    expect(finishWebResponse(closing, new Response('hi'), [], { incoming }).headers.has('connection')).toBe(false);
  });

  test('Secure: the URL scheme, and X-Forwarded-Proto only when trusted', () => {
    const forwarded = { 'x-forwarded-proto': 'https, http' };
    expect(new WebHubRequest(new Request('https://h/')).secure).toBe(true);
    expect(new WebHubRequest(new Request('http://h/', { headers: forwarded })).secure).toBe(false);
    expect(new WebHubRequest(new Request('http://h/', { headers: forwarded }), { trustProxy: true }).secure).toBe(true);
    expect(new WebHubRequest(new Request('http://h/', { headers: { 'x-forwarded-proto': 'http' } }), { trustProxy: true }).secure).toBe(false);
  });

  test('the client address comes from the runtime: Bun, Deno, @hono/node-server, or given', () => {
    const request = new Request('http://h/');
    const bun = { requestIP: (r: Request) => (r === request ? { address: '10.0.0.1', port: 1 } : null) };
    expect(clientAddress(request, bun)).toBe('10.0.0.1');
    expect(clientAddress(request, { remoteAddr: { hostname: '10.0.0.2', port: 1, transport: 'tcp' } })).toBe('10.0.0.2');
    expect(clientAddress(request, { incoming: { socket: { remoteAddress: '::1' } } })).toBe('::1');
    expect(clientAddress(request, undefined)).toBeUndefined();
    expect(clientAddress(request, { requestIP: () => null })).toBeUndefined();
    expect(new WebHubRequest(request, { env: bun }).ip).toBe('10.0.0.1');
    expect(new WebHubRequest(request, { env: bun, ip: '10.9.9.9' }).ip).toBe('10.9.9.9');
  });
});

describe('the _xsrf form field', () => {
  const form = 'application/x-www-form-urlencoded';
  test('is needed only for cookie-authenticated unsafe form posts without an xsrf header', () => {
    const needs = (request: Request, flow = oauthFlow) => needsXsrfField(new WebHubRequest(request), flow);
    expect(needs(post('_xsrf=a', { 'content-type': form }))).toBe(true);
    expect(needs(post('_xsrf=a', { 'content-type': 'multipart/form-data; boundary=x' }))).toBe(true);
    expect(needs(post('_xsrf=a', { 'content-type': form }), tokenFlow)).toBe(false);
    expect(needs(post('_xsrf=a', { 'content-type': form, 'x-xsrftoken': 'a' }))).toBe(false);
    expect(needs(post('{}', { 'content-type': 'application/json' }))).toBe(false);
    expect(needs(post('_xsrf=a', { 'content-type': form, cookie: 'other=1' }))).toBe(false);
    expect(needs(new Request('http://h/', { headers: { cookie: SESSION, 'content-type': form } }))).toBe(false);
  });

  test('is read from a clone: the application still reads the whole body', async () => {
    const request = post('other=1&_xsrf=abc.def', { 'content-type': form });
    const view = new WebHubRequest(request);
    await readXsrfField(view);
    expect(view.body).toEqual({ _xsrf: 'abc.def' });
    expect(request.bodyUsed).toBe(false);
    expect(Object.fromEntries(await request.formData())).toEqual({ other: '1', _xsrf: 'abc.def' });
  });

  test('is read from multipart forms too', async () => {
    const data = new FormData();
    data.append('file', new Blob(['x'.repeat(1000)]), 'f.txt');
    data.append('_xsrf', 'abc.def');
    const request = new Request('http://h/', { method: 'POST', body: data, headers: { cookie: SESSION } });
    const view = new WebHubRequest(request);
    await readXsrfField(view);
    expect(view.body).toEqual({ _xsrf: 'abc.def' });
    expect((await request.formData()).get('_xsrf')).toBe('abc.def');
  });

  test('is absent from oversized, garbled or already-read bodies (then the xsrf check answers 403)', async () => {
    const big = post(`_xsrf=abc&pad=${'x'.repeat(MAX_XSRF_FORM_BYTES)}`, { 'content-type': form });
    const views = [
      new WebHubRequest(big),
      new WebHubRequest(post('--nope\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=x' })),
    ];
    const used = post('_xsrf=abc', { 'content-type': form });
    await used.text();
    views.push(new WebHubRequest(used));
    for (const view of views) {
      await readXsrfField(view);
      expect(view.body).toEqual({ _xsrf: null });
    }
    // A streamed body without Content-Length stops being read at the limit.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    });
    const endless = new Request('http://h/', { method: 'POST', body: stream, headers: { 'content-type': form }, duplex: 'half' } as RequestInit);
    const view = new WebHubRequest(endless);
    await readXsrfField(view, 256 * 1024);
    expect(view.body).toEqual({ _xsrf: null });
  });
});

describe('responses', () => {
  test('toWebResponse keeps each Set-Cookie', async () => {
    const response = toWebResponse({ status: 302, headers: { location: '/x', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] } });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/x');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    const error = toWebResponse({ status: 401, headers: { 'content-type': 'application/json' }, body: '{"status":401}' });
    expect(await error.json()).toEqual({ status: 401 });
  });

  test('withSetCookies appends in place, or to a copy of an immutable response', async () => {
    const own = new Response('hi', { headers: { 'set-cookie': 'app=1' } });
    expect(withSetCookies(own, ['x=1'])).toBe(own);
    expect(own.headers.getSetCookie()).toEqual(['app=1', 'x=1']);
    const redirect = Response.redirect('http://h/next', 302);
    const copied = withSetCookies(redirect, ['x=1', 'y=2']);
    expect(copied).not.toBe(redirect);
    expect(copied.status).toBe(302);
    expect(copied.headers.get('location')).toBe('http://h/next');
    expect(copied.headers.getSetCookie()).toEqual(['x=1', 'y=2']);
    expect(withSetCookies(redirect, [])).toBe(redirect);
  });

  test('finishWebResponse says Connection: close when the request asked for it (Bun closes without saying)', () => {
    const closing = new Request('http://h/', { headers: { connection: 'close' } });
    const own = finishWebResponse(closing, new Response('hi'), ['x=1']);
    expect(own.headers.get('connection')).toBe('close');
    expect(own.headers.getSetCookie()).toEqual(['x=1']);
    expect(finishWebResponse(closing, Response.redirect('http://h/next', 302), []).headers.get('connection')).toBe('close');
    const open = finishWebResponse(new Request('http://h/', { headers: { connection: 'keep-alive' } }), new Response('hi'), []);
    expect(open.headers.has('connection')).toBe(false);
  });
});
