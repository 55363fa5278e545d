/**
 * A bench script bundled as a build ships the library: esbuild, packages left external, no
 * `keepNames`. Run through tsx instead, every named function expression is wrapped in a `__name`
 * call that defines a property, which costs time and memory no user pays, most of all in code that
 * makes closures per call or per manager.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const bundles = new Map<string, string>();

/**
 * The path of `entry` bundled (once per process; removed when the process exits).
 */
export function bundled(entry: string): string {
  let outfile = bundles.get(entry);
  if (!outfile) {
    // Inside the repository, so the bundle's package imports (xstate, ofetch, tinybench) resolve.
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'run-lifecycle-bench-'));
    outfile = join(dir, basename(entry).replace(/\.ts$/, '.mjs'));
    buildSync({
      entryPoints: [join(ROOT, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'error',
    });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    bundles.set(entry, outfile);
  }
  return outfile;
}
