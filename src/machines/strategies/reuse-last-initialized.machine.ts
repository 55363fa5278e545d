/**
 * reuse-last-initialized: keep working with the newest run that finished initialisation (carries
 * the flag); otherwise create one, run the init operations on it, and set the flag. Reset always
 * creates and initialises. A run whose initialisation fails is trashed, never left behind.
 */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import { isRunManagerError, RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import { normalizeOperations } from '../../services/operations.js';
import type { Run, RunFilter } from '../../types.js';
import { createRun, fetchLatest, runInitOperations, saveRun } from './actors.js';
import {
  checkSendable,
  hasLoneSurrogate,
  invalidOption,
  isPlainObject,
  optionalFilter,
  optionalObject,
  rejectUnknownKeys,
} from './options.js';
import {
  canLookAgain,
  createMayHaveHappened,
  createParams,
  deepMerge,
  failure,
  markRun,
  newestRunModifiers,
  recoveryDelayMs,
  sessionFilter,
  strategyOutput,
  withVariables,
} from './shared.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/**
 * `strategyOptions` of reuse-last-initialized, as the machine receives them (see
 * {@link prepareReuseLastInitializedOptions}).
 *
 * @example
 * ```ts
 * const options: ReuseLastInitializedOptions = {
 *   initOperation: [{ name: 'step', params: [10] }],
 *   flag: { isInitComplete: true },
 *   scope: { scopeByUser: true, scopeByGroup: true },
 * };
 * ```
 */
export interface ReuseLastInitializedOptions {
  /** The init operations, normalised to `{ name, params }` objects. */
  initOperation: Array<{ name: string; params: unknown[] }>;
  /** Attributes PATCHed onto a run once initialised, and required of a run to be reused. */
  flag: Record<string, unknown>;
  scope: { scopeByUser: boolean; scopeByGroup: boolean };
}

/**
 * The step that failed after the run was created (named in the `INIT_FAILED` message).
 *
 * @example
 * ```ts
 * const step: InitStep = 'flagging';
 * ```
 */
export type InitStep = 'initializing' | 'flagging';

/** Context of {@link reuseLastInitializedMachine}. */
export interface ReuseLastInitializedContext extends StrategyInput<ReuseLastInitializedOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** The run created by this resolution, before its init operations and flag. */
  created: Run | null;
  /** The step that failed on {@link created}, and its error (carried into `INIT_FAILED`). */
  initFailure: { step: InitStep; error: unknown } | null;
  /** How many times `recovering` has looked again after a wait (0 on its first look). */
  recoveryAttempt: number;
  /** A create's answer was lost and its run not (yet) found. */
  createInDoubt: boolean;
}

/**
 * The attributes that trash a run (spec §3.4), PATCHed by `compensating`.
 *
 * @example
 * ```ts
 * await runApi.save(runId, { ...TRASH_ATTRIBUTES });
 * ```
 */
export const TRASH_ATTRIBUTES = { saved: false, trashed: true } as const;

const DEFAULT_FLAG = { isInitComplete: true };

const STEP_DESCRIPTIONS: Record<InitStep, string> = {
  initializing: 'the init operations failed',
  flagging: 'setting the init flag failed',
};

/**
 * The query filter for "the newest initialised run": `trashed=false`, the flag, the model, narrowed
 * to the session's user and/or group as `scope` says.
 *
 * @example
 * ```ts
 * initializedRunFilter(options, config, { userId: 'u1', groupName: 'g1' });
 * // { scope: { group: 'g1' }, trashed: false, isInitComplete: true, model: 'model.py', 'user.id': 'u1' }
 * ```
 */
export function initializedRunFilter(
  options: Partial<ReuseLastInitializedOptions>,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  const { scopeByUser = true, scopeByGroup = true } = options.scope ?? {};
  return sessionFilter(
    deepMerge<RunFilter>({ trashed: false }, options.flag ?? DEFAULT_FLAG, { model: literal(config.model) }),
    config,
    session,
    { user: scopeByUser, group: scopeByGroup },
  );
}

/**
 * After a create whose answer was lost: the newest untrashed run of this user and model, whatever
 * its flag (the run the create made has none yet).
 *
 * @example
 * ```ts
 * halfMadeRunFilter({}, config, { userId: 'u1', groupName: 'g1' });
 * // { scope: { group: 'g1' }, trashed: false, model: 'model.py', 'user.id': 'u1' }
 * ```
 */
export function halfMadeRunFilter(
  options: Partial<ReuseLastInitializedOptions>,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  const { scopeByGroup = true } = options.scope ?? {};
  return sessionFilter({ trashed: false, model: literal(config.model) }, config, session, { user: true, group: scopeByGroup });
}

/**
 * True when a run carries every field of the flag (so it finished initializing).
 *
 * @example
 * ```ts
 * carriesFlag({ id: 'r', isInitComplete: true }, { isInitComplete: true }); // true
 * ```
 */
export function carriesFlag(run: Run, flag: Record<string, unknown>): boolean {
  return Object.entries(flag).every(([key, value]) => JSON.stringify(run[key]) === JSON.stringify(value));
}

/**
 * The `INIT_FAILED` error of a reset whose run had to be trashed: names the failed step and the
 * original error, and says whether trashing worked.
 *
 * @example
 * ```ts
 * initFailedError({ step: 'initializing', error: httpError }, 'run-1', null);
 * // INIT_FAILED "reuse-last-initialized: the init operations failed on run run-1: HTTP 500; the run was trashed"
 * ```
 */
export function initFailedError(
  initFailure: { step: InitStep; error: unknown },
  runId: string,
  trashError: unknown | null,
): RunManagerError {
  const original = failure(initFailure.error);
  const outcome = trashError === null ? 'the run was trashed' : `trashing the run also failed: ${failure(trashError).message}`;
  const message = `reuse-last-initialized: ${STEP_DESCRIPTIONS[initFailure.step]} on run ${runId}: ${original.message}; ${outcome}`;
  return new RunManagerError(
    'INIT_FAILED',
    message,
    original.status === undefined ? { cause: initFailure.error } : { cause: initFailure.error, status: original.status },
  );
}

/**
 * The reuse-last-initialized statechart:
 * `checkingSession → fetchingLatest → ready` with the newest flagged run, or
 * `→ creating → initializing → flagging → ready` when there is none (and always on reset).
 * If the init operations or the flag fail, `compensating` trashes the half-made run and the machine
 * ends in `error` with `INIT_FAILED` (improvement 8) — no unflagged orphan is left behind. When the
 * trash fails too, the output says `createInDoubt`, so the manager's next getRun looks for that run
 * (`findingHalfMadeRun`) and finishes it instead of creating another.
 * When the create's answer is lost (dropped connection, timeout, or a 2xx body that cannot be read)
 * and there is a user to narrow the search, `creating → recovering → initializing → flagging → ready`
 * with the newest untrashed unflagged run, the one the create made. While it finds none or its query
 * fails, `recovering → waitingToRecover → recovering` waits (`recoveryDelay`: 200 ms, doubling) and
 * looks again, at most 3 more times (`RECOVERY_LOOKS_AGAIN`), then ends in `error` with the
 * create's own failure.
 *
 * @example
 * ```ts
 * const options = reuseLastInitializedStrategy.prepareOptions!({ initOperation: 'init' });
 * const actor = createActor(reuseLastInitializedMachine, { input: { ...input, options } });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput;
 * ```
 */
export const reuseLastInitializedMachine = setup({
  types: {
    context: {} as ReuseLastInitializedContext,
    input: {} as StrategyInput<ReuseLastInitializedOptions>,
    output: {} as StrategyOutput,
    children: {} as {
      fetchLatest: 'fetchLatest';
      createRun: 'createRun';
      findCreatedRun: 'fetchLatest';
      findHalfMadeRun: 'fetchLatest';
      runInitOperations: 'runInitOperations';
      saveFlag: 'saveRun';
      trashRun: 'trashRun';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { fetchLatest, createRun, runInitOperations, saveRun, trashRun: saveRun },
  delays: {
    recoveryDelay: ({ context }) => recoveryDelayMs(context.recoveryAttempt),
  },
  guards: {
    isReset: ({ context }) => context.mode === 'reset',
    hasNoInitializedRun: (_, params: { result: RunQueryResult }) => !params.result.runs.some((run) => run.trashed !== true),
    mayHaveHalfMadeRun: ({ context }, params: { result: RunQueryResult }) =>
      context.createInDoubt && !params.result.runs.some((run) => run.trashed !== true),
    canRecover: ({ context }, params: { error: unknown }) => createMayHaveHappened(params.error) && Boolean(context.session.userId),
    canLookAgain: ({ context }) => canLookAgain(context.recoveryAttempt),
    foundHalfMadeRun: ({ context }, params: { result: RunQueryResult }) => {
      const newest = params.result.runs[0];
      return newest !== undefined && newest.trashed !== true && !carriesFlag(newest, context.options.flag ?? DEFAULT_FLAG);
    },
  },
}).createMachine({
  id: 'reuse-last-initialized',
  context: ({ input }) => ({
    ...input,
    run: null,
    error: null,
    created: null,
    initFailure: null,
    recoveryAttempt: 0,
    createInDoubt: input.createInDoubt === true,
  }),
  initial: 'checkingSession',
  output: ({ context }) => {
    const output = strategyOutput(context);
    return !output.ok && context.createInDoubt ? { ...output, createInDoubt: true } : output;
  },
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
          filter: initializedRunFilter(context.options, context.config, context.session),
          modifiers: withVariables(newestRunModifiers('lower'), context.variables),
        }),
        onDone: [
          // An earlier create of this manager may have made a run nobody saw: look before creating again.
          { guard: { type: 'mayHaveHalfMadeRun', params: ({ event }) => ({ result: event.output }) }, target: 'findingHalfMadeRun' },
          { guard: { type: 'hasNoInitializedRun', params: ({ event }) => ({ result: event.output }) }, target: 'creating' },
          {
            target: 'ready',
            actions: assign({
              run: ({ event }) =>
                markRun(
                  event.output.runs.find((run) => run.trashed !== true)!,
                  false,
                ),
            }),
          },
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
        onDone: { target: 'initializing', actions: assign({ created: ({ event }) => event.output }) },
        onError: [
          {
            guard: { type: 'canRecover', params: ({ event }) => ({ error: event.error }) },
            target: 'recovering',
            actions: assign({ error: ({ event }) => failure(event.error), createInDoubt: true }),
          },
          { target: 'error', actions: assign({ error: ({ event }) => failure(event.error) }) },
        ],
      },
    },
    findingHalfMadeRun: {
      tags: 'busy',
      invoke: {
        id: 'findHalfMadeRun',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: halfMadeRunFilter(context.options, context.config, context.session),
          modifiers: newestRunModifiers('lower'),
        }),
        onDone: [
          {
            guard: { type: 'foundHalfMadeRun', params: ({ event }) => ({ result: event.output }) },
            target: 'initializing',
            actions: assign({ created: ({ event }) => event.output.runs[0]!, createInDoubt: false }),
          },
          { target: 'creating', actions: assign({ createInDoubt: false }) },
        ],
        onError: { target: 'error', actions: assign({ error: ({ event }) => failure(event.error) }) },
      },
    },
    recovering: {
      tags: 'busy',
      invoke: {
        id: 'findCreatedRun',
        src: 'fetchLatest',
        input: ({ context }) => ({
          services: context.services,
          filter: halfMadeRunFilter(context.options, context.config, context.session),
          modifiers: newestRunModifiers('lower'),
        }),
        onDone: [
          {
            // The create went through: finish what it started, so no unflagged orphan is left.
            guard: { type: 'foundHalfMadeRun', params: ({ event }) => ({ result: event.output }) },
            target: 'initializing',
            actions: assign({ created: ({ event }) => event.output.runs[0]!, error: null, createInDoubt: false }),
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
    initializing: {
      tags: 'busy',
      invoke: {
        id: 'runInitOperations',
        src: 'runInitOperations',
        input: ({ context }) => ({
          services: context.services,
          runId: context.created!.id,
          operations: context.options.initOperation,
        }),
        onDone: { target: 'flagging' },
        onError: {
          target: 'compensating',
          actions: assign({ initFailure: ({ event }) => ({ step: 'initializing' as const, error: event.error }) }),
        },
      },
    },
    flagging: {
      tags: 'busy',
      invoke: {
        id: 'saveFlag',
        src: 'saveRun',
        input: ({ context }) => ({
          services: context.services,
          runId: context.created!.id,
          attributes: context.options.flag ?? DEFAULT_FLAG,
        }),
        onDone: {
          target: 'ready',
          actions: assign({ run: ({ context, event }) => markRun(deepMerge<Run>(context.created, event.output), true) }),
        },
        onError: {
          target: 'compensating',
          actions: assign({ initFailure: ({ event }) => ({ step: 'flagging' as const, error: event.error }) }),
        },
      },
    },
    compensating: {
      tags: 'busy',
      invoke: {
        id: 'trashRun',
        src: 'trashRun',
        input: ({ context }) => ({ services: context.services, runId: context.created!.id, attributes: { ...TRASH_ATTRIBUTES } }),
        onDone: {
          target: 'error',
          actions: assign({ error: ({ context }) => initFailedError(context.initFailure!, context.created!.id, null) }),
        },
        onError: {
          target: 'error',
          actions: assign({
            error: ({ context, event }) => initFailedError(context.initFailure!, context.created!.id, event.error),
            // The half-made run is still out there: the next getRun finishes it instead of making another
            // (with a user to narrow the search to their own runs).
            createInDoubt: ({ context }) => Boolean(context.session.userId),
          }),
        },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

function prepareInitOperation(value: unknown): ReuseLastInitializedOptions['initOperation'] {
  const path = 'strategyOptions.initOperation';
  if (value === undefined || value === null) throw invalidOption(path, 'is required (the init operations to run on a new run)');
  if ((Array.isArray(value) && value.length === 0) || value === '') throw invalidOption(path, 'must not be empty');
  if (typeof value !== 'string' && !Array.isArray(value) && !isPlainObject(value)) {
    throw invalidOption(path, 'must be an operation name, an operation object, or an array of them');
  }
  // The arguments are sent as JSON: a cycle or a BigInt must fail here, not after the run is made.
  checkSendable(value, path);
  let operations;
  try {
    operations = normalizeOperations(value as Parameters<typeof normalizeOperations>[0]);
  } catch (error) {
    if (isRunManagerError(error)) throw invalidOption(path, `is invalid: ${error.message}`);
    throw error;
  }
  // Each name becomes a URL path segment when the operation is sent.
  const unsendable = operations.find(({ name }) => name === '.' || name === '..' || hasLoneSurrogate(name));
  if (unsendable) throw invalidOption(path, `has an operation name that cannot be sent in a URL: ${JSON.stringify(unsendable.name)}`);
  if (operations.some((operation) => operation.name === 'reset')) {
    throw invalidOption(path, "must not contain an operation named 'reset' (it is the run manager's reset, which would recurse)");
  }
  return operations.map(({ name, args }) => ({ name, params: args }));
}

function prepareScopeFlag(scope: Record<string, unknown> | undefined, key: 'scopeByUser' | 'scopeByGroup'): boolean {
  const value = scope?.[key];
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw invalidOption(`strategyOptions.scope.${key}`, 'must be a boolean');
  return value;
}

/**
 * Validates and normalises `strategyOptions` of reuse-last-initialized: `initOperation` is required
 * (any shape `serial()` takes, not empty, no operation named `reset`) and becomes a list of
 * `{ name, params }`; `flag` defaults to `{ isInitComplete: true }`; `scope` flags default to `true`.
 * Throws `RunManagerError('INVALID_OPTIONS')` naming the option.
 *
 * @example
 * ```ts
 * prepareReuseLastInitializedOptions({ initOperation: [{ step: 10 }] });
 * // { initOperation: [{ name: 'step', params: [10] }], flag: { isInitComplete: true }, scope: { scopeByUser: true, scopeByGroup: true } }
 * prepareReuseLastInitializedOptions({ initOperation: [] }); // throws INVALID_OPTIONS (strategyOptions.initOperation)
 * ```
 */
export function prepareReuseLastInitializedOptions(strategyOptions: Record<string, unknown>): ReuseLastInitializedOptions {
  const initOperation = prepareInitOperation(strategyOptions.initOperation);
  const flag = optionalFilter(strategyOptions.flag, 'strategyOptions.flag') ?? { ...DEFAULT_FLAG };
  const scope = optionalObject(strategyOptions.scope, 'strategyOptions.scope');
  if (scope) rejectUnknownKeys(scope, ['scopeByUser', 'scopeByGroup'], 'strategyOptions.scope', { of: 'reuse-last-initialized' });
  return {
    initOperation,
    flag,
    scope: { scopeByUser: prepareScopeFlag(scope, 'scopeByUser'), scopeByGroup: prepareScopeFlag(scope, 'scopeByGroup') },
  };
}

/**
 * The registry entry of reuse-last-initialized.
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: 'reuse-last-initialized', strategyOptions: { initOperation: [{ step: 10 }] } });
 * ```
 */
export const reuseLastInitializedStrategy: StrategyDefinition = {
  name: 'reuse-last-initialized',
  machine: reuseLastInitializedMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...prepareReuseLastInitializedOptions(strategyOptions) }),
  optionKeys: ['initOperation', 'flag', 'scope'],
};
