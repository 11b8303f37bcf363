import { Hono } from 'hono';
import { runRequireHubUser } from '../../../test/contract/require-hub-user';
import { serveOnNode } from '../../web/test/app';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthEnv } from '../src';

// On Hono, a handler right after its guard reads `c.get('hubUser')`, already typed as present (the
// contract app does); requireHubUser is for routes under a path-wide guard, as `/guarded` here.
runRequireHubUser('Hono', (options) => {
  const app = new Hono<HubAuthEnv>().use(hubAuth(options));
  app.use('/guarded', hubAuthenticated());
  app.get('/guarded', (c) => c.json({ name: requireHubUser(c).name }));
  app.get('/unguarded', (c) => c.json({ name: requireHubUser(c).name }));
  app.onError((err: Error & { code?: string; status?: number }, c) =>
    c.json({ name: err.name, code: err.code, message: err.message }, 500));
  return serveOnNode(app.fetch);
});
