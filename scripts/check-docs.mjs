// Docs that compile: extracts every TypeScript/JavaScript snippet from the README.md files,
// docs/*.md and the `@example` blocks of the packages' TSDoc (packages/*/src), type-checks each one as its own strict program (JavaScript with checkJs) against the
// workspace packages, and runs the ones marked as whole programs.
//
// The fence's info string says what a snippet is (see docs/README.md, "Snippets"):
//   ```ts / ```js            a complete module: type-checked (strict)
//   ```ts fragment           a deliberate excerpt (continues the snippet above it): only parsed
//   ```js service            a whole service: type-checked, then started with the environment a
//                            managed service gets, against the fake Hub, and probed with a token
//   ```ts run                a whole program: type-checked, then run; it must exit 0
// Modules resolve from docs/node_modules: the @hubauth/* packages are their builds (their published
// types), so run `pnpm run build` first.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { freePort, loadFakeHub, serviceEnvironment } from './fake-hub.mjs';
import { publishablePackages, root } from './packages.mjs';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.tools', '.cache', '.tmp', '.hub-cache', 'coverage']);
const LANGS = { ts: 'ts', typescript: 'ts', tsx: 'ts', js: 'js', javascript: 'js', mjs: 'js', cjs: 'cjs' };
const FLAGS = new Set(['fragment', 'service', 'run']);
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const verbose = process.argv.includes('--verbose');

function markdownFiles(dir = root, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.venv') && !entry.name.startsWith('.')) markdownFiles(join(dir, entry.name), out);
    } else if (entry.name === 'README.md' || (entry.name.endsWith('.md') && dir === join(root, 'docs'))) {
      out.push(join(dir, entry.name));
    }
  }
  return out.sort();
}

/** Python blocks (jupyterhub_config.py examples), parsed by Python at the end. */
const python = [];

/** Fenced code blocks: { file, line, lang, flags, code }. */
function snippets(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info, rest] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++].slice(indent.length));
    if (info.toLowerCase() === 'python') python.push({ file, line: i + 1, code: body.join('\n') });
    const lang = LANGS[info.toLowerCase()];
    const flags = rest.split(/\s+/).filter(Boolean);
    if (lang) {
      const unknown = flags.filter((f) => !FLAGS.has(f));
      found.push({ file, line: i + 1, lang, flags: new Set(flags), unknown, code: body.join('\n') });
    }
    i = j;
  }
  return found;
}

/** The TypeScript sources of the packages, whose TSDoc `@example` blocks are snippets too. */
function sourceFiles(dir = join(root, 'packages'), out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && entry.name !== 'test') sourceFiles(join(dir, entry.name), out);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && dir.split(/[\\/]/).includes('src')) {
      out.push(join(dir, entry.name));
    }
  }
  return out.sort();
}

/** Fenced code blocks inside the `@example` tags of TSDoc comments, with the comment's ` * ` removed. */
function exampleSnippets(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = [];
  let inComment = false;
  let inExample = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inComment) {
      inComment = /^\s*\/\*\*/.test(line) && !line.includes('*/');
      inExample = inComment && /@example\b/.test(line);
      continue;
    }
    if (line.includes('*/')) {
      inComment = inExample = false;
      continue;
    }
    const text = line.replace(/^\s*\* ?/, '');
    if (/^@\w+/.test(text)) inExample = text.startsWith('@example');
    const open = inExample && /^(`{3,})\s*([\w-]*)\s*(.*)$/.exec(text);
    if (!open) continue;
    const [, fence, info, rest] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].replace(/^\s*\* ?/, '').startsWith(fence) && !lines[j].includes('*/')) body.push(lines[j++].replace(/^\s*\* ?/, ''));
    const lang = LANGS[info.toLowerCase()];
    const flags = rest.split(/\s+/).filter(Boolean);
    if (lang) found.push({ file, line: i + 1, lang, flags: new Set(flags), unknown: flags.filter((f) => !FLAGS.has(f)), code: body.join('\n') });
    i = j;
  }
  return found;
}

const docsModules = join(root, 'docs', 'node_modules');
const packages = publishablePackages();
const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noUncheckedIndexedAccess: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  allowJs: true,
  checkJs: true,
  resolveJsonModule: true,
  allowImportingTsExtensions: true,
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types'), join(docsModules, '@types')],
};

// One host for every snippet program: parsed library and package files are shared between them.
const baseHost = ts.createCompilerHost(compilerOptions, true);
const sourceCache = new Map();
const virtual = new Map();
const resolutionCache = ts.createModuleResolutionCache(root, (f) => f, compilerOptions);
// Snippets import what a user installs, from docs/node_modules (the @hubauth/* packages as built, so
// as published), wherever the markdown file lives; relative imports mean what they say.
const resolveOne = (name, containingFile, options) => {
  const from = virtual.has(containingFile) && !name.startsWith('.') ? join(docsModules, '..', 'snippet.mts') : containingFile;
  return ts.resolveModuleName(name, from, options, host, resolutionCache).resolvedModule;
};
const host = {
  ...baseHost,
  resolveModuleNameLiterals: (literals, containingFile, _redirect, options) => literals.map((literal) => ({ resolvedModule: resolveOne(literal.text, containingFile, options) })),
  fileExists: (f) => virtual.has(f) || baseHost.fileExists(f),
  readFile: (f) => virtual.get(f) ?? baseHost.readFile(f),
  getSourceFile(fileName, languageVersion, onError, shouldCreate) {
    if (virtual.has(fileName)) return ts.createSourceFile(fileName, virtual.get(fileName), languageVersion, true);
    let sf = sourceCache.get(fileName);
    if (!sf) {
      sf = baseHost.getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (sf) sourceCache.set(fileName, sf);
    }
    return sf;
  },
};

function extension(snippet) {
  if (snippet.lang === 'cjs') return '.cjs';
  const commonjs = /\brequire\(/.test(snippet.code) && !/^\s*import\s/m.test(snippet.code);
  if (snippet.lang === 'ts') return commonjs ? '.cts' : '.mts';
  return commonjs ? '.cjs' : '.mjs';
}

/** The snippet as a file beside its markdown file, so that relative imports mean what they say. */
function virtualPath(snippet) {
  return join(dirname(snippet.file), `${basename(snippet.file, '.md')}.snippet-${snippet.line}${extension(snippet)}`);
}

let oldProgram;
function typeCheck(snippet) {
  const fileName = virtualPath(snippet);
  virtual.set(fileName, snippet.code);
  try {
    // JavaScript cannot annotate parameters (short of JSDoc): every other strict check applies to it.
    const options = { ...compilerOptions, ...(snippet.lang === 'ts' ? {} : { noImplicitAny: false }) };
    // Bun's globals only where a snippet uses them (they differ from Node's in places).
    if (/\bBun\./.test(snippet.code)) options.types = ['node', 'bun'];
    const program = ts.createProgram({ rootNames: [fileName], options, host, oldProgram });
    oldProgram = program;
    const sf = program.getSourceFile(fileName);
    const diagnostics = snippet.flags.has('fragment')
      ? program.getSyntacticDiagnostics(sf)
      : [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf), ...program.getGlobalDiagnostics()];
    return diagnostics.map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
      if (!d.file) return `TS${d.code}: ${message}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const where = d.file.fileName === fileName ? `snippet line ${line + 1}:${character + 1}` : `${relative(root, d.file.fileName)}:${line + 1}`;
      return `${where} TS${d.code}: ${message}`;
    });
  } finally {
    virtual.delete(fileName);
  }
}

const runDir = join(root, 'docs', '.check');

/** JavaScript Node can run, in docs/.check (so that imports resolve from docs/node_modules to the builds). */
function runnable(snippet) {
  const ext = extension(snippet).replace('.mts', '.mjs').replace('.cts', '.cjs');
  const outputText = snippet.lang === 'ts'
    ? ts.transpileModule(snippet.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ext === '.cjs' ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext, verbatimModuleSyntax: false } }).outputText
    : snippet.code;
  const file = join(runDir, `${relative(root, snippet.file).replace(/[\\/]/g, '__')}-${snippet.line}${ext}`);
  writeFileSync(file, outputText);
  return file;
}

function start(file, env) {
  const child = spawn(process.execPath, [file], { cwd: runDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  return { child, output: () => output.slice(-2000) };
}

async function runProgram(file) {
  const { child, output } = start(file, {});
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  return code === 0 ? [] : [`exited with ${signal ?? code}\n${output()}`];
}

let fakeHubModule;
/** A free port is only free until someone takes it: start again on another one if it was taken. */
async function runService(file) {
  for (let attempt = 1; ; attempt++) {
    const { problems, died } = await runServiceOnce(file);
    // Taken meanwhile: the service could not listen (and something else may have answered).
    if (attempt === 3 || !(died || problems.some((p) => p.includes('EADDRINUSE')))) return problems;
  }
}

async function runServiceOnce(file) {
  fakeHubModule ??= await loadFakeHub();
  const hub = await fakeHubModule.startFakeHub({});
  const port = await freePort();
  const env = serviceEnvironment(hub, { port });
  hub.addToken('docs-check-token', { name: 'docs-reader', groups: ['staff', 'admins'], scopes: ['access:services!service=whoami'] });
  const { child, output } = start(file, env);
  const problems = [];
  let died;
  try {
    const url = `http://127.0.0.1:${port}${env.JUPYTERHUB_SERVICE_PREFIX}`;
    const deadline = Date.now() + 15_000;
    let response;
    while (!response && Date.now() < deadline && child.exitCode === null) {
      response = await fetch(url, { headers: { authorization: 'token docs-check-token', accept: 'application/json' }, redirect: 'manual' }).catch(() => undefined);
      if (!response) await new Promise((r) => setTimeout(r, 100));
    }
    if (!response) return { problems: [`never answered on ${url}\n${output()}`], died: child.exitCode !== null };
    const body = await response.text();
    if (response.status !== 200 || !body.includes('docs-reader')) problems.push(`GET ${env.JUPYTERHUB_SERVICE_PREFIX} with a token: ${response.status} ${body.slice(0, 200)}`);
    const anonymous = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    if (anonymous.status !== 401 && anonymous.status !== 302) problems.push(`GET ${env.JUPYTERHUB_SERVICE_PREFIX} without credentials: ${anonymous.status}, expected 401 or 302`);
    await anonymous.arrayBuffer();
  } finally {
    died = child.exitCode !== null;
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await hub.close();
  }
  if (problems.length) problems.push(output());
  return { problems, died };
}

const docsManifest = JSON.parse(readFileSync(join(root, 'docs', 'package.json'), 'utf8'));
const missing = packages.filter(({ name }) => !docsManifest.devDependencies?.[name]);
if (missing.length) {
  console.log(`FAIL docs/package.json lacks ${missing.map((p) => `"${p.name}": "workspace:*"`).join(', ')} in devDependencies (snippets import every package)`);
  process.exit(1);
}
const unbuilt = packages.filter(({ dir, manifest }) => manifest.types && !existsSync(join(dir, manifest.types)));
if (unbuilt.length) {
  console.log(`FAIL ${unbuilt.map((p) => p.name).join(', ')} not built: run pnpm run build first`);
  process.exit(1);
}
const files = [...markdownFiles(), ...sourceFiles()].filter((f) => only.length === 0 || only.some((o) => f.endsWith(o)));
let passed = 0;
let failed = 0;
const counts = { checked: 0, fragments: 0, ran: 0 };
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });
try {
  for (const file of files) {
    for (const snippet of file.endsWith('.ts') ? exampleSnippets(file) : snippets(file)) {
      const where = `${relative(root, file)}:${snippet.line}`;
      const problems = snippet.unknown.length ? [`unknown marker(s) ${snippet.unknown.join(', ')}; known: ${[...FLAGS].join(', ')}`] : typeCheck(snippet);
      if (!problems.length && snippet.flags.has('run')) problems.push(...(await runProgram(runnable(snippet))));
      if (!problems.length && snippet.flags.has('service')) problems.push(...(await runService(runnable(snippet))));
      if (snippet.flags.has('fragment')) counts.fragments++;
      else counts.checked++;
      if (snippet.flags.has('run') || snippet.flags.has('service')) counts.ran++;
      if (problems.length) {
        failed++;
        console.log(`FAIL ${where}\n  ${problems.join('\n  ')}`);
      } else {
        passed++;
        if (verbose) console.log(`ok   ${where}${snippet.flags.size ? ` (${[...snippet.flags].join(', ')})` : ''}`);
      }
    }
  }
} finally {
  if (!verbose && existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
}
// Python: every block must at least parse (python3's ast), so that a configuration copied from the
// docs is valid Python.
if (python.length) {
  const script = 'import ast, json, sys\nfor b in json.load(sys.stdin):\n    try:\n        ast.parse(b["code"])\n    except SyntaxError as e:\n        print(f"{b[\'where\']}: {e}")\n';
  const result = spawnSync('python3', ['-c', script], { input: JSON.stringify(python.map((b) => ({ where: `${relative(root, b.file)}:${b.line}`, code: b.code }))), encoding: 'utf8' });
  if (result.error || result.status !== 0 || result.stdout.trim()) {
    failed++;
    console.log(`FAIL python blocks\n  ${(result.stdout || result.stderr || String(result.error)).trim().split('\n').join('\n  ')}`);
  } else {
    passed++;
  }
}
console.log(`docs: ${files.length} files (READMEs, guides, and sources for their @example blocks), ${counts.checked} snippets type-checked (${counts.ran} of them run), ${counts.fragments} fragments parsed, ${python.length} Python blocks parsed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
