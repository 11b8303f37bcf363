/**
 * The per-request carrier: what `hubAuth()` leaves on the framework's request (or context) for the
 * guards, in one shape under one registry symbol, so that every adapter — and duplicate installs of
 * one — read it the same way.
 */
import type { HubAuthFlow, RequestAuthState } from './flow';

/** Where the carrier lives on the framework's request object. */
export const CARRIER: unique symbol = Symbol.for('hubauth.request');

/** What travels with a request from `hubAuth()` to `hubAuthenticated()`. */
export interface RequestCarrier {
  /** The flow of the `hubAuth()` that saw the request. */
  readonly flow: HubAuthFlow;
  /** The identified caller, `null` when core answered the request itself. */
  readonly state: RequestAuthState | null;
}

/** An object that may carry a {@link RequestCarrier}. */
export type Carrying = {
  /** The carrier, under a symbol so that it never clashes with the framework's own fields. */
  [CARRIER]?: RequestCarrier | null;
};

/** Leaves the carrier on `target` (a framework request or context). */
export function carry(target: object, flow: HubAuthFlow, state: RequestAuthState | null): void {
  (target as Carrying)[CARRIER] = { flow, state };
}

/** The carrier `hubAuth()` left on `target`, if any. */
export function carried(target: object): RequestCarrier | undefined {
  return (target as Carrying)[CARRIER] ?? undefined;
}
