/**
 * Figure 1 — requests per path. For every strategy and path, the requests this library sends
 * (counted in the emulator's request log), beside the original Epicenter.js library's count and
 * the floor. Goal: never above the original; at the floor wherever the API allows.
 *
 * Then the same paths on Epicenter v3 (`run.apiVersion: 3`, the emulator's `/api/v3/` routes),
 * beside the v2 count, the official v3 client's count for the two strategies it has (measured with
 * `baseline/official-v3.ts`) and the v3 floor. Goal: never above the official v3 client; at the v3
 * floor wherever the API allows.
 *
 * Run alone: `npx tsx bench/requests.ts`.
 */
import { startEmulator, type RequestLogEntry } from '../src/emulator/index.js';
import { OfficialV3Client, type OfficialV3Scope } from './baseline/official-v3.js';
import { runAsScript, type Goal, type PartResult, type Table } from './lib/report.js';
import {
  ACCOUNT,
  EMULATOR_VARIABLES,
  expectedOutcome,
  GROUP_KEY,
  MODEL,
  PATHS,
  PROJECT,
  SCENARIOS,
  ScenarioRunner,
  SESSION_U1_V3,
  TOKEN_U1_V3,
  v3FloorOf,
  VARIABLES,
  type PathId,
  type Scenario,
} from './lib/scenarios.js';

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
      'getRun(names) always sends GET …/variables/?include= after the strategy (run-manager.machine.ts `fetchingVariables`), even when the strategy has just loaded or queried that very run, which could have carried the values with `include=` (the emulator answers it)',
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
    "original = the original Epicenter.js library's request counts for the situation measured (the bracketed optional requests resolved: no cookie from another strategy, a server that keeps the tracking key of the world-run body); conditional-creation, which its count table lacks, counted from what it does (load the cached run, create when the condition holds).",
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
                  ? `${count.scenario} ${count.path}: ${count.requests} vs ${count.original} (the count query that enforces the run limit on a getRun whose world has no run yet; the original never checks the limit on getRun, this library does — this is the price of that check, at the floor of a limit-enforcing getRun)`
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
        title: 'Figure 1 — requests per path (ours vs the original Epicenter.js vs floor)',
        columns: ['strategy', 'path', 'ours', 'original', 'floor', 'verdict'],
        rows,
        notes,
      },
    ],
    goals,
  };
}

/** One path measured on Epicenter v3: this library, and the official v3 client where it has the strategy. */
export interface V3RequestCount {
  scenario: string;
  strategy: string;
  path: PathId;
  /** This library with `run.apiVersion: 3`. */
  requests: number;
  /** This library on v2, the same path (the v2 table of the same run); null when not measured. */
  v2Requests: number | null;
  /** The fewest requests over v3. */
  floor: number;
  /** The v2 floor of the path, for comparison. */
  v2Floor: number;
  /** The official v3 client's requests; null when it has no such strategy or no reset. */
  official: number | null;
  /** `official` as printed, or why there is none (`no such strategy`, `no reset`). */
  officialText: string;
  outcome: string;
  /** `METHOD path?query → status` of every request of this library, in order. */
  trace: string[];
  /** The same for the official v3 client (empty when it was not measured). */
  officialTrace: string[];
}

/** The official client's scope for user u1: the group by key, as in its `getWithStrategy` JSDoc (no `userKey`: no user filter). */
const OFFICIAL_SCOPE: OfficialV3Scope = { scopeBoundary: 'GROUP', scopeKey: GROUP_KEY };

/** The values a `+vars` path must hand back (the emulator is started with them). */
function checkVariables(label: string, variables: unknown): void {
  const got = variables !== null && typeof variables === 'object' ? (variables as Record<string, unknown>) : {};
  for (const name of VARIABLES) {
    const expected = (EMULATOR_VARIABLES as Record<string, unknown>)[name];
    if (got[name] !== expected)
      throw new Error(`${label}: expected variable ${name} = ${String(expected)}, got ${JSON.stringify(got[name])}`);
  }
}

async function logged(emulator: { requests: readonly RequestLogEntry[] }): Promise<RequestLogEntry[]> {
  // The log is written before each response is sent; wait a little in case anything straggles.
  await sleep(10);
  return [...emulator.requests];
}

/**
 * Counts the requests of every scenario and path on Epicenter v3 against an in-process emulator (no
 * latency): this library with `run.apiVersion: 3`, and for reuse-never and reuse-across-sessions the
 * official v3 client's `getWithStrategy` (+ `getVariables` for `+vars`), whose `steady` starts from
 * its own first call. `v2` (the v2 counts of the same run) fills the `v2Requests` column.
 *
 * @example
 * ```ts
 * const v3 = await countRequestsV3(SCENARIOS, await countRequests());
 * ```
 */
export async function countRequestsV3(
  scenarios: readonly Scenario[] = SCENARIOS,
  v2: readonly RequestCount[] = [],
): Promise<V3RequestCount[]> {
  const emulator = await startEmulator({ variables: EMULATOR_VARIABLES });
  const runner = new ScenarioRunner(emulator, 3);
  const official = new OfficialV3Client({
    baseURL: emulator.v3BaseURL,
    account: ACCOUNT,
    project: PROJECT,
    session: { token: TOKEN_U1_V3, userKey: SESSION_U1_V3.userId as string },
  });
  const counts: V3RequestCount[] = [];
  try {
    for (const scenario of scenarios) {
      for (const path of PATHS) {
        const label = `v3 ${scenario.label} ${path}`;
        const withVariables = path.endsWith('+vars');
        const act = await runner.prepare(scenario, path);
        emulator.clearLog();
        const { outcome, run } = await act();
        const entries = await logged(emulator);
        const expected = expectedOutcome(scenario, path);
        if (outcome !== expected) throw new Error(`${label}: expected ${expected}, got ${outcome}`);
        if (withVariables && run !== undefined) checkVariables(label, run.variables);

        let officialCount: number | null = null;
        let officialText = 'no such strategy';
        let officialTrace: string[] = [];
        const strategy = scenario.officialV3;
        if (strategy !== undefined && path === 'reset') officialText = 'no reset';
        else if (strategy !== undefined) {
          runner.fresh(scenario);
          // steady: the user's previous page load made its run with the same client.
          if (path.startsWith('steady')) await official.getRun(strategy, MODEL, OFFICIAL_SCOPE);
          emulator.clearLog();
          const officialRun = await official.getRun(strategy, MODEL, OFFICIAL_SCOPE, withVariables ? VARIABLES : undefined);
          const officialEntries = await logged(emulator);
          if (typeof officialRun.runKey !== 'string') throw new Error(`${label}: the official client returned no run`);
          if (withVariables) checkVariables(`${label} (official)`, officialRun.variables);
          officialCount = officialEntries.length;
          officialText = String(officialCount);
          officialTrace = officialEntries.map(traceLine);
        }

        const v2Count = v2.find((count) => count.scenario === scenario.label && count.path === path);
        counts.push({
          scenario: scenario.label,
          strategy: scenario.strategy,
          path,
          requests: entries.length,
          v2Requests: v2Count?.requests ?? null,
          floor: v3FloorOf(scenario, path),
          v2Floor: scenario.expect[path].floor,
          official: officialCount,
          officialText,
          outcome,
          trace: entries.map(traceLine),
          officialTrace,
        });
      }
    }
  } finally {
    await emulator.close();
  }
  return counts;
}

function verdictV3(count: V3RequestCount): string {
  const marks: string[] = [];
  if (count.official !== null && count.requests > count.official) marks.push(`ABOVE OFFICIAL +${count.requests - count.official}`);
  if (count.requests > count.floor) marks.push(`above floor +${count.requests - count.floor}`);
  else if (count.requests < count.floor) marks.push('BELOW FLOOR?');
  return marks.length === 0 ? 'at floor' : marks.join(', ');
}

/**
 * Builds the v3 table of figure 1 and its goals.
 *
 * @example
 * ```ts
 * const { tables, goals } = requestsV3Report(await countRequestsV3());
 * ```
 */
export function requestsV3Report(counts: readonly V3RequestCount[]): { tables: Table[]; goals: Goal[] } {
  const rows = counts.map((count) => [
    count.scenario,
    count.path,
    count.requests,
    count.v2Requests ?? '–',
    count.officialText,
    count.floor === count.v2Floor ? String(count.floor) : `${count.floor} (v2: ${count.v2Floor})`,
    verdictV3(count),
  ]);
  const notes = [
    `ours v3 = requests in the emulator request log with run.apiVersion 3 (/api/v3/${ACCOUNT}/${PROJECT}/…; user u1 of group g1, groupKey ${GROUP_KEY}; retries off; no latency). ours v2 = the same path in the table above.`,
    'official v3 = bench/baseline/official-v3.ts, a reproduction of epicenter-libs 3.34.1 runAdapter.getWithStrategy (plain fetch, same emulator, scope GROUP/{groupKey}), then getVariables (POST run/variable/{runKey}) for +vars; its steady starts from its own first call.',
    '"no such strategy": getWithStrategy has only reuse-never and reuse-across-sessions (reuse-by-tracking-key and multiplayer throw "Invalid run strategy."); "no reset": it has no reset.',
    'The official reuse-across-sessions sends no user filter and no hidden check (ours: run.userKey, and a hidden newest run is replaced), so equal counts are not equal behaviour.',
    'v3 floor = fewest requests over v3; "(v2: n)" where the v2 floor differs: a v3 load (GET run/{runKey}) and the world-run POST take no include, so a +vars path that ends with one needs POST run/variable/{runKey}; the world-run POST answers the whole run, so no load follows it (bench/README.md).',
  ];
  const aboveOfficial = counts.filter((count) => count.official !== null && count.requests > count.official);
  const aboveFloor = counts.filter((count) => count.requests > count.floor);
  const compared = counts.filter((count) => count.official !== null);
  const goals: Goal[] = [
    {
      figure: 'fig 1 (v3)',
      goal: 'never above the official v3 client (reuse-never, reuse-across-sessions)',
      met: aboveOfficial.length === 0,
      detail:
        aboveOfficial.length === 0
          ? `${compared.length} paths compared, none above the official client; ${compared.filter((count) => count.requests < (count.official as number)).length} below it`
          : aboveOfficial.map((count) => `${count.scenario} ${count.path}: ${count.requests} vs ${count.official as number}`).join('; '),
    },
    {
      figure: 'fig 1 (v3)',
      goal: 'at the v3 floor wherever the API allows',
      met: aboveFloor.length === 0,
      detail:
        aboveFloor.length === 0
          ? `every path at its v3 floor (${counts.length} paths)`
          : `${aboveFloor.length} of ${counts.length} paths above the v3 floor: ${aboveFloor
              .map((count) => `${count.scenario} ${count.path} (+${count.requests - count.floor}: ${count.trace.join(', ')})`)
              .join('; ')}`,
    },
  ];
  return {
    tables: [
      {
        title: 'Figure 1 (v3) — requests per path on Epicenter v3 (ours v3 vs ours v2 vs official v3 client vs v3 floor)',
        columns: ['strategy', 'path', 'ours v3', 'ours v2', 'official v3', 'v3 floor', 'verdict'],
        rows,
        notes,
      },
    ],
    goals,
  };
}

/** Figure 1 as a part: the v2 table, then the v3 one; `data.v2` and `data.v3` hold every count and trace. */
export async function main(): Promise<PartResult> {
  const counts = await countRequests();
  const { tables, goals } = requestsReport(counts);
  const v3Counts = await countRequestsV3(SCENARIOS, counts);
  const v3 = requestsV3Report(v3Counts);
  return { part: 'requests', tables: [...tables, ...v3.tables], goals: [...goals, ...v3.goals], data: { v2: counts, v3: v3Counts } };
}

await runAsScript(import.meta.url, main);
