import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.next/**', '**/next-env.d.ts', '.tools/**', '.venv*/**', '.hub-cache/**', 'coverage/**', '.tmp/**', '.cache/**', 'docs/api/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', AbortController: 'readonly', __dirname: 'readonly', require: 'readonly',
        module: 'writable', fetch: 'readonly', performance: 'readonly', URLSearchParams: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly',
        Request: 'readonly', Response: 'readonly', Headers: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Scripts that also run under Bun and Deno.
    files: ['examples/web/**', 'examples/hono/**', 'test/integration/support/guard-service.mjs', 'test/integration/support/actor-service.mjs', 'bench/servers/**'],
    languageOptions: { globals: { Bun: 'readonly', Deno: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
