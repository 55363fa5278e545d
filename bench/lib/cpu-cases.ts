/**
 * The getRun cases figure 3 and the profiler run: a strategy, a path (`steady`: the run exists and
 * is found; `first`: nothing exists, so the run is created), and whether one manager is reused or a
 * manager is made per getRun — for the RunManager (`ours`) and for the hand-written baseline, both
 * over the same `createRunApi` client and the same canned in-process transport.
 */
import { assign, createActor, emit, fromPromise, setup } from 'xstate';
import { createMemorySessionStore, RunManager, type Run, type SessionStore } from '../../src/index.js';
import { createRunApi } from '../../src/services/run-api.js';
import { markRun } from '../../src/machines/strategies/shared.js';
import { type StrategyOutput } from '../../src/machines/strategies/types.js';
import { BaselineManager, type BaselineStrategy } from '../baseline/strategies.js';
import { CANNED_BASE_URL, CANNED_RUN, cannedOfetch, type CannedState } from './canned-transport.js';
import { ACCOUNT, MODEL, PROJECT, SESSION_U1 } from './scenarios.js';

export type Impl = 'ours' | 'baseline';
export type CpuPath = 'steady' | 'first';
export type ManagerMode = 'reused' | 'per-getRun';

export interface CpuCase {
  strategy: BaselineStrategy;
  path: CpuPath;
}

/** The strategies × paths of figure 3. */
export const CPU_CASES: readonly CpuCase[] = (['reuse-per-session', 'reuse-across-sessions', 'reuse-by-tracking-key'] as const).flatMap(
  (strategy) => (['steady', 'first'] as const).map((path) => ({ strategy, path })),
);

export const MANAGER_MODES: readonly ManagerMode[] = ['reused', 'per-getRun'];

const SESSION_KEY = `epicenter-scenario-${ACCOUNT}-${PROJECT}-${MODEL}`;
const TRACKING_KEY_SETTINGS = { trackingKey: 'tk1' };

/** A ready-to-time getRun of one case. */
export interface CpuHarness {
  /** One getRun (on the reused manager, or on a new one). */
  getRun(): Promise<Run>;
  /** Untimed work before each getRun (the `first` path of reuse-per-session drops the session record). */
  beforeEach(): Promise<void>;
  /** Makes a manager without calling it (construction cost). */
  construct(): unknown;
}

/**
 * Builds the harness of a case: its store, canned transport and manager(s), warmed by one getRun.
 *
 * @example
 * ```ts
 * const harness = await createHarness('ours', { strategy: 'reuse-per-session', path: 'steady' }, 'reused');
 * await harness.getRun();
 * ```
 */
export async function createHarness(impl: Impl, cpuCase: CpuCase, mode: ManagerMode): Promise<CpuHarness> {
  const state: CannedState = { queriesFindRun: cpuCase.path === 'steady' };
  const store: SessionStore = createMemorySessionStore();
  const $fetch = cannedOfetch(state);
  const strategyOptions = cpuCase.strategy === 'reuse-by-tracking-key' ? { settings: TRACKING_KEY_SETTINGS } : undefined;
  const make = (): { getRun(): Promise<Run> } =>
    impl === 'ours'
      ? new RunManager({
          run: { account: ACCOUNT, project: PROJECT, model: MODEL, baseURL: CANNED_BASE_URL },
          strategy: cpuCase.strategy,
          ...(strategyOptions ? { strategyOptions } : {}),
          session: SESSION_U1,
          sessionStore: store,
          fetch: $fetch,
        })
      : new BaselineManager({
          strategy: cpuCase.strategy,
          api: createRunApi({
            baseURL: CANNED_BASE_URL,
            account: ACCOUNT,
            project: PROJECT,
            token: () => SESSION_U1.auth_token,
            fetch: $fetch,
          }),
          config: { account: ACCOUNT, project: PROJECT, model: MODEL },
          session: SESSION_U1,
          store,
          ...(strategyOptions ? { settings: strategyOptions.settings } : {}),
        });
  const dropsRecord = cpuCase.path === 'first' && cpuCase.strategy === 'reuse-per-session';
  const beforeEach = dropsRecord ? () => store.del(SESSION_KEY) : () => Promise.resolve();
  const reused = mode === 'reused' ? make() : undefined;
  const harness: CpuHarness = {
    getRun: reused ? () => reused.getRun() : () => make().getRun(),
    beforeEach,
    construct: make,
  };
  // Warm: the steady path of reuse-per-session needs the record this first getRun writes.
  await harness.getRun();
  await harness.beforeEach();
  return harness;
}

/**
 * A strategy that makes no request: a statechart whose initial state is final, with the run as
 * output. Run through the RunManager it leaves only the run-manager layer (facade, run-manager
 * machine, session/lock/record actors, spawning a child machine) to measure.
 */
export const noIoStrategyMachine = setup({
  types: { output: {} as StrategyOutput },
}).createMachine({
  id: 'no-io',
  initial: 'ready',
  states: { ready: { type: 'final' } },
  output: () => ({ ok: true, run: markRun(CANNED_RUN, false) }),
});

/**
 * A getRun harness whose strategy does no I/O (the same store, session, lock and record work
 * around it): `ours` through the RunManager with {@link noIoStrategyMachine}, `baseline` through
 * the baseline manager with a step that returns the run.
 *
 * @example
 * ```ts
 * const harness = await createLayerHarness('ours');
 * await harness.getRun();
 * ```
 */
export async function createLayerHarness(impl: Impl): Promise<CpuHarness> {
  const store = createMemorySessionStore();
  const $fetch = cannedOfetch({ queriesFindRun: true });
  const run = markRun(CANNED_RUN, false);
  const manager =
    impl === 'ours'
      ? new RunManager({
          run: { account: ACCOUNT, project: PROJECT, model: MODEL, baseURL: CANNED_BASE_URL },
          strategy: { name: 'no-io', machine: noIoStrategyMachine, requiresAuth: false, cachesRun: true },
          session: SESSION_U1,
          sessionStore: store,
          fetch: $fetch,
        })
      : new BaselineManager({
          strategy: 'reuse-per-session',
          api: createRunApi({
            baseURL: CANNED_BASE_URL,
            account: ACCOUNT,
            project: PROJECT,
            token: () => SESSION_U1.auth_token,
            fetch: $fetch,
          }),
          config: { account: ACCOUNT, project: PROJECT, model: MODEL },
          session: SESSION_U1,
          store,
          resolve: () => Promise.resolve({ ...run }),
        });
  const harness: CpuHarness = { getRun: () => manager.getRun(), beforeEach: () => Promise.resolve(), construct: () => manager };
  await harness.getRun();
  return harness;
}

/**
 * The least any implementation of the strategy contract costs in XState, with none of this
 * library's code: a long-lived parent actor that, per resolution, invokes a strategy machine
 * (a decision state, then one invoked promise actor standing for the request) and hands its run
 * back. `baseline`: the same resolution as a plain async function.
 */
const floorStrategyMachine = setup({
  types: { context: {} as { run: Run | null }, output: {} as StrategyOutput },
  actors: { loadRun: fromPromise<Run>(({ signal }) => Promise.resolve(signal.aborted ? CANNED_RUN : { ...CANNED_RUN })) },
}).createMachine({
  id: 'floor-strategy',
  context: { run: null },
  initial: 'choosing',
  states: {
    choosing: { always: 'loadingRun' },
    loadingRun: {
      invoke: { id: 'loadRun', src: 'loadRun', onDone: { target: 'ready', actions: assign({ run: ({ event }) => event.output }) } },
    },
    ready: { type: 'final' },
  },
  output: ({ context }) => ({ ok: true, run: context.run! }),
});

const floorParentMachine = setup({
  types: { events: {} as { type: 'GET_RUN' }, emitted: {} as { type: 'settled'; run: Run } },
  actors: { strategy: floorStrategyMachine },
}).createMachine({
  id: 'floor-parent',
  initial: 'idle',
  states: {
    idle: { on: { GET_RUN: 'resolving' } },
    resolving: {
      invoke: {
        id: 'strategy',
        src: 'strategy',
        onDone: { target: 'idle', actions: emit(({ event }) => ({ type: 'settled' as const, run: (event.output as { run: Run }).run })) },
      },
    },
  },
});

/**
 * A getRun harness of the contract's bare minimum (see {@link floorStrategyMachine}): `ours` the
 * two XState actors per resolution under a long-lived parent, `baseline` a plain async function.
 */
export async function createFloorHarness(impl: Impl): Promise<CpuHarness> {
  let getRun: () => Promise<Run>;
  if (impl === 'ours') {
    const parent = createActor(floorParentMachine).start();
    let settle: (run: Run) => void = () => undefined;
    parent.on('settled', (event) => settle(event.run));
    getRun = () =>
      new Promise<Run>((resolve) => {
        settle = resolve;
        parent.send({ type: 'GET_RUN' });
      });
  } else {
    const load = (signal: AbortSignal) => Promise.resolve(signal.aborted ? CANNED_RUN : { ...CANNED_RUN });
    getRun = async () => {
      const controller = new AbortController();
      return await load(controller.signal);
    };
  }
  const harness: CpuHarness = { getRun, beforeEach: () => Promise.resolve(), construct: () => undefined };
  await harness.getRun();
  return harness;
}
