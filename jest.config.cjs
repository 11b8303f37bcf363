/** One jest run, two projects: fast unit tests against a loopback fake Hub, and integration
 * tests against a real JupyterHub (started by test/hub). Packages are resolved to their sources,
 * so tests never depend on a stale build. */
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

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/support/retry.ts'],
    },
  ],
};
