/**
 * Node's side of the seam: a lazy {@link HubRequest} view over `IncomingMessage`, and writing a
 * {@link HubResponse} to a `ServerResponse`.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { HubAuthLogger } from '../config';
import type { HubRequest, HubResponse } from '../types';

/**
 * What only the framework knows, read lazily from its own request object `T` (each may cost a
 * trust-proxy evaluation, and most requests need none of them).
 */
export interface NodeRequestHooks<T> {
  /** Whether the browser reached us over https (the framework knows whether to trust `X-Forwarded-Proto`). */
  secure(native: T): boolean;
  /** The client address, as the framework resolved it. */
  ip(native: T): string | undefined;
  /** The body the framework parsed, if any (an `_xsrf` form field is read from it). */
  body?(native: T): unknown;
  /** The framework's request id (Fastify's `request.id`), for log lines. */
  requestId?(native: T): string | undefined;
  /** A logger bound to the request (Fastify's `request.log`), used instead of the configured one. */
  log?(native: T): HubAuthLogger | undefined;
}

/**
 * The request as core sees it, over Node's `IncomingMessage`. A small class: prototype getters are
 * cheap where per-request closures or literal getters are not.
 *
 * @example
 * ```ts
 * import type { Request } from 'express';
 * import { NodeRequestView, type NodeRequestHooks } from '@hubauth/core/adapter';
 *
 * const hooks: NodeRequestHooks<Request> = { secure: (req) => req.secure, ip: (req) => req.ip, body: (req) => req.body as unknown };
 * export const viewOf = (req: Request) => new NodeRequestView(req, req, hooks, req.originalUrl);
 * ```
 */
export class NodeRequestView<T> implements HubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];

  constructor(
    message: IncomingMessage,
    private readonly native: T,
    private readonly hooks: NodeRequestHooks<T>,
    /** The request target as the application saw it arrive (e.g. Express's `originalUrl`). */
    url: string = message.url ?? '/',
    method: string = message.method ?? 'GET',
  ) {
    this.method = method;
    this.url = url;
    this.headers = message.headers;
    this.rawHeaders = message.rawHeaders;
  }

  get secure(): boolean {
    return this.hooks.secure(this.native);
  }

  get ip(): string | undefined {
    return this.hooks.ip(this.native);
  }

  get body(): unknown {
    return this.hooks.body?.(this.native);
  }

  get requestId(): string | undefined {
    return this.hooks.requestId?.(this.native);
  }

  get log(): HubAuthLogger | undefined {
    return this.hooks.log?.(this.native);
  }
}

/**
 * Writes `response` to a Node `ServerResponse` and ends it. `Set-Cookie` values are appended to
 * any the application (or core, earlier in the request) already set.
 */
export function sendNode(res: ServerResponse, response: HubResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'set-cookie') appendSetCookie(res, value);
    else res.setHeader(name, value);
  }
  res.end(response.body);
}

/** Adds `Set-Cookie` values to those already on `res`. */
export function appendSetCookie(res: ServerResponse, values: string | readonly string[]): void {
  const list = typeof values === 'string' ? [values] : values;
  if (list.length === 0) return;
  const prior = res.getHeader('set-cookie');
  const before = prior === undefined ? [] : Array.isArray(prior) ? prior : [String(prior)];
  res.setHeader('set-cookie', [...before, ...list]);
}
