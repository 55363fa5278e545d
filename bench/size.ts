/**
 * Figure 4 — bundle size. esbuild (`bundle`, `minify`, `format: 'esm'`, `platform: 'browser'`)
 * then gzip level 9, of the main entry `src/index.ts`:
 *
 * - library: the library alone (`xstate`, `ofetch`, `idb-keyval` external);
 * - withDeps: with its dependencies;
 * - treeShaken: `export { reusePerSessionMachine } from 'run-lifecycle'` (a stdin entry) with deps;
 * - runManagerOnly: `export { RunManager } from 'run-lifecycle'` with deps (what an app imports).
 *
 * Every build also checks that no Node built-in module (`node:*`, `fs`, `crypto`, …) and nothing
 * from `src/emulator/` ends up in the browser bundle.
 *
 * Run alone: `npx tsx bench/size.ts`; `--check` exits 1 over budget (`bench/size-budget.json`).
 */
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { fixed, formatGoals, formatTable, isEntryPoint, runAsScript, type Goal, type PartResult, type Table } from './lib/report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'src', 'index.ts');
const DEPENDENCIES = ['xstate', 'ofetch', 'idb-keyval'];
const BUDGET_FILE = join(ROOT, 'bench', 'size-budget.json');

/** The original library, for reference (not measured here). */
export const ORIGINAL = { minifiedBytes: 211 * 1024, gzipBytes: 40.8 * 1024, note: 'epicenter.min.js, plus jQuery (required)' };

interface Budget {
  gzipBytes: Record<string, number>;
  forbidNodeBuiltins: boolean;
  forbidEmulator: boolean;
}

/** One measured bundle. */
export interface BundleSize {
  name: string;
  description: string;
  minifiedBytes: number;
  gzipBytes: number;
  /** Node built-ins imported by the bundle, with the importing file. */
  nodeBuiltins: string[];
  /** Inputs from src/emulator/. */
  emulatorInputs: string[];
  /** Largest inputs by bytes in the minified output. */
  topInputs: Array<{ input: string; bytes: number }>;
}

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Marks Node built-ins external (so the build finishes) and remembers who imported them. */
function nodeBuiltinsGuard(found: string[]): Plugin {
  return {
    name: 'node-builtins-guard',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /.*/ }, (args) => {
        if (!BUILTINS.has(args.path) && !args.path.startsWith('node:')) return undefined;
        found.push(`${args.path} (from ${relative(ROOT, args.importer) || args.importer})`);
        return { path: args.path, external: true };
      });
    },
  };
}

const SUBPATHS: Record<string, string> = { '': 'index.ts', '/core': 'core.ts', '/strategies': 'strategies.ts' };

/** Resolves the package's own name and subpaths to their source entries (the `exports` map points at dist/). */
const selfReference: Plugin = {
  name: 'self-reference',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^run-lifecycle(\/core|\/strategies)?$/ }, (args) => ({
      path: join(ROOT, 'src', SUBPATHS[args.path.slice('run-lifecycle'.length)]!),
    }));
  },
};

/** The core entry with one strategy: what an app gets that imports `RunManager` from `run-lifecycle/core`. */
export const CORE_WITH_ONE_STRATEGY =
  "export { RunManager } from 'run-lifecycle/core'; export { reusePerSession } from 'run-lifecycle/strategies';";

function topInputs(metafile: Metafile): Array<{ input: string; bytes: number }> {
  const output = Object.values(metafile.outputs)[0];
  if (!output) return [];
  return Object.entries(output.inputs)
    .map(([input, info]) => ({ input: input.replace(/^.*node_modules\//, ''), bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
}

async function measure(
  name: string,
  description: string,
  source: { entry: string } | { stdin: string },
  external: string[],
): Promise<BundleSize> {
  const nodeBuiltins: string[] = [];
  const result = await build({
    absWorkingDir: ROOT,
    ...('entry' in source
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.stdin, resolveDir: ROOT, sourcefile: 'entry.ts', loader: 'ts' } }),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [selfReference, nodeBuiltinsGuard(nodeBuiltins)],
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const emulatorInputs = Object.keys(result.metafile.inputs).filter((input) => input.includes('src/emulator/'));
  return {
    name,
    description,
    minifiedBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    nodeBuiltins: [...new Set(nodeBuiltins)],
    emulatorInputs,
    topInputs: topInputs(result.metafile),
  };
}

/**
 * Builds and measures the four bundles.
 *
 * @example
 * ```ts
 * const sizes = await measureSizes();
 * ```
 */
export async function measureSizes(): Promise<BundleSize[]> {
  return [
    await measure('library', 'src/index.ts, xstate/ofetch/idb-keyval external', { entry: ENTRY }, DEPENDENCIES),
    await measure('withDeps', 'src/index.ts with its dependencies', { entry: ENTRY }, []),
    await measure(
      'treeShaken',
      "export { reusePerSessionMachine } from 'run-lifecycle/strategies', with deps",
      { stdin: "export { reusePerSessionMachine } from 'run-lifecycle/strategies';" },
      [],
    ),
    await measure(
      'runManagerOnly',
      "export { RunManager } from 'run-lifecycle', with deps",
      { stdin: "export { RunManager } from 'run-lifecycle';" },
      [],
    ),
    await measure(
      'coreOneStrategy',
      'run-lifecycle/core RunManager + reusePerSession, deps external',
      { stdin: CORE_WITH_ONE_STRATEGY },
      DEPENDENCIES,
    ),
    await measure(
      'coreOneStrategyWithDeps',
      'run-lifecycle/core RunManager + reusePerSession, with deps',
      { stdin: CORE_WITH_ONE_STRATEGY },
      [],
    ),
  ];
}

function kb(bytes: number): string {
  return `${fixed(bytes / 1024, 1)} KB`;
}

function readBudget(): Budget {
  return JSON.parse(readFileSync(BUDGET_FILE, 'utf8')) as Budget;
}

/**
 * The figure-4 tables, the goals, and the budget verdict.
 *
 * @example
 * ```ts
 * const { tables, goals, overBudget } = sizeReport(await measureSizes());
 * ```
 */
export function sizeReport(
  sizes: readonly BundleSize[],
  budget: Budget = readBudget(),
): { tables: Table[]; goals: Goal[]; overBudget: string[] } {
  const overBudget: string[] = [];
  const rows: Table['rows'] = sizes.map((size) => {
    const limit = budget.gzipBytes[size.name];
    const problems: string[] = [];
    if (limit !== undefined && size.gzipBytes > limit) problems.push(`over budget ${kb(limit)}`);
    if (budget.forbidNodeBuiltins && size.nodeBuiltins.length > 0) problems.push(`node built-ins: ${size.nodeBuiltins.join(', ')}`);
    if (budget.forbidEmulator && size.emulatorInputs.length > 0) problems.push(`emulator inputs: ${size.emulatorInputs.length}`);
    overBudget.push(...problems.map((problem) => `${size.name}: ${problem}`));
    return [
      size.name,
      size.description,
      size.minifiedBytes,
      kb(size.minifiedBytes),
      size.gzipBytes,
      kb(size.gzipBytes),
      limit === undefined ? '–' : kb(limit),
      problems.length === 0 ? 'ok' : problems.join('; '),
    ];
  });
  rows.push([
    'original',
    ORIGINAL.note,
    Math.round(ORIGINAL.minifiedBytes),
    kb(ORIGINAL.minifiedBytes),
    Math.round(ORIGINAL.gzipBytes),
    kb(ORIGINAL.gzipBytes),
    '–',
    'reference',
  ]);
  const withDeps = sizes.find((size) => size.name === 'withDeps');
  const breakdown: Table = {
    title:
      'Figure 4a — what the with-deps bundle is made of (bytes in the minified output, before gzip; dependencies by package, this library by file)',
    columns: ['package or file', 'minified bytes', 'share'],
    rows: withDeps ? packageShares(withDeps) : [],
  };
  const library = sizes.find((size) => size.name === 'library');
  const core = sizes.find((size) => size.name === 'coreOneStrategy');
  const coreWithDeps = sizes.find((size) => size.name === 'coreOneStrategyWithDeps');
  const goals: Goal[] = [
    {
      figure: 'fig 4',
      goal: 'library alone ≤ 10 KB gzip',
      met: library !== undefined && library.gzipBytes <= 10 * 1024,
      detail: library ? kb(library.gzipBytes) : 'not measured',
    },
    {
      figure: 'fig 4',
      goal: 'with dependencies ≤ 30 KB gzip',
      met: withDeps !== undefined && withDeps.gzipBytes <= 30 * 1024,
      detail: withDeps ? kb(withDeps.gzipBytes) : 'not measured',
    },
    {
      figure: 'fig 4',
      goal: 'run-lifecycle/core RunManager + one strategy ≤ 10 KB gzip alone',
      met: core !== undefined && core.gzipBytes <= 10 * 1024,
      detail: core ? kb(core.gzipBytes) : 'not measured',
    },
    {
      figure: 'fig 4',
      goal: 'run-lifecycle/core RunManager + one strategy ≤ 27 KB gzip with xstate/ofetch/idb-keyval',
      met: coreWithDeps !== undefined && coreWithDeps.gzipBytes <= 27 * 1024,
      detail: coreWithDeps ? kb(coreWithDeps.gzipBytes) : 'not measured',
    },
    {
      figure: 'fig 4',
      goal: 'no node: modules and no emulator in the browser bundles',
      met: sizes.every((size) => size.nodeBuiltins.length === 0 && size.emulatorInputs.length === 0),
      detail: sizes
        .map((size) => `${size.name}: ${size.nodeBuiltins.length} built-ins, ${size.emulatorInputs.length} emulator files`)
        .join('; '),
    },
  ];
  return {
    tables: [
      {
        title: 'Figure 4 — bundle size of the main entry (esbuild bundle+minify, esm, platform browser; gzip level 9)',
        columns: ['bundle', 'what', 'min bytes', 'min', 'gzip bytes', 'gzip', 'budget (gzip)', 'check'],
        rows,
        notes: ['1 KB = 1024 bytes. Budgets: bench/size-budget.json (`npx tsx bench/size.ts --check` exits 1 over budget).'],
      },
      breakdown,
    ],
    goals,
    overBudget,
  };
}

function packageShares(size: BundleSize): Table['rows'] {
  const byPackage = new Map<string, number>();
  for (const { input, bytes } of size.topInputs) {
    const key = input.startsWith('src/') ? input : (input.split('/')[0] ?? input);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytes);
  }
  const total = [...byPackage.values()].reduce((sum, bytes) => sum + bytes, 0);
  return [...byPackage].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => [name, bytes, `${fixed((bytes / total) * 100, 1)}%`]);
}

/** Figure 4 as a part. */
export async function main(): Promise<PartResult> {
  const sizes = await measureSizes();
  const { tables, goals, overBudget } = sizeReport(sizes);
  return {
    part: 'size',
    tables,
    goals,
    data: { sizes: sizes.map((size) => ({ ...size, topInputs: size.topInputs.slice(0, 25) })), overBudget, budget: readBudget() },
  };
}

if (isEntryPoint(import.meta.url) && process.argv.includes('--check')) {
  const sizes = await measureSizes();
  const { tables, goals, overBudget } = sizeReport(sizes);
  console.log(formatTable(tables[0] as Table));
  console.log(formatGoals(goals));
  if (overBudget.length > 0) {
    console.error(`\nsize check failed:\n  ${overBudget.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nsize check passed');
} else {
  await runAsScript(import.meta.url, main);
}
