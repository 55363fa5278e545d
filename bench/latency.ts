/**
 * Figure 2 — latency against the floor. The emulator answers every request after a fixed
 * L = 20 ms; each path's median wall time (SAMPLES samples) is compared with `requests × L`, the
 * time the path cannot beat with the requests it sends. Overhead above 5% is flagged, and split
 * into what the server spent beyond L (from its request log) and what the client and the
 * loopback transport spent; a bare-`fetch` replay of the same requests gives the part of the
 * overhead that any client pays on this machine, so the library's own share is the rest.
 *
 * Run alone: `npx tsx bench/latency.ts`.
 */
import { performance } from 'node:perf_hooks';
import { startEmulator, type Emulator, type RequestLogEntry } from '../src/emulator/index.js';
import { fixed, median, runAsScript, type Goal, type PartResult, type Table } from './lib/report.js';
import {
  EMULATOR_VARIABLES,
  expectedOutcome,
  PATHS,
  SCENARIOS,
  ScenarioRunner,
  TOKEN_U1,
  type PathId,
  type Scenario,
} from './lib/scenarios.js';

/** Fixed emulator latency per request (ms). */
export const LATENCY_MS = 20;
/** Timed samples per path (after one untimed warm-up). */
export const SAMPLES = 15;
/** Untimed rounds over every path before any is measured. */
const WARMUP_ROUNDS = 5;
/** Overhead above this share of `requests × L` is flagged. */
export const FLAG_PERCENT = 5;
/** The goal for the library's own share of `requests × L`. */
export const LIBRARY_SHARE_PERCENT = 2;

/** One path's timing. */
export interface PathLatency {
  scenario: string;
  path: PathId;
  requests: number;
  floor: number;
  samples: number;
  medianMs: number;
  /** `requests × L`. */
  boundMs: number;
  /** `(median − requests × L) / (requests × L)`, in percent (null without requests). */
  overheadPercent: number | null;
  /** Median over samples of the server's time beyond L per request (log `durationMs − L`, summed). */
  serverExtraMs: number;
  /** Median over samples of wall time minus the server's logged time: client work and loopback transport. */
  clientMs: number;
  /** Median wall time of the same requests sent one after another with bare `fetch` (no library). */
  bareMs: number;
  /** Median over samples of (library wall − bare replay wall): what the library adds over a bare client sending the same requests. */
  libraryMs: number;
  /** `libraryMs / (requests × L)`, in percent (null without requests). */
  libraryPercent: number | null;
  /** `(median − floor × L) / (floor × L)`, in percent (null for a floor of 0). */
  overFloorPercent: number | null;
  flagged: boolean;
}

interface Sample {
  wallMs: number;
  requests: number;
  serverMs: number;
  entries: RequestLogEntry[];
}

/** Headers a replay sends again (the log drops credentials; fetch sets transport headers itself). */
const REPLAYED_HEADERS = new Set(['accept', 'content-type', 'x-autorestore']);

/**
 * Sends the logged requests again, one after another, with bare `fetch` and the same bearer token,
 * and returns the wall time: the same round trips without the library.
 */
async function replay(emulator: Emulator, entries: readonly RequestLogEntry[]): Promise<number> {
  const start = performance.now();
  for (const entry of entries) {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN_U1}` };
    for (const [name, value] of Object.entries(entry.headers)) if (REPLAYED_HEADERS.has(name)) headers[name] = value;
    const body = entry.body === undefined ? undefined : typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body);
    const response = await fetch(`${emulator.origin}${entry.url}`, {
      method: entry.method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    await response.text();
  }
  return performance.now() - start;
}

async function sample(emulator: Emulator, act: () => Promise<{ outcome: string }>, expected: string, label: string): Promise<Sample> {
  emulator.clearLog();
  const start = performance.now();
  const { outcome } = await act();
  const wallMs = performance.now() - start;
  if (outcome !== expected) throw new Error(`${label}: expected ${expected}, got ${outcome}`);
  const entries = [...emulator.requests];
  return { wallMs, requests: entries.length, serverMs: entries.reduce((sum, entry) => sum + entry.durationMs, 0), entries };
}

/**
 * Times every path of every scenario: `first` paths from an empty emulator each sample; `steady`
 * and `reset` from one prepared state, with a new manager (same session store) per sample.
 *
 * @example
 * ```ts
 * const timings = await measureLatency(SCENARIOS, 15);
 * ```
 */
export async function measureLatency(scenarios: readonly Scenario[] = SCENARIOS, samples = SAMPLES): Promise<PathLatency[]> {
  const emulator = await startEmulator({ variables: EMULATOR_VARIABLES });
  const runner = new ScenarioRunner(emulator);
  const results: PathLatency[] = [];
  try {
    // Warm every path up first, untimed and without latency: otherwise the paths measured first run
    // code the JIT has not optimised yet, and their share is the warm-up's, not the library's.
    emulator.latency = 0;
    for (let round = 0; round < WARMUP_ROUNDS; round += 1) {
      for (const scenario of scenarios) {
        for (const path of PATHS) {
          const store = path.startsWith('first') ? runner.fresh(scenario) : await runner.existing(scenario);
          await runner.action(scenario, path, store)();
        }
      }
    }
    for (const scenario of scenarios) {
      for (const path of PATHS) {
        const label = `${scenario.label} ${path}`;
        const expected = expectedOutcome(scenario, path);
        const taken: Sample[] = [];
        const bare: number[] = [];
        emulator.latency = 0;
        const store = path.startsWith('first') ? undefined : await runner.existing(scenario);
        emulator.latency = LATENCY_MS;
        for (let index = 0; index <= samples; index += 1) {
          // `first` needs an empty server every time; the reset of the emulator is not timed.
          const act = store ? runner.action(scenario, path, store) : runner.action(scenario, path, runner.fresh(scenario));
          const measured = await sample(emulator, act, expected, label);
          if (index === 0) continue;
          taken.push(measured);
          // The same requests with bare fetch right away, so both see the same machine load.
          bare.push(await replay(emulator, measured.entries));
        }
        const requests = taken[0]?.requests ?? 0;
        if (taken.some((one) => one.requests !== requests)) throw new Error(`${label}: request count varies between samples`);
        const bareMs = median(bare);
        const libraryMs = median(taken.map((one, index) => one.wallMs - (bare[index] as number)));
        const medianMs = median(taken.map((one) => one.wallMs));
        const boundMs = requests * LATENCY_MS;
        const floor = scenario.expect[path].floor;
        const overheadPercent = boundMs > 0 ? ((medianMs - boundMs) / boundMs) * 100 : null;
        results.push({
          scenario: scenario.label,
          path,
          requests,
          floor,
          samples: taken.length,
          medianMs,
          boundMs,
          overheadPercent,
          serverExtraMs: median(taken.map((one) => one.serverMs - one.requests * LATENCY_MS)),
          clientMs: median(taken.map((one) => one.wallMs - one.serverMs)),
          bareMs,
          libraryMs,
          libraryPercent: boundMs > 0 ? (libraryMs / boundMs) * 100 : null,
          overFloorPercent: floor > 0 ? ((medianMs - floor * LATENCY_MS) / (floor * LATENCY_MS)) * 100 : null,
          flagged: overheadPercent !== null && overheadPercent > FLAG_PERCENT,
        });
      }
    }
  } finally {
    await emulator.close();
  }
  return results;
}

/**
 * Builds the figure-2 table and goal.
 *
 * @example
 * ```ts
 * const { tables, goals } = latencyReport(await measureLatency());
 * ```
 */
export function latencyReport(timings: readonly PathLatency[]): { tables: Table[]; goals: Goal[] } {
  const rows = timings.map((timing) => [
    timing.scenario,
    timing.path,
    timing.requests,
    fixed(timing.medianMs, 2),
    timing.boundMs,
    timing.overheadPercent === null ? 'n/a' : `${fixed(timing.overheadPercent, 1)}%`,
    fixed(timing.bareMs, 2),
    timing.boundMs > 0 ? `${fixed(((timing.bareMs - timing.boundMs) / timing.boundMs) * 100, 1)}%` : 'n/a',
    fixed(timing.libraryMs, 2),
    timing.libraryPercent === null ? 'n/a' : `${fixed(timing.libraryPercent, 1)}%`,
    fixed(timing.serverExtraMs, 2),
    timing.overFloorPercent === null ? 'n/a' : `${fixed(timing.overFloorPercent, 1)}%`,
    timing.flagged ? 'FLAG >5%' : '',
  ]);
  const flagged = timings.filter((timing) => timing.flagged);
  const measured = timings.filter((timing) => timing.overheadPercent !== null);
  const perRequest = (pick: (timing: PathLatency) => number) => median(measured.map((timing) => pick(timing) / timing.requests));
  const libraryOver = measured.filter((timing) => (timing.libraryPercent as number) > FLAG_PERCENT);
  const libraryOverShare = measured.filter((timing) => (timing.libraryPercent as number) > LIBRARY_SHARE_PERCENT);
  const libraryShares = measured.map((timing) => timing.libraryPercent as number);
  const goals: Goal[] = [
    {
      figure: 'fig 2',
      goal: `overhead over requests × L within ${FLAG_PERCENT}% on every path`,
      met: flagged.length === 0,
      detail:
        flagged.length === 0
          ? `${measured.length} paths with requests; worst ${fixed(Math.max(...measured.map((timing) => timing.overheadPercent as number)), 1)}%`
          : `${flagged.length} of ${measured.length} paths flagged (${fixed(Math.min(...flagged.map((timing) => timing.overheadPercent as number)), 1)}–${fixed(Math.max(...flagged.map((timing) => timing.overheadPercent as number)), 1)}%). ` +
            `Per request (medians over paths): emulator beyond L ${fixed(
              perRequest((timing) => timing.serverExtraMs),
              2,
            )} ms, bare-fetch round trip beyond the emulator’s time ${fixed(
              perRequest((timing) => timing.bareMs - timing.boundMs - timing.serverExtraMs),
              2,
            )} ms, library ${fixed(
              perRequest((timing) => timing.libraryMs),
              2,
            )} ms. ` +
            `A bare fetch of the same requests is itself ${fixed(median(measured.map((timing) => ((timing.bareMs - timing.boundMs) / timing.boundMs) * 100)), 1)}% over req×L (median), so 5% is out of reach for any client on this machine; ` +
            `the library’s own share exceeds 5% of req×L on ${libraryOver.length} of ${measured.length} paths${libraryOver.length > 0 ? ` (${libraryOver.map((timing) => `${timing.scenario} ${timing.path} ${fixed(timing.libraryPercent as number, 1)}%`).join(', ')})` : ''}`,
    },
    {
      figure: 'fig 2',
      goal: `the library's own share within ${LIBRARY_SHARE_PERCENT}% of requests × L on every path`,
      met: libraryOverShare.length === 0,
      detail: `${measured.length - libraryOverShare.length} of ${measured.length} paths within (library share ${fixed(Math.min(...libraryShares), 1)}–${fixed(Math.max(...libraryShares), 1)}%, median ${fixed(median(libraryShares), 1)}%; ${fixed(
        perRequest((timing) => timing.libraryMs),
        2,
      )} ms per request)`,
    },
  ];
  return {
    tables: [
      {
        title: `Figure 2 — latency against the floor (L = ${LATENCY_MS} ms per request, median of ${timings[0]?.samples ?? SAMPLES} samples)`,
        columns: [
          'strategy',
          'path',
          'req',
          'median ms',
          'req×L',
          'overhead',
          'bare ms',
          'bare over',
          'lib ms',
          'lib %',
          'emu>L ms',
          'vs floor×L',
          'flag',
        ],
        rows,
        notes: [
          'overhead = (median − req×L) / (req×L), flagged above 5%. Emulator in the bench process (one event loop, one request at a time); a new RunManager per sample, construction not timed.',
          'bare = the same requests (method, URL, headers, body from the emulator log) sent again one after another with bare fetch right after each sample (paired, so both see the same machine load); bare over = (bare − req×L) / (req×L): what any client pays here.',
          'lib = median over samples of (sample − its bare replay): what the library adds over a bare client; lib % = lib / (req×L).',
          'emu>L = the emulator’s own time beyond L, summed over the path’s requests (request log: arrival to response, minus L).',
          'vs floor×L = the median against the floor of figure 1 (each request above the floor costs a whole L).',
        ],
      },
    ],
    goals,
  };
}

/** Figure 2 as a part. */
export async function main(): Promise<PartResult> {
  const timings = await measureLatency();
  const { tables, goals } = latencyReport(timings);
  return { part: 'latency', tables, goals, data: { latencyMs: LATENCY_MS, samples: SAMPLES, paths: timings } };
}

await runAsScript(import.meta.url, main);
