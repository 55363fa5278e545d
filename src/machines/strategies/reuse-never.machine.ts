/** reuse-never (alias always-new): every `getRun` and `reset` creates a run; nothing is cached, no session record is loaded. */
import { setup } from 'xstate';
import type { RunManagerError } from '../../errors.js';
import type { Run } from '../../types.js';
import { createRun } from './actors.js';
import { startingContext, strategyOutput } from './shared.js';
import { creatingState, errorState, keepCreatedRun, readyState, rememberFailure } from './states.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { NoStrategyOptions } from '../../strategy-options.js';

export interface ReuseNeverContext extends StrategyInput {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The reuse-never statechart: `creating → ready` for `getRun` and `reset` alike. Unlike the
 * original, a cached run is never loaded first: exactly one request per resolution.
 */
export const reuseNeverMachine = setup({
  types: {
    context: {} as ReuseNeverContext,
    input: {} as StrategyInput,
    output: {} as StrategyOutput,
    children: {} as { createRun: 'createRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { createRun },
  actions: {
    keepCreatedRun: keepCreatedRun(),
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'reuse-never',
  context: ({ input }) => startingContext({ run: null, error: null }, input),
  initial: 'creating',
  output: ({ context }) => strategyOutput(context),
  states: {
    creating: creatingState({
      onDone: { target: 'ready', actions: 'keepCreatedRun' },
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    ready: readyState,
    error: errorState,
  },
});

/** reuse-never's registry entry; the manager writes no session record. */
export const reuseNeverStrategy: StrategyDefinition<NoStrategyOptions, Run> = {
  name: 'reuse-never',
  machine: reuseNeverMachine,
  requiresAuth: false,
  cachesRun: false,
  scopedBy: 'group',
  optionKeys: [],
};
