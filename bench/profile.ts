/**
 * Runs N getRuns of one figure-3 case, one after another, for the CPU profiler:
 *
 * ```sh
 * node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.ts [--impl ours|baseline]
 *   [--strategy reuse-per-session|reuse-across-sessions|reuse-by-tracking-key] [--path steady|first]
 *   [--mode reused|per-getRun] [--n 20000]
 * npx tsx bench/analyse-profile.ts /tmp/prof
 * ```
 *
 * Prints the case and the mean time per getRun (profiling slows everything down somewhat).
 */
import { performance } from 'node:perf_hooks';
import type { BaselineStrategy } from './baseline/strategies.js';
import { createHarness, type CpuPath, type Impl, type ManagerMode } from './lib/cpu-cases.js';
import { argValue } from './lib/report.js';

const impl = (argValue('impl') ?? 'ours') as Impl;
const strategy = (argValue('strategy') ?? 'reuse-per-session') as BaselineStrategy;
const path = (argValue('path') ?? 'steady') as CpuPath;
const mode = (argValue('mode') ?? 'reused') as ManagerMode;
const n = Number(argValue('n') ?? 20_000);
if (!['ours', 'baseline'].includes(impl) || !['steady', 'first'].includes(path) || !['reused', 'per-getRun'].includes(mode) || !(n > 0)) {
  console.error('usage: profile.ts [--impl ours|baseline] [--strategy name] [--path steady|first] [--mode reused|per-getRun] [--n count]');
  process.exit(2);
}

const harness = await createHarness(impl, { strategy, path }, mode);
const start = performance.now();
for (let index = 0; index < n; index += 1) {
  await harness.beforeEach();
  await harness.getRun();
}
const elapsed = performance.now() - start;
console.log(
  JSON.stringify({
    impl,
    strategy,
    path,
    mode,
    n,
    elapsedMs: Math.round(elapsed),
    usPerGetRun: Math.round((elapsed / n) * 1000 * 10) / 10,
  }),
);
