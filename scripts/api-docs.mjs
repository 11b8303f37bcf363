// The API reference: TypeDoc over every entry point of every publishable package (each `exports`
// subpath, mapped from its dist/*.d.ts back to src/*.ts), as one site in docs/api/ (git-ignored).
// Settings are in typedoc.json: warnings are errors, and validation requires every exported symbol
// to be documented, exported and linked correctly. On top of TypeDoc, the entry points a user starts
// from (REQUIRED_EXAMPLES) must carry an `@example`.
//   node scripts/api-docs.mjs            build the site (fails on any warning)
//   node scripts/api-docs.mjs --check    the same checks, nothing written
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Application, ReflectionKind, TSConfigReader, TypeDocReader } from 'typedoc';
import { publishablePackages, root } from './packages.mjs';

/** Per module, the symbols a user meets first; each must carry an `@example` (members as `Class.member`). */
const REQUIRED_EXAMPLES = {
  '@hubauth/core': ['HubAuth', 'HubOAuth', 'resolveHubAuthConfig', 'resolveHubOAuthConfig', 'checkScopes'],
  '@hubauth/core/adapter': ['HubAuthFlow'],
  '@hubauth/express': ['hubAuth', 'hubAuthenticated', 'requireHubUser'],
  '@hubauth/koa': ['hubAuth', 'hubAuthenticated', 'requireHubUser'],
  '@hubauth/fastify': ['hubAuth', 'hubAuthenticated', 'requireHubUser'],
  '@hubauth/hono': ['hubAuth', 'hubAuthenticated', 'requireHubUser'],
  '@hubauth/web': ['hubAuth', 'hubAuthenticated'],
  '@hubauth/redis': ['redisStore'],
  '@hubauth/testing': ['startFakeHub'],
  '@hubauth/proxy': ['HubAuthProxy', 'main'],
  hubauth: ['runDoctor'],
};

const check = process.argv.includes('--check');
const started = Date.now();

/** `./dist/adapter/index.d.ts` → `<package>/src/adapter/index.ts`, for every subpath but package.json. */
function entryPoints() {
  const found = [];
  const problems = [];
  for (const { dir, name, manifest } of publishablePackages()) {
    for (const [subpath, target] of Object.entries(manifest.exports ?? { '.': manifest.types })) {
      if (subpath === './package.json') continue;
      const types = typeof target === 'string' ? target : target?.import?.types ?? target?.types;
      const source = typeof types === 'string' ? join(dir, types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')) : undefined;
      const module = subpath === '.' ? name : `${name}/${subpath.replace(/^\.\//, '')}`;
      if (!source || !existsSync(source)) problems.push(`${module}: no source entry point for ${JSON.stringify(types)}`);
      else found.push({ module, source });
    }
  }
  return { found, problems };
}

const { found, problems } = entryPoints();
const app = await Application.bootstrapWithPlugins(
  // notDocumented only covers the packages named here (TypeDoc's default is the root package.json's).
  { entryPoints: found.map((e) => e.source), packagesRequiringDocumentation: publishablePackages().map((p) => p.name) },
  [new TypeDocReader(), new TSConfigReader()],
);
// TypeDoc's own messages (already printed) count as problems: warnings are errors.
const logged = () => app.logger.errorCount + app.logger.warningCount;
const project = await app.convert();
if (!project) {
  console.log('FAIL TypeDoc could not convert the entry points');
  process.exit(1);
}
app.validate(project);

// Each module's name comes from its `@module` tag; a missing one would silently become a path.
const modules = new Map(project.getChildrenByKind(ReflectionKind.Module).map((m) => [m.name, m]));
for (const { module, source } of found) {
  if (!modules.has(module)) problems.push(`${relative(root, source)}: its @packageDocumentation comment lacks "@module ${module}"`);
}

let examples = 0;
for (const [moduleName, names] of Object.entries(REQUIRED_EXAMPLES)) {
  const module = modules.get(moduleName);
  if (!module) {
    if (found.some((e) => e.module === moduleName)) continue; // reported above
    problems.push(`${moduleName}: listed in REQUIRED_EXAMPLES but not a published entry point`);
    continue;
  }
  for (const name of names) {
    const found = module.getChildByName(name.split('.'));
    // A re-export (e.g. HubAuthFlow in both @hubauth/core and @hubauth/core/adapter) is a reference.
    const reflection = found?.isReference() ? found.tryGetTargetReflectionDeep() : found;
    if (!reflection?.isDeclaration()) {
      problems.push(`${moduleName}: ${name} is not exported (REQUIRED_EXAMPLES in ${relative(root, import.meta.filename)})`);
      continue;
    }
    // Functions and methods carry their comment on the signature(s); classes on themselves.
    const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)].filter(Boolean);
    if (comments.some((c) => c.getTag('@example'))) examples++;
    else problems.push(`${moduleName}: ${name} has no @example`);
  }
}

if (!check && logged() === 0 && problems.length === 0) await app.generateOutputs(project);

for (const problem of problems) console.log(`FAIL ${problem}`);
const failed = logged() + problems.length;
const documented = project.getReflectionsByKind(ReflectionKind.SomeExport | ReflectionKind.SomeMember | ReflectionKind.SomeSignature).length;
const where = check ? 'checked' : `built in ${relative(root, app.options.getValue('out'))}/`;
console.log(`api-docs: ${found.length} entry points of ${publishablePackages().length} packages, ${documented} reflections, ${examples} required @examples present; ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(failed ? `${app.logger.errorCount} TypeDoc errors, ${app.logger.warningCount} warnings, ${problems.length} other problems` : 'no warnings');
process.exit(failed ? 1 : 0);
