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

/** Type-checks `file` with the workspace's tsconfig.json; the diagnostics as `file(line,col): message`. */
export function typeCheck(file: string): string[] {
  const { config } = ts.readConfigFile(configPath, (name) => ts.sys.readFile(name));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
  const program = ts.createProgram({ rootNames: [file], options: { ...options, noEmit: true } });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const name = d.file ? path.relative(path.dirname(configPath), d.file.fileName) : '';
    return `${name}${where ? `(${where.line + 1},${where.character + 1})` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
