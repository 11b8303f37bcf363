/** What every check reads: the configuration as the service would resolve it, and shared findings. */
import {
  createHubAuth,
  isHubAuthError,
  resolveHubAuthConfig,
  type Environment,
  type HubAuthConfig,
  type HubAuthLogger,
  type HubAuthMiddlewareOptions,
  type HubOAuthConfig,
} from '@hubauth/core';

/** The identity behind the service's own token, once the Hub has told it. */
export interface TokenOwner {
  kind: string;
  name: string;
  scopes: string[];
}

export interface DoctorContext {
  env: Environment;
  options: HubAuthMiddlewareOptions;
  timeoutMs: number;
  /** The full configuration, when it is valid. */
  config: HubAuthConfig | HubOAuthConfig | null;
  /** Why the configuration is invalid (a ConfigError's message), if it is. */
  configError: { option: string; message: string } | null;
  /** Enough configuration to reach the Hub, even when the full one is invalid. */
  base: HubAuthConfig | null;
  /** Whether the service logs browsers in through OAuth. */
  oauth: boolean;
  /** Whether the Hub API answered at all. */
  hubReachable: boolean;
  tokenOwner: TokenOwner | null;
}

const silent: HubAuthLogger = { warn: () => undefined, error: () => undefined, info: () => undefined };

/** Resolves the configuration exactly as `hubAuth(options)` would. */
export function createContext(options: HubAuthMiddlewareOptions, env: Environment, timeoutMs: number): DoctorContext {
  const ctx: DoctorContext = {
    env,
    options,
    timeoutMs,
    config: null,
    configError: null,
    base: null,
    oauth: false,
    hubReachable: false,
    tokenOwner: null,
  };
  const withEnv: HubAuthMiddlewareOptions = { ...options, env, logger: silent };
  try {
    const auth = createHubAuth(withEnv);
    ctx.config = auth.config;
    ctx.oauth = auth.oauthEnabled;
    auth.close();
  } catch (err) {
    const option = typeof (err as { option?: unknown }).option === 'string' ? (err as { option: string }).option : 'options';
    ctx.configError = { option, message: err instanceof Error ? err.message : String(err) };
    if (!isHubAuthError(err)) ctx.configError.message = `unexpected ${String(err)}`;
    ctx.oauth = options.oauth ?? Boolean(options.clientId ?? env.JUPYTERHUB_CLIENT_ID);
  }
  try {
    ctx.base = ctx.config ?? resolveHubAuthConfig({ ...withEnv, allowAll: true });
  } catch {
    ctx.base = null;
  }
  return ctx;
}

/** The name of the service as configured (`serviceName`, else from a `service-<name>` client id). */
export function expectedServiceName(config: HubAuthConfig): string {
  if (config.serviceName) return config.serviceName;
  return config.clientId.startsWith('service-') ? config.clientId.slice('service-'.length) : '';
}
