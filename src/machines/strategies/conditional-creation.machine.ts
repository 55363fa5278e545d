/**
 * conditional-creation: load the session's run and ask the user's condition whether to replace it.
 * No cached run, a run that is gone, or a reset: create.
 */
import { assign, fromPromise, setup } from 'xstate';
import { RunManagerError, toRunManagerError } from '../../errors.js';
import type { LoadedRun } from '../../services/api-types.js';
import type { Run, UserSession } from '../../types.js';
import { createRun, loadRunWithHeaders } from './actors.js';
import { invalidOption, describe } from './options.js';
import { doneOutput, markRun, startingContext, strategyOutput, thrownBy } from './shared.js';
import {
  checkingRecordedRunState,
  creatingState,
  errorState,
  hasCachedRun,
  isReset,
  keepCreatedRun,
  loadingRunState,
  readyState,
  rememberFailure,
  runIsGone,
} from './states.js';
import type { CachedRun, StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { ConditionalCreationStrategyOptions } from '../../strategy-options.js';

/** `true` creates a new run instead of the loaded one; gets the run, its response headers, the user session and the cached run. */
export type CreationCondition = (run: Run, headers: Headers, userSession: UserSession, runSession: CachedRun) => boolean | Promise<boolean>;

/** `strategyOptions` of conditional-creation. */
export interface ConditionalCreationOptions {
  condition: CreationCondition;
}

export interface ConditionalCreationContext extends StrategyInput<ConditionalCreationOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** The loaded cached run, with its headers, while the condition is evaluated. */
  loaded: LoadedRun | null;
}

/** It makes no request, so `signal` only stops a late answer from counting. */
export const checkCondition = fromPromise<
  boolean,
  { condition: CreationCondition; run: Run; headers: Headers; session: UserSession; cachedRun: CachedRun }
>(async ({ input, signal }) => {
  // The condition is the app's code: whatever it answers, truthy means create.
  const verdict: unknown = await input.condition(input.run, input.headers, input.session, input.cachedRun);
  if (signal.aborted) throw new RunManagerError('ABORTED', 'strategyOptions.condition was aborted', { cause: signal.reason });
  return Boolean(verdict);
});

/**
 * The conditional-creation statechart:
 * `checkingSession → loadingRun → evaluatingCondition → ready` (condition false: keep the loaded run),
 * or `→ creating → ready` (condition true, no cached run, the run is gone (404), or a reset).
 * Any other load failure is an `error`, never a silent new run that would abandon the user's run
 * over a passing outage; a condition that throws or rejects is an `error` too.
 */
export const conditionalCreationMachine = setup({
  types: {
    context: {} as ConditionalCreationContext,
    input: {} as StrategyInput<ConditionalCreationOptions>,
    output: {} as StrategyOutput,
    children: {} as { loadRun: 'loadRunWithHeaders'; checkCondition: 'checkCondition'; createRun: 'createRun' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { loadRunWithHeaders, checkCondition, createRun },
  guards: {
    isReset,
    hasCachedRun,
    runIsGone,
    conditionSaysCreate: ({ event }) => doneOutput<boolean>(event),
  },
  actions: {
    rememberLoadedRun: assign(({ event }) => ({ loaded: doneOutput<LoadedRun>(event) })),
    keepLoadedRun: assign(({ context }) => ({ run: markRun(context.loaded!.run, false) })),
    keepCreatedRun: keepCreatedRun(),
    rememberFailure: rememberFailure(),
    rememberConditionFailure: assign(({ event }) => ({
      error: toRunManagerError(thrownBy(event), 'INVALID_RESPONSE', 'strategyOptions.condition threw'),
    })),
  },
}).createMachine({
  id: 'conditional-creation',
  context: ({ input }) => startingContext({ run: null, error: null, loaded: null }, input),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: checkingRecordedRunState,
    loadingRun: loadingRunState({
      src: 'loadRunWithHeaders',
      runId: (context) => context.cachedRun!.id,
      onDone: { target: 'evaluatingCondition', actions: 'rememberLoadedRun' },
      onError: [
        { guard: 'runIsGone', target: 'creating' },
        { target: 'error', actions: 'rememberFailure' },
      ],
    }),
    evaluatingCondition: {
      tags: 'busy',
      invoke: {
        id: 'checkCondition',
        src: 'checkCondition',
        input: ({ context }) => ({
          condition: context.options.condition,
          run: context.loaded!.run,
          headers: context.loaded!.headers,
          session: context.session,
          cachedRun: context.cachedRun!,
        }),
        onDone: [
          { guard: 'conditionSaysCreate', target: 'creating' },
          { target: 'ready', actions: 'keepLoadedRun' },
        ],
        onError: { target: 'error', actions: 'rememberConditionFailure' },
      },
    },
    creating: creatingState({
      onDone: { target: 'ready', actions: 'keepCreatedRun' },
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    ready: readyState,
    error: errorState,
  },
});

function requireCondition(value: unknown): CreationCondition {
  if (value === undefined || value === null) {
    throw invalidOption('strategyOptions.condition', 'is required: a function (run, headers, userSession, runSession) => boolean');
  }
  if (typeof value !== 'function') {
    throw invalidOption('strategyOptions.condition', `must be a function, got ${describe(value)}`);
  }
  return value as CreationCondition;
}

/** `condition` must be a function: the original turned a truthy non-function into a constant answer. */
export function prepareConditionalCreationOptions(strategyOptions: Record<string, unknown>): ConditionalCreationOptions {
  return { condition: requireCondition(strategyOptions.condition) };
}

/** conditional-creation's registry entry (`strategyOptions.condition` required). */
export const conditionalCreationStrategy: StrategyDefinition<ConditionalCreationStrategyOptions, Run> = {
  name: 'conditional-creation',
  machine: conditionalCreationMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'group',
  prepareOptions: (strategyOptions) => ({ ...prepareConditionalCreationOptions(strategyOptions) }),
  optionKeys: ['condition'],
};

/** The original's constructor form; the constructor is also the definition, so `byName('conditional-creation')` can be constructed. */
export interface ConditionalCreationConstructor extends StrategyDefinition<ConditionalCreationStrategyOptions, Run> {
  new (condition: CreationCondition): StrategyDefinition<Partial<ConditionalCreationStrategyOptions>, Run>;
  (condition: CreationCondition): StrategyDefinition<Partial<ConditionalCreationStrategyOptions>, Run>;
}

function bindCondition(condition: unknown): StrategyDefinition {
  const bound = requireCondition(condition);
  return {
    ...conditionalCreationStrategy,
    boundOptions: { condition: bound },
    prepareOptions: (strategyOptions) => ({
      ...prepareConditionalCreationOptions({ ...strategyOptions, condition: strategyOptions.condition ?? bound }),
    }),
  };
}

/**
 * Binds a condition, e.g. `strategy: new ConditionalCreation((run) => run.saved !== true)`, as the
 * original's `new (strategies.byName(…))(fn)` did; `new` is optional and `strategyOptions.condition`
 * still wins. Unconstructed, it is the plain definition.
 */
export const ConditionalCreation: ConditionalCreationConstructor = Object.assign(
  Object.defineProperty(
    function ConditionalCreation(condition: unknown): StrategyDefinition {
      return bindCondition(condition);
    },
    'name',
    { value: conditionalCreationStrategy.name },
  ),
  {
    machine: conditionalCreationStrategy.machine,
    requiresAuth: conditionalCreationStrategy.requiresAuth,
    cachesRun: conditionalCreationStrategy.cachesRun,
    scopedBy: conditionalCreationStrategy.scopedBy,
    prepareOptions: conditionalCreationStrategy.prepareOptions,
    optionKeys: conditionalCreationStrategy.optionKeys,
  },
) as unknown as ConditionalCreationConstructor;
