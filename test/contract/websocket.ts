/**
 * The websocket contract, run against every adapter with a real `ws` client and the fake Hub:
 * an upgrade is authenticated by the token header, by `?token=` (always, as the Hub allows on
 * upgrades), or by the login cookie (unless `allowWebsocketCookieAuth` is off); anonymous or
 * rejected callers get 401 and callers who may not pass 403, as plain HTTP refusals of the upgrade —
 * never a redirect to a login page.
 *
 * The server under test serves the routes of `WEBSOCKET_ROUTES` (websocket-app.ts): a websocket at
 * `PREFIX + 'ws'` (guarded `hubAuthenticated()`) and at `PREFIX + 'ws-staff'` (guarded
 * `{ hubGroups: ['staff'] }`); on connection it sends `greeting(caller)`:
 * `{"name": <caller>, "act": <name from hubAuth.api('GET', '/users/<caller>')>}`. It runs against the
 * Node adapters in-process and against the Web and Hono adapters under Bun.
 */
import type { HubAuthMiddlewareOptions } from '@hubauth/core';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import WebSocket from 'ws';
import { PREFIX } from './types';

export interface WebsocketServer {
  /** `ws://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export type WebsocketServerFactory = (options: HubAuthMiddlewareOptions) => Promise<WebsocketServer>;

/** What a websocket client met: the server's first message, or how the upgrade was refused. */
export type WebsocketOutcome = { opened: true; message: { name: string; act: string } } | { opened: false; status: number; redirected: boolean };

/**
 * Opens a websocket with Node's `ws` client (redirects not followed): the first message, or the
 * status the upgrade was refused with and whether that refusal was a redirect. The real-Hub tests
 * use it too.
 */
export function connectWebsocket(url: string, headers: Record<string, string> = {}): Promise<WebsocketOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, followRedirects: false });
    ws.once('message', (data) => {
      resolve({ opened: true, message: JSON.parse(String(data)) as { name: string; act: string } });
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0, redirected: res.headers.location !== undefined });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

export function describeWebsocketContract(name: string, factory: WebsocketServerFactory): void {
  describe(`websocket upgrades: ${name}`, () => {
    let hub: FakeHub;
    const servers: WebsocketServer[] = [];
    const start = async (extra: HubAuthMiddlewareOptions = {}): Promise<string> => {
      const server = await factory({ env: hub.env(), logger: { warn() {}, error() {}, info() {} }, ...extra });
      servers.push(server);
      return `${server.url}${PREFIX}`;
    };

    beforeAll(async () => {
      hub = await startFakeHub();
      hub.addUser({ name: 'alice', groups: ['staff'] });
      hub.addUser({ name: 'bob' });
      hub.addUser({ name: 'mallory', scopes: [] });
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await hub.close();
    });

    it('the token header: opens, and hubAuth acts as the caller', async () => {
      const base = await start();
      const outcome = await connectWebsocket(`${base}ws`, { authorization: `token ${hub.issueToken('alice')}` });
      expect(outcome).toEqual({ opened: true, message: { name: 'alice', act: 'alice' } });
    });

    it('?token= opens an upgrade even where URL tokens are off (the Hub\'s rule)', async () => {
      const base = await start({ allowTokenInUrl: false });
      expect(await connectWebsocket(`${base}ws?token=${hub.issueToken('bob')}`)).toEqual({ opened: true, message: { name: 'bob', act: 'bob' } });
    });

    it('the login cookie opens it from this service\'s own pages, unless allowWebsocketCookieAuth is off', async () => {
      const session = await hub.loginAs('alice');
      const base = await start();
      expect(await connectWebsocket(`${base}ws`, { cookie: session.cookie })).toEqual({ opened: true, message: { name: 'alice', act: 'alice' } });
      // The browser sends the cookie whatever page opened the socket: only this service's own pages may use it.
      const own = new URL(base).origin.replace(/^ws/, 'http');
      expect(await connectWebsocket(`${base}ws`, { cookie: session.cookie, origin: own })).toEqual({ opened: true, message: { name: 'alice', act: 'alice' } });
      expect(await connectWebsocket(`${base}ws`, { cookie: session.cookie, origin: 'http://elsewhere.example' })).toEqual({ opened: false, status: 403, redirected: false });
      const strict = await start({ allowWebsocketCookieAuth: false });
      expect(await connectWebsocket(`${strict}ws`, { cookie: session.cookie })).toEqual({ opened: false, status: 401, redirected: false });
    });

    it('no or a bad credential: 401, never a redirect to the login', async () => {
      const base = await start();
      expect(await connectWebsocket(`${base}ws`)).toEqual({ opened: false, status: 401, redirected: false });
      expect(await connectWebsocket(`${base}ws`, { authorization: 'token not-a-token' })).toEqual({ opened: false, status: 401, redirected: false });
      expect(await connectWebsocket(`${base}ws`, { 'sec-fetch-mode': 'navigate', accept: 'text/html' })).toEqual({ opened: false, status: 401, redirected: false });
    });

    it('identified but not allowed: 403 (no access scope, or not in the guard\'s group)', async () => {
      const base = await start();
      expect(await connectWebsocket(`${base}ws`, { authorization: `token ${hub.issueToken('mallory')}` })).toEqual({ opened: false, status: 403, redirected: false });
      expect(await connectWebsocket(`${base}ws-staff`, { authorization: `token ${hub.issueToken('bob')}` })).toEqual({ opened: false, status: 403, redirected: false });
      expect(await connectWebsocket(`${base}ws-staff`, { authorization: `token ${hub.issueToken('alice')}` })).toEqual({ opened: true, message: { name: 'alice', act: 'alice' } });
    });

    it('a Hub outage: 503, the socket closed', async () => {
      const base = await start();
      hub.setFault({ type: 'status', status: 500 });
      try {
        const outcome = await connectWebsocket(`${base}ws`, { authorization: `token ${hub.issueToken('bob')}` });
        expect(outcome.opened).toBe(false);
        expect(outcome.opened === false && outcome.status).toBeGreaterThanOrEqual(502);
      } finally {
        hub.setFault(null);
      }
    });
  });
}
