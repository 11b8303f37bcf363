import { defineConfig } from 'tsup';
import base from '../../tsup.config.base';

/** The library entry plus the `hubauth` command. */
export default defineConfig({ ...(base as object), entry: ['src/index.ts', 'src/cli.ts'] });
