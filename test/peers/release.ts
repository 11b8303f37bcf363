import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `express 4.17.3`: the framework release a suite runs on, from the module jest resolved for the
 * framework's name (`require.resolve('express')`), which a peer project maps to an older release.
 * Read from the release's own package.json: not every release exports it.
 */
export function frameworkRelease(framework: string, resolvedEntry: string): string {
  for (let dir = dirname(resolvedEntry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (name === framework && version) return `${framework} ${version}`;
  }
  throw new Error(`no package.json of ${framework} above ${resolvedEntry}`);
}
