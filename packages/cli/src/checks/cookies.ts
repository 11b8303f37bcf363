/** The cookie secret (present, strong, the same on every replica) and the cookies' transport security. */
import { createHash } from 'node:crypto';
import type { HubOAuthConfig } from '@hubauth/core';
import type { DoctorContext } from '../context';
import type { Check } from '../report';

const LOOPBACK = /^(localhost|127(?:\.\d+){3}|\[::1\])$/;

function oauthConfig(ctx: DoctorContext): HubOAuthConfig | null {
  return ctx.oauth && ctx.config && 'cookieSecrets' in ctx.config ? (ctx.config as HubOAuthConfig) : null;
}

/** A short, one-way fingerprint: replicas can be compared without showing the secret. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(`hubauth doctor ${secret}`).digest('hex').slice(0, 8);
}

export function checkCookieSecret(ctx: DoctorContext): Check[] {
  const config = oauthConfig(ctx);
  if (!config) return [];
  const title = 'Cookie secret';
  if (config.cookieSecretIsRandom) {
    return [
      {
        id: 'cookie-secret',
        status: 'warn',
        title,
        detail: 'none configured: each process makes a random one, so logins end at every restart and replicas cannot read each other\'s cookies',
        fix: 'set HUBAUTH_COOKIE_SECRET to one value from `openssl rand -hex 32`, the same on every replica',
      },
    ];
  }
  const [current] = config.cookieSecrets as [string, ...string[]];
  const guessable = new Set(current).size < 10;
  const detail =
    `${config.cookieSecrets.length} secret${config.cookieSecrets.length === 1 ? '' : 's'} of 32+ characters, fingerprint ${fingerprint(current)}` +
    ' (every replica must show the same)';
  return [
    guessable
      ? { id: 'cookie-secret', status: 'warn', title, detail: `${detail}, but it has few distinct characters and looks guessable`, fix: 'generate it with `openssl rand -hex 32`' }
      : { id: 'cookie-secret', status: 'ok', title, detail },
  ];
}

export function checkCookieSecurity(ctx: DoctorContext): Check[] {
  const config = oauthConfig(ctx);
  if (!config) return [];
  const title = 'Cookie security';
  if (config.cookieHostPrefix) {
    return [{ id: 'cookie-security', status: 'ok', title, detail: `"__Host-${config.clientId}": Secure, Path=/, no Domain; no sibling host can plant or shadow it` }];
  }
  if (!config.publicUrl) {
    return [
      {
        id: 'cookie-security',
        status: 'warn',
        title,
        detail: "the public URL is not configured: cookies are Secure only when the request's protocol says https",
        fix: 'set JUPYTERHUB_PUBLIC_URL (e.g. https://hub.example.org/services/<name>/) so cookies are always Secure behind https',
      },
    ];
  }
  const url = new URL(config.publicUrl);
  if (url.protocol === 'http:') {
    return LOOPBACK.test(url.hostname)
      ? [{ id: 'cookie-security', status: 'ok', title, detail: `plain http on a loopback host (${url.host}): fine for development only` }]
      : [
          {
            id: 'cookie-security',
            status: 'warn',
            title,
            detail: `"${config.publicUrl}" is plain http: the login cookie travels without Secure and can be read on the network`,
            fix: 'serve the Hub over https (and set JUPYTERHUB_PUBLIC_URL to the https address)',
          },
        ];
  }
  return [
    {
      id: 'cookie-security',
      status: 'warn',
      title,
      detail:
        'Secure cookies without the __Host- prefix: another host of the same site (per-user subdomains, sibling apps) can plant cookies of these names; ' +
        "hubauth refuses duplicated ones and never switches a logged-in browser, but a fresh browser can still be logged into the planter's account",
      fix:
        'set JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED=1 (option cookieHostPrefix), certainly with c.JupyterHub.subdomain_host or other apps under the same domain; ' +
        'the login cookie then has Path=/ and goes to every path of this host (see SECURITY.md, "Cookies from neighbours")',
    },
  ];
}
