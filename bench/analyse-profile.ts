/**
 * A tiny `.cpuprofile` analyser: sums self time by function and by area (xstate, ofetch, undici,
 * our machines, our services, …) and prints the top entries.
 *
 * ```sh
 * npx tsx bench/analyse-profile.ts /tmp/prof            # every .cpuprofile in the directory
 * npx tsx bench/analyse-profile.ts /tmp/prof/CPU.….cpuprofile --top 30
 * ```
 *
 * A profile of `node --cpu-prof` covers the whole process, start-up included; the `startup`
 * area (module loading, the tsx/esbuild transform) and `idle` are reported, and the shares
 * "of busy time" leave them out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { argValue, fixed, formatTable, isEntryPoint, type Table } from './lib/report.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function or area. */
export interface SelfTime {
  name: string;
  ms: number;
  /** Share of busy time (everything but idle and start-up), in percent. */
  percent: number;
}

/** What {@link analyseProfiles} finds. */
export interface ProfileAnalysis {
  files: string[];
  totalMs: number;
  busyMs: number;
  /** Self time by the area of the sampled frame. */
  areas: SelfTime[];
  /**
   * Time by the area responsible: each sample is charged to the leaf-most frame that belongs to a
   * package or to this repository, so Node internals and builtins (abort signals, streams,
   * `structuredClone`) count for whoever called them. GC and V8's own time stay apart.
   */
  responsible: Array<SelfTime & { viaNodeMs: number }>;
  functions: SelfTime[];
}

/** Areas that are not "someone's code": a sample in them is charged to the nearest caller outside them. */
const PASS_THROUGH = new Set([
  'other node internals',
  'native / builtins (structuredClone, JSON, Promise, …)',
  'node web streams / abort signals / timers / events',
  'undici Response/Headers/streams (node:internal/deps/undici)',
  'other',
]);

/** Areas by file location, first match wins. */
const AREAS: ReadonlyArray<[string, (url: string, name: string) => boolean]> = [
  ['idle', (_url, name) => name === '(idle)'],
  ['garbage collector', (_url, name) => name === '(garbage collector)'],
  ['(program): V8 runtime outside JS frames', (_url, name) => name === '(program)' || name === '(root)'],
  [
    'startup (module loading, tsx/esbuild)',
    (url) => /node_modules\/(tsx|esbuild|get-tsconfig)\/|node:internal\/modules\/|node:internal\/(main|bootstrap)/.test(url),
  ],
  ['xstate', (url) => url.includes('node_modules/xstate/')],
  ['ofetch (+destr, ufo)', (url) => /node_modules\/(ofetch|destr|ufo)\//.test(url)],
  ['undici Response/Headers/streams (node:internal/deps/undici)', (url) => url.includes('node:internal/deps/undici')],
  [
    'node web streams / abort signals / timers / events',
    (url) => /node:internal\/(webstreams|abort_controller|timers|event_target|events|streams)|node:timers|node:events/.test(url),
  ],
  ['run-lifecycle: facade (src/run-manager*.ts)', (url) => /\/src\/run-manager/.test(url)],
  ['run-lifecycle: run-manager machine', (url) => url.includes('/src/machines/run-manager.machine')],
  ['run-lifecycle: strategy machines and helpers', (url) => url.includes('/src/machines/strategies/')],
  ['run-lifecycle: http client (src/services/http.ts)', (url) => url.includes('/src/services/http.')],
  [
    'run-lifecycle: run/world API clients, filter',
    (url) => /\/src\/services\/(run-api|world-api|filter|operations|run-service)\./.test(url),
  ],
  ['run-lifecycle: session store, coordination', (url) => /\/src\/services\/(session-store|coordination)\./.test(url)],
  ['run-lifecycle: errors, types', (url) => /\/src\/(errors|types)\./.test(url)],
  ['bench harness (canned transport, baseline, loop)', (url) => url.includes('/bench/')],
  ['other node internals', (url) => url.startsWith('node:')],
  ['native / builtins (structuredClone, JSON, Promise, …)', (url) => url === ''],
];

/** Not part of the measured work. */
const EXCLUDED = new Set(['idle', 'startup (module loading, tsx/esbuild)']);

function areaOf(frame: CallFrame): string {
  for (const [area, test] of AREAS) if (test(frame.url, frame.functionName)) return area;
  return 'other';
}

function shortUrl(url: string): string {
  const index = url.indexOf('/node_modules/');
  if (index >= 0) return url.slice(index + '/node_modules/'.length);
  const src = url.search(/\/(src|bench)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function profileFiles(target: string): string[] {
  if (statSync(target).isDirectory()) {
    return readdirSync(target)
      .filter((name) => name.endsWith('.cpuprofile'))
      .sort()
      .map((name) => join(target, name));
  }
  return [target];
}

/**
 * Sums self time by function and area over one or more `.cpuprofile` files (a directory takes
 * every profile in it: `--cpu-prof` writes one per thread).
 *
 * @example
 * ```ts
 * const analysis = analyseProfiles('/tmp/prof');
 * console.log(analysis.areas[0]);
 * ```
 */
export function analyseProfiles(target: string): ProfileAnalysis {
  const files = profileFiles(target);
  const byArea = new Map<string, number>();
  const byResponsible = new Map<string, number>();
  const viaNode = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const responsibleOf = (id: number): { area: string; viaNode: boolean } => {
      const own = areaOf((nodes.get(id) as ProfileNode).callFrame);
      if (!PASS_THROUGH.has(own)) return { area: own, viaNode: false };
      for (let current = parents.get(id); current !== undefined; current = parents.get(current)) {
        const area = areaOf((nodes.get(current) as ProfileNode).callFrame);
        if (!PASS_THROUGH.has(area) && !area.startsWith('(program)')) return { area, viaNode: true };
      }
      return { area: own, viaNode: false };
    };
    const selfUs = new Map<number, number>();
    // Each sample's time is the delta to the next sample (the last one gets the profile's end).
    for (let index = 0; index < profile.samples.length; index += 1) {
      const next = index + 1 < profile.timeDeltas.length ? (profile.timeDeltas[index + 1] as number) : 0;
      const id = profile.samples[index] as number;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
    }
    for (const [id, us] of selfUs) {
      const frame = nodes.get(id)?.callFrame;
      if (!frame) continue;
      totalUs += us;
      const area = areaOf(frame);
      byArea.set(area, (byArea.get(area) ?? 0) + us);
      const responsible = responsibleOf(id);
      byResponsible.set(responsible.area, (byResponsible.get(responsible.area) ?? 0) + us);
      if (responsible.viaNode) viaNode.set(responsible.area, (viaNode.get(responsible.area) ?? 0) + us);
      const name = `${frame.functionName || '(anonymous)'}  ${frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '(native)'}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    }
  }
  const busyUs = [...byArea].filter(([area]) => !EXCLUDED.has(area)).reduce((sum, [, us]) => sum + us, 0);
  const toRows = (map: Map<string, number>) =>
    [...map].map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs > 0 ? (us / busyUs) * 100 : 0 })).sort((a, b) => b.ms - a.ms);
  return {
    files,
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    areas: toRows(byArea),
    responsible: toRows(byResponsible).map((row) => ({ ...row, viaNodeMs: (viaNode.get(row.name) ?? 0) / 1000 })),
    functions: toRows(byFunction).filter((row) => !row.name.startsWith('(idle)') && !row.name.startsWith('(program)')),
  };
}

/**
 * The analysis as two tables: self time by area, and the top functions.
 *
 * @example
 * ```ts
 * for (const table of analysisTables('ours, reuse-per-session steady', analyseProfiles('/tmp/prof'))) console.log(formatTable(table));
 * ```
 */
export function analysisTables(label: string, analysis: ProfileAnalysis, top = 20): Table[] {
  return [
    {
      title: `Profile (${label}) — self time by area`,
      columns: ['area', 'self ms', '% of busy'],
      rows: analysis.areas.map((row) => [row.name, fixed(row.ms, 0), fixed(row.percent, 1)]),
      notes: [
        `busy = all sampled time except idle and start-up: ${fixed(analysis.busyMs, 0)} ms of ${fixed(analysis.totalMs, 0)} ms sampled.`,
      ],
    },
    {
      title: `Profile (${label}) — time by responsible area (Node internals and builtins charged to their caller)`,
      columns: ['area', 'ms', '% of busy', 'of which in Node/builtins it called'],
      rows: analysis.responsible
        .filter((row) => !EXCLUDED.has(row.name))
        .map((row) => [row.name, fixed(row.ms, 0), fixed(row.percent, 1), fixed(row.viaNodeMs, 0)]),
    },
    {
      title: `Profile (${label}) — top ${top} functions by self time`,
      columns: ['function  location', 'self ms', '% of busy'],
      rows: analysis.functions.slice(0, top).map((row) => [row.name, fixed(row.ms, 0), fixed(row.percent, 1)]),
    },
  ];
}

if (isEntryPoint(import.meta.url)) {
  const target = process.argv[2];
  if (!target || target.startsWith('--')) {
    console.error('usage: analyse-profile.ts <profile-or-directory> [--top N]');
    process.exit(2);
  }
  const analysis = analyseProfiles(target);
  for (const table of analysisTables(analysis.files.join(', '), analysis, Number(argValue('top') ?? 25))) console.log(formatTable(table));
}
