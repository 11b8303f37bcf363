/**
 * The @fastify/cookie check, shared by jest (Fastify 4 + @fastify/cookie 9) and a plain Node child
 * process (Fastify 5 + @fastify/cookie 11, which loads `cookie` with `import()`).
 */
import type Fastify from 'fastify';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { hubAuth, hubAuthenticated, type HubAuthMiddlewareOptions } from '../src';

type WithCookies = FastifyReply & { setCookie(name: string, value: string): FastifyReply };

export interface CookieResults {
  /** Status and cookie names of a guarded route's login redirect. */
  redirect: [number, string[]];
  /** Body of a handler that read `request.cookies` and set a cookie, on a request with an invalid login cookie. */
  body: unknown;
  /** Cookie names of that response. */
  cookies: string[];
}

const names = (res: Response) => res.headers.getSetCookie().map((c) => c.split('=')[0] as string).sort();

export async function cookieScenario(
  fastify: typeof Fastify,
  cookie: FastifyPluginAsync,
  options: HubAuthMiddlewareOptions,
  prefix: string,
): Promise<CookieResults> {
  const app = fastify({ forceCloseConnections: true });
  try {
    await app.register(cookie);
    app.addHook('onRequest', async (_req, reply) => void (reply as WithCookies).setCookie('early', '1'));
    await app.register(hubAuth, options);
    app.get(prefix, { preHandler: hubAuthenticated({ onUnauthenticated: 'login' }) }, async (req) => req.hubUser);
    app.get(`${prefix}late`, async (req, reply) => {
      (reply as WithCookies).setCookie('late', '2');
      return { cookies: (req as FastifyRequest & { cookies: Record<string, string> }).cookies, user: req.hubUser };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const redirect = await fetch(`${base}${prefix}`, { redirect: 'manual' });
    const late = await fetch(`${base}${prefix}late`, { headers: { cookie: 'service-whoami=garbage; other=x' } });
    return { redirect: [redirect.status, names(redirect)], body: await late.json(), cookies: names(late) };
  } finally {
    await app.close();
  }
}
