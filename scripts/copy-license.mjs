// Puts the root LICENSE into every package directory (packages/*), so that each published tarball
// carries it. Runs as part of `pnpm run build`; the copies are not committed.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
for (const name of readdirSync(packagesDir)) {
  if (existsSync(join(packagesDir, name, 'package.json'))) copyFileSync(join(root, 'LICENSE'), join(packagesDir, name, 'LICENSE'));
}
