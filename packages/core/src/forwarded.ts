/**
 * The protocol the browser used, as a TLS-terminating proxy forwards it (`Forwarded: proto=`, then
 * `X-Scheme` / `X-Forwarded-Proto`). Like JupyterHub's own cookie code, the outermost value counts:
 * what matters is what the browser saw. Only ever used to ADD `Secure` to cookies, which is safe
 * without trusting the proxy: a client that lies gets cookies its own browser will not send back
 * over http, and no one else is affected.
 */
import { headerValue } from './token';
import type { HubRequest } from './types';

function scheme(value: string | undefined): 'http' | 'https' | null {
  const v = value?.trim().replace(/^"|"$/g, '').toLowerCase();
  return v === 'http' || v === 'https' ? v : null;
}

/** `https`/`http` as forwarded by a proxy, or `null` when no proxy said. */
export function forwardedProto(request: HubRequest): 'http' | 'https' | null {
  const forwarded = headerValue(request.headers, 'forwarded');
  if (forwarded) {
    const first = forwarded.split(',', 1)[0] ?? '';
    for (const field of first.split(';')) {
      const eq = field.indexOf('=');
      if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'proto') {
        const proto = scheme(field.slice(eq + 1));
        if (proto) return proto;
      }
    }
  }
  const header = headerValue(request.headers, 'x-scheme') ?? headerValue(request.headers, 'x-forwarded-proto');
  return scheme(header?.split(',', 1)[0]);
}
