/**
 * Recipe: a `@hubauth/web` fetch handler tested with jest against the fake Hub. The handler is a
 * plain `(request: Request) => Promise<Response>`: a test calls it with a `Request`, no server needed.
 */
import { hubAuth } from '@hubauth/web';
import { startFakeHub, type FakeHub } from '@hubauth/testing';

function createService(env: Record<string, string>) {
  const auth = hubAuth({ env, requestTimeoutMs: 500, logger: { warn: () => undefined, error: () => undefined } });
  const whoami = auth.protect((_request, { hubUser }) => Response.json({ name: hubUser.name }));
  const note = auth.protect((_request, { hubUser }) => Response.json({ by: hubUser.name }, { status: 201 }), { hubGroups: ['staff'] });
  return (request: Request) => (new URL(request.url).pathname === '/services/notes/notes' ? note(request) : whoami(request));
}

const at = (path: string) => `http://notes.test${path}`;

let hub: FakeHub;
let service: ReturnType<typeof createService>;

beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
  service = createService(hub.env());
  hub.addUser({ name: 'alice', groups: ['staff'] });
  hub.addUser({ name: 'bob' });
});
afterAll(() => hub.close());

describe('@hubauth/web + fetch Request + jest', () => {
  it('lets a user in with a token', async () => {
    const res = await service(new Request(at('/services/notes/'), { headers: { authorization: `token ${hub.issueToken('alice')}` } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'alice' });
  });

  it('acts as a logged-in browser with loginAs, and refuses one outside the group', async () => {
    const alice = await hub.loginAs('alice');
    const ok = await service(new Request(at('/services/notes/notes'), { method: 'POST', headers: alice.headers }));
    expect(ok.status).toBe(201);
    const bob = await hub.loginAs('bob');
    const refused = await service(new Request(at('/services/notes/notes'), { method: 'POST', headers: bob.headers }));
    expect(refused.status).toBe(403);
  });

  it('answers 502 when the Hub answers 500', async () => {
    hub.setFault({ type: 'status', status: 500 });
    const res = await service(new Request(at('/services/notes/'), { headers: { authorization: `token ${hub.issueToken('alice')}` } }));
    expect(res.status).toBe(502);
    hub.setFault(null);
  });
});
