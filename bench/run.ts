/**
 * `npm run bench`: runs every figure, each in its own Node process (so one part's heap and JIT
 * state do not colour the next), prints their tables, and writes `bench/results.json` (machine
 * details, every part's tables, goals and raw data, and a summary of the goals).
 *
 * Parts, also runnable alone: requests.ts (fig 1), latency.ts (fig 2), cpu.ts (fig 3, with
 * profile.ts + analyse-profile.ts), size.ts (fig 4), scale.ts (fig 5, with scale-memory.ts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib/machine.js';
import { fixed, formatGoals, readResults, RESULTS_FILE, writeResultsSection, type Goal } from './lib/report.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const PARTS = [
  { key: 'requests', file: 'requests.ts', figure: 'Figure 1: requests per path' },
  { key: 'latency', file: 'latency.ts', figure: 'Figure 2: latency against the floor' },
  { key: 'cpu', file: 'cpu.ts', figure: 'Figure 3: CPU overhead' },
  { key: 'size', file: 'size.ts', figure: 'Figure 4: bundle size' },
  { key: 'scale', file: 'scale.ts', figure: 'Figure 5: scale' },
] as const;
/** The issue's limit for the whole run. */
const LIMIT_MS = 5 * 60 * 1000;

const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const parts = only.length > 0 ? PARTS.filter((part) => only.includes(part.key)) : PARTS;

const machine = machineInfo();
writeFileSync(RESULTS_FILE, `${JSON.stringify({ machine }, null, 2)}\n`);
console.log(
  `run-lifecycle benchmarks — ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; load average ${machine.loadAverage.join(' ')}`,
);

const started = performance.now();
const durations: Record<string, number> = {};
const failed: string[] = [];
for (const part of parts) {
  console.log(`\n#### ${part.figure} (bench/${part.file})`);
  const partStart = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, part.file), '--results', RESULTS_FILE], {
    cwd: join(BENCH_DIR, '..'),
    stdio: 'inherit',
  });
  durations[part.key] = Math.round(performance.now() - partStart);
  if (child.status !== 0) failed.push(`${part.key} (exit ${child.status ?? child.signal})`);
}
const totalMs = Math.round(performance.now() - started);

const results = readResults();
const goals = parts.flatMap((part) => (results[part.key] as { goals?: Goal[] } | undefined)?.goals ?? []);
goals.push({
  figure: 'run',
  goal: 'npm run bench completes in under 5 minutes',
  met: totalMs < LIMIT_MS,
  detail: `${fixed(totalMs / 1000, 0)} s (${Object.entries(durations)
    .map(([key, ms]) => `${key} ${fixed(ms / 1000, 0)} s`)
    .join(', ')}); load average at the end ${machineInfo().loadAverage.join(' ')}`,
});
writeResultsSection('summary', { totalMs, durations, failedParts: failed, loadAverageAtEnd: machineInfo().loadAverage, goals });

console.log('\n#### Summary');
console.log(formatGoals(goals));
console.log(`\nresults: ${RESULTS_FILE}`);
if (failed.length > 0) {
  console.error(`parts that failed to run: ${failed.join(', ')}`);
  process.exit(1);
}
