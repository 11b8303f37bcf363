/** One jest run: fast unit tests against a loopback fake Hub, the same adapters' contract and
 * adversarial suites on every other framework release the peer ranges name (one project each, see
 * test/peers/matrix.cjs), and integration tests against a real JupyterHub (started by test/hub).
 * Packages are resolved to their sources, so tests never depend on a stale build. */
const { releases } = require('./test/peers/matrix.cjs');

const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  // Only our sources: the Hub virtualenvs and tool caches are large and full of package.json files.
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  moduleNameMapper: {
    '^@hubauth/core/adapter$': '<rootDir>/packages/core/src/adapter/index.ts',
    '^@hubauth/(core|express|koa|fastify|web|hono|testing|redis|proxy)$': '<rootDir>/packages/$1/src/index.ts',
    '^hubauth$': '<rootDir>/packages/cli/src/index.ts',
  },
};

/** One project per aliased framework release (`express@4.0.0`): the framework's name, and its
 * subpaths, resolve to the alias in the adapter's suites and in the adapter itself; a companion
 * package (a server bridge) to the alias of the release that goes with it. */
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const peerProjects = releases()
  .filter(({ framework, name }) => name !== framework)
  .map(({ adapter, adapterDir, framework, name, version, companions }) => ({
    ...shared,
    displayName: `${framework}@${version}`,
    testMatch: [`<rootDir>/packages/${adapter}/test/{contract,adversarial}.test.ts`],
    moduleNameMapper: {
      ...shared.moduleNameMapper,
      [`^${framework}(/.*)?$`]: `${name}$1`,
      ...Object.fromEntries(Object.entries(companions).map(([companion, alias]) => [
        `^${escape(companion)}$`,
        require.resolve(alias, { paths: [adapterDir] }),
      ])),
    },
  }));

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/test/peers/*.test.ts'],
    },
    ...peerProjects,
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/support/retry.ts'],
    },
  ],
};
