/**
 * The soak's contention phase: several managers of one user at once — sharing a session key or not,
 * on two models — stopped at random moments, with session stores and session providers that hang
 * or throw values that cannot be printed, and hostile `__proto__` inputs. No HTTP faults here (the
 * first phase has those): every failure has a cause the phase planted, so each rejection can be
 * checked against its cause.
 *
 * Invariants, per user:
 * - the lock is never held twice (every manager's coordinator is one instrumented process mutex);
 * - every call settles, within a bound of `timeout` per collaborator and request, times the
 *   managers that can queue ahead of it;
 * - every rejection is a `RunManagerError` of a type the planted cause explains (`ABORTED` after
 *   a stop, `INVALID_OPTIONS` for hostile input, `TIMEOUT` for a hanging session provider,
 *   `UNAUTHORIZED` for a throwing one, `RUN_LIMIT_REACHED` under a limit), and hostile input sends
 *   nothing;
 * - runs: never more live runs with the tracking key than `runLimit`, never more runs than one per
 *   session key (reuse-per-session: per key with a working store, plus one per getRun of a manager
 *   whose store is broken), where a create a stopped manager never received may add one each
 *   (the server may still carry out a request the client gave up on);
 * and for the whole phase: no unhandled rejection, and `Object.prototype` untouched.
 */
import { ofetch, type $Fetch } from 'ofetch';
import type { Emulator, RequestLogEntry, Run } from '../../src/emulator/index.js';
import { createDevToken } from '../../src/emulator/index.js';
import { createProcessCoordinator } from '../../src/core.js';
import {
  createMemorySessionStore,
  ERROR_TYPES,
  RunManager,
  RunManagerError,
  type Coordinator,
  type ReleaseLock,
  type RunManagerOptions,
  type SessionStore,
  type UserSession,
} from '../../src/index.js';
import type { Violation } from './checks.js';
import { pick, stream, type Random } from './prng.js';
import { ACCOUNT, ATTEMPT_HEADER, GROUP, MODEL, TRACKING_KEY } from './user.js';

/** Strategies of the contention phase: the ones whose run count a key or a limit bounds. */
export const CONTENTION_STRATEGIES = ['reuse-per-session', 'reuse-across-sessions', 'reuse-by-tracking-key'] as const;
type ContentionStrategy = (typeof CONTENTION_STRATEGIES)[number];

type StoreKind = 'shared' | 'hanging' | 'throwing';
type SessionKind = 'object' | 'provider' | 'hanging' | 'throwing';
type OpKind = 'getRun' | 'hostile-getRun' | 'reset' | 'hostile-reset';

/** One manager of a contention user. */
interface ManagerPlan {
  tag: string;
  sessionKey: 'key-a' | 'key-b';
  model: string;
  store: StoreKind;
  session: SessionKind;
  /** reuse-by-tracking-key: settings from a function that answers with an own `__proto__` key. */
  hostileSettings: boolean;
  startAfterMs: number;
  /** When set, `stop()` is called this long after the manager starts. */
  stopAfterMs?: number;
  ops: OpKind[];
}

/** One contention user. */
export interface ContentionPlan {
  index: number;
  userId: string;
  project: string;
  strategy: ContentionStrategy;
  runLimit?: number;
  managers: ManagerPlan[];
}

/** What one call did. */
interface OpOutcome {
  manager: string;
  tag: string;
  op: OpKind;
  startedAt: number;
  endedAt?: number;
  runId?: string;
  error?: { typed: boolean; type: string; message: string };
}

/** Figures of the phase, for the report. */
export interface ContentionReport {
  users: number;
  /** The managers' timeout: for each request, session provider and store call. */
  timeoutMs: number;
  managers: number;
  calls: number;
  stops: number;
  hostileInputs: number;
  hangingCollaborators: number;
  throwingCollaborators: number;
  /** Warnings the managers printed (a store that failed), counted instead of shown. */
  warnings: number;
  /** Most managers seen holding one lock name at once (must be 1). */
  mostHolders: number;
  lockGrants: number;
  outcomes: Record<string, number>;
  /** Runs created by a stopped manager that never got its answer. */
  stopOrphans: number;
  violations: Violation[];
}

/** Settings of the phase. */
export interface ContentionSettings {
  seed: number;
  users: number;
  concurrency: number;
  timeoutMs: number;
}

const HOSTILE_JSON = '{"files":{"__proto__":{"polluted":"yes"}},"__proto__":{"polluted":"yes"}}';
const HOSTILE_SETTINGS_JSON = `{"trackingKey":"${TRACKING_KEY}","__proto__":{"polluted":"yes"}}`;

/** The plan of contention user `index`: drawn from its own seeded stream. */
export function planContention(seed: number, index: number): ContentionPlan {
  const random = stream(seed, 'contention', index);
  const strategy = pick(random, CONTENTION_STRATEGIES);
  const userId = `c${index}`;
  const count = 3 + Math.floor(random() * 4);
  const managers: ManagerPlan[] = [];
  for (let m = 0; m < count; m += 1) {
    const chance = (p: number) => random() < p;
    const ops: OpKind[] = [];
    const opCount = 1 + Math.floor(random() * 3);
    for (let o = 0; o < opCount; o += 1) {
      const roll = random();
      if (roll < 0.12) ops.push(strategy === 'reuse-by-tracking-key' && chance(0.5) ? 'hostile-reset' : 'hostile-getRun');
      else if (strategy === 'reuse-by-tracking-key' && roll < 0.45) ops.push('reset');
      else ops.push('getRun');
    }
    managers.push({
      tag: `${userId}m${m}`,
      sessionKey: chance(0.6) ? 'key-a' : 'key-b',
      // The run limit counts across models; the other strategies keep one model (another model is another run).
      model: strategy === 'reuse-by-tracking-key' && chance(0.4) ? 'other.py' : MODEL,
      store: pick(random, ['shared', 'shared', 'shared', 'hanging', 'throwing'] as const),
      session: pick(random, ['object', 'object', 'provider', 'provider', 'hanging', 'throwing'] as const),
      hostileSettings: strategy === 'reuse-by-tracking-key' && chance(0.1),
      startAfterMs: Math.floor(random() * 40),
      ...(chance(0.35) ? { stopAfterMs: Math.floor(random() * 400) } : {}),
      ops,
    });
  }
  return {
    index,
    userId,
    project: `contend-${String(index).padStart(4, '0')}`,
    strategy,
    ...(strategy === 'reuse-by-tracking-key' ? { runLimit: 1 + Math.floor(random() * 2) } : {}),
    managers,
  };
}

/** The instrumented lock: one process mutex for the phase, counting holders per name. */
function instrumentedCoordinator(): Coordinator & { mostHolders: number; grants: number; doubleHolds: string[] } {
  const inner = createProcessCoordinator();
  const holders = new Map<string, number>();
  const state = {
    mostHolders: 0,
    grants: 0,
    doubleHolds: [] as string[],
    async acquire(name: string, signal?: AbortSignal): Promise<ReleaseLock> {
      const release = await inner.acquire(name, signal);
      const now = (holders.get(name) ?? 0) + 1;
      holders.set(name, now);
      state.grants += 1;
      state.mostHolders = Math.max(state.mostHolders, now);
      if (now > 1) state.doubleHolds.push(name);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holders.set(name, (holders.get(name) ?? 1) - 1);
        release();
      };
    },
  };
  return state;
}

const never = () => new Promise<never>(() => undefined);

function unprintable(): unknown {
  const value = Object.create(null) as Record<string, unknown>;
  Object.defineProperty(value, 'message', {
    get() {
      throw new Error('no message');
    },
  });
  return value;
}

function storeOf(kind: StoreKind, shared: SessionStore): SessionStore {
  switch (kind) {
    case 'shared':
      return shared;
    case 'hanging':
      return { get: never, set: never, del: never };
    case 'throwing':
      return {
        get: () => {
          throw unprintable();
        },
        set: () => Promise.reject(unprintable()),
        del: async () => undefined,
      };
  }
}

function sessionOf(kind: SessionKind, session: UserSession, think: Random): RunManagerOptions['session'] {
  switch (kind) {
    case 'object':
      return session;
    case 'provider':
      return () => new Promise((resolve) => setTimeout(() => resolve(session), Math.floor(think() * 20)));
    case 'hanging':
      return never;
    case 'throwing':
      return () => {
        throw unprintable();
      };
  }
}

function taggedFetch(current: () => string): $Fetch {
  return ofetch.create({
    onRequest({ options }) {
      const headers = new Headers(options.headers);
      headers.set(ATTEMPT_HEADER, current());
      options.headers = headers;
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one contention user did, filled in as it happens (so a call that never settles shows). */
interface UserRecord {
  outcomes: OpOutcome[];
  stopped: Set<string>;
  constructionRefused: number;
}

/** Time a call may take: `timeout` for each collaborator and request of a resolution, for every manager it may queue behind. */
function settleBound(plan: ContentionPlan, settings: ContentionSettings): number {
  return plan.managers.length * (8 * settings.timeoutMs + 1_000);
}

/** Runs one contention user's managers to the end, recording into `record`; never rejects. */
async function simulate(
  plan: ContentionPlan,
  settings: ContentionSettings,
  emulator: Emulator,
  coordinator: Coordinator,
  record: UserRecord,
): Promise<void> {
  const think = stream(settings.seed, 'contention-think', plan.index);
  const token = createDevToken({ userId: plan.userId });
  const session: UserSession = { userId: plan.userId, groupName: GROUP, auth_token: token };
  const stores = new Map<string, SessionStore>();
  const { outcomes, stopped } = record;

  // A constructor given hostile strategy options refuses them, synchronously, before anything runs.
  try {
    new RunManager({
      run: { account: ACCOUNT, project: plan.project, model: MODEL, baseURL: emulator.baseURL },
      strategy: 'reuse-across-sessions',
      strategyOptions: JSON.parse('{"filter":{"__proto__":{"polluted":"yes"}}}') as Record<string, unknown>,
      session,
      sessionStore: createMemorySessionStore(),
    });
  } catch (error) {
    if (error instanceof RunManagerError && error.type === 'INVALID_OPTIONS') record.constructionRefused += 1;
  }

  await Promise.all(
    plan.managers.map(async (managerPlan) => {
      await sleep(managerPlan.startAfterMs);
      const shared = stores.get(managerPlan.sessionKey) ?? createMemorySessionStore();
      stores.set(managerPlan.sessionKey, shared);
      let currentTag = `${managerPlan.tag}:idle`;
      const settingsOption =
        plan.strategy === 'reuse-by-tracking-key'
          ? {
              strategyOptions: {
                settings: managerPlan.hostileSettings
                  ? () => JSON.parse(HOSTILE_SETTINGS_JSON) as Record<string, unknown>
                  : { trackingKey: TRACKING_KEY, runLimit: plan.runLimit },
              },
            }
          : {};
      let rm: RunManager;
      try {
        rm = new RunManager({
          run: { account: ACCOUNT, project: plan.project, model: managerPlan.model, baseURL: emulator.baseURL },
          strategy: plan.strategy,
          ...settingsOption,
          sessionKey: `${managerPlan.sessionKey}-${plan.userId}`,
          session: sessionOf(managerPlan.session, session, think),
          sessionStore: storeOf(managerPlan.store, shared),
          coordinator,
          timeout: settings.timeoutMs,
          retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 50 },
          fetch: taggedFetch(() => currentTag),
        });
      } catch (error) {
        // Valid options must construct: anything else is recorded against every call the manager had.
        for (const [index, op] of managerPlan.ops.entries()) {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
          outcomes.push({
            manager: managerPlan.tag,
            tag: `${managerPlan.tag}:${index}:${op}`,
            op,
            startedAt: Date.now(),
            endedAt: Date.now(),
            error: { typed: false, type: 'CONSTRUCTOR_THREW', message },
          });
        }
        return;
      }
      if (managerPlan.stopAfterMs !== undefined) {
        setTimeout(() => {
          stopped.add(managerPlan.tag);
          rm.stop();
        }, managerPlan.stopAfterMs);
      }
      for (const [index, op] of managerPlan.ops.entries()) {
        const tag = `${managerPlan.tag}:${index}:${op}`;
        currentTag = tag;
        const outcome: OpOutcome = { manager: managerPlan.tag, tag, op, startedAt: Date.now() };
        outcomes.push(outcome);
        const createOptions = op.startsWith('hostile') ? (JSON.parse(HOSTILE_JSON) as Record<string, unknown>) : { files: { soak: tag } };
        try {
          const run = await (op === 'reset' || op === 'hostile-reset' ? rm.reset(createOptions) : rm.getRun(undefined, createOptions));
          outcome.runId = run.id;
        } catch (error) {
          outcome.error =
            error instanceof RunManagerError
              ? { typed: true, type: error.type, message: error.message }
              : { typed: false, type: 'UNTYPED', message: error instanceof Error ? error.message : typeof error };
        } finally {
          outcome.endedAt = Date.now();
        }
      }
      rm.stop();
    }),
  );
}

/** The error types a manager's planted causes explain. */
function allowedTypes(plan: ContentionPlan, manager: ManagerPlan, op: OpKind, wasStopped: boolean): Set<string> {
  const allowed = new Set<string>();
  if (wasStopped) allowed.add('ABORTED');
  if (op.startsWith('hostile') || manager.hostileSettings) allowed.add('INVALID_OPTIONS');
  if (manager.session === 'hanging') allowed.add('TIMEOUT');
  if (manager.session === 'throwing') allowed.add('UNAUTHORIZED');
  if (plan.runLimit !== undefined) allowed.add('RUN_LIMIT_REACHED');
  return allowed;
}

/** Runs the contention phase on `emulator` (which must inject no faults) and checks it. */
export async function runContention(emulator: Emulator, settings: ContentionSettings): Promise<ContentionReport> {
  const coordinator = instrumentedCoordinator();
  const plans = Array.from({ length: settings.users }, (_, index) => planContention(settings.seed, index));
  // Broken stores make every manager warn; count the warnings instead of printing hundreds.
  let warnings = 0;
  const warn = console.warn;
  console.warn = () => {
    warnings += 1;
  };
  const results = new Map<number, UserRecord>();
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next]!;
      next += 1;
      const record: UserRecord = { outcomes: [], stopped: new Set(), constructionRefused: 0 };
      results.set(plan.index, record);
      // A call that never settles is a finding, not a reason for the soak to hang.
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        simulate(plan, settings, emulator, coordinator, record),
        new Promise<void>((resolve) => (watchdog = setTimeout(resolve, settleBound(plan, settings) + 2_000))),
      ]);
      clearTimeout(watchdog);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, plans.length)) }, worker));
    // Creates a stopped manager gave up on may still be answered (and stores time out): let them land.
    await sleep(settings.timeoutMs + 100);
  } finally {
    console.warn = warn;
  }

  const violations: Violation[] = [];
  const report: ContentionReport = {
    users: plans.length,
    timeoutMs: settings.timeoutMs,
    managers: 0,
    calls: 0,
    stops: 0,
    hostileInputs: 0,
    hangingCollaborators: 0,
    throwingCollaborators: 0,
    warnings,
    mostHolders: coordinator.mostHolders,
    lockGrants: coordinator.grants,
    outcomes: {},
    stopOrphans: 0,
    violations,
  };
  for (const name of new Set(coordinator.doubleHolds)) {
    violations.push({ user: name, strategy: 'lock', check: 'lock held twice', detail: `two managers held ${name} at once` });
  }
  const entries: RequestLogEntry[] = [...emulator.requests];
  for (const plan of plans) {
    const { outcomes, stopped, constructionRefused } = results.get(plan.index)!;
    const violation = (check: string, detail: string) =>
      violations.push({ user: plan.userId, strategy: `contention/${plan.strategy}`, check, detail });
    report.managers += plan.managers.length;
    report.calls += outcomes.length;
    report.stops += stopped.size;
    report.hostileInputs +=
      1 + outcomes.filter((outcome) => outcome.op.startsWith('hostile')).length + plan.managers.filter((m) => m.hostileSettings).length;
    report.hangingCollaborators +=
      plan.managers.filter((m) => m.store === 'hanging').length + plan.managers.filter((m) => m.session === 'hanging').length;
    report.throwingCollaborators +=
      plan.managers.filter((m) => m.store === 'throwing').length + plan.managers.filter((m) => m.session === 'throwing').length;
    if (constructionRefused !== 1)
      violation('hostile options refused', 'a constructor accepted strategyOptions.filter with an own __proto__ key');

    const bound = settleBound(plan, settings);
    const byManager = new Map(plan.managers.map((manager) => [manager.tag, manager]));
    for (const outcome of outcomes) {
      const manager = byManager.get(outcome.manager)!;
      const label = outcome.error ? outcome.error.type : 'ok';
      report.outcomes[label] = (report.outcomes[label] ?? 0) + 1;
      if (outcome.endedAt === undefined) {
        violation('settles', `${outcome.tag} never settled`);
        continue;
      }
      if (outcome.endedAt - outcome.startedAt > bound)
        violation('settles in time', `${outcome.tag} took ${outcome.endedAt - outcome.startedAt} ms (bound ${bound} ms)`);
      if (outcome.error) {
        if (!outcome.error.typed || !(ERROR_TYPES as readonly string[]).includes(outcome.error.type)) {
          violation('typed rejection', `${outcome.tag} rejected with ${outcome.error.type}: ${outcome.error.message}`);
        } else if (!allowedTypes(plan, manager, outcome.op, stopped.has(manager.tag)).has(outcome.error.type)) {
          violation('rejection has a cause', `${outcome.tag} rejected ${outcome.error.type}: ${outcome.error.message}`);
        }
      } else if (outcome.op.startsWith('hostile') && !stopped.has(manager.tag)) {
        violation('hostile input refused', `${outcome.tag} resolved a call with a __proto__ key`);
      }
      if (outcome.op.startsWith('hostile') && entries.some((entry) => entry.headers[ATTEMPT_HEADER] === outcome.tag)) {
        violation('hostile input sends nothing', `${outcome.tag} sent a request`);
      }
    }

    const runs: Run[] = emulator.runs({ account: ACCOUNT, project: plan.project });
    // A run the server made for a manager that was stopped before it heard back. The stopped manager
    // keeps its locks while such a create may still land, so a strategy that looks before it creates
    // (reuse-across-sessions, reuse-by-tracking-key) finds or counts it: no allowance for those.
    // reuse-per-session never looks, so its next call creates again.
    const received = new Set(outcomes.flatMap((outcome) => (outcome.runId ? [`${outcome.manager} ${outcome.runId}`] : [])));
    const managerOf = (run: Run) => String((run.files as { soak?: unknown } | undefined)?.soak ?? '').split(':')[0]!;
    const orphans = runs.filter((run) => stopped.has(managerOf(run)) && !received.has(`${managerOf(run)} ${run.id}`)).length;
    report.stopOrphans += orphans;
    // Enough to replay a broken count by hand: who made each run, and what every call got.
    const evidence = () =>
      ` — runs: ${runs.map((run) => `${run.id.slice(-6)} by ${String((run.files as { soak?: unknown } | undefined)?.soak)}${run.trashed ? ' (trashed)' : ''}`).join(', ')}` +
      `; stopped: ${[...stopped].join(', ') || 'none'}; calls: ${outcomes.map((o) => `${o.tag}=${o.error ? o.error.type : (o.runId ?? '').slice(-6)}`).join(', ')}`;
    if (plan.strategy === 'reuse-by-tracking-key') {
      const live = runs.filter((run) => run.trashed !== true && run.scope?.trackingKey === TRACKING_KEY).length;
      if (live > plan.runLimit!)
        violation(
          'run limit',
          `${live} live runs with the tracking key, limit ${plan.runLimit} (${orphans} a stopped manager never received)${evidence()}`,
        );
      continue;
    }
    const keys = new Set(plan.managers.map((manager) => manager.sessionKey));
    let allowed = keys.size;
    if (plan.strategy === 'reuse-per-session') {
      // Without a working store a session has nothing to reuse: each of its getRun calls may create.
      const working = new Set(plan.managers.filter((manager) => manager.store === 'shared').map((manager) => manager.sessionKey));
      const blind = outcomes.filter((outcome) => outcome.op === 'getRun' && byManager.get(outcome.manager)!.store !== 'shared').length;
      allowed = working.size + blind + orphans;
    }
    if (runs.length > allowed)
      violation(
        'one run per session key',
        `${runs.length} runs for ${keys.size} session key(s), at most ${allowed} (${orphans} a stopped manager never received)${evidence()}`,
      );
  }
  if (Object.keys(Object.prototype).length > 0 || ({} as { polluted?: unknown }).polluted !== undefined) {
    violations.push({
      user: '-',
      strategy: 'contention',
      check: 'prototype untouched',
      detail: `Object.prototype gained ${Object.keys(Object.prototype).join(', ')}`,
    });
  }
  return report;
}
