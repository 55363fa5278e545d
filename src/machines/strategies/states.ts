/**
 * State configs, guards and actions several strategy statecharts share. Mostly a config fixes the
 * invoke and the machine passes its own `onDone`/`onError`, so its file still says where each state
 * leads; where two statecharts take the same steps to the same places, the whole state is shared.
 */
import { assign, type EventObject, type MachineContext, type ProvidedActor } from 'xstate';
import { isRunManagerError } from '../../errors.js';
import type { CreateRunParams } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { createParams, doneOutput, failure, markRun, newestRunModifiers, thrownBy, withVariables, type StrategyOutcome } from './shared.js';
import type { CreatedRunRule } from './find-created-run.machine.js';
import type { ResolutionMode, StrategyInput } from './types.js';

/** Any strategy machine's input, whatever its options. */
export type AnyStrategyInput = StrategyInput<unknown>;

/** Where an invoking state goes when its actor is done and when it fails: the machine's own transitions. */
export interface Transitions<TDone, TError> {
  onDone: TDone;
  onError: TError;
}

/** A state that invokes one actor and is busy until it answers. */
export function invokingState<const TInvoke>(invoke: TInvoke) {
  return { tags: 'busy', invoke } as const;
}

/** An action on the `TOwn` part of a context, as a factory: `setup({ actions: { name: name() } })` types it per machine. */
export function sharedAssign<TOwn extends MachineContext, TOwnEvent extends EventObject = EventObject>(
  update: (args: { context: TOwn; event: TOwnEvent }) => Partial<TOwn>,
) {
  return <TContext extends TOwn, TEvent extends TOwnEvent, TActor extends ProvidedActor>() =>
    // TContext extends TOwn, so the keys `update` sets are TContext's own; TypeScript cannot see that for a generic TContext.
    assign<TContext, TEvent, undefined, TEvent, TActor>(({ context, event }) => update({ context, event }) as Partial<TContext>);
}

/**
 * How the strategies that reuse the session record's run start: a reset creates, a recorded run is
 * loaded (`loadingRun`), and without a record the run is created (`creating`).
 */
export const checkingRecordedRunState = {
  tags: 'busy',
  always: [{ guard: 'isReset', target: 'creating' }, { guard: 'hasCachedRun', target: 'loadingRun' }, { target: 'creating' }],
} as const;

export const readyState = { type: 'final', tags: 'ready' } as const;

export const errorState = { type: 'final', tags: 'error' } as const;

/** The body of a run the strategy makes: the run options' model and files, the session's scope, the create options. */
export function defaultCreateParams(context: AnyStrategyInput): CreateRunParams {
  return createParams(context.config, context.session, undefined, context.createOptions);
}

/** `POST run/` (invoke `createRun`) with {@link defaultCreateParams}, unless `params` builds the body. */
export function creatingState<TContext extends AnyStrategyInput, const TDone, const TError>({
  params = defaultCreateParams,
  onDone,
  onError,
}: Transitions<TDone, TError> & { params?: (context: TContext) => CreateRunParams }) {
  return invokingState({
    id: 'createRun',
    src: 'createRun',
    input: ({ context }: { context: TContext }) => ({ services: context.services, params: params(context) }),
    onDone,
    onError,
  });
}

/** The newest run `filter` matches (invoke `fetchLatest`), with the variables the callers asked for, in the strategy's paging `spelling`. */
export function fetchingLatestState<TContext extends AnyStrategyInput, const TDone, const TError>({
  filter,
  spelling,
  onDone,
  onError,
}: Transitions<TDone, TError> & { filter: (context: TContext) => RunFilter; spelling: 'lower' | 'camel' }) {
  return invokingState({
    id: 'fetchLatest',
    src: 'fetchLatest',
    input: ({ context }: { context: TContext }) => ({
      services: context.services,
      filter: filter(context),
      modifiers: withVariables(newestRunModifiers(spelling), context.variables),
    }),
    onDone,
    onError,
  });
}

/**
 * After a create whose answer was lost, the search for the run it made (invoke `findCreatedRun`):
 * `filter` finds the strategy's runs, `rule` tells the created one. The search never fails, so
 * there is no `onError`.
 */
export function recoveringState<TContext extends AnyStrategyInput, const TDone>({
  filter,
  rule,
  spelling,
  onDone,
}: {
  filter: (context: TContext) => RunFilter;
  rule: (context: TContext) => CreatedRunRule;
  spelling: 'lower' | 'camel';
  onDone: TDone;
}) {
  return invokingState({
    id: 'findCreatedRun',
    src: 'findCreatedRun',
    input: ({ context }: { context: TContext }) => ({ services: context.services, filter: filter(context), rule: rule(context), spelling }),
    onDone,
  });
}

/**
 * `GET run/{id}/` of the run `runId` names, with the variables the callers asked for: invoke `id`
 * (default `loadRun`) of actor `src` (default `loadRun`; `loadRunWithHeaders` also answers the headers).
 */
export function loadingRunState<
  TContext extends AnyStrategyInput,
  const TDone,
  const TError,
  const TId extends string = 'loadRun',
  const TSrc extends 'loadRun' | 'loadRunWithHeaders' = 'loadRun',
>({ id, src, runId, onDone, onError }: Transitions<TDone, TError> & { id?: TId; src?: TSrc; runId: (context: TContext) => string }) {
  return invokingState({
    // NoInfer: without `id` or `src` their defaults hold, not every invoke name of the machine.
    id: (id ?? 'loadRun') as NoInfer<TId>,
    src: (src ?? 'loadRun') as NoInfer<TSrc>,
    input: ({ context }: { context: TContext }) => ({ services: context.services, runId: runId(context), include: context.variables }),
    onDone,
    onError,
  });
}

export const isReset = ({ context }: { context: { mode: ResolutionMode } }) => context.mode === 'reset';

export const hasCachedRun = ({ context }: { context: AnyStrategyInput }) => context.cachedRun !== undefined;

/** Guard: the load failed because the run no longer exists (404). */
export const runIsGone = ({ event }: { event: EventObject }) => isRunManagerError(thrownBy(event), 'RUN_NOT_FOUND');

/** Guard: the recovery search found the run the lost create made. */
export const foundCreatedRun = ({ event }: { event: EventObject }) => doneOutput<Run | null>(event) !== null;

/** A strategy machine's context: whatever else it holds, its run or its error. */
export interface Outcome extends MachineContext, StrategyOutcome {}

/** `keepCreatedRun`: the run the create answered, marked fresh; a lost create's failure no longer stands. */
export const keepCreatedRun = sharedAssign<Outcome>(({ event }) => ({ run: markRun(doneOutput<Run>(event), true), error: null }));

export const keepLoadedRun = sharedAssign<Outcome>(({ event }) => ({ run: markRun(doneOutput<Run>(event), false) }));

export const rememberFailure = sharedAssign<Outcome>(({ event }) => ({ error: failure(thrownBy(event)) }));
