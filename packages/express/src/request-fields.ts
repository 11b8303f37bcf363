/**
 * `req.hubUser` and `req.hubAuth` without adding properties to `req`.
 *
 * Express gives every request its app's prototype with `Object.setPrototypeOf`, and V8 (Node 20 and
 * 22, not 24) adds own properties to such an object by a slow path: about 2 µs each on a real socket,
 * three of them a third of hubauth's whole cost there. So `hubAuth()` leaves its carrier on
 * `res.locals` (a plain dictionary Express makes for each request, where `xsrfToken` already lives),
 * and the two fields are accessors on Express's root request prototype that read it, as Express's own
 * `req.query` is. Assigning either field still works: the value becomes an own property of that
 * request.
 */
import { IncomingMessage } from 'node:http';
import { HubCaller, carried, type RequestCarrier } from '@hubauth/core/adapter';
import type { Request } from 'express';

/** Marks a prototype that has the accessors (a registry symbol: duplicate installs share them). */
const INSTALLED = Symbol.for('hubauth.express.fields');
/** One `HubCaller` per carrier, made when `req.hubAuth` is first read. */
const callers = new WeakMap<RequestCarrier, HubCaller>();
/** The request prototype seen last, known to reach the accessors. */
let lastChecked: object | null = null;

/** The carrier `hubAuth()` left for this request, if any. */
const carrierOf = (req: Request): RequestCarrier | undefined => (req.res?.locals ? carried(req.res.locals) : undefined);

function callerOf(req: Request): HubCaller | undefined {
  const carrier = carrierOf(req);
  if (!carrier?.state?.identity.user) return undefined;
  let caller = callers.get(carrier);
  if (!caller) callers.set(carrier, (caller = new HubCaller(carrier.flow.auth, carrier.state.identity)));
  return caller;
}

/** An accessor; assigning to it gives that request an own value instead. */
const field = (name: string, read: (req: Request) => unknown): PropertyDescriptor => ({
  configurable: true,
  get(this: Request) { return read(this); },
  set(this: Request, value: unknown) { Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true }); },
});

/**
 * Makes `req.hubUser` and `req.hubAuth` read the carrier: once per copy of Express, on its root
 * request prototype (the one just above `IncomingMessage.prototype`, shared by every app and mounted
 * sub-app). A request without that prototype chain gets the accessors as its own.
 */
export function exposeRequestFields(req: Request): void {
  // Looking a key up on such a request is slow too (µs), reading its prototype is not: the usual
  // case, the same app's prototype as last time, is answered by one comparison.
  const prototype = Object.getPrototypeOf(req) as object | null;
  if (prototype === lastChecked) return;
  lastChecked = prototype;
  if (INSTALLED in req) return;
  let root: object | null = null;
  let p = prototype;
  for (; p && p !== IncomingMessage.prototype; p = Object.getPrototypeOf(p) as object | null) root = p;
  // p is null when the chain never reached IncomingMessage.prototype: then, as when req's own
  // prototype is it (root null), the request itself gets the accessors.
  Object.defineProperties((p && root) ?? req, {
    [INSTALLED]: { value: true },
    hubUser: field('hubUser', (req) => carrierOf(req)?.state?.identity.user ?? undefined),
    hubAuth: field('hubAuth', callerOf),
  });
}
