/**
 * Browser login: the OAuth client id and secret, the redirect URI, and the public Hub URL browsers
 * are sent to. The Hub's REST API does not show a service its own OAuth client, so the client is
 * checked at the token endpoint (a made-up code is refused as `invalid_grant` only once the client
 * id and secret are accepted), and the redirect URI against what the Hub told the service.
 */
import { randomBytes } from 'node:crypto';
import type { HubOAuthConfig } from '@hubauth/core';
import type { DoctorContext } from '../context';
import { jsonOf, millis, probe, type ProbeReply } from '../probe';
import type { Check } from '../report';

function oauthConfig(ctx: DoctorContext): HubOAuthConfig | null {
  return ctx.oauth && ctx.config && 'oauthRedirectUri' in ctx.config ? (ctx.config as HubOAuthConfig) : null;
}

export async function checkOAuthClient(ctx: DoctorContext): Promise<Check[]> {
  const config = oauthConfig(ctx);
  const title = 'OAuth client';
  if (!config) return [];
  if (!ctx.hubReachable) return [{ id: 'oauth-client', status: 'skip', title, detail: `"${config.clientId}" not checked: the Hub API is not reachable` }];
  const form = new URLSearchParams({
    client_id: config.clientId,
    client_secret: config.apiToken,
    grant_type: 'authorization_code',
    code: `hubauth-doctor-${randomBytes(12).toString('hex')}`,
    redirect_uri: config.oauthRedirectUri,
  }).toString();
  let reply: ProbeReply;
  try {
    reply = await probe(`${config.apiUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      timeoutMs: ctx.timeoutMs,
      tls: config.tls,
    });
  } catch (err) {
    return [{ id: 'oauth-client', status: 'fail', title, detail: `the token endpoint did not answer (${(err as Error).message})`, fix: 'see the Hub API line' }];
  }
  const error = (jsonOf(reply) as { error?: unknown } | undefined)?.error;
  if (reply.status === 400 && error === 'invalid_grant') {
    return [{ id: 'oauth-client', status: 'ok', title, detail: `"${config.clientId}" is known to the Hub and the service token is its secret, ${millis(reply.ms)}` }];
  }
  if (reply.status === 401 || error === 'invalid_client') {
    const owner = ctx.tokenOwner;
    const fix =
      owner?.kind === 'service' && config.clientId !== `service-${owner.name}`
        ? `set JUPYTERHUB_CLIENT_ID="service-${owner.name}": that is the client of service "${owner.name}", whose token this is`
        : 'the Hub registers an OAuth client for a service with a url or an oauth_redirect_uri in c.JupyterHub.services; ' +
          'JUPYTERHUB_CLIENT_ID must be its oauth_client_id (default service-<name>) and JUPYTERHUB_API_TOKEN its api_token';
    return [{ id: 'oauth-client', status: 'fail', title, detail: `the Hub does not know client "${config.clientId}" with this service's token as its secret`, fix }];
  }
  return [
    {
      id: 'oauth-client',
      status: 'warn',
      title,
      detail: `"${config.clientId}": unexpected answer from the token endpoint (status ${reply.status}${typeof error === 'string' ? `, ${error}` : ''})`,
      fix: 'look at the Hub log for POST /hub/api/oauth2/token',
    },
  ];
}

function pathOf(uri: string): string {
  return uri.startsWith('/') && !uri.startsWith('//') ? uri.replace(/[?#].*$/, '') : new URL(uri).pathname;
}

export function checkRedirectUri(ctx: DoctorContext): Check[] {
  const config = oauthConfig(ctx);
  if (!config) return [];
  const title = 'Redirect URI';
  const configured = config.oauthRedirectUri;
  const registered = ctx.env.JUPYTERHUB_OAUTH_CALLBACK_URL;
  if (registered && registered !== configured) {
    return [
      {
        id: 'redirect-uri',
        status: 'fail',
        title,
        detail: `"${configured}" is not the redirect URI the Hub registered for this service, "${registered}" (JUPYTERHUB_OAUTH_CALLBACK_URL): the Hub will refuse every login with "Mismatching redirect URI"`,
        fix: `drop the oauthRedirectUri option or set it to "${registered}" (or change oauth_redirect_uri in c.JupyterHub.services)`,
      },
    ];
  }
  const path = pathOf(configured);
  if (!path.startsWith(config.servicePrefix)) {
    return [
      {
        id: 'redirect-uri',
        status: 'fail',
        title,
        detail: `"${configured}" is outside the service prefix "${config.servicePrefix}": the Hub's proxy will not route the callback to this service`,
        fix: `use "${config.servicePrefix}oauth_callback" here and as oauth_redirect_uri in c.JupyterHub.services`,
      },
    ];
  }
  if (registered) {
    return [{ id: 'redirect-uri', status: 'ok', title, detail: `"${configured}", as the Hub registered it (JUPYTERHUB_OAUTH_CALLBACK_URL)` }];
  }
  return [
    {
      id: 'redirect-uri',
      status: 'warn',
      title,
      detail: `"${configured}" cannot be compared with the Hub's registration: the Hub API does not show a service its OAuth client, and JUPYTERHUB_OAUTH_CALLBACK_URL is not set`,
      fix: `make sure oauth_redirect_uri of this service in c.JupyterHub.services is exactly "${configured}"`,
    },
  ];
}

export async function checkPublicHub(ctx: DoctorContext): Promise<Check[]> {
  const config = oauthConfig(ctx);
  if (!config) return [];
  const title = 'Public Hub URL';
  const publicHub = config.authorizeUrl.replace(/api\/oauth2\/authorize$/, '');
  let absolute = publicHub;
  if (publicHub.startsWith('/')) {
    if (!config.publicUrl) {
      return [
        {
          id: 'public-hub',
          status: 'warn',
          title,
          detail: `browsers are sent to "${publicHub}" on this service's own origin, which doctor does not know`,
          fix: 'set JUPYTERHUB_PUBLIC_URL (this service\'s public URL) to let doctor check it, or JUPYTERHUB_PUBLIC_HUB_URL when the Hub is on another host',
        },
      ];
    }
    absolute = new URL(publicHub, config.publicUrl).href;
  }
  try {
    const reply = await probe(`${absolute}api/`, { timeoutMs: ctx.timeoutMs });
    const body = jsonOf(reply) as { version?: unknown } | undefined;
    if (reply.status === 200 && typeof body?.version === 'string') {
      return [{ id: 'public-hub', status: 'ok', title, detail: `"${absolute}" answers from this host (JupyterHub ${body.version}, ${millis(reply.ms)}); browsers must reach it too` }];
    }
    return [
      {
        id: 'public-hub',
        status: 'fail',
        title,
        detail: `no Hub at "${absolute}" (status ${reply.status}): logins would be sent to "${config.authorizeUrl}"`,
        fix: 'set JUPYTERHUB_PUBLIC_HUB_URL to the Hub as browsers see it (e.g. https://hub.example.org/hub/), or fix JUPYTERHUB_HOST and JUPYTERHUB_BASE_URL',
      },
    ];
  } catch (err) {
    return [
      {
        id: 'public-hub',
        status: 'fail',
        title,
        detail: `"${absolute}" is unreachable from this host (${(err as { code?: string }).code === 'TIMEOUT' ? `no answer within ${ctx.timeoutMs} ms` : ((err as { code?: string }).code ?? 'error')})`,
        fix: 'browsers are sent there to log in: set JUPYTERHUB_PUBLIC_HUB_URL (or JUPYTERHUB_HOST) to the Hub\'s public address',
      },
    ];
  }
}
