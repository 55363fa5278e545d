import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The package's own name means its source here, as tsconfig.json's `paths` says; exact matches,
    // so `run-lifecycle/core` is not taken for the root entry plus `/core`.
    alias: [
      { find: /^run-lifecycle$/, replacement: source('index.ts') },
      { find: /^run-lifecycle\/core$/, replacement: source('core.ts') },
      { find: /^run-lifecycle\/strategies$/, replacement: source('strategies.ts') },
      { find: /^run-lifecycle\/v3$/, replacement: source('v3.ts') },
      { find: /^run-lifecycle\/emulator$/, replacement: source('emulator/index.ts') },
      { find: /^run-lifecycle\/testing$/, replacement: source('testing/index.ts') },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/browser/**', 'test/package/**', 'test/docs/**'],
        },
      },
      {
        // Read the built package (dist/): built once, before these files run, so they never build at once.
        extends: true,
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts', 'test/docs/**/*.test.ts'],
          globalSetup: ['test/helpers/built-package.ts'],
        },
      },
      {
        // Real Chromium (Debian's /usr/bin/chromium via playwright-core); installed first when missing.
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/browser/ensure-chromium.ts'] },
      },
    ],
  },
});
