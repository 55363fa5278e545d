/**
 * The soak's invariants, checked per user against the emulator's final state and request log.
 *
 * What a user is allowed to end with (live = untrashed runs in the user's project; P(call) = the
 * presses of a call; lost(call) = its failed presses whose answer was lost, i.e. NETWORK_ERROR,
 * TIMEOUT or INVALID_RESPONSE; "earlier success" = getRun1 or reset succeeded before getRun2):
 *
 * | strategy | getRun1 | reset | getRun2 |
 * |---|---|---|---|
 * | reuse-never | P | P | P |
 * | reuse-per-session | 1 + lost | P | 0 after an earlier success, else 1 + lost |
 * | reuse-across-sessions, reuse-by-tracking-key | 1 | P | 0 after an earlier success, else 1 |
 * | reuse-last-initialized | 1 | P | 0 after an earlier success, else 1 (+ runs it reported it could not trash) |
 * | multiplayer | 1 | P | 1 (a reset that failed after its DELETE leaves the world without a run) |
 *
 * and, for reuse-by-tracking-key, never more live runs with the tracking key than `runLimit`.
 * Query-based strategies (across-sessions, tracking-key, last-initialized) and multiplayer may
 * create at most one live run per getRun *call*, whatever happens to its presses: a lost create
 * must be found again, by the failing press or the next one. reuse-per-session cannot look before
 * creating, so each lost create of a getRun may leave one orphan; a reset always makes a new run,
 * so each reset press may. No press ever creates more than one run or sends more than one create.
 */
import type { RequestLogEntry } from '../../src/emulator/index.js';
import { ERROR_TYPES, type Run } from '../../src/index.js';
import { parseSessionRecord } from '../../src/services/session-store.js';
import { classify } from './faults.js';
import { ATTEMPT_HEADER, MODEL, TRACKING_KEY, type CallName, type ClientAttempt, type Press, type UserOutcome } from './user.js';

/** Settings the checks need. */
export interface CheckSettings {
  retries: number;
  maxDelayMs: number;
  retryAfterSeconds: number;
}

/** One broken invariant. */
export interface Violation {
  user: string;
  strategy: string;
  check: string;
  detail: string;
}

/** Everything known about one user after the soak. */
export interface UserFacts {
  outcome: UserOutcome;
  /** The runs in the user's project, from the emulator. */
  runs: Run[];
  /** The log entries the user's presses sent (by the attempt header). */
  entries: RequestLogEntry[];
  /** What the user's session store holds under its key. */
  storedRecord: unknown;
}

/** Figures of GET retries, for the report. */
export interface RetryFigures {
  /** GET repeats in the server's log: per press and path, the GETs after the first. */
  logRepeats: number;
  /** GET attempts after the first, per press and path, as the client made them (retries, and a strategy looking again). */
  clientRetries: number;
  /** GETs (per press and path) that failed retryably at least once and still succeeded. */
  fixedByRetry: number;
  /** GETs (per press and path) whose last `retries + 1` attempts all failed. */
  exhausted: number;
  /** Retries after a 429, each checked to have waited for Retry-After. */
  retryAfterChecked: number;
}

const LOST_ANSWER = new Set(['NETWORK_ERROR', 'TIMEOUT', 'INVALID_RESPONSE']);
const QUERY_BASED = new Set(['reuse-across-sessions', 'reuse-by-tracking-key', 'reuse-last-initialized']);

/** True for an attempt the client retries when it is a GET: 408/429/5xx, or no answer at all (dropped socket, timeout). */
export function retryableFailure(attempt: ClientAttempt): boolean {
  if (attempt.ok) return false;
  if (attempt.status === undefined) return true;
  return attempt.status === 408 || attempt.status === 429 || attempt.status >= 500;
}

function tagOf(entry: RequestLogEntry): string | undefined {
  return entry.headers[ATTEMPT_HEADER];
}

/**
 * The client's GET attempts per press and path, in order. One series may hold several logical
 * requests (a strategy that looks again sends the same query again), so checks on a series only
 * use what concatenation cannot hide: its trailing run of failed attempts.
 */
export function getSeries(attempts: readonly ClientAttempt[]): ClientAttempt[][] {
  const byKey = new Map<string, ClientAttempt[]>();
  for (const attempt of attempts) {
    if (attempt.method !== 'GET') continue;
    const key = `${attempt.tag} ${attempt.path}`;
    const series = byKey.get(key) ?? [];
    series.push(attempt);
    byKey.set(key, series);
  }
  return [...byKey.values()];
}

/** How many attempts at the end of a series failed retryably, in a row. */
export function trailingFailures(series: readonly ClientAttempt[]): number {
  let count = 0;
  for (let index = series.length - 1; index >= 0 && retryableFailure(series[index]!); index -= 1) count += 1;
  return count;
}

function isRetryableError(error: NonNullable<Press['error']>): boolean {
  if (error.type === 'TIMEOUT' || error.type === 'NETWORK_ERROR') return true;
  return error.type === 'HTTP_ERROR' && error.status !== undefined && (error.status === 408 || error.status === 429 || error.status >= 500);
}

/** Runs the library said it could not trash after a failed initialisation (`INIT_FAILED … trashing the run also failed`). */
function reportedOrphans(presses: Press[]): Set<string> {
  const ids = new Set<string>();
  for (const press of presses) {
    const message = press.error?.message ?? '';
    if (press.error?.type !== 'INIT_FAILED' || !message.includes('trashing the run also failed')) continue;
    const match = / on run (\S+?): /.exec(message);
    if (match?.[1]) ids.add(match[1]);
  }
  return ids;
}

/**
 * The live runs a user may have at the end (the table at the top of this file).
 *
 * @example
 * ```ts
 * allowedRuns(outcome, new Set()); // e.g. 3 for reuse-per-session with one reset press
 * ```
 */
export function allowedRuns(outcome: UserOutcome, orphans: Set<string>): number {
  const presses = (call: CallName) => outcome.presses.filter((press) => press.call === call);
  const count = (call: CallName) => presses(call).length;
  const lost = (call: CallName) => presses(call).filter((press) => !press.ok && LOST_ANSWER.has(press.error?.type ?? '')).length;
  const earlierSuccess = [...presses('getRun1'), ...presses('reset')].some((press) => press.ok);
  switch (outcome.plan.strategy) {
    case 'reuse-never':
      return count('getRun1') + count('reset') + count('getRun2');
    case 'reuse-per-session':
      return 1 + lost('getRun1') + count('reset') + (earlierSuccess ? 0 : 1 + lost('getRun2'));
    case 'reuse-across-sessions':
    case 'reuse-by-tracking-key':
      return 1 + count('reset') + (earlierSuccess ? 0 : 1);
    case 'reuse-last-initialized':
      return 1 + count('reset') + (earlierSuccess ? 0 : 1) + orphans.size;
    case 'multiplayer':
      return 1 + count('reset') + 1;
  }
}

/**
 * Checks one user; returns the broken invariants (none when all is well).
 *
 * @example
 * ```ts
 * const violations = checkUser(facts, { retries: 2, maxDelayMs: 200, retryAfterSeconds: 1 });
 * ```
 */
export function checkUser(facts: UserFacts, settings: CheckSettings): Violation[] {
  const { outcome, runs, entries } = facts;
  const { plan, presses } = outcome;
  const violations: Violation[] = [];
  const fail = (check: string, detail: string) => violations.push({ user: plan.userId, strategy: plan.strategy, check, detail });
  const createdBy = (tag: string) => runs.filter((run) => (run.files as { soak?: unknown } | null | undefined)?.soak === tag);
  const live = (list: Run[]) => list.filter((run) => run.trashed !== true);
  const orphans = reportedOrphans(presses);

  // Every rejection is a typed RunManagerError.
  for (const press of presses) {
    if (press.error && (!press.error.typed || !(ERROR_TYPES as readonly string[]).includes(press.error.type))) {
      fail('typed-errors', `${press.tag} rejected with ${press.error.type}: ${press.error.message}`);
    }
  }

  // No press creates more than one run or sends more than one create.
  for (const press of presses) {
    const created = createdBy(press.tag);
    if (created.length > 1) fail('one-run-per-press', `${press.tag} created ${created.length} runs`);
    const creates = entries.filter(
      (entry) =>
        tagOf(entry) === press.tag && entry.method === 'POST' && ['create', 'world-run'].includes(classify(entry.method, entry.path)),
    );
    if (creates.length > 1) fail('one-create-per-press', `${press.tag} sent ${creates.length} create requests`);
    // A press that made a run and still failed lost the answer (or, multiplayer, failed after the world got its run).
    if (!press.ok && created.length > 0) {
      const type = press.error?.type ?? '';
      const explained =
        LOST_ANSWER.has(type) || plan.strategy === 'multiplayer' || (plan.strategy === 'reuse-last-initialized' && type === 'INIT_FAILED');
      if (!explained) fail('failed-press-made-run', `${press.tag} failed with ${type} although it created ${created[0]!.id}`);
    }
    // A failed initialisation trashes the run it made (the original left it), unless trashing failed too and the error says so.
    if (press.error?.type === 'INIT_FAILED' && press.error.message.includes('the run was trashed')) {
      const match = / on run (\S+?): /.exec(press.error.message);
      const run = runs.find((candidate) => candidate.id === match?.[1]);
      if (!run || run.trashed !== true) fail('init-failed-trashes', `${press.tag} said the run was trashed, but ${match?.[1]} is not`);
    }
  }

  // Only reuse-last-initialized trashes runs.
  if (plan.strategy !== 'reuse-last-initialized') {
    const trashed = runs.filter((run) => run.trashed === true);
    if (trashed.length > 0) fail('nothing-trashed', `${trashed.length} runs trashed by ${plan.strategy}`);
  }

  // A getRun call (all its presses) leaves at most one new live run, and returns it when it succeeds.
  for (const call of ['getRun1', 'getRun2'] as const) {
    const callPresses = presses.filter((press) => press.call === call);
    const created = live(callPresses.flatMap((press) => createdBy(press.tag))).filter((run) => !orphans.has(run.id));
    if (QUERY_BASED.has(plan.strategy) || plan.strategy === 'multiplayer') {
      if (created.length > 1)
        fail('getRun-leaves-one-run', `${call} left ${created.length} new live runs: ${created.map((run) => run.id).join(', ')}`);
      const success = callPresses.find((press) => press.ok);
      if (success && created.length === 1 && success.runId !== created[0]!.id) {
        fail('getRun-leaves-one-run', `${call} created ${created[0]!.id} but returned ${success.runId}`);
      }
    }
  }

  // getRun2 after an earlier success creates nothing (a cached or queried run is reused).
  const earlierSuccess = presses.some((press) => (press.call === 'getRun1' || press.call === 'reset') && press.ok);
  if (earlierSuccess && plan.strategy !== 'reuse-never' && plan.strategy !== 'multiplayer') {
    const created = presses.filter((press) => press.call === 'getRun2').flatMap((press) => createdBy(press.tag));
    if (created.length > 0)
      fail('no-silent-new-run', `getRun2 created ${created.map((run) => run.id).join(', ')} although the user had a run`);
  }

  // Run count within what the strategy allows; run limit never exceeded.
  const allowed = allowedRuns(outcome, orphans);
  const liveRuns = live(runs);
  if (liveRuns.length > allowed) fail('allowed-runs', `${liveRuns.length} live runs, ${plan.strategy} allows ${allowed}`);
  if (plan.strategy === 'reuse-by-tracking-key' && plan.runLimit !== undefined) {
    const keyed = liveRuns.filter((run) => run.scope?.trackingKey === TRACKING_KEY);
    if (keyed.length > plan.runLimit)
      fail('run-limit', `${keyed.length} live runs with tracking key ${TRACKING_KEY}, runLimit ${plan.runLimit}`);
  }

  // The session store points at a live run after a successful last call; reuse-never stores nothing.
  const last = presses.filter((press) => press.call === 'getRun2').at(-1);
  if (plan.strategy === 'reuse-never') {
    if (outcome.store.size !== 0) fail('store', `reuse-never stored ${outcome.store.size} records`);
  } else if (last?.ok) {
    const record = parseSessionRecord(facts.storedRecord, { userId: plan.userId, model: MODEL });
    const run = runs.find((candidate) => candidate.id === record?.runId);
    if (!record) fail('store', `no valid session record after a successful getRun (${JSON.stringify(facts.storedRecord)})`);
    else if (record.runId !== last.runId) fail('store', `record points at ${record.runId}, the last getRun returned ${last.runId}`);
    else if (!run || run.trashed === true) fail('store', `record points at ${record.runId}, which is ${run ? 'trashed' : 'missing'}`);
  }

  // After a successful reset, the next successful getRun returns the reset run, not the one it replaced.
  const reset = presses.filter((press) => press.call === 'reset').at(-1);
  if (plan.strategy !== 'reuse-never' && reset?.ok && last?.ok && last.runId !== reset.runId) {
    fail('reset-run-kept', `reset made ${reset.runId}, the next getRun returned ${last.runId}`);
  }

  // GET failures surface only after every retry failed, and the client never gives up on a GET
  // early: whenever the last attempts of a press at a path failed, at least `retries + 1` of them
  // did, in a row (judged on the attempts as the client saw them).
  const tries = settings.retries + 1;
  const gets = getSeries(outcome.attempts);
  for (const press of presses) {
    const error = press.error;
    if (!error || !error.message.startsWith('GET ') || !isRetryableError(error)) continue;
    const path = `/v2/${error.message.slice(4, error.message.indexOf(' ', 4))}`;
    const series = gets.find((candidate) => candidate[0]!.tag === press.tag && candidate[0]!.path === path) ?? [];
    const failed = trailingFailures(series);
    if (failed < tries || !error.message.includes(`(${tries} attempts)`)) {
      fail(
        'get-retried',
        `${press.tag}: ${error.type} surfaced after ${failed} failed attempts (retries: ${settings.retries}): ${error.message}`,
      );
    }
  }
  for (const series of gets) {
    const failed = trailingFailures(series);
    if (failed > 0 && failed < tries) {
      const lastTry = series[series.length - 1]!;
      fail('get-retried', `${lastTry.tag}: GET ${lastTry.path} given up after ${failed} failed attempts (retries: ${settings.retries})`);
    }
  }

  // A 429's Retry-After is honoured (up to maxDelayMs) before the retry.
  // (A series may join two logical requests; a strategy's own wait before looking again is longer.)
  const wait = Math.min(settings.retryAfterSeconds * 1000, settings.maxDelayMs);
  for (const series of gets) {
    for (let index = 0; index + 1 < series.length; index += 1) {
      const answered = series[index]!;
      if (answered.status !== 429) continue;
      const gap = series[index + 1]!.startedAt - answered.endedAt;
      if (gap < wait - 2)
        fail(
          'retry-after',
          `${answered.tag}: retried ${gap.toFixed(1)} ms after a 429 with Retry-After ${settings.retryAfterSeconds} s (expected ≥ ${wait} ms)`,
        );
    }
  }

  return violations;
}

/**
 * GET retry figures: from the client's attempts, and GET repeats in the server's log.
 *
 * @example
 * ```ts
 * retryFigures(outcomes.flatMap((outcome) => outcome.attempts), emulator.requests, 2);
 * ```
 */
export function retryFigures(attempts: readonly ClientAttempt[], entries: readonly RequestLogEntry[], retries: number): RetryFigures {
  const figures: RetryFigures = { logRepeats: 0, clientRetries: 0, fixedByRetry: 0, exhausted: 0, retryAfterChecked: 0 };
  for (const series of getSeries(attempts)) {
    figures.clientRetries += series.length - 1;
    const lastTry = series[series.length - 1]!;
    if (series.some(retryableFailure) && !retryableFailure(lastTry)) figures.fixedByRetry += 1;
    if (trailingFailures(series) >= retries + 1) figures.exhausted += 1;
    figures.retryAfterChecked += series.slice(0, -1).filter((attempt) => attempt.status === 429).length;
  }
  const perPath = new Map<string, number>();
  for (const entry of entries) {
    const tag = tagOf(entry);
    if (entry.method !== 'GET' || tag === undefined) continue;
    const key = `${tag} ${entry.path}`;
    perPath.set(key, (perPath.get(key) ?? 0) + 1);
  }
  for (const count of perPath.values()) figures.logRepeats += count - 1;
  return figures;
}
