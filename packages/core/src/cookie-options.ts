/**
 * `cookieOptions`: the attributes a deployment may set on this library's cookies, and the Hub's
 * `JUPYTERHUB_COOKIE_OPTIONS` (the JSON of a service's or spawner's `cookie_options`, written as
 * keyword arguments of Tornado's `set_cookie`). Combinations browsers reject are refused here, at
 * start-up, rather than discovered as logins that never stick.
 */
import { ConfigError } from './errors';

/** Attributes of the login, login-state and xsrf cookies. */
export interface CookieOptions {
  /** `SameSite` of the cookies (default `Lax`). `None` needs `secure: true`. */
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** Force `Secure` on (or off). Default: from the public URL, else the request's protocol. */
  secure?: boolean;
  /** `Domain` attribute, e.g. `example.org` to share the login with sub-domains. Default: none (host-only). */
  domain?: string;
  /** Login cookie without `Max-Age`: it ends with the browser session (the login still expires with the Hub token). */
  sessionOnly?: boolean;
}

/** Validated cookie attributes. */
export interface ResolvedCookieOptions {
  /** The `SameSite` attribute. */
  readonly sameSite: 'Lax' | 'Strict' | 'None';
  /** `null`: decided per request (public URL, else the request's protocol). */
  readonly secure: boolean | null;
  /** The `Domain` attribute; `null`: host-only cookies. */
  readonly domain: string | null;
  /** Cookies without `Max-Age`, ending with the browser session. */
  readonly sessionOnly: boolean;
}

const OPTION = 'cookieOptions';
const ENV = 'JUPYTERHUB_COOKIE_OPTIONS';
const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const;
// A registrable name or a sub-domain of one: letters, digits, hyphens, dots (a leading dot is legacy, allowed).
const DOMAIN = /^\.?(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function fail(fromEnv: boolean, message: string): never {
  throw new ConfigError(OPTION, `${message} [${fromEnv ? `env ${ENV}` : `option "${OPTION}"`}]`);
}

/** Reads `JUPYTERHUB_COOKIE_OPTIONS` into {@link CookieOptions}; keys hubauth does not apply are reported. */
function fromHubEnv(raw: string, warn: (message: string) => void): CookieOptions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail(true, 'must be a JSON object, e.g. {"samesite": "Strict", "secure": true}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) fail(true, 'must be a JSON object');
  const out: CookieOptions = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    switch (key.toLowerCase().replace(/[-_]/g, '')) {
      case 'samesite':
        if (typeof value !== 'string') fail(true, '"samesite" must be "Lax", "Strict" or "None"');
        out.sameSite = value as CookieOptions['sameSite'];
        break;
      case 'secure':
        if (typeof value !== 'boolean') fail(true, '"secure" must be true or false');
        out.secure = value;
        break;
      case 'domain':
        if (typeof value !== 'string') fail(true, '"domain" must be a string');
        out.domain = value;
        break;
      case 'expiresdays':
      case 'expires':
      case 'maxage':
        // `expires_days: null` is Tornado's session cookie; a lifetime of its own would outlive the token.
        if (value === null) out.sessionOnly = true;
        else warn(`${ENV}: "${key}" is ignored; the login cookie lives as long as the Hub's token`);
        break;
      case 'httponly':
        if (value !== true) warn(`${ENV}: "${key}" is ignored; the login and state cookies are always HttpOnly`);
        break;
      case 'path':
        warn(`${ENV}: "${key}" is ignored; cookies live at the service prefix`);
        break;
      default:
        warn(`${ENV}: "${key}" is not a cookie attribute hubauth applies; ignored`);
    }
  }
  return out;
}

/**
 * Validates `cookieOptions` (or, without it, `JUPYTERHUB_COOKIE_OPTIONS`). Throws {@link ConfigError}
 * for a value browsers would reject: `SameSite=None` without `Secure`, a `Domain` that is not a host
 * name, or `Domain`/insecure cookies together with the `__Host-` prefix.
 */
export function resolveCookieOptions(
  option: CookieOptions | undefined,
  env: string | undefined,
  context: { hostPrefix: boolean; warn: (message: string) => void },
): ResolvedCookieOptions {
  const fromEnv = option === undefined;
  let given: CookieOptions = {};
  if (option !== undefined) {
    if (!option || typeof option !== 'object' || Array.isArray(option)) fail(false, 'must be an object');
    const unknown = Object.keys(option).filter((k) => !['sameSite', 'secure', 'domain', 'sessionOnly'].includes(k));
    if (unknown.length) fail(false, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (use sameSite, secure, domain, sessionOnly)`);
    given = option;
  } else if (env !== undefined && env.trim() !== '') {
    given = fromHubEnv(env, context.warn);
  }

  let sameSite: ResolvedCookieOptions['sameSite'] = 'Lax';
  if (given.sameSite !== undefined) {
    const canonical = typeof given.sameSite === 'string' ? SAME_SITE[given.sameSite.toLowerCase() as keyof typeof SAME_SITE] : undefined;
    if (!canonical) fail(fromEnv, `SameSite must be "Lax", "Strict" or "None", got ${JSON.stringify(given.sameSite)}`);
    sameSite = canonical;
  }
  if (given.secure !== undefined && typeof given.secure !== 'boolean') fail(fromEnv, 'secure must be true or false');
  let secure: boolean | null = given.secure ?? null;
  if (context.hostPrefix) {
    if (secure === false) fail(fromEnv, 'the __Host- prefix (cookieHostPrefix) needs Secure cookies; drop secure: false');
    secure = true;
  }
  if (sameSite === 'None' && secure !== true) {
    fail(fromEnv, 'SameSite=None cookies must be Secure, or browsers drop them; set secure: true (and serve over https) or use SameSite Lax');
  }
  let domain: string | null = null;
  if (given.domain !== undefined) {
    if (typeof given.domain !== 'string' || !DOMAIN.test(given.domain)) {
      fail(fromEnv, `domain must be a host name such as "example.org" (no scheme, port or path), got ${JSON.stringify(given.domain)}`);
    }
    if (context.hostPrefix) fail(fromEnv, 'the __Host- prefix (cookieHostPrefix) forbids a Domain; drop domain or the prefix');
    domain = given.domain.replace(/^\./, '').toLowerCase();
  }
  if (given.sessionOnly !== undefined && typeof given.sessionOnly !== 'boolean') fail(fromEnv, 'sessionOnly must be true or false');
  return Object.freeze({ sameSite, secure, domain, sessionOnly: given.sessionOnly ?? false });
}
