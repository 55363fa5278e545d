/**
 * One vitest suite per machine: a test per generated path (replayed against the real HTTP clients
 * and the scripted server), then a test that reports and asserts 100% state and transition
 * coverage — both as planned and as the replays' inspection events saw it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine, StateValue } from 'xstate';
import { formatCoverage, type ModelPath, type PathModel, type PathScript } from '../../../src/testing/index.js';
import { stateValueText } from '../../../src/testing/plan.js';
import { startModelHttp, type ModelHttp, type ModelItem } from './http-script.js';

/** How a path's replay is wired: the machine to run (default: the model's) and its input. */
export interface Wiring {
  machine?: AnyStateMachine;
  input: unknown;
  /** Checks once the replay is over and its actor stopped (e.g. that no lock is left held). */
  afterReplay?: () => void;
}

export type Wire = (http: ModelHttp, script: PathScript<ModelItem>, path: ModelPath) => Wiring;

/** Options of {@link modelSuite}. */
export interface SuiteOptions {
  /**
   * States a replay is also stopped in: for each, the shortest path prefix that reaches it is
   * replayed and its actor stopped there (the wiring's `afterReplay` then checks the clean-up, e.g.
   * that a lock held or waited for is given back). Not for states a delay leaves on its own.
   */
  stopIn?: (value: StateValue) => boolean;
  /**
   * Transitions this API generation cannot take (e.g. a world-run answer that carries the whole run,
   * which only Epicenter v3 sends), with the reason. They must be exactly the ones left uncovered, so
   * the list can neither hide a gap nor go stale; the other generation's suite covers them.
   */
  unreachable?: {
    transitions: string[];
    /** States (dotted paths) that are unreachable the same way: only the transitions into and out of them lead there. */
    states?: string[];
    why: string;
  };
  /** Starts the scripted server the clients talk to (default: the v2 one, `startModelHttp`; `startModelHttpV3` for Epicenter v3). */
  http?: () => Promise<ModelHttp>;
}

/**
 * Registers the suite of `model`.
 *
 * @example
 * ```ts
 * modelSuite('reuse-never', model, (http, script, path) => ({ input: { ...path.input, services: live(http, script) } }));
 * ```
 */
export function modelSuite(name: string, model: PathModel<ModelItem>, wire: Wire, options: SuiteOptions = {}): void {
  const distinct = distinctScripts(model.paths);
  const stopped = options.stopIn ? stoppedPaths(model.paths, options.stopIn) : [];
  const paths = [...distinct, ...stopped];
  describe(`${name} model`, () => {
    let http: ModelHttp;
    beforeAll(async () => {
      http = await (options.http ?? startModelHttp)();
    });
    afterAll(async () => {
      await http?.close();
    });

    for (const path of paths) {
      it(path.name, async () => {
        let wiring: Wiring | undefined;
        await model.replay(path, {
          machine: (script) => {
            wiring = wire(http, script, path);
            return wiring.machine ?? model.machine;
          },
          input: () => wiring!.input,
        });
        // Let the stop's clean-up (lock releases, aborted waits) run first.
        await new Promise((resolve) => setImmediate(resolve));
        wiring?.afterReplay?.();
      });
    }

    it(`covers every state and transition of ${name}`, () => {
      const planned = model.coverage;
      const replayed = model.replayedCoverage();
      console.info(
        `[model] ${name}: ${distinct.length} paths replayed (${model.paths.length - distinct.length} with a duplicate script dropped), ${stopped.length} stopped part-way | planned ${formatCoverage(planned)} | replayed ${formatCoverage(replayed)}`,
      );
      const unreachable = [...(options.unreachable?.transitions ?? [])].sort();
      const unreachableStates = [...(options.unreachable?.states ?? [])].sort();
      expect([...planned.states.uncovered].sort(), `${name}: states no path plans`).toEqual(unreachableStates);
      expect([...planned.transitions.uncovered].sort(), `${name}: transitions no path plans`).toEqual(unreachable);
      expect([...replayed.states.uncovered].sort(), `${name}: states no replay reached`).toEqual(unreachableStates);
      expect([...replayed.transitions.uncovered].sort(), `${name}: transitions no replay took`).toEqual(unreachable);
      if (unreachable.length === 0 && unreachableStates.length === 0) {
        expect([replayed.states.percent, replayed.transitions.percent], `${name}: state and transition coverage (%)`).toEqual([100, 100]);
      }
    });
  });
}

/** For each state `stopIn` accepts, the shortest path prefix that ends there, as a path of its own. */
function stoppedPaths(paths: readonly ModelPath[], stopIn: (value: StateValue) => boolean): ModelPath[] {
  const shortest = new Map<string, { path: ModelPath; length: number }>();
  for (const path of paths) {
    path.steps.forEach((step, index) => {
      if (step.status !== 'active' || !stopIn(step.value)) return;
      // A state left on its own (a delay, or an actor that needs nothing from the script) cannot be stopped in.
      const next = path.steps[index + 1];
      if (next && (next.kind === 'after' || (next.produced && next.script.length === 0))) return;
      const state = stateValueText(step.value);
      const known = shortest.get(state);
      if (!known || index + 1 < known.length) shortest.set(state, { path, length: index + 1 });
    });
  }
  // Ids past every generated path's, so a cut path never shares a URL prefix with a whole one.
  let id = paths.length + 1_000;
  return [...shortest.values()].map(({ path, length }) => {
    const steps = path.steps.slice(0, length);
    const last = steps[steps.length - 1]!;
    return {
      ...path,
      id: id++,
      name: `#stop [${path.inputLabel}] ${describePrefix(path, steps)} — stopped there`,
      steps,
      end: { ...last, output: undefined, complete: false },
    };
  });
}

/** `start (label) → state (label) → … → last state`, as generated path descriptions read. */
function describePrefix(path: ModelPath, steps: ModelPath['steps']): string {
  const values = [path.start.value, ...steps.map((step) => step.value)].map(stateValueText);
  return values.map((value, index) => (index < steps.length ? `${value} (${steps[index]!.label})` : value)).join(' → ');
}

function scriptReplacer(_key: string, value: unknown): unknown {
  return value instanceof RegExp ? value.toString() : value;
}

/**
 * The paths whose replays differ: two paths with the same input, the same events sent and the same
 * scripted answers (HTTP responses, callback results) are one replay; the first is kept.
 */
export function distinctScripts(paths: readonly ModelPath[]): ModelPath[] {
  const seen = new Set<string>();
  return paths.filter((path) => {
    const key = JSON.stringify(
      [path.inputLabel, path.steps.map((step) => (step.produced ? [step.eventType, step.script] : [step.event]))],
      scriptReplacer,
    );
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Services of a strategy input bound to one path's prefix on the scripted server. */
export function liveServices(http: ModelHttp, script: PathScript<ModelItem>) {
  return { runApi: http.runApi(script), worldApi: http.worldApi(script), runService: null };
}
