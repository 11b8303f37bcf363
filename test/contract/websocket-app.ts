/**
 * What every websocket contract app (test/contract/websocket.ts) serves, shared by the Node apps and
 * the ones Bun runs: the routes with their guard policies, and the first message a socket sends.
 */
import type { HubAuthenticatedOptions, HubCaller } from '@hubauth/core';
import { PREFIX } from './types';

/** The websocket routes, each with the policy its guard applies to the upgrade. */
export const WEBSOCKET_ROUTES: Readonly<Record<string, HubAuthenticatedOptions>> = Object.freeze({
  [`${PREFIX}ws`]: {},
  [`${PREFIX}ws-staff`]: { hubGroups: ['staff'] },
});

/** The first message: `{"name": <caller>, "act": <their name, as the Hub tells it to their own token>}`. */
export async function greeting(caller: HubCaller): Promise<string> {
  const name = caller.user?.name ?? '';
  const { body } = await caller.api<{ name: string }>('GET', `/users/${encodeURIComponent(name)}`);
  return JSON.stringify({ name, act: body?.name });
}
