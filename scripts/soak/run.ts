/**
 * The fault-injection soak: N simulated users, a mix of strategies, bounded concurrency, one
 * in-process emulator that injects seeded faults; then every invariant of `checks.ts` per user.
 */
import { startEmulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { appliedFingerprint, FaultInjector, scheduleFingerprint, type FaultKind } from './faults.js';
import { checkUser, retryFigures, type RetryFigures, type Violation } from './checks.js';
import { runContention, type ContentionReport } from './contention.js';
import { planUser, simulateUser, worldOf, type CallName, type UserOutcome } from './user.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  seed: number;
  users: number;
  /** Users simulated at the same time. */
  concurrency: number;
  /** Probability that a request is faulted. */
  faultRate: number;
  /** The managers' per-request timeout. */
  timeoutMs: number;
  /** Delay of a stalled response (past the timeout). */
  stallMs: number;
  retry: { retries: number; baseDelayMs: number; maxDelayMs: number };
  retryAfterSeconds: number;
  /** Most presses per call (a person pressing again). */
  maxPresses: number;
  /** Users of the contention phase (several managers each, stops, broken collaborators, hostile input). */
  contentionUsers: number;
  /** Keep the request log and the users' presses in the report (for debugging a seed). */
  includeLog?: boolean;
}

/** The defaults: `npm run soak` with no arguments. */
export const SOAK_DEFAULTS: SoakOptions = {
  seed: 1,
  users: 200,
  concurrency: 25,
  faultRate: 0.25,
  timeoutMs: 300,
  stallMs: 500,
  retry: { retries: 2, baseDelayMs: 25, maxDelayMs: 200 },
  retryAfterSeconds: 1,
  maxPresses: 3,
  contentionUsers: 100,
};

/** The figures and findings of one soak. */
export interface SoakReport {
  options: SoakOptions;
  durationMs: number;
  /** Hash of the first 32 decisions of every user's fault stream: a pure function of the seed. */
  scheduleFingerprint: string;
  /** Hash of the decisions as applied to requests (per user, in order). */
  appliedFingerprint: string;
  requests: { total: number; byMethod: Record<string, number>; aborted: number };
  /** Faults as the emulator's log records them, by kind. */
  faultsInjected: Record<string, number>;
  /** Faults the injector registered, by kind (an outage is one registration of three 503s). */
  faultsRegistered: Record<FaultKind, number>;
  retries: RetryFigures;
  /** Presses after the first, per call (a person pressing again). */
  userRetries: number;
  calls: Record<CallName, { ok: number; failed: number }>;
  errorsByType: Record<string, number>;
  usersByStrategy: Record<string, number>;
  /** Users by their number of runs (all, and live). */
  runsPerUser: { all: Record<number, number>; live: Record<number, number> };
  unhandledRejections: string[];
  /** The contention phase (its violations are in `violations` too). */
  contention: ContentionReport;
  violations: Violation[];
  /** With `includeLog`: the emulator's request log and every user's presses. */
  log?: { entries: RequestLogEntry[]; outcomes: Array<Omit<UserOutcome, 'store'>> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(workers);
}

function increment(table: Record<string, number>, key: string | number, by = 1): void {
  table[key] = (table[key] ?? 0) + by;
}

/** The fault kinds of a log entry, as the emulator names them (`fail:503`, `drop:after`, `slow:500`, …). */
function faultKinds(entry: RequestLogEntry): string[] {
  return entry.fault ? entry.fault.split(',') : [];
}

/**
 * Runs a soak and checks it. Never throws for a broken invariant: those are in `violations`.
 *
 * @example
 * ```ts
 * const report = await runSoak({ seed: 1, users: 60 });
 * console.log(formatReport(report));
 * ```
 */
export async function runSoak(overrides: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const options: SoakOptions = { ...SOAK_DEFAULTS, ...overrides, retry: { ...SOAK_DEFAULTS.retry, ...overrides.retry } };
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason));
  process.on('unhandledRejection', onUnhandled);
  const started = Date.now();
  const emulator = await startEmulator({ logLimit: 5_000_000 });
  try {
    const plans = Array.from({ length: options.users }, (_, index) => planUser(options.seed, index));
    for (const plan of plans) if (plan.worldId) emulator.addWorld(worldOf(plan));
    const faultSettings = {
      seed: options.seed,
      rate: options.faultRate,
      stallMs: options.stallMs,
      retries: options.retry.retries,
      retryAfterSeconds: options.retryAfterSeconds,
    };
    const injector = new FaultInjector(emulator, faultSettings);
    const outcomes: UserOutcome[] = [];
    const userSettings = {
      seed: options.seed,
      baseURL: emulator.baseURL,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      stallMs: options.stallMs,
      maxPresses: options.maxPresses,
    };
    await pool(plans, options.concurrency, async (plan) => {
      outcomes.push(await simulateUser(plan, userSettings, injector.forUser(plan.index)));
    });
    // Stalled requests the clients gave up on are still being answered: let them land and be logged.
    await sleep(options.stallMs + 100);
    let settled = -1;
    while (emulator.requests.length !== settled) {
      settled = emulator.requests.length;
      await sleep(20);
    }
    outcomes.sort((a, b) => a.plan.index - b.plan.index);

    const entries = [...emulator.requests];
    const entriesByUser = new Map<string, RequestLogEntry[]>();
    for (const entry of entries) {
      const tag = entry.headers['x-soak-attempt'];
      const userId = tag?.split(':')[0];
      if (userId === undefined) continue;
      const list = entriesByUser.get(userId) ?? [];
      list.push(entry);
      entriesByUser.set(userId, list);
    }

    const violations: Violation[] = [];
    const runsPerUser = { all: {} as Record<number, number>, live: {} as Record<number, number> };
    const usersByStrategy: Record<string, number> = {};
    for (const outcome of outcomes) {
      const { plan } = outcome;
      const runs = emulator.runs({ account: 'acme', project: plan.project });
      increment(usersByStrategy, plan.strategy);
      increment(runsPerUser.all, runs.length);
      increment(runsPerUser.live, runs.filter((run) => run.trashed !== true).length);
      violations.push(
        ...checkUser(
          { outcome, runs, entries: entriesByUser.get(plan.userId) ?? [], storedRecord: await outcome.store.get(plan.sessionKey) },
          { retries: options.retry.retries, maxDelayMs: options.retry.maxDelayMs, retryAfterSeconds: options.retryAfterSeconds },
        ),
      );
    }

    const byMethod: Record<string, number> = {};
    const faultsInjected: Record<string, number> = {};
    for (const entry of entries) {
      increment(byMethod, entry.method);
      for (const kind of faultKinds(entry)) increment(faultsInjected, kind);
    }
    const calls = { getRun1: { ok: 0, failed: 0 }, step: { ok: 0, failed: 0 }, reset: { ok: 0, failed: 0 }, getRun2: { ok: 0, failed: 0 } };
    const errorsByType: Record<string, number> = {};
    let userRetries = 0;
    for (const outcome of outcomes) {
      for (const press of outcome.presses) {
        if (press.press > 1) userRetries += 1;
        if (press.error) increment(errorsByType, press.error.type);
      }
      for (const call of Object.keys(calls) as CallName[]) {
        const last = outcome.presses.filter((press) => press.call === call).at(-1);
        if (last) calls[call][last.ok ? 'ok' : 'failed'] += 1;
      }
    }

    // The contention phase runs on an emulator of its own, without faults: every failure there has a planted cause.
    const quiet = await startEmulator();
    let contention: ContentionReport;
    try {
      contention = await runContention(quiet, {
        seed: options.seed,
        users: options.contentionUsers,
        concurrency: options.concurrency,
        // No faults here: a timeout must come from a planted hanging collaborator, never from a
        // request slowed by a busy machine, so requests get more room than in the fault phase.
        timeoutMs: Math.max(1_000, 3 * options.timeoutMs),
      });
    } finally {
      await quiet.close();
    }
    violations.push(...contention.violations);

    return {
      options,
      durationMs: Date.now() - started,
      scheduleFingerprint: scheduleFingerprint(faultSettings, options.users),
      appliedFingerprint: appliedFingerprint(injector.applied),
      requests: { total: entries.length, byMethod, aborted: entries.filter((entry) => entry.aborted).length },
      faultsInjected,
      faultsRegistered: { ...injector.registered },
      retries: retryFigures(
        outcomes.flatMap((outcome) => outcome.attempts),
        entries,
        options.retry.retries,
      ),
      userRetries,
      calls,
      errorsByType,
      usersByStrategy,
      runsPerUser,
      unhandledRejections: unhandled,
      contention,
      violations,
      ...(options.includeLog
        ? { log: { entries, outcomes: outcomes.map(({ plan, presses, attempts }) => ({ plan, presses, attempts })) } }
        : {}),
    };
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await emulator.close();
  }
}
