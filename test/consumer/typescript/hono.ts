// Hono: the variables type, and the guard narrowing c.get('hubUser') to HubUser.
import { Hono } from 'hono';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthEnv, type HubCaller, type HubUser } from '@hubauth/hono';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

const app = new Hono<HubAuthEnv>();
app.use(hubAuth({ trustProxy: true }));
app.get('/open', (c) => {
  const maybe = c.get('hubUser');
  expectType<Equal<typeof maybe, HubUser | undefined>>();
  const caller = c.get('hubAuth');
  expectType<Equal<typeof caller, HubCaller | undefined>>();
  // @ts-expect-error outside a guard the caller may be missing
  void c.get('hubUser').name;
  return c.text(caller ? `acting for ${maybe?.name}` : 'anonymous');
});
app.get('/staff', hubAuthenticated({ hubGroups: ['staff'] }), (c) => {
  const user = c.get('hubUser');
  expectType<Equal<typeof user, HubUser>>();
  return c.json({ name: user.name });
});
app.use('/api/*', hubAuthenticated());
app.get('/api/me', (c) => c.json({ name: requireHubUser(c).name }));
export default app;
