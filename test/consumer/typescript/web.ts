// Web-standard handlers: the handler's context, guarded and open.
import { hubAuth, hubAuthenticated, type FetchHandler, type HubCaller, type HubContext, type HubUser } from '@hubauth/web';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

export const guarded: FetchHandler = hubAuthenticated((request, context) => {
  expectType<Equal<typeof context, HubContext<HubUser>>>();
  expectType<Equal<typeof context.hubUser, HubUser>>();
  expectType<Equal<typeof context.hubAuth, HubCaller>>();
  expectType<Equal<typeof context.xsrfToken, string | null>>();
  return Response.json({ name: context.hubUser.name, url: request.url });
}, { hubGroups: ['staff'] });

const hub = hubAuth();
export const open: FetchHandler = hub.open((_request, { hubUser, hubAuth: caller }) => {
  expectType<Equal<typeof hubUser, HubUser | null>>();
  expectType<Equal<typeof caller, HubCaller | null>>();
  return new Response(caller ? `acting for ${hubUser?.name}` : 'anonymous');
});
export const staffOnly: FetchHandler = hub.protect((_request, { hubUser }) => new Response(hubUser.name), { hubGroups: ['staff'] });
