import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (name: string) => fileURLToPath(new URL(`../${name}/src/index.ts`, import.meta.url));

/** The vitest recipes, run against the packages' sources (like the jest tests). */
export default defineConfig({
  resolve: {
    alias: {
      '@hubauth/core': source('core'),
      '@hubauth/express': source('express'),
      '@hubauth/koa': source('koa'),
      '@hubauth/fastify': source('fastify'),
      '@hubauth/testing': source('testing'),
    },
  },
  test: {
    include: ['test/recipes/**/*.vitest.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
  },
});
