/**
 * conditional-creation: load the run this session key points at and ask the user's condition
 * whether to replace it with a new one. No cached run, a run that is gone, or a reset: create.
 */
import { assign, fromPromise, setup } from 'xstate';
import { isRunManagerError, RunManagerError, toRunManagerError } from '../../errors.js';
import type { LoadedRun } from '../../services/api-types.js';
import type { Run, UserSession } from '../../types.js';
import { createRun, loadRunWithHeaders } from './actors.js';
import { invalidOption, describe } from './options.js';
import { createParams, doneOutput, failure, markRun, strategyOutput, thrownBy } from './shared.js';
import type { CachedRun, StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/**
 * Decides whether to create a new run instead of the loaded one: `true` creates.
 * Receives the loaded run, its response headers, the user session and the cached run (`{ id, ...record }`).
 *
 * @example
 * ```ts
 * const olderThanAMinute: CreationCondition = (run) => Date.now() - Date.parse(run.created!) > 60_000;
 * ```
 */
export type CreationCondition = (run: Run, headers: Headers, userSession: UserSession, runSession: CachedRun) => boolean | Promise<boolean>;

/**
 * `strategyOptions` of conditional-creation.
 *
 * @example
 * ```ts
 * const options: ConditionalCreationOptions = { condition: (run) => run.trashed === true };
 * ```
 */
export interface ConditionalCreationOptions {
  condition: CreationCondition;
}

/** Context of {@link conditionalCreationMachine}. */
export interface ConditionalCreationContext extends StrategyInput<ConditionalCreationOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** The cached run as loaded, with its headers, while the condition is evaluated. */
  loaded: LoadedRun | null;
}

/** Calls the user's condition. It makes no request, so `signal` only stops a late answer from counting. */
export const checkCondition = fromPromise<
  boolean,
  { condition: CreationCondition; run: Run; headers: Headers; session: UserSession; cachedRun: CachedRun }
>(async ({ input, signal }) => {
  const verdict = await input.condition(input.run, input.headers, input.session, input.cachedRun);
  if (signal.aborted) throw new RunManagerError('ABORTED', 'strategyOptions.condition was aborted', { cause: signal.reason });
  return Boolean(verdict);
});

/**
 * The conditional-creation statechart:
 * `checkingSession → loadingRun → evaluatingCondition → ready` (condition false: keep the loaded run),
 * or `→ creating → ready` (condition true, no cached run, the run is gone (404), or a reset).
 * Any other load failure is an `error`, never a silent new run that would abandon the user's run
 * over a passing outage; a condition that throws or rejects is an `error` too.
 *
 * @example
 * ```ts
 * const options = { condition: (run: Run) => run.trashed === true };
 * const actor = createActor(conditionalCreationMachine, { input: { ...input, options } });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput;
 * ```
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
    isReset: ({ context }) => context.mode === 'reset',
    hasCachedRun: ({ context }) => context.cachedRun !== undefined,
    runIsGone: ({ event }) => isRunManagerError(thrownBy(event), 'RUN_NOT_FOUND'),
    conditionSaysCreate: ({ event }) => doneOutput<boolean>(event),
  },
  actions: {
    rememberLoadedRun: assign(({ event }) => ({ loaded: doneOutput<LoadedRun>(event) })),
    keepLoadedRun: assign(({ context }) => ({ run: markRun(context.loaded!.run, false) })),
    keepCreatedRun: assign(({ event }) => ({ run: markRun(doneOutput<Run>(event), true) })),
    rememberFailure: assign(({ event }) => ({ error: failure(thrownBy(event)) })),
    rememberConditionFailure: assign(({ event }) => ({
      error: toRunManagerError(thrownBy(event), 'INVALID_RESPONSE', 'strategyOptions.condition threw'),
    })),
  },
}).createMachine({
  id: 'conditional-creation',
  context: ({ input }) => ({ ...input, run: null, error: null, loaded: null }),
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
        src: 'loadRunWithHeaders',
        input: ({ context }) => ({ services: context.services, runId: context.cachedRun!.id, include: context.variables }),
        onDone: { target: 'evaluatingCondition', actions: 'rememberLoadedRun' },
        onError: [
          { guard: 'runIsGone', target: 'creating' },
          { target: 'error', actions: 'rememberFailure' },
        ],
      },
    },
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

function requireCondition(value: unknown): CreationCondition {
  if (value === undefined || value === null) {
    throw invalidOption('strategyOptions.condition', 'is required: a function (run, headers, userSession, runSession) => boolean');
  }
  if (typeof value !== 'function') {
    throw invalidOption('strategyOptions.condition', `must be a function, got ${describe(value)}`);
  }
  return value as CreationCondition;
}

/**
 * Validates `strategyOptions` of conditional-creation: `condition` must be a function (a truthy
 * non-function is refused: the original turned it into a constant answer). The registry passes
 * `{ ...boundOptions, ...strategyOptions }`, so a condition bound with {@link ConditionalCreation}
 * arrives here too.
 *
 * @example
 * ```ts
 * prepareConditionalCreationOptions({ condition: () => false }); // { condition }
 * prepareConditionalCreationOptions({ condition: true });        // throws INVALID_OPTIONS (strategyOptions.condition)
 * ```
 */
export function prepareConditionalCreationOptions(strategyOptions: Record<string, unknown>): ConditionalCreationOptions {
  return { condition: requireCondition(strategyOptions.condition) };
}

/**
 * The registry entry of conditional-creation (`strategyOptions.condition` required).
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: 'conditional-creation', strategyOptions: { condition: (run) => !run.saved } });
 * ```
 */
export const conditionalCreationStrategy: StrategyDefinition = {
  name: 'conditional-creation',
  machine: conditionalCreationMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...prepareConditionalCreationOptions(strategyOptions) }),
  optionKeys: ['condition'],
};

/**
 * The original library's constructor form: `new ConditionalCreation(condition)` (or a plain call) gives a
 * strategy definition with the condition bound. The constructor is itself the conditional-creation
 * definition too, so `strategies.byName('conditional-creation')` can be registered and constructed.
 *
 * @example
 * ```ts
 * const Conditional = strategies.byName('conditional-creation') as ConditionalCreationConstructor;
 * const strategy = new Conditional((run) => run.saved !== true);
 * ```
 */
export interface ConditionalCreationConstructor extends StrategyDefinition {
  new (condition: CreationCondition): StrategyDefinition;
  (condition: CreationCondition): StrategyDefinition;
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
 * Binds a condition to conditional-creation, as the original library did with
 * `new (strategies.byName('conditional-creation'))(fn)`; `new` is optional. Throws `INVALID_OPTIONS`
 * when the condition is missing or not a function. A `strategyOptions.condition` given to the
 * manager still wins. Used unconstructed, it is the same definition as
 * {@link conditionalCreationStrategy} (the condition then comes from `strategyOptions`).
 *
 * @example
 * ```ts
 * const everyMinute = new ConditionalCreation((run) => Date.now() - Date.parse(run.created!) > 60_000);
 * const rm = new RunManager({ run, strategy: everyMinute });
 * ```
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
    prepareOptions: conditionalCreationStrategy.prepareOptions,
    optionKeys: conditionalCreationStrategy.optionKeys,
  },
) as unknown as ConditionalCreationConstructor;
