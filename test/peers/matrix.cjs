/**
 * The framework releases each adapter is tested on: the oldest and the newest release of every
 * supported major. The newest release of the newest major is the adapter's own development
 * dependency (`express`, `koa`, `fastify`, `hono`), run by the `unit` jest project; every other
 * release is an npm alias among the adapter's development dependencies (`express4-oldest` is
 * `npm:express@4.0.0`), and jest.config.cjs gives each one a project that maps the framework's name
 * to that alias for the adapter's contract and adversarial suites. The adapters' `peerDependencies`
 * say exactly this: `ranges.test.ts` checks them against the installed releases.
 *
 * `companions` are other packages a release is served with, aliased the same way: Hono is served on
 * Node by `@hono/node-server`, whose 2.x line needs a newer Hono than 4.0 (it loads `hono/ws`).
 *
 * `node test/peers/matrix.cjs` prints the releases.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const MATRIX = [
  { adapter: 'express', framework: 'express', aliases: ['express4-oldest', 'express4', 'express5-oldest'] },
  { adapter: 'koa', framework: 'koa', aliases: ['koa2-oldest', 'koa2', 'koa3-oldest'] },
  // Fastify before 4.19 answers an oversized Cookie header with 400 instead of Node's 431.
  { adapter: 'fastify', framework: 'fastify', aliases: ['fastify4-oldest', 'fastify4', 'fastify5-oldest'] },
  { adapter: 'hono', framework: 'hono', aliases: [{ alias: 'hono4-oldest', companions: { '@hono/node-server': 'hono-node-server1' } }] },
];

/**
 * Every release of the matrix as installed: `{ adapter, framework, name, version, companions }`,
 * `name` being the framework's own name (the `unit` project) or the alias.
 */
function releases() {
  return MATRIX.flatMap(({ adapter, framework, aliases }) => {
    const adapterDir = path.join(__dirname, '../../packages', adapter);
    return [framework, ...aliases].map((entry) => {
      const { alias: name, companions = {} } = typeof entry === 'string' ? { alias: entry } : entry;
      // Read directly: not every release exports its package.json.
      const { version } = JSON.parse(readFileSync(path.join(adapterDir, 'node_modules', name, 'package.json'), 'utf8'));
      return { adapter, adapterDir, framework, name, version, companions };
    });
  });
}

module.exports = { MATRIX, releases };

if (require.main === module) {
  for (const { adapter } of MATRIX) {
    const tested = releases().filter((r) => r.adapter === adapter);
    const versions = tested.map((r) => r.version).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    console.log(`@hubauth/${adapter}: ${tested[0].framework} ${versions.join(', ')}`);
  }
}
