// Loads the fake Hub (test/fake-hub) into a plain Node script, for the checks that run services
// outside jest (the docs check and the consumer test). It is bundled from its TypeScript sources
// with esbuild; the workspace packages it imports resolve to their builds (run `pnpm run build` first).
import { build } from 'esbuild';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './packages.mjs';

/** @returns {Promise<typeof import('../test/fake-hub/index.ts')>} */
export async function loadFakeHub() {
  const dir = mkdtempSync(join(tmpdir(), 'hubauth-fake-hub-'));
  try {
    const outfile = join(dir, 'fake-hub.mjs');
    await build({
      entryPoints: [join(root, 'test', 'fake-hub', 'index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      // CommonJS dependencies bundled into ESM may call require() for Node's built-ins.
      banner: { js: "import { createRequire as __hubauthCreateRequire } from 'node:module'; const require = __hubauthCreateRequire(import.meta.url);" },
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The environment JupyterHub gives a managed service, pointing at a fake Hub. */
export function serviceEnvironment(hub, { port, name = 'whoami', prefix = `/services/${name}/` }) {
  return {
    JUPYTERHUB_API_TOKEN: hub.serviceToken,
    JUPYTERHUB_API_URL: hub.apiUrl,
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_SERVICE_NAME: name,
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}`,
    JUPYTERHUB_CLIENT_ID: hub.clientId ?? `service-${name}`,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:services!service=${name}`]),
    HUBAUTH_COOKIE_SECRET: 'docs-and-consumer-checks-cookie-secret-0123456789',
  };
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released), for a service under test. */
export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}
