// One replica of a service sharing its identity cache on Redis, for the multi-replica tests and the
// bench: `node replica.mjs` with HUBAUTH_REDIS_URL (empty: no shared cache), JUPYTERHUB_API_URL and
// HUBAUTH_COOKIE_SECRET in the environment; with JUPYTERHUB_CLIENT_ID (and the service's
// JUPYTERHUB_API_TOKEN, JUPYTERHUB_SERVICE_PREFIX) browser login is on too. It loads the BUILT
// packages. Prints `listening <port>` once ready. Under the service prefix (default `/`):
//
//   GET  whoami              200 {name} | 401 | 4xx/5xx, through authenticate + authorize
//   POST invalidate          body = the token: HubAuth.invalidate
//   POST revoke              body = the token: HubAuth.revoke (awaited)
//   GET  stats               {cacheSize, lookupsInFlight}
//   GET  bare                {ok: true} without authentication (the bench's baseline)
//   oauth_callback, logout   browser login (HubOAuth.route)
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/redis/package.json', import.meta.url));
const { HubAuth, HubOAuth } = require('@hubauth/core');
const { redisStore } = require('@hubauth/redis');

const url = process.env.HUBAUTH_REDIS_URL;
const store = url ? redisStore({ url }) : null;
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX || '/';
const Auth = process.env.JUPYTERHUB_CLIENT_ID ? HubOAuth : HubAuth;
const auth = new Auth({
  allowAll: true,
  cacheMaxAge: Number(process.env.HUBAUTH_TEST_CACHE_MAX_AGE || 300),
  ...(process.env.HUBAUTH_TEST_CACHE_MAX_ENTRIES ? { cacheMaxEntries: Number(process.env.HUBAUTH_TEST_CACHE_MAX_ENTRIES) } : {}),
  ...(process.env.HUBAUTH_TEST_MAX_CONCURRENT ? { maxConcurrentLookups: Number(process.env.HUBAUTH_TEST_MAX_CONCURRENT) } : {}),
  ...(process.env.HUBAUTH_TEST_REQUEST_TIMEOUT_MS ? { requestTimeoutMs: Number(process.env.HUBAUTH_TEST_REQUEST_TIMEOUT_MS) } : {}),
  ...(store ? { sharedCache: { store } } : {}),
  logger: { warn: (m) => console.warn(m), error: (m) => console.error(m) },
});

const body = (req) =>
  new Promise((resolve) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => resolve(text));
  });

const server = http.createServer(async (req, res) => {
  const send = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  try {
    const request = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, ip: req.socket.remoteAddress };
    const own = await auth.route(request);
    if (own) {
      res.writeHead(own.status, own.headers);
      return res.end(own.body);
    }
    if (req.method === 'GET' && req.url === `${prefix}bare`) return send(200, { ok: true });
    if (req.method === 'GET' && req.url === `${prefix}whoami`) {
      const identity = auth.authenticateCached(request) ?? (await auth.authenticate(request));
      const decision = auth.authorize(identity, request);
      if (decision.action === 'allow') return send(200, { name: decision.user.name });
      if (decision.action === 'redirect') {
        res.writeHead(decision.response.status, decision.response.headers);
        return res.end(decision.response.body);
      }
      const status = decision.error.status;
      return send(status, { error: decision.error.code });
    }
    if (req.method === 'POST' && req.url === `${prefix}invalidate`) return send(200, { removed: auth.invalidate(await body(req)) });
    if (req.method === 'POST' && req.url === `${prefix}revoke`) {
      await auth.revoke(await body(req));
      return send(200, { ok: true });
    }
    if (req.method === 'GET' && req.url === `${prefix}stats`) return send(200, { cacheSize: auth.cacheSize, lookupsInFlight: auth.lookupsInFlight });
    send(404, {});
  } catch (err) {
    if (typeof err?.status === 'number' && typeof err?.code === 'string') return send(err.status, { error: err.code });
    send(500, { error: String(err?.message ?? err) });
  }
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
const stop = () => {
  server.close();
  void store?.close();
  auth.close();
  setTimeout(() => process.exit(0), 100).unref();
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
