/**
 * `run-lifecycle/testing`: model-based path tests for statecharts — built-in strategies, the
 * run-manager machine, or a strategy of your own. Framework-agnostic: replays throw on the first
 * difference, so any test runner works.
 *
 * 1. Paths are generated with `xstate/graph` (`getSimplePaths` / `getShortestPaths`), offering in
 *    each state its own events, with `xstate.done.actor.<id>` / `xstate.error.actor.<id>` replaced
 *    by the outcome variants you list per invoke id, and a delayed transition's event
 *    (`xstate.after.<delay>.<state id>`) as an `after: <delay>` step; extra paths are added until
 *    every reachable transition, state and variant is on some path.
 * 2. `replay(path)` runs a real actor and checks every state along the path, the final output and
 *    the emitted events. By default invoked actors are in-memory fakes answering the planned
 *    outcomes; pass `machine` to replay against your own services (e.g. a scripted HTTP server
 *    that answers `script.take()`). An `after` step is never sent: the replay waits for the actor's
 *    own timer, so replay a machine whose delays are short (`machine.provide({ delays })`).
 * 3. `coverage` (planned) and `replayedCoverage()` (seen by replays) give state and transition
 *    coverage with what is left uncovered.
 *
 * @example
 * ```ts
 * import { createStrategyModel } from 'run-lifecycle/testing';
 *
 * const model = createStrategyModel(myStrategyMachine, {
 *   outcomes: {
 *     loadRun: [{ label: 'found', output: run }, { label: 'gone', error: notFound }],
 *     createRun: [{ label: 'created', output: newRun }],
 *   },
 * });
 * for (const path of model.paths) test(path.name, () => model.replay(path));
 * test('covers the machine', () => expect(model.coverage.transitions.uncovered).toEqual([]));
 * ```
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import type { ResolutionMode, StrategyInput, StrategyServices } from '../machines/strategies/types.js';
import { createCoverageTracker, type CoverageFigure, type CoverageReport, type CoverageTracker } from './coverage.js';
import { defaultSerialize, generatePaths, type Scenario } from './generate.js';
import { replayPath, type ReplayOptions, type ReplayResult } from './replay.js';
import type { EventVariant, ModelPath, OutcomeVariant } from './types.js';

export { comparable, assertComparable } from './compare.js';
export { createCoverageTracker, machineStates, machineTransitions, transitionKey } from './coverage.js';
export type { CoverageFigure, CoverageReport, CoverageTracker, MachineTransition } from './coverage.js';
export { defaultSerialize } from './generate.js';
export type { Scenario } from './generate.js';
export { stateValueText } from './plan.js';
export { ReplayError, replayPath, withFakeActors } from './replay.js';
export type { ReplayOptions, ReplayResult } from './replay.js';
export type {
  EventVariant,
  FromSnapshot,
  ModelPath,
  ModelStep,
  OutcomeVariant,
  PathScript,
  PlannedMacrostep,
  ScriptTake,
} from './types.js';

/**
 * Options of {@link createPathModel}.
 *
 * @example
 * ```ts
 * const options: PathModelOptions = {
 *   inputs: { getRun: input },
 *   outcomes: { createRun: [{ label: 'created', output: run }, { label: '503', error: httpError }] },
 *   paths: 'simple',
 * };
 * ```
 */
export interface PathModelOptions<TScript = unknown> {
  /** Inputs to generate paths from, by label (`{ default: undefined }` for a machine without input). */
  inputs: Readonly<Record<string, unknown>>;
  /** Outcome variants per invoke id. An actor with no variants never finishes in any path. */
  outcomes?: Readonly<Record<string, readonly OutcomeVariant<TScript>[]>>;
  /** Variants of ordinary events by type (default: `{ type }` once). */
  events?: Readonly<Record<string, readonly EventVariant<TScript>[]>>;
  /** Drops generated events (e.g. to bound self-loops: allow a join only while fewer than 2 callers wait). */
  filter?: (snapshot: AnyMachineSnapshot, event: EventObject) => boolean;
  /**
   * `simple`: every simple path to a complete state, plus cover paths (thorough; for small,
   * acyclic machines such as strategies). `shortest` (default): shortest paths plus cover paths.
   */
  paths?: 'shortest' | 'simple';
  /** Where a path may end (default: the machine is done). Paths are completed to such a state when one is reachable. */
  isComplete?: (snapshot: AnyMachineSnapshot) => boolean;
  /** The traversal's view of a snapshot; snapshots with equal views are one state (default: {@link defaultSerialize}). */
  serialize?: (snapshot: AnyMachineSnapshot) => unknown;
  /** Maximum traversal steps per input (default 50000); the traversal throws beyond it. */
  limit?: number;
  /**
   * Paths to include as told, by input label and step labels as path descriptions show them
   * (`GET_RUN: plain`, `done: user`); each is completed to a complete state. Throws when a step is
   * not offered where the scenario gets to.
   */
  scenarios?: readonly Scenario[];
}

/**
 * Generated paths of a machine, their coverage, and a replay.
 *
 * @example
 * ```ts
 * for (const path of model.paths) await model.replay(path);
 * console.log(formatCoverage(model.replayedCoverage()));
 * ```
 */
export interface PathModel<TScript = unknown> {
  readonly machine: AnyStateMachine;
  readonly paths: readonly ModelPath[];
  /** What the paths cover as planned (before any replay). */
  readonly coverage: CoverageReport;
  /** Replays one path (see `replayPath`); its coverage is added to {@link replayedCoverage}. */
  replay(path: ModelPath, options?: ReplayOptions<TScript>): Promise<ReplayResult>;
  /** What the replays so far covered, from the actors' `@xstate.microstep` inspection events. */
  replayedCoverage(): CoverageReport;
}

/**
 * Generates the paths of any machine (see the module comment).
 *
 * @example
 * ```ts
 * const model = createPathModel(runManagerMachine, { inputs: { default: input }, outcomes, events, paths: 'shortest' });
 * ```
 */
export function createPathModel<TScript = unknown>(machine: AnyStateMachine, options: PathModelOptions<TScript>): PathModel<TScript> {
  const paths = generatePaths(machine, {
    inputs: options.inputs,
    outcomes: options.outcomes ?? {},
    events: options.events ?? {},
    filter: options.filter,
    paths: options.paths ?? 'shortest',
    isComplete: options.isComplete ?? ((snapshot) => snapshot.status === 'done'),
    serialize: options.serialize ?? defaultSerialize,
    limit: options.limit ?? 50_000,
    scenarios: options.scenarios ?? [],
  });
  const planned = createCoverageTracker(machine);
  for (const path of paths) {
    for (const macrostep of [path.start, ...path.steps]) planned.addCovered(macrostep);
  }
  const replayed: CoverageTracker = createCoverageTracker(machine);
  return {
    machine,
    paths,
    coverage: planned.report(),
    async replay(path, replayOptions) {
      const result = await replayPath(machine, path, replayOptions);
      replayed.merge(result.coverage);
      return result;
    },
    replayedCoverage: () => replayed.report(),
  };
}

function unavailable(name: string): unknown {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (typeof property === 'symbol' || property === 'then' || property === 'toJSON') return undefined;
        return () => {
          throw new Error(
            `run-lifecycle/testing: ${name}.${property} was called; give outcomes for the actor that calls it, or replay with your own services`,
          );
        };
      },
    },
  );
}

/**
 * Services for a strategy replayed with in-memory fakes: any direct call throws and says why.
 *
 * @example
 * ```ts
 * const input = { ...baseInput, services: placeholderServices() };
 * ```
 */
export function placeholderServices(): StrategyServices {
  return { runApi: unavailable('runApi'), worldApi: unavailable('worldApi'), runService: null } as StrategyServices;
}

/**
 * Options of {@link createStrategyModel}: the path-model options, with the inputs built from a base
 * strategy input and the modes to resolve.
 *
 * @example
 * ```ts
 * const options: StrategyModelOptions = { input: { session: { userId: 'u1' }, cachedRun: { id: 'r1' } }, outcomes };
 * ```
 */
export interface StrategyModelOptions<TScript = unknown> extends Omit<PathModelOptions<TScript>, 'inputs'> {
  /**
   * The base input (default: config `{ account: 'acme', project: 'sim', model: 'model.py' }`,
   * session `{ userId: 'u1' }`, no cached run, options `{}`, services that throw when used).
   */
  input?: Partial<StrategyInput<object>>;
  /** One input per mode, labelled by mode (default `['getRun', 'reset']`). */
  modes?: readonly ResolutionMode[];
  /** More inputs by label (e.g. `{ 'getRun (cached)': { …, cachedRun: { id: 'r1' } } }`), added to the modes'. */
  inputs?: Readonly<Record<string, StrategyInput<object>>>;
}

/**
 * A path model of a strategy statechart (one that follows the strategy contract): inputs for
 * `getRun` and `reset`, and, unless you say otherwise, every simple path.
 *
 * @example
 * ```ts
 * const model = createStrategyModel(myStrategyMachine, {
 *   input: { cachedRun: { id: 'r1' } },
 *   outcomes: {
 *     loadRun: [{ label: 'found', output: { id: 'r1' } }, { label: 'gone', error: new RunManagerError('RUN_NOT_FOUND', 'gone', { status: 404 }) }],
 *     createRun: [{ label: 'created', output: { id: 'r2' } }],
 *   },
 * });
 * for (const path of model.paths) it(path.name, () => model.replay(path));
 * ```
 */
export function createStrategyModel<TScript = unknown>(
  machine: AnyStateMachine,
  options: StrategyModelOptions<TScript> = {},
): PathModel<TScript> {
  const { input: base = {}, modes = ['getRun', 'reset'], inputs: extra = {}, ...rest } = options;
  const baseInput: StrategyInput<object> = {
    mode: 'getRun',
    config: { account: 'acme', project: 'sim', model: 'model.py' },
    session: { userId: 'u1' },
    cachedRun: undefined,
    options: {},
    createOptions: undefined,
    services: placeholderServices(),
    ...base,
  };
  const inputs: Record<string, unknown> = {};
  for (const mode of modes) inputs[mode] = { ...baseInput, mode };
  Object.assign(inputs, extra);
  return createPathModel(machine, { paths: 'simple', ...rest, inputs });
}

/**
 * A one-line summary of a coverage report, e.g. `states 6/6 (100%), transitions 9/9 (100%)`.
 *
 * @example
 * ```ts
 * console.log(formatCoverage(model.replayedCoverage()));
 * ```
 */
export function formatCoverage(report: CoverageReport): string {
  const one = (name: string, figure: CoverageFigure) =>
    `${name} ${figure.covered}/${figure.total} (${figure.percent}%)${figure.uncovered.length > 0 ? ` — uncovered: ${figure.uncovered.join('; ')}` : ''}`;
  return `${one('states', report.states)}, ${one('transitions', report.transitions)}`;
}
