import express, { type NextFunction, type Request, type Response } from 'express';
import { onLoopback, runRequireHubUser } from '../../../test/contract/require-hub-user';
import { hubAuth, hubAuthenticated, requireHubUser } from '../src';

// The types (requireHubUser gives a HubUser) are checked in types.test.ts, on @types/express 5 and 4.

runRequireHubUser('Express', async (options) => {
  const app = express();
  app.use(hubAuth(options));
  app.get('/guarded', hubAuthenticated(), (req: Request, res: Response) => res.json({ name: requireHubUser(req).name }));
  app.get('/unguarded', (req: Request, res: Response) => res.json({ name: requireHubUser(req).name }));
  app.use((err: Error & { code?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ name: err.name, code: err.code, message: err.message });
  });
  return onLoopback(app);
});
