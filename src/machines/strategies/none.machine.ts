/** none: never looks for or creates a run; the manager answers `getRun` with the RunService and `reset` with `undefined`. */
import { setup } from 'xstate';
import type { RunService } from '../../services/run-service.js';
import type { NoStrategyOptions } from '../../strategy-options.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/** The none statechart: one final state `ready` for `getRun` and `reset` alike, output `{ ok: true, run: null, value: undefined }`. */
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

/** none's registry entry; it writes no session record. */
export const noneStrategy: StrategyDefinition<NoStrategyOptions, RunService, undefined> = {
  name: 'none',
  machine: noneMachine,
  requiresAuth: false,
  cachesRun: false,
  optionKeys: [],
};
