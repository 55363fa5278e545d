/**
 * `run-lifecycle/testing`: model-based path tests for statecharts (built-in strategies, the
 * run-manager machine, or your own). Replays throw on the first difference, so any runner works.
 *
 * 1. Paths come from `xstate/graph`, with each invoked actor's done/error events replaced by the
 *    outcome variants you list per invoke id and a delayed transition as an `after: <delay>` step;
 *    extra paths are added until every reachable transition, state and variant is covered.
 * 2. `replay(path)` runs a real actor and checks every state, the output and the emitted events,
 *    with in-memory fake actors by default, or your own services via `machine`. An `after` step is
 *    waited for, never sent, so replay with short delays (`machine.provide({ delays })`).
 * 3. `coverage` (planned) and `replayedCoverage()` (replayed) report what is left uncovered.
 *
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
 *
 * @module run-lifecycle/testing
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

/** Options of {@link createPathModel}. */
export interface PathModelOptions<TScript = unknown> {
  /** Inputs by label (`{ default: undefined }` for a machine without input). */
  inputs: Readonly<Record<string, unknown>>;
  /** Outcome variants per invoke id; an actor with no variants never finishes in any path. */
  outcomes?: Readonly<Record<string, readonly OutcomeVariant<TScript>[]>>;
  /** Variants of ordinary events by type (default: `{ type }` once). */
  events?: Readonly<Record<string, readonly EventVariant<TScript>[]>>;
  /** Drops generated events (e.g. to bound self-loops: allow a join only while fewer than 2 callers wait). */
  filter?: (snapshot: AnyMachineSnapshot, event: EventObject) => boolean;
  /** `simple`: every simple path (small acyclic machines such as strategies); `shortest` (default). Both add cover paths. */
  paths?: 'shortest' | 'simple';
  /** Where a path may end (default: the machine is done). */
  isComplete?: (snapshot: AnyMachineSnapshot) => boolean;
  /** The traversal's view of a snapshot; snapshots with equal views are one state (default: {@link defaultSerialize}). */
  serialize?: (snapshot: AnyMachineSnapshot) => unknown;
  /** Maximum traversal steps per input (default 50000); the traversal throws beyond it. */
  limit?: number;
  /** Paths to include as told, by input label and step labels (`GET_RUN: plain`, `done: user`); throws when a step is not offered. */
  scenarios?: readonly Scenario[];
}

/** Generated paths of a machine, their coverage, and a replay. */
export interface PathModel<TScript = unknown> {
  /** The machine the paths were generated from. */
  readonly machine: AnyStateMachine;
  /** The generated paths. */
  readonly paths: readonly ModelPath[];
  /** What the paths cover as planned (before any replay). */
  readonly coverage: CoverageReport;
  /** Replays one path (see `replayPath`); its coverage is added to {@link replayedCoverage}. */
  replay(path: ModelPath, options?: ReplayOptions<TScript>): Promise<ReplayResult>;
  /** What the replays so far covered. */
  replayedCoverage(): CoverageReport;
}

/**
 * Generates the paths of any machine (see the module comment).
 *
 * @example
 * ```ts
 * const model = createPathModel(runManagerMachine, { inputs: { default: input }, outcomes, events });
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

/** Services for a strategy replayed with in-memory fakes: any direct call throws and says why. */
export function placeholderServices(): StrategyServices {
  return { runApi: unavailable('runApi'), worldApi: unavailable('worldApi'), runService: null } as StrategyServices;
}

/** Options of {@link createStrategyModel}: the path-model options, with inputs built from a base input and the modes. */
export interface StrategyModelOptions<TScript = unknown> extends Omit<PathModelOptions<TScript>, 'inputs'> {
  /** The base input (default: account `acme`, project `sim`, model `model.py`, user `u1`, no cached run, throwing services). */
  input?: Partial<StrategyInput<object>>;
  /** One input per mode, labelled by mode (default `['getRun', 'reset']`). */
  modes?: readonly ResolutionMode[];
  /** More inputs by label, added to the modes'. */
  inputs?: Readonly<Record<string, StrategyInput<object>>>;
}

/**
 * A path model of a strategy statechart: inputs for `getRun` and `reset`, and by default every simple path.
 *
 * @example
 * ```ts
 * const model = createStrategyModel(myStrategyMachine, { input: { cachedRun: { id: 'r1' } }, outcomes });
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

/** A one-line summary of a coverage report, e.g. `states 6/6 (100%), transitions 9/9 (100%)`. */
export function formatCoverage(report: CoverageReport): string {
  const one = (name: string, figure: CoverageFigure) =>
    `${name} ${figure.covered}/${figure.total} (${figure.percent}%)${figure.uncovered.length > 0 ? ` — uncovered: ${figure.uncovered.join('; ')}` : ''}`;
  return `${one('states', report.states)}, ${one('transitions', report.transitions)}`;
}
