/**
 * The package build (`npm run build`, and `prepare`, so an install from git has dist/ too): every
 * public entry as ESM (`.mjs` + `.d.mts`) and CommonJS (`.cjs` + `.d.cts`), code shared between
 * entries in hashed chunks beside them. Dependencies and peers (xstate, ofetch, idb-keyval) and
 * Node built-ins stay external.
 *
 * No source maps: the output is unminified, keeps the source's comments and marks every module with
 * `//#region src/…`, so a stack trace already reads as the source; maps pointing at `src/`, which
 * the package does not ship, would only send a debugger looking for files that are not there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsdown';

const entry = {
  index: 'src/index.ts',
  core: 'src/core.ts',
  strategies: 'src/strategies.ts',
  v3: 'src/v3.ts',
  'emulator/index': 'src/emulator/index.ts',
  'testing/index': 'src/testing/index.ts',
};

/** When this build read its sources: test/package trusts dist/ only if no source changed since. */
const startedAt = Date.now();

export default defineConfig({
  entry,
  format: {
    // The `run-lifecycle-emulator` bin is ESM only; tsdown keeps its shebang and makes it executable.
    esm: { entry: { ...entry, 'emulator/cli': 'src/emulator/cli.ts' } },
    cjs: {},
  },
  platform: 'node',
  target: 'es2022',
  fixedExtension: true,
  tsconfig: 'tsconfig.build.json',
  dts: true,
  sourcemap: false,
  clean: true,
  // Declarations dominate the build time; rolldown's note saying so on every build is noise.
  checks: { pluginTimings: false },
  hooks: {
    'build:done': () => {
      mkdirSync('node_modules/.cache/run-lifecycle', { recursive: true });
      writeFileSync('node_modules/.cache/run-lifecycle/build.json', JSON.stringify({ startedAt }));
    },
  },
});
