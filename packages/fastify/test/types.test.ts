/**
 * The public types, against both majors: `types-usage.ts` holds the compile-time assertions
 * (`@ts-expect-error` lines, type equalities). Each test type-checks it with the TypeScript
 * compiler, with `fastify` resolved to Fastify 5's or Fastify 4's own declarations, so a failed
 * assertion fails the run (`tsc -p tsconfig.json` reports it too, against Fastify 5).
 */
import { dirname, join } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '../../..');
const declarations = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), 'fastify.d.ts');

function typeCheck(fastifyTypes: string): { diagnostics: string[]; usedFastify: boolean } {
  const program = ts.createProgram([join(__dirname, 'types-usage.ts')], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noUncheckedIndexedAccess: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
    paths: { fastify: [fastifyTypes], '@hubauth/core': [join(root, 'packages/core/src/index.ts')],
      '@hubauth/core/adapter': [join(root, 'packages/core/src/adapter/index.ts')],
    },
  });
  return {
    diagnostics: ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
      return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
    }),
    usedFastify: program.getSourceFiles().some((f) => f.fileName === fastifyTypes.replace(/\\/g, '/')),
  };
}

test.each([
  ['Fastify 5', 'fastify'],
  ['Fastify 4', 'fastify4'],
])('the public types hold on %s', (_name, pkg) => {
  expect(typeCheck(declarations(pkg))).toEqual({ diagnostics: [], usedFastify: true });
}, 60_000);
