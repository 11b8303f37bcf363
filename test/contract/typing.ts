/**
 * Compile-time assertions for the adapters' type tests, and the type-check that makes a failed one
 * fail the test run (ts-jest only reports errors of the files it transforms, and `@ts-expect-error`
 * lines need the full program to be checked).
 */
import path from 'node:path';
import ts from 'typescript';

/** `true` when A and B are the same type (not merely assignable). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`: `type Checks = [Assert<Equal<X, Y>>]`. */
export type Assert<T extends true> = T;
/** Compiles only for `true`, inside a function body: `expectType<Equal<typeof x, string>>()`. */
export function expectType<_T extends true>(): void {}

const configPath = path.resolve(__dirname, '../../tsconfig.json');

/**
 * Type-checks `file` with the workspace's tsconfig.json; the diagnostics as `file(line,col): message`.
 * `paths` adds module mappings, e.g. `{ koa: [<@types/koa 2's index.d.ts>] }` to check against another
 * major's declarations; each declaration file so mapped must then be part of the program (else a
 * diagnostic says it was not used).
 */
export function typeCheck(file: string, paths: Record<string, string[]> = {}): string[] {
  const { config } = ts.readConfigFile(configPath, (name) => ts.sys.readFile(name));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
  const program = ts.createProgram({ rootNames: [file], options: { ...options, paths: { ...options.paths, ...paths }, noEmit: true } });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const name = d.file ? path.relative(path.dirname(configPath), d.file.fileName) : '';
    return `${name}${where ? `(${where.line + 1},${where.character + 1})` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  const used = new Set(program.getSourceFiles().map((f) => path.resolve(f.fileName)));
  for (const declarations of Object.values(paths).flat()) {
    if (!used.has(path.resolve(declarations))) diagnostics.push(`${declarations} was not used`);
  }
  return diagnostics;
}

/** The entry declaration file of the types package installed under `alias` beside `adapterDir`'s package.json. */
export function declarationsOf(adapterDir: string, alias: string): string {
  const dir = path.join(adapterDir, 'node_modules', alias);
  const { types = 'index.d.ts' } = JSON.parse(ts.sys.readFile(path.join(dir, 'package.json')) ?? '{}') as { types?: string };
  return ts.sys.realpath?.(path.join(dir, types)) ?? path.join(dir, types);
}
