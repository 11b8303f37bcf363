// Express: the global Request augmentation, requireHubUser() narrowing, the middleware's type.
import express from 'express';
import { hubAuth, hubAuthenticated, requireHubUser, type HubAuthMiddleware, type HubCaller, type HubUser } from '@hubauth/express';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

const app = express();
const auth: HubAuthMiddleware = hubAuth({ oauth: false });
app.use(auth);
app.get('/', hubAuthenticated({ hubGroups: ['staff'] }), (req, res) => {
  const user = requireHubUser(req);
  expectType<Equal<typeof user, HubUser>>();
  expectType<Equal<typeof req.hubUser, HubUser | undefined>>();
  expectType<Equal<typeof req.hubAuth, HubCaller | undefined>>();
  expectType<Equal<typeof res.locals.xsrfToken, string | null | undefined>>();
  // @ts-expect-error without requireHubUser() the caller may be missing
  void req.hubUser.name;
  res.json({ name: user.name, admin: user.admin, groups: [...user.groups] });
});
app.listen(0).on('upgrade', (req, socket) => {
  void auth.upgrade(req, socket, { hubGroups: ['staff'] }).then((caller) => caller?.user?.name);
});
