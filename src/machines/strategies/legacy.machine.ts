/** A statechart around an Epicenter.js `{ getRun, reset }` strategy, so such strategies run unchanged and show up in the inspector. */
import { assign, fromPromise, setup } from 'xstate';
import { ERROR_TYPES, RunManagerError, toRunManagerError } from '../../errors.js';
import type { Run, UserSession } from '../../types.js';
import { doneOutput, startingContext, thrownBy } from './shared.js';
import { errorState, readyState } from './states.js';
import type { CachedRun, LegacyStrategy, ResolutionMode, StrategyInput, StrategyOutput, StrategyServices } from './types.js';

const KNOWN_TYPES = new Set<string>(ERROR_TYPES);

export interface LegacyStrategyContext extends StrategyInput {
  output: StrategyOutput | null;
}

function isRun(value: unknown): value is Run {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string';
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RunManagerError('ABORTED', 'The resolution was stopped'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Its own requests cannot be aborted, but the resolution stops waiting for them once the actor stops. */
export const callStrategy = fromPromise<
  StrategyOutput,
  {
    mode: ResolutionMode;
    legacy: LegacyStrategy | undefined;
    runService: unknown;
    createdRuns: StrategyServices['createdRuns'];
    session: UserSession;
    cachedRun: CachedRun | undefined;
    createOptions: Record<string, unknown> | undefined;
  }
>(async ({ input, signal }) => {
  const { legacy } = input;
  const { createdRuns } = input;
  const mark = createdRuns?.count() ?? 0;
  if (!legacy) throw new RunManagerError('INVALID_OPTIONS', 'The legacy strategy instance is missing');
  const result = await abortable(
    Promise.resolve().then(() =>
      input.mode === 'getRun'
        ? legacy.getRun(input.runService, input.session, input.cachedRun ? { ...input.cachedRun } : {}, input.createOptions)
        : legacy.reset(input.runService, input.session, input.createOptions),
    ),
    signal,
  );
  if (isRun(result)) {
    // The strategy's own flag wins; else "did it create this run through rm.run"; else reset means new.
    const createdHere = createdRuns?.since(result.id, mark);
    const freshlyCreated = typeof result.freshlyCreated === 'boolean' ? result.freshlyCreated : (createdHere ?? input.mode === 'reset');
    return { ok: true, run: { ...result, freshlyCreated } };
  }
  // The original hands back results without an id untouched (and caches nothing).
  return { ok: true, run: null, value: result };
});

/** The generic machine for `{ getRun, reset }` strategies: `runningStrategy → ready | error`. */
export const legacyStrategyMachine = setup({
  types: {
    context: {} as LegacyStrategyContext,
    input: {} as StrategyInput,
    output: {} as StrategyOutput,
    children: {} as { callStrategy: 'callStrategy' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { callStrategy },
  actions: {
    keepStrategyOutput: assign(({ event }) => ({ output: doneOutput<StrategyOutput>(event) })),
    rememberFailure: assign(({ event }) => ({ output: { ok: false, error: legacyFailure(thrownBy(event)) } })),
  },
}).createMachine({
  id: 'legacy-strategy',
  context: ({ input }) => startingContext({ output: null }, input),
  initial: 'runningStrategy',
  output: ({ context }) => context.output ?? { ok: false, error: new RunManagerError('INVALID_RESPONSE', 'The strategy returned nothing') },
  states: {
    runningStrategy: {
      tags: 'busy',
      invoke: {
        id: 'callStrategy',
        src: 'callStrategy',
        input: ({ context }) => ({
          mode: context.mode,
          legacy: context.services.legacy,
          runService: context.services.runService,
          createdRuns: context.services.createdRuns,
          session: context.session,
          cachedRun: context.cachedRun,
          createOptions: context.createOptions,
        }),
        onDone: { target: 'ready', actions: 'keepStrategyOutput' },
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    ready: readyState,
    error: errorState,
  },
});

/**
 * Maps what a legacy strategy rejects with to a typed error: a `RunManagerError` passes through,
 * the original's `{ type, message }` objects keep their type, an XHR-like `{ status }` is typed by status.
 */
export function legacyFailure(error: unknown): RunManagerError {
  if (error instanceof RunManagerError) return error;
  if (error && typeof error === 'object') {
    const { type, status, message } = error as { type?: unknown; status?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : 'The strategy failed';
    if (typeof type === 'string' && KNOWN_TYPES.has(type)) {
      return new RunManagerError(type as RunManagerError['type'], text, { cause: error });
    }
    if (typeof status === 'number') {
      const typed = status === 401 || status === 403 ? 'UNAUTHORIZED' : status === 404 ? 'RUN_NOT_FOUND' : 'HTTP_ERROR';
      return new RunManagerError(typed, `The strategy failed: HTTP ${status}`, { status, cause: error });
    }
  }
  return toRunManagerError(error, 'HTTP_ERROR', 'The strategy failed');
}
