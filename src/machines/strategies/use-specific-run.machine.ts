/**
 * use-specific-run: always the run named by `strategyOptions.runId` (e.g. to impersonate a user's
 * run). It never creates, and reset is not supported.
 */
import { assign, setup } from 'xstate';
import { RunManagerError } from '../../errors.js';
import type { Run } from '../../types.js';
import { loadRun } from './actors.js';
import { pathSafeString } from './options.js';
import { doneOutput, failure, markRun, strategyOutput, thrownBy } from './shared.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/**
 * `strategyOptions` of use-specific-run.
 *
 * @example
 * ```ts
 * const options: UseSpecificRunOptions = { runId: '0000015a4cd1700209cd0a7d207f44bac289' };
 * ```
 */
export interface UseSpecificRunOptions {
  /** The id of the run to use. */
  runId: string;
}

/** Context of {@link useSpecificRunMachine}. */
export interface UseSpecificRunContext extends StrategyInput<UseSpecificRunOptions> {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The use-specific-run statechart: `choosingByMode → loadingRun → ready` (or `error`, e.g.
 * `RUN_NOT_FOUND` as the client reports it). A reset ends in `error` with `RESET_NOT_SUPPORTED`
 * without any request — a rejected promise, not the original's synchronous throw.
 *
 * @example
 * ```ts
 * const actor = createActor(useSpecificRunMachine, { input: { ...input, options: { runId: 'r1' } } });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput;
 * ```
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
    isReset: ({ context }) => context.mode === 'reset',
  },
  actions: {
    refuseReset: assign({ error: () => new RunManagerError('RESET_NOT_SUPPORTED', 'use-specific-run does not support reset') }),
    keepLoadedRun: assign(({ event }) => ({ run: markRun(doneOutput<Run>(event), false) })),
    rememberFailure: assign(({ event }) => ({ error: failure(thrownBy(event)) })),
  },
}).createMachine({
  id: 'use-specific-run',
  context: ({ input }) => ({ ...input, run: null, error: null }),
  initial: 'choosingByMode',
  output: ({ context }) => strategyOutput(context),
  states: {
    choosingByMode: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'error', actions: 'refuseReset' }, { target: 'loadingRun' }],
    },
    loadingRun: {
      tags: 'busy',
      invoke: {
        id: 'loadRun',
        src: 'loadRun',
        input: ({ context }) => ({ services: context.services, runId: context.options.runId, include: context.variables }),
        onDone: { target: 'ready', actions: 'keepLoadedRun' },
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

/**
 * Validates `strategyOptions` of use-specific-run: `runId` is a required non-empty string that can
 * name a run in a URL (not `.` or `..`, valid Unicode).
 *
 * @example
 * ```ts
 * prepareUseSpecificRunOptions({ runId: 'r1' }); // { runId: 'r1' }
 * prepareUseSpecificRunOptions({});              // throws INVALID_OPTIONS (strategyOptions.runId)
 * ```
 */
export function prepareUseSpecificRunOptions(strategyOptions: Record<string, unknown>): UseSpecificRunOptions {
  return { runId: pathSafeString(strategyOptions.runId, 'strategyOptions.runId') };
}

/**
 * The registry entry of use-specific-run. The manager still writes the session record (`cachesRun`).
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: 'use-specific-run', strategyOptions: { runId: 'r1' } });
 * ```
 */
export const useSpecificRunStrategy: StrategyDefinition = {
  name: 'use-specific-run',
  machine: useSpecificRunMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...prepareUseSpecificRunOptions(strategyOptions) }),
  optionKeys: ['runId'],
};
