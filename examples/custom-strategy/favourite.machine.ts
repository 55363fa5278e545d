/**
 * A custom strategy, written with the kit from `run-lifecycle/strategies`: reuse the run the user
 * marked as their favourite; else their newest run of this model; else create one. Reset creates.
 *
 * `choosingByMode → fetchingFavourite → ready`, or `→ fetchingLatest → ready | creating → ready`;
 * a create whose answer was lost (`NETWORK_ERROR`, `TIMEOUT`, a garbled 2xx) goes to `recovering`,
 * where the kit's lost-create search looks for the run before anyone creates another.
 */
import { assign, setup } from 'xstate';
import { RunManagerError, type Run, type RunFilter } from 'run-lifecycle/core';
import {
  createMayHaveHappened,
  createParams,
  doneOutput,
  failure,
  findCreatedRunMachine,
  markRun,
  newestRunModifiers,
  sessionFilter,
  strategyActors,
  strategyOutput,
  thrownBy,
  withVariables,
  type RunQueryResult,
  type StrategyDefinition,
  type StrategyInput,
  type StrategyOutput,
} from 'run-lifecycle/strategies';

/** `strategyOptions` of the favourite-run strategy. */
export interface FavouriteOptions {
  /** The fields that mark the favourite run; default `{ favourite: true }` (set with `rm.run.save({ favourite: true })`). */
  favourite?: RunFilter;
}

interface FavouriteContext extends StrategyInput<Required<FavouriteOptions>> {
  run: Run | null;
  error: RunManagerError | null;
  /** The newest run before creating (`null`: none); `undefined` until a query answered. */
  newestBeforeCreate: string | null | undefined;
}

/** This user's untrashed runs of this model (in their group and the run's scope), plus `extra`. */
function usersRuns(context: FavouriteContext, extra: RunFilter = {}): RunFilter {
  return sessionFilter({ model: context.config.model, trashed: false, ...extra }, context.config, context.session);
}

/** The favourite-run statechart: the strategy contract's input in, `{ ok, run | error }` out. */
export const favouriteMachine = setup({
  types: {
    context: {} as FavouriteContext,
    input: {} as StrategyInput<Required<FavouriteOptions>>,
    output: {} as StrategyOutput,
    children: {} as { fetchFavourite: 'fetchLatest'; fetchNewest: 'fetchLatest'; createRun: 'createRun'; findCreatedRun: 'findCreatedRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: {
    fetchLatest: strategyActors.fetchLatest,
    createRun: strategyActors.createRun,
    findCreatedRun: findCreatedRunMachine,
  },
  guards: {
    isReset: ({ context }) => context.mode === 'reset',
    foundRun: ({ event }) => doneOutput<RunQueryResult>(event).runs.length > 0,
    // Only after a query: its newest run tells the run the create made from one that was there before.
    mayHaveBeenCreated: ({ context, event }) => createMayHaveHappened(thrownBy(event)) && context.newestBeforeCreate !== undefined,
    foundCreatedRun: ({ event }) => doneOutput<Run | null>(event) !== null,
  },
  actions: {
    keepFoundRun: assign(({ event }) => ({ run: markRun(doneOutput<RunQueryResult>(event).runs[0]!, false) })),
    rememberNoRun: assign({ newestBeforeCreate: null }),
    keepCreatedRun: assign(({ event }) => ({ run: markRun(doneOutput<Run>(event), true), error: null })),
    rememberFailure: assign(({ event }) => ({ error: failure(thrownBy(event)) })),
  },
}).createMachine({
  id: 'favourite-run',
  context: ({ input }) => ({ ...input, run: null, error: null, newestBeforeCreate: undefined }),
  initial: 'choosingByMode',
  output: ({ context }) => strategyOutput(context),
  states: {
    choosingByMode: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'creating' }, { target: 'fetchingFavourite' }],
    },
    fetchingFavourite: {
      tags: 'busy',
      invoke: {
        id: 'fetchFavourite',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: usersRuns(context, context.options.favourite),
          modifiers: withVariables(newestRunModifiers('camel'), context.variables),
        }),
        onDone: [{ guard: 'foundRun', target: 'ready', actions: 'keepFoundRun' }, { target: 'fetchingLatest' }],
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    fetchingLatest: {
      tags: 'busy',
      invoke: {
        id: 'fetchNewest',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: usersRuns(context),
          modifiers: withVariables(newestRunModifiers('camel'), context.variables),
        }),
        onDone: [
          { guard: 'foundRun', target: 'ready', actions: 'keepFoundRun' },
          { target: 'creating', actions: 'rememberNoRun' },
        ],
        onError: { target: 'error', actions: 'rememberFailure' },
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
        onError: [
          { guard: 'mayHaveBeenCreated', target: 'recovering', actions: 'rememberFailure' },
          { target: 'error', actions: 'rememberFailure' },
        ],
      },
    },
    recovering: {
      tags: 'busy',
      invoke: {
        id: 'findCreatedRun',
        src: 'findCreatedRun',
        input: ({ context }) => ({
          services: context.services,
          filter: usersRuns(context),
          rule: { kind: 'newerThan', newestBeforeCreate: context.newestBeforeCreate ?? null },
          spelling: 'camel',
        }),
        // Found: the create went through. Not found: the create's own failure stands.
        onDone: [{ guard: 'foundCreatedRun', target: 'ready', actions: 'keepCreatedRun' }, { target: 'error' }],
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

/** Checks `strategyOptions` once, when the manager is made: `favourite` must be a non-empty plain object. */
function prepareFavouriteOptions(strategyOptions: Record<string, unknown>): Required<FavouriteOptions> {
  const favourite = strategyOptions.favourite ?? { favourite: true };
  if (typeof favourite !== 'object' || favourite === null || Array.isArray(favourite) || Object.keys(favourite).length === 0) {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      'strategyOptions.favourite must be a non-empty object of run fields, e.g. { favourite: true }',
    );
  }
  return { favourite: favourite as RunFilter };
}

/** The favourite-run strategy: give it to `new RunManager({ strategy })` from either entry, or register it by name. */
export const favouriteRun: StrategyDefinition<FavouriteOptions, Run> = {
  name: 'favourite-run',
  machine: favouriteMachine,
  // Favourites belong to a user: without one, reject UNAUTHORIZED before any request.
  requiresAuth: true,
  // It never reads the session record (`cachedRun`), so the manager need not write one.
  cachesRun: false,
  scopedBy: 'group',
  optionKeys: ['favourite'],
  prepareOptions: prepareFavouriteOptions,
};
