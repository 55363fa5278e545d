/**
 * One measurement of figure 3, in a process of its own (so the heap another case left behind
 * cannot bill this case's GC):
 *
 * - `--kind getRun --impl ours|baseline --strategy <name> --path steady|first --mode reused|per-getRun`
 * - `--kind layer --impl ours|baseline` (getRun with a strategy that makes no request: the layer around it)
 * - `--kind floor --impl ours|baseline` (the strategy contract's bare minimum in XState, or as plain async)
 * - `--kind construct --impl ours|baseline` (a manager's construction alone)
 *
 * Prints one JSON line: the tinybench median wall time (µs), its sample count, and the process
 * CPU time per call (µs, median of batch means). Used by `bench/cpu.ts`.
 */
import { Bench } from 'tinybench';
import type { BaselineStrategy } from './baseline/strategies.js';
import { createFloorHarness, createHarness, createLayerHarness, type CpuPath, type Impl, type ManagerMode } from './lib/cpu-cases.js';
import { argValue, median } from './lib/report.js';

/** What one task prints. */
export interface TaskMeasurement {
  wallUs: number;
  samples: number;
  cpuUs: number;
}

const BENCH_TIME_MS = 300;
/** A fresh process compiles the hot code on background threads for a while: warm up long enough that the measured window is past it. */
const WARMUP_MS = 1000;
const CPU_BATCHES = 5;
const CPU_BATCH_MS = 60;

/** CPU time per call of `fn` (µs): median over batches of the batch mean. */
async function cpuTimePerCall(fn: () => unknown, before: () => Promise<void>): Promise<number> {
  let size = 16;
  for (;;) {
    const start = process.cpuUsage();
    for (let index = 0; index < size; index += 1) {
      await before();
      await fn();
    }
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= CPU_BATCH_MS / 4 || size >= 1 << 16) break;
    size *= 2;
  }
  size *= 4;
  const means: number[] = [];
  for (let batch = 0; batch < CPU_BATCHES; batch += 1) {
    const start = process.cpuUsage();
    for (let index = 0; index < size; index += 1) {
      await before();
      await fn();
    }
    const used = process.cpuUsage(start);
    means.push((used.user + used.system) / size);
  }
  return median(means);
}

async function measure(fn: () => unknown, before: () => Promise<void>): Promise<TaskMeasurement> {
  const bench = new Bench({ time: BENCH_TIME_MS, warmupTime: WARMUP_MS, throws: true });
  bench.add('task', fn, { beforeEach: before });
  await bench.run();
  const result = bench.getTask('task')?.result;
  if (!result || !('latency' in result)) throw new Error(`tinybench task has no result (${result?.state})`);
  return { wallUs: result.latency.p50 * 1000, samples: result.latency.samplesCount, cpuUs: await cpuTimePerCall(fn, before) };
}

const kind = argValue('kind') ?? 'getRun';
const impl = (argValue('impl') ?? 'ours') as Impl;
const strategy = (argValue('strategy') ?? 'reuse-per-session') as BaselineStrategy;
const path = (argValue('path') ?? 'steady') as CpuPath;
const mode = (argValue('mode') ?? 'reused') as ManagerMode;
const none = () => Promise.resolve();

let measurement: TaskMeasurement;
if (kind === 'getRun') {
  const harness = await createHarness(impl, { strategy, path }, mode);
  measurement = await measure(
    () => harness.getRun(),
    () => harness.beforeEach(),
  );
} else if (kind === 'layer') {
  const harness = await createLayerHarness(impl);
  measurement = await measure(() => harness.getRun(), none);
} else if (kind === 'floor') {
  const harness = await createFloorHarness(impl);
  measurement = await measure(() => harness.getRun(), none);
} else if (kind === 'construct') {
  const harness = await createHarness(impl, { strategy, path }, 'per-getRun');
  measurement = await measure(() => harness.construct(), none);
} else {
  console.error(`unknown --kind ${kind} (getRun, layer, floor, construct)`);
  process.exit(2);
}
console.log(JSON.stringify(measurement));
