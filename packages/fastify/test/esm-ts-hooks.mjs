// Module hooks that let plain Node run this package's TypeScript sources (and core's) as ESM.
// Used to check the plugin with @fastify/cookie 11, which jest's CommonJS runtime cannot load.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const core = new URL('../../core/src/index.ts', import.meta.url).href;
const adapter = new URL('../../core/src/adapter/index.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === '@hubauth/core') return { url: core, shortCircuit: true };
  if (specifier === '@hubauth/core/adapter') return { url: adapter, shortCircuit: true };
  if (context.parentURL?.endsWith('.ts') && specifier.startsWith('.') && !/\.[cm]?[jt]s$/.test(specifier)) {
    try {
      return await next(`${specifier}.ts`, context);
    } catch {
      return next(`${specifier}/index.ts`, context);
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
