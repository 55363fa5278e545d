/**
 * One vitest suite per machine: a test per generated path (replayed against the real HTTP clients
 * and the scripted server), then a test that reports and asserts 100% state and transition
 * coverage — both as planned and as the replays' inspection events saw it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { formatCoverage, type ModelPath, type PathModel, type PathScript } from '../../../src/testing/index.js';
import { startModelHttp, type ModelHttp, type ModelItem } from './http-script.js';

/** How a path's replay is wired: the machine to run (default: the model's) and its input. */
export interface Wiring {
  machine?: AnyStateMachine;
  input: unknown;
}

export type Wire = (http: ModelHttp, script: PathScript<ModelItem>, path: ModelPath) => Wiring;

/**
 * Registers the suite of `model`.
 *
 * @example
 * ```ts
 * modelSuite('reuse-never', model, (http, script, path) => ({ input: { ...path.input, services: live(http, script) } }));
 * ```
 */
export function modelSuite(name: string, model: PathModel<ModelItem>, wire: Wire): void {
  const paths = distinctScripts(model.paths);
  describe(`${name} model`, () => {
    let http: ModelHttp;
    beforeAll(async () => {
      http = await startModelHttp();
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
      });
    }

    it(`covers every state and transition of ${name}`, () => {
      const planned = model.coverage;
      const replayed = model.replayedCoverage();
      console.info(
        `[model] ${name}: ${paths.length} paths replayed (${model.paths.length - paths.length} with a duplicate script dropped) | planned ${formatCoverage(planned)} | replayed ${formatCoverage(replayed)}`,
      );
      expect(planned.states.uncovered, `${name}: states no path plans`).toEqual([]);
      expect(planned.transitions.uncovered, `${name}: transitions no path plans`).toEqual([]);
      expect(replayed.states.uncovered, `${name}: states no replay reached`).toEqual([]);
      expect(replayed.transitions.uncovered, `${name}: transitions no replay took`).toEqual([]);
      expect([replayed.states.percent, replayed.transitions.percent], `${name}: state and transition coverage (%)`).toEqual([100, 100]);
    });
  });
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
