// @hubauth/core and its adapter subpath: HubUser's field types, options, errors, the flow.
import { ConfigError, HubAuth, HubOAuth, checkScopes, isHubAuthError, resolveHubAuthConfig, type HubAuthOptions, type HubUser } from '@hubauth/core';
import { HubAuthFlow, carried, type FlowStep, type RequestAuthState } from '@hubauth/core/adapter';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

export function fields(user: HubUser): string {
  expectType<Equal<typeof user.kind, 'user' | 'service'>>();
  expectType<Equal<typeof user.name, string>>();
  expectType<Equal<typeof user.admin, boolean>>();
  expectType<Equal<typeof user.groups, readonly string[]>>();
  expectType<Equal<typeof user.scopes, readonly string[]>>();
  expectType<Equal<typeof user.session_id, string | null | undefined>>();
  expectType<Equal<typeof user.user_info, Readonly<Record<string, unknown>> | null | undefined>>();
  // Fields the Hub may add are unknown, not any: they must be checked before use.
  expectType<Equal<(typeof user)['some_field'], unknown>>();
  // @ts-expect-error the model is read-only
  user.groups.push('admins');
  const email = user.user_info?.['email'];
  return typeof email === 'string' ? email : user.name;
}

const options: HubAuthOptions = {
  allowedUsers: ['alice'],
  postAuthHook: (user) => (user.groups.includes('banned') ? false : { ...user, team: 'a' }),
};
export const auth = new HubAuth(options);
export const oauth = new HubOAuth({ cookieSecret: 'x'.repeat(32) });
export const config = resolveHubAuthConfig({ allowAll: true });
export const granted: Set<string> = checkScopes('read:users', ['read:users', 'read:groups']);

export async function flowStep(flow: HubAuthFlow, target: object): Promise<FlowStep> {
  const carrier = carried(target);
  const state: RequestAuthState | null | undefined = carrier?.state;
  return flow.guard(state);
}

export function explain(err: unknown): string {
  if (err instanceof ConfigError) return err.option;
  return isHubAuthError(err) ? `${err.status}` : 'unknown';
}
