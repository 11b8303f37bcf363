// One replica of a token-authenticated service sharing its identity cache on Redis, for the
// multi-replica tests and the bench: `node replica.mjs` with HUBAUTH_REDIS_URL (empty: no shared
// cache), JUPYTERHUB_API_URL and HUBAUTH_COOKIE_SECRET in the environment. It loads the BUILT
// packages. Prints `listening <port>` once ready.
//
//   GET  /whoami             200 {name} | 401 | 5xx, through HubAuth.authenticate + authorize
//   POST /invalidate         body = the token: HubAuth.invalidate
//   POST /revoke             body = the token: HubAuth.revoke (awaited)
//   GET  /stats              {cacheSize, lookupsInFlight}
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/redis/package.json', import.meta.url));
const { HubAuth } = require('@hubauth/core');
const { redisStore } = require('@hubauth/redis');

const url = process.env.HUBAUTH_REDIS_URL;
const store = url ? redisStore({ url, timeoutMs: Number(process.env.HUBAUTH_TEST_REDIS_TIMEOUT_MS || 250) }) : null;
const auth = new HubAuth({
  allowAll: true,
  cacheMaxAge: Number(process.env.HUBAUTH_TEST_CACHE_MAX_AGE || 300),
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
    if (req.method === 'GET' && req.url === '/whoami') {
      const request = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, ip: req.socket.remoteAddress };
      const identity = auth.authenticateCached(request) ?? (await auth.authenticate(request));
      const decision = auth.authorize(identity, request);
      if (decision.action === 'allow') return send(200, { name: decision.user.name });
      const status = decision.action === 'deny' ? decision.error.status : 401;
      return send(status, { error: decision.action === 'deny' ? decision.error.code : 'redirect' });
    }
    if (req.method === 'POST' && req.url === '/invalidate') return send(200, { removed: auth.invalidate(await body(req)) });
    if (req.method === 'POST' && req.url === '/revoke') {
      await auth.revoke(await body(req));
      return send(200, { ok: true });
    }
    if (req.method === 'GET' && req.url === '/stats') return send(200, { cacheSize: auth.cacheSize, lookupsInFlight: auth.lookupsInFlight });
    send(404, {});
  } catch (err) {
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
