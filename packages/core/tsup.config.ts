import { defineConfig } from 'tsup';
import base from '../../tsup.config.base';

/**
 * Two entry points, `@hubauth/core` and `@hubauth/core/adapter`, sharing one copy of the code in
 * both formats (`splitting` for CommonJS too): `instanceof HubAuth` and the flow's classes must be
 * the same whichever entry a program imports them from. `treeshake` makes Rollup write the
 * CommonJS chunks: without it, tsup converts them with a transform that also rewrites `?.` and `??`
 * into helper calls, which cost measurable time on every request of a CommonJS program.
 */
export default defineConfig({
  ...(base as object),
  entry: { index: 'src/index.ts', 'adapter/index': 'src/adapter/index.ts' },
  splitting: true,
  treeshake: true,
});
