/**
 * The user model: what the Hub's `GET /user` reply must contain to be trusted, made into a frozen
 * {@link HubUser}; and freezing what a post-auth hook returns.
 */
import { HubUnavailableError } from './errors';
import type { HubUser } from './types';

/** Freezes `value` and everything in it (cached models are shared by every request). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Checks the Hub's reply to `GET /user` and returns a frozen model (or throws 502). */
export function toUserModel(text: string): HubUser {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HubUnavailableError('The Hub answered /user with something that is not JSON', { status: 502 });
  }
  if (!data || typeof data !== 'object' || Array.isArray(data) || typeof (data as { name?: unknown }).name !== 'string') {
    throw new HubUnavailableError('The Hub answered /user without a user model', { status: 502 });
  }
  const model = data as Record<string, unknown>;
  if (!Array.isArray(model.scopes)) {
    throw new HubUnavailableError('The Hub sent a user model without scopes (JupyterHub 2.0 or later is required)', {
      status: 502,
    });
  }
  // Checked here, where it is a bad reply (502), not later in authorize(), where the scope check would throw.
  if (!model.scopes.every((s) => typeof s === 'string' && s !== '')) {
    throw new HubUnavailableError('The Hub sent a user model with malformed scopes', { status: 502 });
  }
  const kind = model.kind === 'service' ? 'service' : 'user';
  return deepFreeze({
    ...model,
    kind,
    admin: model.admin === true,
    groups: Array.isArray(model.groups) ? model.groups : [],
    scopes: model.scopes,
  } as unknown as HubUser);
}
