import { defineConfig } from 'tsup';
import base from '../../tsup.config.base';

// The library, plus the `hubauth-proxy` executable (ESM only: it is run, never imported).
export default defineConfig([
  { ...base, entry: ['src/index.ts'] },
  { ...base, entry: ['src/bin.ts'], format: ['esm'], dts: false, clean: false },
]);
