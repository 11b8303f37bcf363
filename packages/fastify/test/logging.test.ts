/**
 * Logging of refusals (`debug` / `HUBAUTH_DEBUG=1`) through two adapters, Fastify and the fetch
 * handlers of @hubauth/web: every line carries the error code and the request's id, and no line ever
 * carries a token, a login cookie or the cookie secret.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import request from 'supertest';
import { startFakeHub, type BrowserSession, type FakeHub } from '@hubauth/testing';
import { hubAuth as webHubAuth } from '@hubauth/web';
import { hubAuth, hubAuthenticated, type HubAuthMiddlewareOptions } from '../src';

const PREFIX = '/services/notes/';

let hub: FakeHub;
let token: string;
let unknownToken: string;
let session: BrowserSession;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  hub.addUser({ name: 'bob', groups: ['interns'] });
  token = hub.issueToken('bob');
  unknownToken = hub.issueToken('bob');
  hub.revokeToken(unknownToken);
  session = await hub.loginAs('bob');
});
afterAll(() => hub.close());

/** A logger that keeps every line, with its level. */
function capture() {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, logger: { warn: at('warn'), error: at('error'), info: at('info'), debug: at('debug') } };
}

/** Every secret the requests below carry or the service holds; none may reach a log line. */
function secrets(): string[] {
  const list = [token, unknownToken, session.token, session.cookie, hub.cookieSecret, hub.serviceToken, ...Object.values(session.cookies)];
  for (const s of list) expect(typeof s).toBe('string');
  return list.filter((s) => s.length >= 8);
}

function expectNoSecret(output: string): void {
  for (const secret of secrets()) expect(output).not.toContain(secret);
}

/** The refusals: a 403 for a token, a 401 for a revoked token, a 403 (xsrf) and a 403 (group) for the login cookie. */
interface Refusal {
  path: 'staff' | 'notes';
  method: 'GET' | 'POST';
  headers(): Record<string, string>;
  status: number;
  code: string;
  reason: RegExp;
}
const REFUSALS: readonly Refusal[] = [
  { path: 'staff', method: 'GET', headers: () => ({ authorization: `token ${token}` }), status: 403, code: 'ERR_HUBAUTH_FORBIDDEN', reason: /group "staff"/ },
  { path: 'notes', method: 'GET', headers: () => ({ authorization: `token ${unknownToken}` }), status: 401, code: 'ERR_HUBAUTH_UNAUTHENTICATED', reason: /./ },
  { path: 'notes', method: 'POST', headers: () => ({ cookie: session.cookie }), status: 403, code: 'ERR_HUBAUTH_XSRF', reason: /_xsrf/ },
  { path: 'staff', method: 'GET', headers: () => ({ cookie: session.cookie, 'x-xsrftoken': session.xsrfToken }), status: 403, code: 'ERR_HUBAUTH_FORBIDDEN', reason: /group "staff"/ },
];

/** Sends a refusal's request to a Fastify app (over a real socket). */
async function send(app: FastifyInstance, r: Refusal) {
  await app.ready();
  const headers: Record<string, string> = { accept: 'application/json', ...r.headers() };
  const path = `${PREFIX}${r.path}`;
  return (r.method === 'POST' ? request(app.server).post(path) : request(app.server).get(path)).set(headers);
}

async function fastifyApp(options: HubAuthMiddlewareOptions, serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions);
  await app.register(hubAuth, options);
  app.get(`${PREFIX}staff`, { preHandler: hubAuthenticated({ hubGroups: ['staff'] }) }, async () => 'ok');
  app.get(`${PREFIX}notes`, { preHandler: hubAuthenticated() }, async () => 'ok');
  app.post(`${PREFIX}notes`, { preHandler: hubAuthenticated() }, async () => 'ok');
  return app;
}

describe('Fastify', () => {
  it('logs each refusal at debug with its code, reason and request.id, and no secret', async () => {
    const { lines, logger } = capture();
    const app = await fastifyApp({ env: hub.env(), logger, debug: true });
    for (const r of REFUSALS) {
      const before = lines.length;
      const res = await send(app, r);
      expect(res.status).toBe(r.status);
      const added = lines.slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(new RegExp(`^debug ${r.code}: `));
      expect(added[0]).toMatch(r.reason);
      expect(added[0]).toMatch(/\(request req-[0-9a-z]+\)$/);
    }
    expectNoSecret(lines.join('\n'));
    await app.close();
  });

  it('without a logger of its own, writes to request.log (pino, with reqId), at info when pino hides debug', async () => {
    let output = '';
    const stream = new Writable({ write: (chunk, _enc, done) => ((output += String(chunk)), done()) });
    for (const level of ['debug', 'info'] as const) {
      output = '';
      const app = await fastifyApp({ env: hub.env({ HUBAUTH_DEBUG: '1' }) }, { logger: { level, stream } });
      for (const r of REFUSALS) {
        await send(app, r);
      }
      const ours = output.split('\n').filter((l) => l.includes('ERR_HUBAUTH_')).map((l) => JSON.parse(l) as { level: number; reqId: string; msg: string });
      expect(ours.map((l) => l.msg.split(':')[0])).toEqual(REFUSALS.map((r) => r.code));
      for (const line of ours) {
        expect(line.reqId).toMatch(/^req-/);
        expect(line.level).toBe(level === 'debug' ? 20 : 30);
      }
      expectNoSecret(output);
      await app.close();
    }
  });

  it('logs no refusal when debug is off (the default), and rejects a debug option that is not a boolean', async () => {
    const { lines, logger } = capture();
    const app = await fastifyApp({ env: hub.env(), logger });
    for (const r of REFUSALS) expect((await send(app, r)).status).toBe(r.status);
    expect(lines).toEqual([]);
    await app.close();
    await expect(fastifyApp({ env: hub.env(), logger, debug: 'yes' as unknown as boolean })).rejects.toThrow(/debug.*must be true or false/);
    await expect(fastifyApp({ env: hub.env({ HUBAUTH_DEBUG: 'maybe' }), logger })).rejects.toThrow(/HUBAUTH_DEBUG/);
    await expect(fastifyApp({ env: hub.env(), logger, debg: true } as never)).rejects.toThrow(/did you mean "debug"/);
  });
});

describe('@hubauth/web', () => {
  it('logs each refusal at debug with its code, reason and X-Request-Id, and no secret', async () => {
    const { lines, logger } = capture();
    const web = webHubAuth({ env: hub.env({ HUBAUTH_DEBUG: 'true' }), logger });
    const ok = () => new Response('ok');
    const handlers = { staff: web.protect(ok, { hubGroups: ['staff'] }), notes: web.protect(ok) };
    for (const [i, r] of REFUSALS.entries()) {
      const before = lines.length;
      const headers = { accept: 'application/json', 'x-request-id': `trace-${i}`, ...r.headers() };
      const res = await handlers[r.path](new Request(`http://127.0.0.1${PREFIX}${r.path}`, { method: r.method, headers }));
      expect(res.status).toBe(r.status);
      const added = lines.slice(before);
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(new RegExp(`^debug ${r.code}: `));
      expect(added[0]).toMatch(r.reason);
      expect(added[0]).toMatch(new RegExp(`\\(request trace-${i}\\)$`));
    }
    // A request id that could forge log lines is left out.
    const forged = await handlers.staff(new Request(`http://127.0.0.1${PREFIX}staff`, { headers: { authorization: `token ${token}`, 'x-request-id': 'a b' } }));
    expect(forged.status).toBe(403);
    expect(lines.at(-1)).toMatch(/^debug ERR_HUBAUTH_FORBIDDEN: [^(]*$/);
    expectNoSecret(lines.join('\n'));
    await web.auth.close();
  });

  it('sends debug lines to info for a logger without debug()', async () => {
    const lines: string[] = [];
    const logger = { warn: () => undefined, error: () => undefined, info: (m: string) => void lines.push(m) };
    const web = webHubAuth({ env: hub.env(), logger, debug: true });
    const res = await web.protect(() => new Response('ok'), { hubGroups: ['staff'] })(
      new Request(`http://127.0.0.1${PREFIX}staff`, { headers: { authorization: `token ${token}` } }),
    );
    expect(res.status).toBe(403);
    expect(lines).toEqual([expect.stringMatching(/^ERR_HUBAUTH_FORBIDDEN: .*group "staff"/)]);
    await web.auth.close();
  });
});
