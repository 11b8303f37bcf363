/**
 * Identity to the upstream: the configured headers are first removed from what the client sent
 * (in every spelling a server might read them by), then set from the Hub's answer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HubUser } from '@hubauth/core';
import { canonicalHeaderName, type ResolvedProxyOptions } from './options';

/**
 * Header-safe text: visible ASCII stays as it is (so `alice` and `alice@example.org` arrive
 * unchanged); `%`, `,`, spaces, controls and non-ASCII characters are percent-encoded as UTF-8.
 * Decode with `decodeURIComponent`.
 */
export function headerText(text: string): string {
  return text.replace(/[^\x21-\x24\x26-\x2b\x2d-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** JSON with every non-ASCII character escaped (`\u00e9`), so it is a valid header value and still valid JSON. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Sets and strips the identity headers of one proxy. */
export class IdentityHeaders {
  private readonly names: ResolvedProxyOptions['identityHeaders'];
  private readonly canonical: ReadonlySet<string>;
  // Models are frozen and cached by core: their header values are computed once per cache entry.
  private readonly values = new WeakMap<HubUser, ReadonlyArray<readonly [string, string]>>();

  constructor(names: ResolvedProxyOptions['identityHeaders']) {
    this.names = names;
    this.canonical = new Set([names.user, names.groups, names.model].filter((n): n is string => n !== null));
  }

  /**
   * Removes every identity header the client sent, whatever its case and whether it is written with
   * `_` or `-` (WSGI, CGI, PHP and nginx read `X-Hubauth_User` as `X-Hubauth-User`).
   */
  strip(headers: IncomingHttpHeaders): void {
    for (const name of Object.keys(headers)) {
      // Node lower-cases names already; only `_` needs mapping.
      if (this.canonical.has(name.includes('_') ? canonicalHeaderName(name) : name)) delete headers[name];
    }
  }

  /** The identity header values for `user`, in configured order. */
  of(user: HubUser): ReadonlyArray<readonly [string, string]> {
    let list = this.values.get(user);
    if (!list) {
      const entries: Array<readonly [string, string]> = [];
      if (this.names.user) entries.push([this.names.user, headerText(user.name)]);
      if (this.names.groups) entries.push([this.names.groups, user.groups.map(headerText).join(',')]);
      if (this.names.model) entries.push([this.names.model, asciiJson(user)]);
      list = Object.freeze(entries);
      this.values.set(user, list);
    }
    return list;
  }

  /** Sets the identity headers of `user` on outgoing request headers. */
  set(headers: IncomingHttpHeaders, user: HubUser): void {
    for (const [name, value] of this.of(user)) headers[name] = value;
  }
}
