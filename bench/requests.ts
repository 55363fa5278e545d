/**
 * Figure 1 — requests per path. For every strategy and path of spec §8.12, the requests this
 * library sends (counted in the emulator's request log), beside the original's count and the
 * floor. Goal: never above the original; at the floor wherever the API allows.
 *
 * Run alone: `npx tsx bench/requests.ts`.
 */
import { startEmulator, type RequestLogEntry } from '../src/emulator/index.js';
import { runAsScript, type Goal, type PartResult, type Table } from './lib/report.js';
import { EMULATOR_VARIABLES, expectedOutcome, PATHS, SCENARIOS, ScenarioRunner, type PathId, type Scenario } from './lib/scenarios.js';

/** One measured path. */
export interface RequestCount {
  scenario: string;
  strategy: string;
  path: PathId;
  requests: number;
  original: number;
  originalText: string;
  floor: number;
  outcome: string;
  /** `METHOD path?query` of every request, in order. */
  trace: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function traceLine(entry: RequestLogEntry): string {
  const query = entry.url.includes('?') ? entry.url.slice(entry.url.indexOf('?')) : '';
  return `${entry.method} ${decodeURIComponent(entry.path)}${query} → ${entry.status}`;
}

/** A measured reason why paths send more than their floor (or than the original), and what would fix it. */
interface Excess {
  id: string;
  cause: string;
  fix: string;
  /** Requests this reason adds to the path (0 when it does not apply). */
  extra(count: RequestCount): number;
}

const EXCESSES: readonly Excess[] = [
  {
    id: 'separate variables GET',
    cause:
      'getRun(names) always sends GET …/variables/?include= after the strategy (run-manager.machine.ts `fetchingVariables`), even when the strategy has just loaded or queried that very run, which could have carried the values with `include=` (spec §3.2, §3.3; the emulator answers it)',
    fix: 'pass the requested names into the strategy input; loadRun/fetchLatest send them as `include` (RunApi.load already takes `include`, query takes it as a modifier); the parent skips `fetchingVariables` when the returned run carries the names (keep the separate GET after a create, whose response has no variables)',
    extra: (count) =>
      count.path.endsWith('+vars') &&
      count.trace.some((line) => line.startsWith('GET ') && line.includes('/variables/')) &&
      count.requests > count.floor
        ? 1
        : 0,
  },
];

/** Requests of a path beyond its floor, attributed to the reasons above; `unexplained` is what is left. */
function attribute(count: RequestCount): { reasons: Array<{ id: string; extra: number }>; unexplained: number } {
  const reasons = EXCESSES.map((excess) => ({ id: excess.id, extra: excess.extra(count) })).filter((reason) => reason.extra > 0);
  const explained = reasons.reduce((sum, reason) => sum + reason.extra, 0);
  return { reasons, unexplained: count.requests - count.floor - explained };
}

/**
 * Counts the requests of every scenario and path against an in-process emulator (no latency).
 *
 * @example
 * ```ts
 * const counts = await countRequests();
 * ```
 */
export async function countRequests(scenarios: readonly Scenario[] = SCENARIOS): Promise<RequestCount[]> {
  const emulator = await startEmulator({ variables: EMULATOR_VARIABLES });
  const runner = new ScenarioRunner(emulator);
  const counts: RequestCount[] = [];
  try {
    for (const scenario of scenarios) {
      for (const path of PATHS) {
        const act = await runner.prepare(scenario, path);
        emulator.clearLog();
        const { outcome } = await act();
        // The log is written before each response is sent; wait a little in case anything straggles.
        await sleep(10);
        const entries = [...emulator.requests];
        const expected = expectedOutcome(scenario, path);
        if (outcome !== expected) throw new Error(`${scenario.label} ${path}: expected ${expected}, got ${outcome}`);
        const { original, originalText, floor } = scenario.expect[path];
        counts.push({
          scenario: scenario.label,
          strategy: scenario.strategy,
          path,
          requests: entries.length,
          original,
          originalText: originalText ?? String(original),
          floor,
          outcome,
          trace: entries.map(traceLine),
        });
      }
    }
  } finally {
    await emulator.close();
  }
  return counts;
}

function verdict(count: RequestCount): string {
  const marks: string[] = [];
  if (count.requests > count.original) marks.push(`ABOVE ORIGINAL +${count.requests - count.original}`);
  if (count.requests > count.floor) marks.push(`above floor +${count.requests - count.floor}`);
  else if (count.requests < count.floor) marks.push('BELOW FLOOR?');
  return marks.length === 0 ? 'at floor' : marks.join(', ');
}

/**
 * Builds the figure-1 table and goals from counts.
 *
 * @example
 * ```ts
 * const { tables, goals } = requestsReport(await countRequests());
 * ```
 */
export function requestsReport(counts: readonly RequestCount[]): { tables: Table[]; goals: Goal[] } {
  const rows = counts.map((count) => [count.scenario, count.path, count.requests, count.originalText, count.floor, verdict(count)]);
  const notes = [
    'ours = requests in the emulator request log for the path (retries off; no latency).',
    'original = spec §8.12 for the situation measured (brackets resolved: no cookie from another strategy, a server that keeps the tracking key of the world-run body); conditional-creation from §8.1.',
    'floor = fewest requests over this API (reasoning per path in bench/README.md).',
    `first = nothing on the server, no session record; steady = a usable run exists (next page load); reset = reset() on a new manager; +vars = getRun(['price']).`,
  ];
  const aboveOriginal = counts.filter((count) => count.requests > count.original);
  const aboveFloor = counts.filter((count) => count.requests > count.floor);
  const byReason = new Map<string, string[]>();
  const unexplained: string[] = [];
  for (const count of aboveFloor) {
    const { reasons, unexplained: left } = attribute(count);
    for (const reason of reasons) {
      const list = byReason.get(reason.id) ?? [];
      list.push(`${count.scenario} ${count.path} (+${reason.extra})`);
      byReason.set(reason.id, list);
    }
    if (left !== 0)
      unexplained.push(`${count.scenario} ${count.path} (${left > 0 ? '+' : ''}${left} not explained; trace in results.json)`);
  }
  const floorDetail = [...byReason].map(([id, paths]) => {
    const excess = EXCESSES.find((candidate) => candidate.id === id) as Excess;
    return `${id} — cause: ${excess.cause}; fix: ${excess.fix}; paths: ${paths.join(', ')}`;
  });
  if (unexplained.length > 0) floorDetail.push(`unexplained: ${unexplained.join(', ')}`);
  const goals: Goal[] = [
    {
      figure: 'fig 1',
      goal: 'never above the original',
      met: aboveOriginal.length === 0,
      detail:
        aboveOriginal.length === 0
          ? `${counts.length} paths, none above the original`
          : aboveOriginal
              .map((count) =>
                count.strategy === 'reuse-by-tracking-key-multiplayer' && count.path.startsWith('first')
                  ? `${count.scenario} ${count.path}: ${count.requests} vs ${count.original} (the count query that enforces the run limit on a getRun whose world has no run yet; the original never checks the limit on getRun, weakness 11 — this is the price of that fix, at the floor of a limit-enforcing getRun)`
                  : `${count.scenario} ${count.path}: ${count.requests} vs ${count.original}`,
              )
              .join('; '),
    },
    {
      figure: 'fig 1',
      goal: 'at the floor wherever the API allows',
      met: aboveFloor.length === 0,
      detail:
        aboveFloor.length === 0
          ? 'every path at its floor'
          : `${aboveFloor.length} of ${counts.length} paths above the floor. ${floorDetail.join(' | ')}`,
    },
  ];
  return {
    tables: [
      {
        title: 'Figure 1 — requests per path (ours vs original §8.12 vs floor)',
        columns: ['strategy', 'path', 'ours', 'original', 'floor', 'verdict'],
        rows,
        notes,
      },
    ],
    goals,
  };
}

/** Figure 1 as a part. */
export async function main(): Promise<PartResult> {
  const counts = await countRequests();
  const { tables, goals } = requestsReport(counts);
  return { part: 'requests', tables, goals, data: counts };
}

await runAsScript(import.meta.url, main);
