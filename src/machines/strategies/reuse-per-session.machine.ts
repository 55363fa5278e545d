/**
 * reuse-per-session (alias new-if-missing; the default): keep the session's run while it exists and
 * is not trashed, else create one. Reset creates.
 */
import { assign, setup } from 'xstate';
import { isRunManagerError, type RunManagerError } from '../../errors.js';
import type { Run } from '../../types.js';
import { createRun, loadRun } from './actors.js';
import { createParams, doneOutput, failure, markRun, strategyOutput, thrownBy } from './shared.js';
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
    isReset: ({ context }) => context.mode === 'reset',
    hasCachedRun: ({ context }) => context.cachedRun !== undefined,
    runIsTrashed: ({ event }) => doneOutput<Run>(event).trashed === true,
    runIsGone: ({ event }) => isRunManagerError(thrownBy(event), 'RUN_NOT_FOUND'),
  },
  actions: {
    keepLoadedRun: assign(({ event }) => ({ run: markRun(doneOutput<Run>(event), false) })),
    keepCreatedRun: assign(({ event }) => ({ run: markRun(doneOutput<Run>(event), true) })),
    rememberFailure: assign(({ event }) => ({ error: failure(thrownBy(event)) })),
  },
}).createMachine({
  id: 'reuse-per-session',
  context: ({ input }) => ({ ...input, run: null, error: null }),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'creating' }, { guard: 'hasCachedRun', target: 'loadingRun' }, { target: 'creating' }],
    },
    loadingRun: {
      tags: 'busy',
      invoke: {
        id: 'loadRun',
        src: 'loadRun',
        input: ({ context }) => ({ services: context.services, runId: context.cachedRun!.id, include: context.variables }),
        onDone: [
          { guard: 'runIsTrashed', target: 'creating' },
          { target: 'ready', actions: 'keepLoadedRun' },
        ],
        onError: [
          { guard: 'runIsGone', target: 'creating' },
          { target: 'error', actions: 'rememberFailure' },
        ],
      },
    },
    creating: {
      tags: 'busy',
      invoke: {
        id: 'createRun',
        src: 'createRun',
        input: ({ context }) => ({
          services: context.services,
          params: createParams(context.config, context.session, undefined, context.createOptions),
        }),
        onDone: { target: 'ready', actions: 'keepCreatedRun' },
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
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
