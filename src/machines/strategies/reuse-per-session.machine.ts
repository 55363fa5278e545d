/**
 * reuse-per-session (alias new-if-missing; the default): keep the session's run while it exists and
 * is not trashed, else create one. Reset creates.
 */
import { setup } from 'xstate';
import type { RunManagerError } from '../../errors.js';
import type { Run } from '../../types.js';
import { createRun, loadRun } from './actors.js';
import { doneOutput, startingContext, strategyOutput } from './shared.js';
import {
  checkingRecordedRunState,
  creatingState,
  errorState,
  hasCachedRun,
  isReset,
  keepCreatedRun,
  keepLoadedRun,
  loadingRunState,
  readyState,
  rememberFailure,
  runIsGone,
} from './states.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { NoStrategyOptions } from '../../strategy-options.js';

export interface ReusePerSessionContext extends StrategyInput {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The reuse-per-session statechart:
 * `checkingSession → loadingRun → ready`, or `→ creating → ready` when there is no usable cached run.
 * A load that fails with 404 means the run is gone (create); any other failure is an error, never a
 * silent new run that would abandon the user's run over a passing outage.
 */
export const reusePerSessionMachine = setup({
  types: {
    context: {} as ReusePerSessionContext,
    input: {} as StrategyInput,
    output: {} as StrategyOutput,
    children: {} as { loadRun: 'loadRun'; createRun: 'createRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { loadRun, createRun },
  guards: {
    isReset,
    hasCachedRun,
    runIsTrashed: ({ event }) => doneOutput<Run>(event).trashed === true,
    runIsGone,
  },
  actions: {
    keepLoadedRun: keepLoadedRun(),
    keepCreatedRun: keepCreatedRun(),
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'reuse-per-session',
  context: ({ input }) => startingContext({ run: null, error: null }, input),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: checkingRecordedRunState,
    loadingRun: loadingRunState({
      runId: (context) => context.cachedRun!.id,
      onDone: [
        { guard: 'runIsTrashed', target: 'creating' },
        { target: 'ready', actions: 'keepLoadedRun' },
      ],
      onError: [
        { guard: 'runIsGone', target: 'creating' },
        { target: 'error', actions: 'rememberFailure' },
      ],
    }),
    creating: creatingState({
      onDone: { target: 'ready', actions: 'keepCreatedRun' },
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    ready: readyState,
    error: errorState,
  },
});

/** reuse-per-session's registry entry. */
export const reusePerSessionStrategy: StrategyDefinition<NoStrategyOptions, Run> = {
  name: 'reuse-per-session',
  machine: reusePerSessionMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'group',
  optionKeys: [],
};
