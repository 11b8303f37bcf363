/** Calls to the Hub API made with the service's own token ({@link HubAuth.apiRequest}). */
import type { HubAuthConfig } from './config';
import { HubApiError, HubUnavailableError, ServiceCredentialsError } from './errors';
import type { HubClient } from './hub-client';

/**
 * `method path` on the Hub API with the service token; the parsed JSON reply, or `null` when empty.
 * Rejects with {@link ServiceCredentialsError} (401/403), {@link HubApiError} (other 4xx/5xx) or
 * {@link HubUnavailableError}.
 */
export async function hubApiRequest<T>(client: HubClient, config: HubAuthConfig, method: string, path: string, body?: unknown): Promise<T | null> {
  if (!config.apiToken) {
    throw new ServiceCredentialsError('apiRequest needs the service API token (apiToken / JUPYTERHUB_API_TOKEN)');
  }
  const verb = method.toUpperCase();
  const rel = path.startsWith('/') ? path : `/${path}`;
  const headers: Record<string, string> = { authorization: `token ${config.apiToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const reply = await client.request(verb, rel, { headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (reply.status === 401 || reply.status === 403) {
    throw new ServiceCredentialsError(
      `The Hub refused this service's token for ${verb} ${rel} (${reply.status}); check its roles and JUPYTERHUB_API_TOKEN`,
    );
  }
  if (reply.status >= 400) throw new HubApiError(reply.status, `The Hub answered ${reply.status} to ${verb} ${rel}`);
  if (reply.text.trim() === '') return null;
  try {
    return JSON.parse(reply.text) as T;
  } catch {
    throw new HubUnavailableError(`The Hub answered ${verb} ${rel} with something that is not JSON`);
  }
}
