/**
 * reuse-last-initialized: the newest run that finished initialisation (carries the flag); else
 * create one, run the init operations and set the flag. Reset always creates. A run whose
 * initialisation fails is trashed, never left behind.
 */
import { assign, setup } from 'xstate';
import { withFields } from '../../services/values.js';
import { literal } from '../../services/filter.js';
import { isRunManagerError, RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import { normalizeOperations } from '../../services/operations.js';
import type { Run, RunFilter } from '../../types.js';
import { createRun, fetchLatest, runInitOperations, saveRun } from './actors.js';
import { acceptedRun, findCreatedRunMachine } from './find-created-run.machine.js';
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
  createMayHaveHappened,
  deepMerge,
  doneOutput,
  failure,
  markRun,
  newestRunModifiers,
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
  readyState,
  recoveringState,
  rememberFailure,
} from './states.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { ReuseLastInitializedStrategyOptions } from '../../strategy-options.js';

/** `strategyOptions` of reuse-last-initialized, as the machine receives them. */
export interface ReuseLastInitializedOptions {
  /** Normalised to `{ name, params }` objects. */
  initOperation: Array<{ name: string; params: unknown[] }>;
  /** PATCHed onto a run once initialised, and required of a run to be reused. */
  flag: Record<string, unknown>;
  scope: { scopeByUser: boolean; scopeByGroup: boolean };
}

/** Named in the `INIT_FAILED` message. */
export type InitStep = 'initializing' | 'flagging';

export interface ReuseLastInitializedContext extends StrategyInput<ReuseLastInitializedOptions> {
  run: Run | null;
  error: RunManagerError | null;
  /** Created by this resolution, before its init operations and flag. */
  created: Run | null;
  initFailure: { step: InitStep; error: unknown } | null;
  /** A create's answer was lost and its run not (yet) found. */
  createInDoubt: boolean;
}

export const TRASH_ATTRIBUTES = { saved: false, trashed: true } as const;

const DEFAULT_FLAG = { isInitComplete: true };

const STEP_DESCRIPTIONS: Record<InitStep, string> = {
  initializing: 'the init operations failed',
  flagging: 'setting the init flag failed',
};

/** Prepared options checked the flag is a filter: plain values only. */
function initFlag(options: Partial<ReuseLastInitializedOptions>): RunFilter {
  return (options.flag ?? DEFAULT_FLAG) as RunFilter;
}

/** The newest initialised run: untrashed, flagged, this model, narrowed to user and/or group as `scope` says. */
export function initializedRunFilter(
  options: Partial<ReuseLastInitializedOptions>,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  const { scopeByUser = true, scopeByGroup = true } = options.scope ?? {};
  const filter = deepMerge<RunFilter>({ trashed: false }, initFlag(options), { model: literal(config.model) });
  return sessionFilter(filter, config, session, { user: scopeByUser, group: scopeByGroup });
}

/** After a lost create: the newest untrashed run of this model, any flag, always of this user so another user's is never taken. */
export function halfMadeRunFilter(
  options: Partial<ReuseLastInitializedOptions>,
  config: StrategyInput['config'],
  session: StrategyInput['session'],
): RunFilter {
  const { scopeByGroup = true } = options.scope ?? {};
  return sessionFilter({ trashed: false, model: literal(config.model) }, config, session, { user: true, group: scopeByGroup });
}

/** Names the failed step and the original error, and whether trashing the run worked (`trashError` null). */
export function initFailedError(initFailure: { step: InitStep; error: unknown }, runId: string, trashError: unknown): RunManagerError {
  const original = failure(initFailure.error);
  const outcome = trashError === null ? 'the run was trashed' : `trashing the run also failed: ${failure(trashError).message}`;
  const message = `reuse-last-initialized: ${STEP_DESCRIPTIONS[initFailure.step]} on run ${runId}: ${original.message}; ${outcome}`;
  return new RunManagerError('INIT_FAILED', message, {
    cause: initFailure.error,
    ...(original.status === undefined ? {} : { status: original.status }),
    ...(original.code === undefined ? {} : { code: original.code }),
  });
}

function newestUntrashed(result: RunQueryResult): Run | undefined {
  return result.runs.find((run) => run.trashed !== true);
}

/**
 * The reuse-last-initialized statechart:
 * `choosingByMode → fetchingLatest → ready` with the newest flagged run, or
 * `→ creating → initializing → flagging → ready` when there is none (and always on reset).
 * If the init operations or the flag fail, `compensating` trashes the half-made run and the machine
 * ends in `error` with `INIT_FAILED`. When the trash fails too, the output says `createInDoubt`, so
 * the next getRun looks for that run (`findingHalfMadeRun`) and finishes it instead of creating another.
 * When a create's answer is lost and there is a user to narrow the search, `recovering` looks for
 * the unflagged run it made and initialises it; when it finds none, the create's failure is the error.
 */
export const reuseLastInitializedMachine = setup({
  types: {
    context: {} as ReuseLastInitializedContext,
    input: {} as StrategyInput<ReuseLastInitializedOptions>,
    output: {} as StrategyOutput,
    children: {} as {
      fetchLatest: 'fetchLatest';
      createRun: 'createRun';
      findCreatedRun: 'findCreatedRun';
      findHalfMadeRun: 'fetchLatest';
      runInitOperations: 'runInitOperations';
      saveFlag: 'saveRun';
      trashRun: 'trashRun';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { fetchLatest, createRun, findCreatedRun: findCreatedRunMachine, runInitOperations, saveRun, trashRun: saveRun },
  guards: {
    isReset,
    // An earlier create of this manager may have made a run nobody saw: look for it before creating again.
    mayHaveHalfMadeRun: ({ context, event }) => context.createInDoubt && newestUntrashed(doneOutput<RunQueryResult>(event)) === undefined,
    foundNoInitializedRun: ({ event }) => newestUntrashed(doneOutput<RunQueryResult>(event)) === undefined,
    // Only with a user: the search must not take another user's half-made run.
    mayHaveBeenCreated: ({ context, event }) => createMayHaveHappened(thrownBy(event)) && Boolean(context.session.userId),
    foundHalfMadeRun: ({ context, event }) =>
      acceptedRun(doneOutput<RunQueryResult>(event), { kind: 'unflagged', flag: initFlag(context.options) }) !== undefined,
    foundCreatedRun,
  },
  actions: {
    keepReusedRun: assign(({ event }) => ({ run: markRun(newestUntrashed(doneOutput<RunQueryResult>(event))!, false) })),
    rememberCreatedRun: assign(({ event }) => ({ created: doneOutput<Run>(event) })),
    rememberHalfMadeRun: assign(({ event }) => ({ created: doneOutput<RunQueryResult>(event).runs[0]!, createInDoubt: false })),
    rememberRecoveredRun: assign(({ event }) => ({ created: doneOutput<Run>(event), error: null, createInDoubt: false })),
    forgetCreateInDoubt: assign({ createInDoubt: false }),
    markCreateInDoubt: assign({ createInDoubt: true }),
    rememberFailure: rememberFailure(),
    rememberFailedStep: assign(({ event }, params: { step: InitStep }) => ({
      initFailure: { step: params.step, error: thrownBy(event) },
    })),
    keepFlaggedRun: assign(({ context, event }) => ({ run: markRun(deepMerge<Run>(context.created, doneOutput<Run>(event)), true) })),
    rememberInitFailedRunTrashed: assign(({ context }) => ({ error: initFailedError(context.initFailure!, context.created!.id, null) })),
    rememberInitFailedRunLeftBehind: assign(({ context, event }) => ({
      error: initFailedError(context.initFailure!, context.created!.id, thrownBy(event)),
      // The half-made run is still out there: the next getRun finishes it instead of making another
      // (only with a user to narrow that search to their own runs).
      createInDoubt: Boolean(context.session.userId),
    })),
  },
}).createMachine({
  id: 'reuse-last-initialized',
  context: ({ input }) =>
    startingContext(
      { run: null, error: null, created: null, initFailure: null },
      withFields(input, { createInDoubt: input.createInDoubt === true }),
    ),
  initial: 'choosingByMode',
  output: ({ context }) => {
    const output = strategyOutput(context);
    return !output.ok && context.createInDoubt ? { ...output, createInDoubt: true } : output;
  },
  states: {
    choosingByMode: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'creating' }, { target: 'fetchingLatest' }],
    },
    fetchingLatest: fetchingLatestState({
      filter: (context) => initializedRunFilter(context.options, context.config, context.session),
      spelling: 'lower',
      onDone: [
        { guard: 'mayHaveHalfMadeRun', target: 'findingHalfMadeRun' },
        { guard: 'foundNoInitializedRun', target: 'creating' },
        { target: 'ready', actions: 'keepReusedRun' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    creating: creatingState({
      onDone: { target: 'initializing', actions: 'rememberCreatedRun' },
      onError: [
        { guard: 'mayHaveBeenCreated', target: 'recovering', actions: ['rememberFailure', 'markCreateInDoubt'] },
        { target: 'error', actions: 'rememberFailure' },
      ],
    }),
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
          { guard: 'foundHalfMadeRun', target: 'initializing', actions: 'rememberHalfMadeRun' },
          { target: 'creating', actions: 'forgetCreateInDoubt' },
        ],
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    recovering: recoveringState({
      filter: (context) => halfMadeRunFilter(context.options, context.config, context.session),
      rule: (context) => ({ kind: 'unflagged', flag: initFlag(context.options) }),
      spelling: 'lower',
      // Not found: the create's own failure stands, and the next getRun looks for its run before creating.
      onDone: [{ guard: 'foundCreatedRun', target: 'initializing', actions: 'rememberRecoveredRun' }, { target: 'error' }],
    }),
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
        onError: { target: 'compensating', actions: { type: 'rememberFailedStep', params: { step: 'initializing' } } },
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
          attributes: initFlag(context.options),
        }),
        onDone: { target: 'ready', actions: 'keepFlaggedRun' },
        onError: { target: 'compensating', actions: { type: 'rememberFailedStep', params: { step: 'flagging' } } },
      },
    },
    compensating: {
      tags: 'busy',
      invoke: {
        id: 'trashRun',
        src: 'trashRun',
        input: ({ context }) => ({ services: context.services, runId: context.created!.id, attributes: { ...TRASH_ATTRIBUTES } }),
        onDone: { target: 'error', actions: 'rememberInitFailedRunTrashed' },
        onError: { target: 'error', actions: 'rememberInitFailedRunLeftBehind' },
      },
    },
    ready: readyState,
    error: errorState,
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
 * `initOperation` is required (any shape `serial()` takes, not empty, no `reset`, which would
 * recurse); `flag` defaults to `{ isInitComplete: true }`; `scope` flags default to `true`.
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

/** reuse-last-initialized's registry entry, e.g. `strategyOptions: { initOperation: [{ step: 10 }] }`. */
export const reuseLastInitializedStrategy: StrategyDefinition<ReuseLastInitializedStrategyOptions, Run> = {
  name: 'reuse-last-initialized',
  machine: reuseLastInitializedMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'group',
  prepareOptions: (strategyOptions) => ({ ...prepareReuseLastInitializedOptions(strategyOptions) }),
  optionKeys: ['initOperation', 'flag', 'scope'],
};
