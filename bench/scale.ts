/**
 * Figure 5 — scale. The emulator runs in its own process (`src/emulator/cli.ts --port 0`); from
 * this process:
 *
 * 1. 10,000 distinct users each `getRun()` with reuse-across-sessions (a run query, then a create:
 *    2 requests per user, exercising the emulator's query path as its store grows), 64 at a time,
 *    a new RunManager per user → exactly 10,000 runs on the emulator, one per user; throughput,
 *    peak RSS of this process, and the CPU time of both processes.
 * 2. 1,000 concurrent `getRun()` for one user on one manager → exactly 1 create.
 * 3. 1,000 concurrent `getRun()` for one user over 50 managers sharing one session store →
 *    exactly 1 create. (2 and 3 for reuse-across-sessions and reuse-per-session.)
 * 4. Retained heap per idle manager holding a ready run (`bench/scale-memory.ts`, a child
 *    process with `--expose-gc`).
 *
 * Run alone: `npx tsx bench/scale.ts`.
 */
import { spawnSync } from 'node:child_process';
import { bundled } from './lib/bundle.js';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createDevToken, type Run } from '../src/emulator/index.js';
import { createMemorySessionStore, RunManager, type SessionStore } from '../src/index.js';
import { startEmulatorProcess, type EmulatorProcess } from './lib/emulator-process.js';
import { fixed, runAsScript, type Goal, type PartResult, type Table } from './lib/report.js';
import { ACCOUNT, MODEL, PROJECT } from './lib/scenarios.js';

export const USERS = 10_000;
export const CONCURRENCY = 64;
export const SCALE_STRATEGY = 'reuse-across-sessions';
const CONCURRENT_CALLS = 1_000;
const SHARED_MANAGERS = 50;

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

function manager(emulator: EmulatorProcess, strategy: string, userId: string, store: SessionStore): RunManager {
  return new RunManager({
    run: { account: ACCOUNT, project: PROJECT, model: MODEL, baseURL: emulator.baseURL },
    strategy,
    session: { userId, groupName: 'g1', auth_token: createDevToken({ userId }) },
    sessionStore: store,
  });
}

/** Runs `task(0…count-1)` with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await task(index);
      }
    }),
  );
}

function cpuMs(usage: { user: number; system: number }): number {
  return (usage.user + usage.system) / 1000;
}

/** Figure 5, part 1. */
export interface ThroughputResult {
  users: number;
  strategy: string;
  concurrency: number;
  failures: number;
  runsOnEmulator: number;
  usersWithOneRun: number;
  requests: number;
  wallMs: number;
  getRunsPerSecond: number;
  clientCpuMs: number;
  emulatorCpuMs: number;
  peakRssMB: number;
  maxRssMB: number;
}

async function throughput(emulator: EmulatorProcess): Promise<ThroughputResult> {
  const statsBefore = await emulator.stats();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 25);
  let failures = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await pool(USERS, CONCURRENCY, async (index) => {
    const userId = `user-${String(index).padStart(5, '0')}`;
    const rm = manager(emulator, SCALE_STRATEGY, userId, createMemorySessionStore());
    try {
      const run = await rm.getRun();
      if (run.user?.id !== userId || run.freshlyCreated !== true) failures += 1;
    } catch {
      failures += 1;
    } finally {
      rm.stop();
    }
  });
  const wallMs = performance.now() - start;
  const clientCpuMs = cpuMs(process.cpuUsage(cpuBefore));
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const statsAfter = await emulator.stats();
  const runs = await emulator.control<Run[]>('runs');
  const perUser = new Map<string, number>();
  for (const run of runs) {
    const id = String(run.user?.id);
    perUser.set(id, (perUser.get(id) ?? 0) + 1);
  }
  return {
    users: USERS,
    strategy: SCALE_STRATEGY,
    concurrency: CONCURRENCY,
    failures,
    runsOnEmulator: statsAfter.runs - statsBefore.runs,
    usersWithOneRun: [...perUser.values()].filter((n) => n === 1).length,
    requests: statsAfter.requests - statsBefore.requests,
    wallMs,
    getRunsPerSecond: USERS / (wallMs / 1000),
    clientCpuMs,
    emulatorCpuMs: cpuMs(statsAfter.cpu) - cpuMs(statsBefore.cpu),
    peakRssMB: peakRss / 2 ** 20,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Figure 5, parts 2 and 3. */
export interface SingleFlightResult {
  scenario: string;
  strategy: string;
  calls: number;
  managers: number;
  creates: number;
  requests: number;
  distinctRunIds: number;
  failures: number;
  wallMs: number;
}

async function singleFlight(emulator: EmulatorProcess, strategy: string, managers: number, userId: string): Promise<SingleFlightResult> {
  const store = createMemorySessionStore();
  const list = Array.from({ length: managers }, () => manager(emulator, strategy, userId, store));
  const requestsBefore = (await emulator.stats()).requests;
  const start = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: CONCURRENT_CALLS }, (_, index) => (list[index % managers] as RunManager).getRun()),
  );
  const wallMs = performance.now() - start;
  for (const rm of list) rm.stop();
  const requests = (await emulator.stats()).requests - requestsBefore;
  const runs = await emulator.control<Run[]>(`runs?userId=${encodeURIComponent(userId)}`);
  const ids = new Set(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.id] : [])));
  return {
    scenario:
      managers === 1
        ? `${CONCURRENT_CALLS} concurrent getRun, one manager`
        : `${CONCURRENT_CALLS} concurrent getRun, ${managers} managers, one session store`,
    strategy,
    calls: CONCURRENT_CALLS,
    managers,
    creates: runs.length,
    requests,
    distinctRunIds: ids.size,
    failures: settled.filter((result) => result.status === 'rejected').length,
    wallMs,
  };
}

/** Figure 5, part 4 (from the --expose-gc child). */
export interface MemoryResult {
  managers: number;
  bytesPerManager: { ours: { immediate: number; settled: number }; baseline: { immediate: number; settled: number } };
  settleMs: number;
}

function retainedMemory(): MemoryResult {
  const child = spawnSync(
    process.execPath,
    // Bundled as a build ships the library: through tsx, every closure would carry an extra `name` property.
    ['--expose-gc', bundled('bench/scale-memory.ts'), '--managers', String(USERS)],
    {
      cwd: join(BENCH_DIR, '..'),
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(`scale-memory.ts failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as MemoryResult;
}

/**
 * Builds the figure-5 tables and goals.
 *
 * @example
 * ```ts
 * const { tables, goals } = scaleReport(throughputResult, flights, memory);
 * ```
 */
export function scaleReport(
  result: ThroughputResult,
  flights: readonly SingleFlightResult[],
  memory: MemoryResult,
): { tables: Table[]; goals: Goal[] } {
  const emulatorShare = (result.emulatorCpuMs / result.wallMs) * 100;
  const clientShare = (result.clientCpuMs / result.wallMs) * 100;
  const tables: Table[] = [
    {
      title: `Figure 5 — scale: ${result.users.toLocaleString('en')} distinct users, one getRun each (${result.strategy}, ${result.concurrency} at a time, a new RunManager per user; emulator in its own process)`,
      columns: ['measure', 'value'],
      rows: [
        ['runs on the emulator (stats)', result.runsOnEmulator],
        ['users with exactly one run (/_emulator/runs)', result.usersWithOneRun],
        ['failed getRuns (error, wrong user or not created)', result.failures],
        ['requests answered by the emulator', result.requests],
        ['wall time', `${fixed(result.wallMs / 1000, 2)} s`],
        ['throughput', `${fixed(result.getRunsPerSecond, 0)} getRuns/s (${fixed((result.requests / result.wallMs) * 1000, 0)} requests/s)`],
        [
          'client CPU (this process)',
          `${fixed(result.clientCpuMs / 1000, 2)} s = ${fixed(clientShare, 0)}% of one core over the wall time (${fixed((result.clientCpuMs * 1000) / result.users, 0)} µs per getRun)`,
        ],
        [
          'emulator CPU (/_emulator/stats delta)',
          `${fixed(result.emulatorCpuMs / 1000, 2)} s = ${fixed(emulatorShare, 0)}% of one core (${fixed((result.emulatorCpuMs * 1000) / result.requests, 0)} µs per request)`,
        ],
        ['client peak RSS (sampled every 25 ms during the run)', `${fixed(result.peakRssMB, 1)} MB`],
        ['client max RSS over the process life (getrusage)', `${fixed(result.maxRssMB, 1)} MB`],
      ],
    },
    {
      title: 'Figure 5a — single flight: concurrent getRun for one user',
      columns: ['scenario', 'strategy', 'creates', 'requests', 'distinct run ids', 'failures', 'wall ms', 'verdict'],
      rows: flights.map((flight) => [
        flight.scenario,
        flight.strategy,
        flight.creates,
        flight.requests,
        flight.distinctRunIds,
        flight.failures,
        fixed(flight.wallMs, 0),
        flight.creates === 1 && flight.distinctRunIds === 1 && flight.failures === 0 ? 'ok: exactly 1 create' : 'FAILED',
      ]),
    },
    {
      title: `Figure 5b — retained heap per idle manager holding a ready run (${memory.managers.toLocaleString('en')} managers, --expose-gc, canned in-process transport)`,
      columns: ['implementation', 'right after the getRuns', `after ${memory.settleMs / 1000} s (request timeouts fired)`],
      rows: [
        [
          'RunManager (reuse-per-session)',
          `${fixed(memory.bytesPerManager.ours.immediate / 1024, 2)} KB`,
          `${fixed(memory.bytesPerManager.ours.settled / 1024, 2)} KB`,
        ],
        [
          'hand-written baseline',
          `${fixed(memory.bytesPerManager.baseline.immediate / 1024, 2)} KB`,
          `${fixed(memory.bytesPerManager.baseline.settled / 1024, 2)} KB`,
        ],
      ],
      notes: [
        'Heap delta after global.gc() divided by the number of managers; each manager has its own user session and memory session store with one record.',
        '“after 16 s” is past the 15 s request timeout: a difference from “right after” would be what finished requests keep alive until their timers fire (each attempt clears its timer, so there should be none).',
      ],
    },
  ];
  const goals: Goal[] = [
    {
      figure: 'fig 5',
      goal: `exactly ${result.users.toLocaleString('en')} runs, one per user`,
      met: result.runsOnEmulator === result.users && result.usersWithOneRun === result.users && result.failures === 0,
      detail: `${result.runsOnEmulator} runs, ${result.usersWithOneRun} users with exactly one, ${result.failures} failures; ${fixed(result.getRunsPerSecond, 0)} getRuns/s`,
    },
    {
      figure: 'fig 5',
      goal: 'exactly 1 create for 1,000 concurrent getRun of one user (one manager; 50 managers sharing a store)',
      met: flights.every((flight) => flight.creates === 1 && flight.distinctRunIds === 1 && flight.failures === 0),
      detail: flights
        .map((flight) => `${flight.strategy}, ${flight.managers} manager(s): ${flight.creates} create(s), ${flight.requests} requests`)
        .join('; '),
    },
    {
      figure: 'fig 5',
      goal: 'the emulator is not the bottleneck',
      met: emulatorShare < 80,
      detail: `emulator ${fixed(emulatorShare, 0)}% of one core vs client ${fixed(clientShare, 0)}% during the 10,000-user run`,
    },
  ];
  return { tables, goals };
}

/** Figure 5 as a part. */
export async function main(): Promise<PartResult> {
  const emulator = await startEmulatorProcess();
  let result: ThroughputResult;
  const flights: SingleFlightResult[] = [];
  try {
    result = await throughput(emulator);
    let user = 0;
    for (const strategy of [SCALE_STRATEGY, 'reuse-per-session']) {
      for (const managers of [1, SHARED_MANAGERS]) {
        user += 1;
        flights.push(await singleFlight(emulator, strategy, managers, `flight-${user}`));
      }
    }
  } finally {
    await emulator.close();
  }
  const memory = retainedMemory();
  const { tables, goals } = scaleReport(result, flights, memory);
  return { part: 'scale', tables, goals, data: { throughput: result, singleFlight: flights, memory } };
}

await runAsScript(import.meta.url, main);
