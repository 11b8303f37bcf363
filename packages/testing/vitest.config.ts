import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (name: string) => fileURLToPath(new URL(`../${name}/src/index.ts`, import.meta.url));

/** The vitest recipes, run against the packages' sources (like the jest tests). */
export default defineConfig({
  resolve: {
    // Exact matches: `@hubauth/core/adapter` is a subpath of its own, not a file under core's index.
    alias: [
      { find: /^@hubauth\/core\/adapter$/, replacement: fileURLToPath(new URL('../core/src/adapter/index.ts', import.meta.url)) },
      ...['core', 'express', 'koa', 'fastify', 'web', 'hono', 'testing'].map((name) => ({ find: new RegExp(`^@hubauth/${name}$`), replacement: source(name) })),
    ],
  },
  test: {
    include: ['test/recipes/**/*.vitest.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
  },
});
