/**
 * The strategies and paths that figures 1 and 2 measure, with the original Epicenter.js library's
 * request count for each path (its optional requests resolved for the situation measured here) and
 * the floor: the fewest requests the path can be done in over this API (reasoned out in
 * bench/README.md).
 *
 * A scenario runner prepares each path on a Run API emulator — nothing on the server and no session
 * record for `first`, an existing usable run for `steady` and `reset` — and hands back the action to
 * measure.
 */
import { createDevToken, type Emulator } from '../../src/emulator/index.js';
import {
  createMemorySessionStore,
  RunManager,
  RunManagerError,
  type Run,
  type RunManagerOptions,
  type SessionStore,
  type UserSession,
} from '../../src/index.js';

export const ACCOUNT = 'acme';
export const PROJECT = 'sim';
export const MODEL = 'model.py';
/** The variable every `+vars` path asks for (the emulator is started with `{ price: 10 }`). */
export const VARIABLES = ['price'];
export const EMULATOR_VARIABLES = { price: 10 };

export const TOKEN_U1 = createDevToken({ userId: 'u1', userName: 'alice' });
export const SESSION_U1: UserSession = { userId: 'u1', groupName: 'g1', auth_token: TOKEN_U1 };

/** Which Epicenter API generation a runner speaks (the emulator serves both over one store). */
export type ApiVersion = 2 | 3;
/** The v3 key of group g1 (v3 scopes runs by `GROUP/{groupKey}`). */
export const GROUP_KEY = 'key-g1';
/** User u1 on v3: `userId` is the user's key, the token names the group and its key. */
export const TOKEN_U1_V3 = createDevToken({ userId: 'u1', userName: 'alice', groupName: 'g1', groupKey: GROUP_KEY });
export const SESSION_U1_V3: UserSession = { userId: 'u1', groupName: 'g1', groupKey: GROUP_KEY, auth_token: TOKEN_U1_V3 };

/** The world user u1 plays in (multiplayer strategies). */
export const WORLD = {
  id: 'w1',
  account: ACCOUNT,
  project: PROJECT,
  group: 'g1',
  name: 'world 1',
  users: [{ userId: 'u1', userName: 'alice' }],
};
/** The run use-specific-run is pointed at. */
export const SPECIFIC_RUN_ID = 'bench-specific-run';
const SPECIFIC_RUN = {
  id: SPECIFIC_RUN_ID,
  account: ACCOUNT,
  project: PROJECT,
  model: MODEL,
  user: { id: 'u1', userName: 'alice' },
  scope: { group: 'g1' },
};

/** The init operations of reuse-last-initialized (N = 2 operation POSTs). */
export const INIT_OPERATION = ['init', { step: [10] }];
const N = 2;
/** A run limit high enough for every sample of figure 2 (creation is never refused). */
export const RUN_LIMIT = 1000;

export type PathId = 'first' | 'first+vars' | 'steady' | 'steady+vars' | 'reset';
export const PATHS: readonly PathId[] = ['first', 'first+vars', 'steady', 'steady+vars', 'reset'];

/** The original's count and the floor for one path. */
export interface PathExpectation {
  /** Requests the original sends on this path in the situation measured (its optional requests resolved). */
  original: number;
  /** How to print it when that differs, optional requests in brackets, e.g. `'3 [+PATCH]'`. */
  originalText?: string;
  /** The fewest requests this path can be done in over this API. */
  floor: number;
}

export interface Scenario {
  /** Row label (strategy name, plus the option that matters). */
  label: string;
  strategy: string;
  strategyOptions?: Record<string, unknown>;
  /** Seed the world of user u1 (multiplayer strategies). */
  world?: boolean;
  expect: Record<PathId, PathExpectation>;
  /** Where the original's count comes from when the original's count table has no row for it. */
  source?: string;
  /** The floor on Epicenter v3 where it differs from the v2 `floor` (reasoning in bench/README.md, "Figure 1 on Epicenter v3"). */
  v3Floor?: Partial<Record<PathId, number>>;
  /** The strategy of the official v3 client (epicenter-libs `getWithStrategy`) that does the same; absent: it has none. */
  officialV3?: 'reuse-never' | 'reuse-across-sessions';
}

/** The fewest requests `path` can be done in over Epicenter v3. */
export function v3FloorOf(scenario: Scenario, path: PathId): number {
  return scenario.v3Floor?.[path] ?? scenario.expect[path].floor;
}

function e(original: number, floor: number, originalText?: string): PathExpectation {
  return originalText === undefined ? { original, floor } : { original, floor, originalText };
}

/**
 * Every strategy of the original Epicenter.js library, with run-limited variants of the two
 * tracking-key strategies. `+vars` paths: the original adds one `GET …/variables/?include=` after
 * any getRun that returns a run with an id; none returns no run, so no request.
 */
export const SCENARIOS: readonly Scenario[] = [
  {
    label: 'reuse-never',
    strategy: 'reuse-never',
    officialV3: 'reuse-never',
    expect: {
      first: e(1, 1),
      'first+vars': e(2, 2),
      steady: e(1, 1, '1 [+GET cookie run]'),
      'steady+vars': e(2, 2, '2 [+GET cookie run]'),
      reset: e(1, 1),
    },
  },
  {
    label: 'reuse-per-session',
    strategy: 'reuse-per-session',
    expect: { first: e(1, 1), 'first+vars': e(2, 2), steady: e(1, 1), 'steady+vars': e(2, 1), reset: e(1, 1) },
    // A v3 load (`GET run/{runKey}`) takes no `include`: the values need `POST run/variable/{runKey}`.
    v3Floor: { 'steady+vars': 2 },
  },
  {
    label: 'reuse-across-sessions',
    strategy: 'reuse-across-sessions',
    officialV3: 'reuse-across-sessions',
    expect: { first: e(2, 2), 'first+vars': e(3, 3), steady: e(1, 1), 'steady+vars': e(2, 1), reset: e(1, 1) },
  },
  {
    label: `reuse-last-initialized (${N} init ops)`,
    strategy: 'reuse-last-initialized',
    strategyOptions: { initOperation: INIT_OPERATION },
    expect: {
      first: e(3 + N, 3 + N),
      'first+vars': e(4 + N, 4 + N),
      steady: e(1, 1),
      'steady+vars': e(2, 1),
      reset: e(2 + N, 2 + N),
    },
  },
  {
    label: 'reuse-by-tracking-key',
    strategy: 'reuse-by-tracking-key',
    strategyOptions: { settings: { trackingKey: 'tk1' } },
    expect: { first: e(2, 2), 'first+vars': e(3, 3), steady: e(1, 1), 'steady+vars': e(2, 1), reset: e(1, 1) },
  },
  {
    label: 'reuse-by-tracking-key (runLimit)',
    strategy: 'reuse-by-tracking-key',
    strategyOptions: { settings: { trackingKey: 'tk1', runLimit: RUN_LIMIT } },
    expect: {
      // The original does not check the limit on getRun; this library reads the total of the query it sends anyway.
      first: e(2, 2),
      'first+vars': e(3, 3),
      steady: e(1, 1),
      'steady+vars': e(2, 1),
      reset: e(2, 2, '2 (limited: +GET query)'),
    },
  },
  {
    label: 'multiplayer',
    strategy: 'multiplayer',
    world: true,
    expect: {
      // steady: the world list names the world's run, so it is loaded straight away (no world-run POST).
      first: e(3, 3),
      'first+vars': e(4, 3),
      steady: e(3, 2),
      'steady+vars': e(4, 2),
      reset: e(4, 4),
    },
    // v3: the world-run POST answers the whole run (no load after it), but carries no variables.
    v3Floor: { first: 2, 'steady+vars': 3, reset: 3 },
  },
  {
    label: 'mp + tracking key',
    strategy: 'reuse-by-tracking-key-multiplayer',
    strategyOptions: { settings: { trackingKey: 'tkm' } },
    world: true,
    expect: {
      // [+PATCH scope.trackingKey] only when the server ignores the key in the world-run body; the emulator keeps it.
      first: e(3, 3, '3 [+PATCH]'),
      'first+vars': e(4, 3, '4 [+PATCH]'),
      steady: e(3, 2),
      'steady+vars': e(4, 2),
      reset: e(4, 4, '4 [+PATCH]'),
    },
    v3Floor: { first: 2, 'steady+vars': 3, reset: 3 },
  },
  {
    label: 'mp + tracking key (runLimit)',
    strategy: 'reuse-by-tracking-key-multiplayer',
    strategyOptions: { settings: { trackingKey: 'tkm', runLimit: RUN_LIMIT } },
    world: true,
    expect: {
      // The original never checks the limit on getRun: enforcing it costs the count query.
      first: e(3, 4, '3 [+PATCH], no limit check'),
      'first+vars': e(4, 4, '4 [+PATCH], no limit check'),
      steady: e(3, 2),
      'steady+vars': e(4, 2),
      reset: e(6, 5, '6 (limited: +GET worlds, GET query) [+PATCH]'),
    },
    v3Floor: { first: 3, 'steady+vars': 3, reset: 4 },
  },
  {
    label: 'use-specific-run',
    strategy: 'use-specific-run',
    strategyOptions: { runId: SPECIFIC_RUN_ID },
    expect: { first: e(1, 1), 'first+vars': e(2, 1), steady: e(1, 1), 'steady+vars': e(2, 1), reset: e(0, 0, 'throws') },
    v3Floor: { 'first+vars': 2, 'steady+vars': 2 },
  },
  {
    label: 'none',
    strategy: 'none',
    expect: { first: e(0, 0, '–'), 'first+vars': e(0, 0, '–'), steady: e(0, 0, '–'), 'steady+vars': e(0, 0, '–'), reset: e(0, 0, '–') },
  },
  {
    label: 'conditional-creation (run.trashed)',
    strategy: 'conditional-creation',
    strategyOptions: { condition: (run: Run) => run.trashed === true },
    source: "not in the original's count table; counted from what it does: load the cached run, create when the condition holds",
    expect: { first: e(1, 1), 'first+vars': e(2, 2), steady: e(1, 1), 'steady+vars': e(2, 1), reset: e(1, 1) },
    v3Floor: { 'steady+vars': 2 },
  },
];

/** The outcome of one measured action. */
export interface ActionOutcome {
  /** `ok`, or the `RunManagerError` type it rejected with. */
  outcome: string;
  run: Run | undefined;
}

/**
 * Prepares paths of a scenario on an emulator (programmatic seeding and reset, no requests) and
 * returns the action to measure. `steady` and `reset` start from a first getRun on another manager
 * with the same session store — the next page load of the same user.
 */
export class ScenarioRunner {
  /** `apiVersion` 3: the managers use `run.apiVersion: 3` on the emulator's `/api/v3/` routes, as user u1 with a v3 session. */
  constructor(
    private readonly emulator: Emulator,
    private readonly apiVersion: ApiVersion = 2,
  ) {}

  /** An empty emulator (plus the world or the specific run the scenario needs) and a fresh session store. */
  fresh(scenario: Scenario): SessionStore {
    this.emulator.reset();
    this.emulator.seed({
      worlds: scenario.world ? [structuredClone(WORLD)] : [],
      runs: scenario.strategy === 'use-specific-run' ? [structuredClone(SPECIFIC_RUN)] : [],
    });
    return createMemorySessionStore();
  }

  /** A manager of user u1 for the scenario, on this store; retries off so every request is counted once. */
  manager(scenario: Scenario, store: SessionStore, extra: Partial<RunManagerOptions> = {}): RunManager {
    const v3 = this.apiVersion === 3;
    return new RunManager({
      run: v3
        ? { account: ACCOUNT, project: PROJECT, model: MODEL, apiVersion: 3, baseURL: this.emulator.v3BaseURL }
        : { account: ACCOUNT, project: PROJECT, model: MODEL, baseURL: this.emulator.baseURL },
      strategy: scenario.strategy,
      ...(scenario.strategyOptions ? { strategyOptions: scenario.strategyOptions } : {}),
      session: v3 ? SESSION_U1_V3 : SESSION_U1,
      sessionStore: store,
      retry: { retries: 0 },
      ...extra,
    });
  }

  /** Puts the emulator in the state a `steady` or `reset` path starts from; returns the store. */
  async existing(scenario: Scenario): Promise<SessionStore> {
    const store = this.fresh(scenario);
    const manager = this.manager(scenario, store);
    await settle(manager.getRun());
    manager.stop();
    return store;
  }

  /** The measured action of `path` on a new manager over `store`. */
  action(scenario: Scenario, path: PathId, store: SessionStore): () => Promise<ActionOutcome> {
    const manager = this.manager(scenario, store);
    const call = path === 'reset' ? () => manager.reset() : () => manager.getRun(path.endsWith('+vars') ? VARIABLES : undefined);
    return async () => {
      const result = await settle(call());
      manager.stop();
      return result;
    };
  }

  /** Prepares `path` from scratch (fresh or existing state) and returns its action. */
  async prepare(scenario: Scenario, path: PathId): Promise<() => Promise<ActionOutcome>> {
    const store = path.startsWith('first') ? this.fresh(scenario) : await this.existing(scenario);
    return this.action(scenario, path, store);
  }
}

/** Waits for a getRun/reset and reports how it ended (a rejection is an outcome, not a failure of the bench). */
export async function settle(promise: Promise<unknown>): Promise<ActionOutcome> {
  try {
    const value = await promise;
    const run = value !== null && typeof value === 'object' && typeof (value as Run).id === 'string' ? (value as Run) : undefined;
    return { outcome: 'ok', run };
  } catch (error) {
    if (error instanceof RunManagerError) return { outcome: error.type, run: undefined };
    throw error;
  }
}

/** The outcome a path should have: every path resolves except use-specific-run's reset. */
export function expectedOutcome(scenario: Scenario, path: PathId): string {
  return scenario.strategy === 'use-specific-run' && path === 'reset' ? 'RESET_NOT_SUPPORTED' : 'ok';
}
