/**
 * reuse-across-sessions (alias persistent-single-player): keep working with this user's newest run
 * of this model, across browser sessions; create one when there is none or the newest is trashed.
 * Reset creates.
 */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import type { RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { createRun, fetchLatest } from './actors.js';
import { optionalFilter } from './options.js';
import {
  canLookAgain,
  createMayHaveHappened,
  createParams,
  deepMerge,
  failure,
  markRun,
  newestRunModifiers,
  recoveredRun,
  recoveryDelayMs,
  sessionFilter,
  strategyOutput,
  withVariables,
} from './shared.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/**
 * `strategyOptions` of reuse-across-sessions.
 *
 * @example
 * ```ts
 * const options: ReuseAcrossSessionsOptions = { filter: { saved: true } };
 * ```
 */
export interface ReuseAcrossSessionsOptions {
  /** Extra matrix filter for the newest-run query (default `{}`). */
  filter?: RunFilter;
}

/** Context of {@link reuseAcrossSessionsMachine}. */
export interface ReuseAcrossSessionsContext extends StrategyInput<ReuseAcrossSessionsOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** The newest run the query saw before creating (`null`: none; `undefined`: no query was sent). */
  newestBeforeCreate: string | null | undefined;
  /** How many times `recovering` has looked again after a wait (0 on its first look). */
  recoveryAttempt: number;
}

/**
 * The query filter: the strategy's `filter` plus the configured model (improvement 5), narrowed to
 * the session's user and group and the configured scope.
 *
 * @example
 * ```ts
 * latestRunFilter({ filter: { saved: true } }, config, { userId: 'u1', groupName: 'g1' });
 * // { scope: { group: 'g1' }, saved: true, model: 'model.py', 'user.id': 'u1' }
 * ```
 */
export function latestRunFilter(
  options: ReuseAcrossSessionsOptions,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  return sessionFilter(deepMerge<RunFilter>(options.filter, { model: literal(config.model) }), config, session);
}

/**
 * The reuse-across-sessions statechart:
 * `checkingSession → fetchingLatest → ready` with the newest matching run, or `→ creating → ready`
 * when there is none or the newest is trashed (as the original, spec §8.5). Reset goes straight to
 * `creating`. The query also filters by `model` (improvement 5), so another model's run is never reused.
 * When a create's answer is lost after a query (dropped connection, timeout, or a 2xx body that
 * cannot be read), `creating → recovering` looks again before anything else is created: a new
 * untrashed newest run is the one the create made (`→ ready`). While it finds nothing or its query
 * fails, `recovering → waitingToRecover → recovering` waits (`recoveryDelay`: 200 ms, doubling) and
 * looks again, at most 3 more times (`RECOVERY_LOOKS_AGAIN`); after the last look it ends in
 * `error` with the create's own failure.
 *
 * @example
 * ```ts
 * const actor = createActor(reuseAcrossSessionsMachine, { input: { ...input, options: { filter: {} } } });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput;
 * ```
 */
export const reuseAcrossSessionsMachine = setup({
  types: {
    context: {} as ReuseAcrossSessionsContext,
    input: {} as StrategyInput<ReuseAcrossSessionsOptions>,
    output: {} as StrategyOutput,
    children: {} as { fetchLatest: 'fetchLatest'; createRun: 'createRun'; findCreatedRun: 'fetchLatest' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { fetchLatest, createRun },
  delays: {
    recoveryDelay: ({ context }) => recoveryDelayMs(context.recoveryAttempt),
  },
  guards: {
    isReset: ({ context }) => context.mode === 'reset',
    hasNoUsableRun: (_, params: { result: RunQueryResult }) => {
      const newest = params.result.runs[0];
      return newest === undefined || newest.trashed === true;
    },
    canRecover: ({ context }, params: { error: unknown }) =>
      createMayHaveHappened(params.error) && context.newestBeforeCreate !== undefined,
    canLookAgain: ({ context }) => canLookAgain(context.recoveryAttempt),
    foundCreatedRun: ({ context }, params: { result: RunQueryResult }) =>
      recoveredRun(params.result, context.newestBeforeCreate ?? null) !== undefined,
  },
}).createMachine({
  id: 'reuse-across-sessions',
  context: ({ input }) => ({ ...input, run: null, error: null, newestBeforeCreate: undefined, recoveryAttempt: 0 }),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'creating' }, { target: 'fetchingLatest' }],
    },
    fetchingLatest: {
      tags: 'busy',
      invoke: {
        id: 'fetchLatest',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: latestRunFilter(context.options, context.config, context.session),
          modifiers: withVariables(newestRunModifiers('lower'), context.variables),
        }),
        onDone: [
          {
            guard: { type: 'hasNoUsableRun', params: ({ event }) => ({ result: event.output }) },
            target: 'creating',
            actions: assign({ newestBeforeCreate: ({ event }) => event.output.runs[0]?.id ?? null }),
          },
          { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output.runs[0]!, false) }) },
        ],
        onError: { target: 'error', actions: assign({ error: ({ event }) => failure(event.error) }) },
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
        onDone: { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output, true) }) },
        onError: [
          {
            guard: { type: 'canRecover', params: ({ event }) => ({ error: event.error }) },
            target: 'recovering',
            actions: assign({ error: ({ event }) => failure(event.error) }),
          },
          { target: 'error', actions: assign({ error: ({ event }) => failure(event.error) }) },
        ],
      },
    },
    recovering: {
      tags: 'busy',
      invoke: {
        id: 'findCreatedRun',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: latestRunFilter(context.options, context.config, context.session),
          modifiers: newestRunModifiers('lower'),
        }),
        onDone: [
          {
            guard: { type: 'foundCreatedRun', params: ({ event }) => ({ result: event.output }) },
            target: 'ready',
            actions: assign({
              run: ({ context, event }) => markRun(recoveredRun(event.output, context.newestBeforeCreate ?? null)!, true),
              error: null,
            }),
          },
          // Nothing yet: the server may still be making the run; wait, then look again.
          { guard: 'canLookAgain', target: 'waitingToRecover' },
          // Nothing was made: report the create's own failure; a retry may create safely.
          { target: 'error' },
        ],
        // Still unreachable: wait and look again; after the last look keep the create's failure.
        onError: [{ guard: 'canLookAgain', target: 'waitingToRecover' }, { target: 'error' }],
      },
    },
    waitingToRecover: {
      tags: 'busy',
      // Backoff before looking again (recoveryDelay); stopping the actor cancels the wait.
      after: {
        recoveryDelay: {
          target: 'recovering',
          actions: assign({ recoveryAttempt: ({ context }) => context.recoveryAttempt + 1 }),
        },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

/**
 * Validates `strategyOptions` of reuse-across-sessions: `filter` must be a plain object (default `{}`).
 *
 * @example
 * ```ts
 * prepareReuseAcrossSessionsOptions({});                     // { filter: {} }
 * prepareReuseAcrossSessionsOptions({ filter: 'x' });        // throws INVALID_OPTIONS (strategyOptions.filter)
 * ```
 */
export function prepareReuseAcrossSessionsOptions(strategyOptions: Record<string, unknown>): Required<ReuseAcrossSessionsOptions> {
  const filter = optionalFilter(strategyOptions.filter, 'strategyOptions.filter') as RunFilter | undefined;
  return { filter: filter ?? {} };
}

/**
 * The registry entry of reuse-across-sessions.
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: 'reuse-across-sessions', strategyOptions: { filter: { saved: true } } });
 * ```
 */
export const reuseAcrossSessionsStrategy: StrategyDefinition = {
  name: 'reuse-across-sessions',
  machine: reuseAcrossSessionsMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...prepareReuseAcrossSessionsOptions(strategyOptions) }),
  optionKeys: ['filter'],
};
