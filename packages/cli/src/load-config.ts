/** `--config <module>`: a module exporting the options the service passes to `hubAuth()`. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HubAuthMiddlewareOptions } from '@hubauth/core';

/** Why a config module could not be used. */
export class ConfigModuleError extends Error {}

/**
 * Imports `file` (ES module or CommonJS) and returns its options: the default export, else an
 * `options` export; either may be a (possibly async) function returning them.
 */
export async function loadOptions(file: string, cwd = process.cwd()): Promise<HubAuthMiddlewareOptions> {
  const full = path.resolve(cwd, file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigModuleError(`cannot load --config "${file}": ${err instanceof Error ? err.message : String(err)}`);
  }
  let value: unknown = mod.default ?? mod.options;
  // A CommonJS module seen through import(): module.exports is the default.
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) value = (value as { default: unknown }).default;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigModuleError(`--config "${file}" must export the hubAuth() options (export default { ... } or export const options = { ... })`);
  }
  return value as HubAuthMiddlewareOptions;
}
