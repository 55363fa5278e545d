/** use-specific-run: always the run named by `strategyOptions.runId` (e.g. to impersonate a user's run); never creates, no reset. */
import { assign, setup } from 'xstate';
import { RunManagerError } from '../../errors.js';
import type { Run } from '../../types.js';
import { loadRun } from './actors.js';
import { pathSafeString } from './options.js';
import { startingContext, strategyOutput } from './shared.js';
import { errorState, isReset, keepLoadedRun, loadingRunState, readyState, rememberFailure } from './states.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { UseSpecificRunStrategyOptions } from '../../strategy-options.js';

/** `strategyOptions` of use-specific-run. */
export interface UseSpecificRunOptions {
  runId: string;
}

export interface UseSpecificRunContext extends StrategyInput<UseSpecificRunOptions> {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The use-specific-run statechart: `choosingByMode → loadingRun → ready` (or `error`, e.g.
 * `RUN_NOT_FOUND`). A reset ends in `error` with `RESET_NOT_SUPPORTED` without any request: a
 * rejected promise, not the original's synchronous throw.
 */
export const useSpecificRunMachine = setup({
  types: {
    context: {} as UseSpecificRunContext,
    input: {} as StrategyInput<UseSpecificRunOptions>,
    output: {} as StrategyOutput,
    children: {} as { loadRun: 'loadRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { loadRun },
  guards: {
    isReset,
  },
  actions: {
    refuseReset: assign({ error: () => new RunManagerError('RESET_NOT_SUPPORTED', 'use-specific-run does not support reset') }),
    keepLoadedRun: keepLoadedRun(),
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'use-specific-run',
  context: ({ input }) => startingContext({ run: null, error: null }, input),
  initial: 'choosingByMode',
  output: ({ context }) => strategyOutput(context),
  states: {
    choosingByMode: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'error', actions: 'refuseReset' }, { target: 'loadingRun' }],
    },
    loadingRun: loadingRunState({
      runId: (context) => context.options.runId,
      onDone: { target: 'ready', actions: 'keepLoadedRun' },
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    ready: readyState,
    error: errorState,
  },
});

/** `runId` is required and must be able to name a run in a URL (not `.` or `..`, valid Unicode). */
export function prepareUseSpecificRunOptions(strategyOptions: Record<string, unknown>): UseSpecificRunOptions {
  return { runId: pathSafeString(strategyOptions.runId, 'strategyOptions.runId') };
}

/** use-specific-run's registry entry, e.g. `{ strategy: 'use-specific-run', strategyOptions: { runId: 'r1' } }`. */
export const useSpecificRunStrategy: StrategyDefinition<UseSpecificRunStrategyOptions, Run> = {
  name: 'use-specific-run',
  machine: useSpecificRunMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...prepareUseSpecificRunOptions(strategyOptions) }),
  optionKeys: ['runId'],
};
