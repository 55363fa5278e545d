/**
 * none: never looks for or creates a run. `getRun` gives back the RunService and `reset` gives
 * `undefined` (the facade does that); the strategy itself makes no request and writes no record.
 */
import { setup } from 'xstate';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/**
 * The none statechart: a single final state `ready` for `getRun` and `reset` alike, with output
 * `{ ok: true, run: null, value: undefined }`.
 *
 * @example
 * ```ts
 * const actor = createActor(noneMachine, { input });
 * actor.start();
 * await toPromise(actor); // { ok: true, run: null, value: undefined }
 * ```
 */
export const noneMachine = setup({
  types: {
    context: {} as StrategyInput,
    input: {} as StrategyInput,
    output: {} as StrategyOutput,
    tags: {} as 'ready',
  },
}).createMachine({
  id: 'none',
  context: ({ input }) => input,
  initial: 'ready',
  output: (): StrategyOutput => ({ ok: true, run: null, value: undefined }),
  states: {
    ready: { type: 'final', tags: 'ready' },
  },
});

/**
 * The registry entry of none (`cachesRun: false`).
 *
 * @example
 * ```ts
 * const rm = new RunManager({ run, strategy: noneStrategy });
 * await rm.getRun(); // rm.run, unchanged
 * ```
 */
export const noneStrategy: StrategyDefinition = {
  name: 'none',
  machine: noneMachine,
  requiresAuth: false,
  cachesRun: false,
  optionKeys: [],
};
