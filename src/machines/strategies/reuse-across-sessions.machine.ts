/** reuse-across-sessions (alias persistent-single-player): this user's newest run of this model, across browser sessions; reset creates. */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import type { RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { createRun, fetchLatest } from './actors.js';
import { optionalFilter } from './options.js';
import { findCreatedRunMachine } from './find-created-run.machine.js';
import {
  createMayHaveHappened,
  deepMerge,
  doneOutput,
  markRun,
  sessionFilter,
  startingContext,
  strategyOutput,
  thrownBy,
} from './shared.js';
import {
  creatingState,
  errorState,
  fetchingLatestState,
  foundCreatedRun,
  isReset,
  keepCreatedRun,
  readyState,
  recoveringState,
  rememberFailure,
} from './states.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { ReuseAcrossSessionsStrategyOptions } from '../../strategy-options.js';

/** `strategyOptions` of reuse-across-sessions. */
export interface ReuseAcrossSessionsOptions {
  /** Extra matrix filter for the newest-run query (default `{}`). */
  filter?: RunFilter;
}

export interface ReuseAcrossSessionsContext extends StrategyInput<ReuseAcrossSessionsOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** The newest run before creating (`null`: none; `undefined`: no query was sent). */
  newestBeforeCreate: string | null | undefined;
}

/** The strategy's `filter` plus the model, narrowed to the session's user, group and scope. */
export function latestRunFilter(
  options: ReuseAcrossSessionsOptions,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  return sessionFilter(deepMerge<RunFilter>(options.filter, { model: literal(config.model) }), config, session);
}

/**
 * The reuse-across-sessions statechart:
 * `choosingByMode → fetchingLatest → ready` with the newest matching run, or `→ creating → ready`
 * when there is none or the newest is trashed (as the original did). Reset goes straight to
 * `creating`. The query also filters by `model`, so another model's run is never reused.
 * When a create's answer is lost after a query, `recovering` looks for the run it made before
 * anything else is created; when it finds none, the create's own failure is the error.
 */
export const reuseAcrossSessionsMachine = setup({
  types: {
    context: {} as ReuseAcrossSessionsContext,
    input: {} as StrategyInput<ReuseAcrossSessionsOptions>,
    output: {} as StrategyOutput,
    children: {} as { fetchLatest: 'fetchLatest'; createRun: 'createRun'; findCreatedRun: 'findCreatedRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { fetchLatest, createRun, findCreatedRun: findCreatedRunMachine },
  guards: {
    isReset,
    foundNoUsableRun: ({ event }) => {
      const newest = doneOutput<RunQueryResult>(event).runs[0];
      return newest === undefined || newest.trashed === true;
    },
    // Only after a query: its newest run tells a run the create made from one that was there before.
    mayHaveBeenCreated: ({ context, event }) => createMayHaveHappened(thrownBy(event)) && context.newestBeforeCreate !== undefined,
    foundCreatedRun,
  },
  actions: {
    keepReusedRun: assign(({ event }) => ({ run: markRun(doneOutput<RunQueryResult>(event).runs[0]!, false) })),
    rememberNewestRun: assign(({ event }) => ({ newestBeforeCreate: doneOutput<RunQueryResult>(event).runs[0]?.id ?? null })),
    keepCreatedRun: keepCreatedRun(),
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'reuse-across-sessions',
  context: ({ input }) => startingContext({ run: null, error: null, newestBeforeCreate: undefined }, input),
  initial: 'choosingByMode',
  output: ({ context }) => strategyOutput(context),
  states: {
    choosingByMode: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'creating' }, { target: 'fetchingLatest' }],
    },
    fetchingLatest: fetchingLatestState({
      filter: (context) => latestRunFilter(context.options, context.config, context.session),
      spelling: 'lower',
      onDone: [
        { guard: 'foundNoUsableRun', target: 'creating', actions: 'rememberNewestRun' },
        { target: 'ready', actions: 'keepReusedRun' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    creating: creatingState({
      onDone: { target: 'ready', actions: 'keepCreatedRun' },
      onError: [
        { guard: 'mayHaveBeenCreated', target: 'recovering', actions: 'rememberFailure' },
        { target: 'error', actions: 'rememberFailure' },
      ],
    }),
    recovering: recoveringState({
      filter: (context) => latestRunFilter(context.options, context.config, context.session),
      rule: (context) => ({ kind: 'newerThan', newestBeforeCreate: context.newestBeforeCreate ?? null }),
      spelling: 'lower',
      // Found: the create went through. Not found: the create's own failure stands, and a retry may create.
      onDone: [{ guard: 'foundCreatedRun', target: 'ready', actions: 'keepCreatedRun' }, { target: 'error' }],
    }),
    ready: readyState,
    error: errorState,
  },
});

/** `filter` must be a plain object (default `{}`). */
export function prepareReuseAcrossSessionsOptions(strategyOptions: Record<string, unknown>): Required<ReuseAcrossSessionsOptions> {
  const filter = optionalFilter(strategyOptions.filter, 'strategyOptions.filter') as RunFilter | undefined;
  return { filter: filter ?? {} };
}

/** reuse-across-sessions' registry entry, e.g. `strategyOptions: { filter: { saved: true } }`. */
export const reuseAcrossSessionsStrategy: StrategyDefinition<ReuseAcrossSessionsStrategyOptions, Run> = {
  name: 'reuse-across-sessions',
  machine: reuseAcrossSessionsMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'group',
  prepareOptions: (strategyOptions) => ({ ...prepareReuseAcrossSessionsOptions(strategyOptions) }),
  optionKeys: ['filter'],
};
