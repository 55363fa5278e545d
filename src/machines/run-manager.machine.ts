/**
 * The run-manager statechart: one resolution at a time, composed of the chosen strategy machine.
 * Every caller is answered with an emitted `settled` event carrying its request id; the facade turns those into promises.
 */
import { assertEvent, assign, createMachine, emit, enqueueActions, fromPromise, sendTo, setup, type AnyStateMachine } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import type { SessionStore } from '../services/session-store.js';
import { withFields } from '../services/values.js';
import type { Run, UserSession } from '../types.js';
import { holdSession, type SessionEvent, type SessionServices } from './hold-session.js';
import { doneOutput, startingContext, thrownBy } from './strategies/shared.js';
import type { CachedRun, ResolutionMode, RunConfig, StrategyInput, StrategyOutput, StrategyServices } from './strategies/types.js';

/** A `getRun` or `reset` waiting on the current resolution: its request id and the variables it asked for. */
export interface Caller {
  /** Answered by the `settled` event with this id. */
  requestId: number;
  /** Variable names this caller wants on the run. */
  variables: string[];
}

/** The I/O of the run-manager machine: the strategy's services plus the session, the record store and variables. */
export interface RunManagerServices extends Omit<StrategyServices, 'coordinator'>, SessionServices {
  /** Reads the named variables of a run after a strategy that could not include them. */
  fetchVariables(runId: string, names: string[], signal: AbortSignal): Promise<Record<string, unknown>>;
  /** Where session records live. */
  sessionStore: SessionStore;
}

/** Input of the run-manager machine. */
export interface RunManagerInput {
  /** The strategy's name, for messages. */
  strategyName: string;
  /** Reject `UNAUTHORIZED` before any request when there is no `userId`. */
  requiresAuth: boolean;
  /** Whether a session record is written. */
  cachesRun: boolean;
  /** The strategy's checked `strategyOptions`. */
  strategyOptions: Record<string, unknown>;
  /** The run options the strategy sees. */
  config: RunConfig;
  /** `false` when caching is off. */
  sessionKey: string | false;
  /** Names the single-flight lock when `sessionKey` is `false`. */
  lockKey: string;
  /** The I/O. */
  services: RunManagerServices;
}

/** The run-manager machine's context; UIs read `run`, `error` and `variables` from it. */
export interface RunManagerContext extends RunManagerInput {
  /** Whether the current resolution is a `getRun` or a `reset`. */
  mode: ResolutionMode;
  /** Create fields of the current resolution. */
  createOptions: Record<string, unknown> | undefined;
  /** The calls waiting for the current resolution. */
  callers: Caller[];
  /** A reset asked for while working, run next. */
  queuedReset: { callers: Caller[]; createOptions: Record<string, unknown> | undefined } | null;
  /** The user session of the current resolution, without its token. */
  session: UserSession | null;
  /** The run the session record points at. */
  cachedRun: CachedRun | undefined;
  /** Null before the first resolution, or for strategies that return none. */
  run: Run | null;
  /** What a run-less strategy resolved (`none`, some legacy strategies). */
  value: unknown;
  /** The last resolution's error, while in `error`. */
  error: RunManagerError | null;
  /** The variables fetched for the current run. */
  variables: Record<string, unknown>;
  /** Already fetched (or given up on) for the current run. */
  attemptedVariables: string[];
  /** Whether fetching variables failed (the run still resolves). */
  variablesFailed: boolean;
  /** The last resolution lost a create's answer without finding its run, so the next one looks first. */
  createInDoubt: boolean;
}

/** What the run-manager machine accepts: `GET_RUN` and `RESET` from the facade, and its session actor's events. */
export type RunManagerEvent =
  | { type: 'GET_RUN'; requestId: number; variables?: string[]; createOptions?: Record<string, unknown> }
  | { type: 'RESET'; requestId: number; createOptions?: Record<string, unknown> }
  | SessionEvent;

/**
 * What the run-manager machine emits (listen with `actor.on(type, …)`): `settled` once per caller, with its `requestId`
 * and the run (or a run-less strategy's `value`) or the error; `warning` for a failure that did not fail the call.
 */
export type RunManagerEmitted =
  | { type: 'settled'; requestId: number; ok: true; run: Run | null; value: unknown }
  | { type: 'settled'; requestId: number; ok: false; error: RunManagerError }
  | { type: 'warning'; message: string; error: RunManagerError };

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function missingVariables(context: RunManagerContext): string[] {
  if (!context.run) return [];
  const attempted = new Set(context.attemptedVariables);
  return unique(context.callers.flatMap((caller) => caller.variables)).filter((name) => !attempted.has(name));
}

function carriedVariables(run: Run): Record<string, unknown> {
  const { variables } = run;
  return variables !== null && typeof variables === 'object' && !Array.isArray(variables) ? variables : {};
}

function pick(values: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names) if (Object.hasOwn(values, name)) picked[name] = values[name];
  return picked;
}

function fresh(mode: ResolutionMode, callers: Caller[], createOptions: Record<string, unknown> | undefined) {
  return {
    mode,
    callers,
    createOptions,
    error: null,
    variables: {},
    attemptedVariables: [],
    variablesFailed: false,
  };
}

/** Stands in for the strategy until one is provided: it ends at once with an error. */
const noStrategy: AnyStateMachine = createMachine({
  id: 'no-strategy',
  initial: 'error',
  states: { error: { type: 'final' } },
  output: (): StrategyOutput => ({
    ok: false,
    error: new RunManagerError('INVALID_OPTIONS', 'No strategy: provide one as the `strategy` actor'),
  }),
});

/**
 * The run-manager statechart; provide the strategy as the `strategy` actor.
 * `idle → working (locked (waitingForLock → resolving → persisting) → checkingVariables ⇄
 * fetchingVariables) → ready | error`. The `session` actor, invoked by `locked`, holds the user's
 * session, the single-flight lock and the session record exactly while that state is active.
 * `GET_RUN` while working joins the resolution in progress; `RESET` while working is queued and
 * runs next (a `GET_RUN` after a queued reset joins that reset).
 */
export const runManagerMachine = setup({
  types: {
    context: {} as RunManagerContext,
    events: {} as RunManagerEvent,
    input: {} as RunManagerInput,
    emitted: {} as RunManagerEmitted,
    children: {} as { session: 'holdSession'; strategy: 'strategy'; fetchVariables: 'fetchVariables' },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: {
    holdSession,
    // A placeholder, so no strategy is bundled along: a manager provides its own.
    strategy: noStrategy,
    fetchVariables: fromPromise<Record<string, unknown>, { services: RunManagerServices; runId: string; names: string[] }>(
      ({ input, signal }) => input.services.fetchVariables(input.runId, input.names, signal),
    ),
  },
  guards: {
    strategySucceeded: ({ event }) => doneOutput<StrategyOutput>(event).ok,
    // The record read under this lock already names the run: writing it again would change nothing but `savedAt`.
    recordNamesRun: ({ context, event }) => {
      const output = doneOutput<StrategyOutput>(event);
      return output.ok && output.run !== null && context.cachedRun !== undefined && output.run.id === context.cachedRun.id;
    },
    needsVariables: ({ context }) => missingVariables(context).length > 0,
    hasQueuedReset: ({ context }) => context.queuedReset !== null,
  },
  actions: {
    startGetRun: assign(({ event }) => {
      assertEvent(event, 'GET_RUN');
      return fresh('getRun', [{ requestId: event.requestId, variables: event.variables ?? [] }], event.createOptions);
    }),
    startReset: assign(({ event }) => {
      assertEvent(event, 'RESET');
      return fresh('reset', [{ requestId: event.requestId, variables: [] }], event.createOptions);
    }),
    startQueuedReset: assign(({ context }) => ({
      ...fresh('reset', context.queuedReset?.callers ?? [], context.queuedReset?.createOptions),
      queuedReset: null,
    })),
    joinResolution: assign(({ context, event }) => {
      assertEvent(event, 'GET_RUN');
      const caller = { requestId: event.requestId, variables: event.variables ?? [] };
      // A getRun after a queued reset wants the run that reset makes.
      if (context.queuedReset) {
        return { queuedReset: { ...context.queuedReset, callers: [...context.queuedReset.callers, caller] } };
      }
      return { callers: [...context.callers, caller] };
    }),
    queueReset: assign(({ context, event }) => {
      assertEvent(event, 'RESET');
      const caller = { requestId: event.requestId, variables: [] };
      return {
        queuedReset: context.queuedReset
          ? { ...context.queuedReset, callers: [...context.queuedReset.callers, caller] }
          : { callers: [caller], createOptions: event.createOptions },
      };
    }),
    keepSession: assign(({ event }) => {
      assertEvent(event, 'SESSION_READY');
      return { session: event.session, cachedRun: event.cachedRun };
    }),
    rememberSessionFailure: assign(({ event }) => {
      assertEvent(event, 'SESSION_FAILED');
      return { error: event.error };
    }),
    warnAboutStore: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, ['SESSION_READY', 'PERSISTED']);
      if (event.warning) enqueue.emit({ type: 'warning', message: event.warning.message, error: event.warning.error });
    }),
    keepResolvedRun: assign(({ event }) => {
      const output = doneOutput<Extract<StrategyOutput, { ok: true }>>(event);
      // A run loaded or queried with include= already carries the variables asked for.
      const carried = output.run ? carriedVariables(output.run) : {};
      return {
        run: output.run,
        value: output.run ? undefined : (output as { value?: unknown }).value,
        createInDoubt: false,
        variables: carried,
        attemptedVariables: Object.keys(carried),
      };
    }),
    rememberStrategyFailure: assign(({ event }) => {
      const output = doneOutput<Extract<StrategyOutput, { ok: false }>>(event);
      return { error: output.error, createInDoubt: output.createInDoubt === true };
    }),
    rememberStrategyCrash: assign(({ event }) => ({ error: toRunManagerError(thrownBy(event), 'HTTP_ERROR', 'The strategy failed') })),
    persistRun: sendTo('session', ({ context }) => ({ type: 'PERSIST' as const, run: context.run })),
    keepVariables: assign(({ context, event }) => ({
      variables: { ...context.variables, ...doneOutput<Record<string, unknown>>(event) },
      attemptedVariables: unique([...context.attemptedVariables, ...missingVariables(context)]),
    })),
    giveUpOnVariables: enqueueActions(({ context, event, enqueue }) => {
      enqueue.assign({
        variablesFailed: true,
        attemptedVariables: unique([...context.attemptedVariables, ...missingVariables(context)]),
      });
      const message = 'Could not fetch the requested variables';
      enqueue(emit({ type: 'warning', message, error: toRunManagerError(thrownBy(event), 'HTTP_ERROR') }));
    }),
    settleCallers: enqueueActions(({ context, enqueue }) => {
      for (const caller of context.callers) {
        let run = context.run;
        if (run && caller.variables.length > 0) {
          run = withFields(run, { variables: context.variablesFailed ? {} : pick(context.variables, caller.variables) });
        }
        enqueue.emit({ type: 'settled', requestId: caller.requestId, ok: true, run, value: context.value });
      }
      enqueue.assign({ callers: [] });
    }),
    failCallers: enqueueActions(({ context, enqueue }) => {
      const error = context.error ?? new RunManagerError('INVALID_RESPONSE', 'The resolution failed without an error');
      for (const caller of context.callers) {
        enqueue.emit({ type: 'settled', requestId: caller.requestId, ok: false, error });
      }
      enqueue.assign({ callers: [] });
    }),
  },
}).createMachine({
  id: 'run-manager',
  context: ({ input }) =>
    startingContext(
      {
        queuedReset: null,
        createInDoubt: false,
        session: null,
        cachedRun: undefined,
        run: null,
        value: undefined,
        ...fresh('getRun', [], undefined),
      },
      input,
    ),
  initial: 'idle',
  states: {
    idle: {
      on: {
        GET_RUN: { target: 'working', actions: 'startGetRun' },
        RESET: { target: 'working', actions: 'startReset' },
      },
    },
    working: {
      tags: 'busy',
      on: {
        GET_RUN: { actions: 'joinResolution' },
        RESET: { actions: 'queueReset' },
      },
      initial: 'locked',
      states: {
        locked: {
          // The session, the single-flight lock and the record are held exactly as long as this state is active.
          invoke: {
            id: 'session',
            src: 'holdSession',
            input: ({ context }) => ({
              services: context.services,
              requiresAuth: context.requiresAuth,
              strategyName: context.strategyName,
              recordKey: context.cachesRun ? context.sessionKey : false,
              lockKey: context.sessionKey || context.lockKey,
            }),
          },
          initial: 'waitingForLock',
          states: {
            waitingForLock: {
              on: {
                SESSION_READY: { target: 'resolving', actions: ['keepSession', 'warnAboutStore'] },
                SESSION_FAILED: { target: '#run-manager.error', actions: 'rememberSessionFailure' },
              },
            },
            resolving: {
              invoke: {
                id: 'strategy',
                src: 'strategy',
                input: ({ context }: { context: RunManagerContext }): StrategyInput => ({
                  mode: context.mode,
                  config: context.config,
                  session: context.session ?? {},
                  cachedRun: context.cachedRun,
                  options: context.strategyOptions,
                  createOptions: context.createOptions,
                  services: context.services,
                  createInDoubt: context.createInDoubt,
                  variables: unique(context.callers.flatMap((caller: Caller) => caller.variables)),
                }),
                onDone: [
                  { guard: 'recordNamesRun', target: '#run-manager.working.checkingVariables', actions: 'keepResolvedRun' },
                  { guard: 'strategySucceeded', target: 'persisting', actions: 'keepResolvedRun' },
                  { target: '#run-manager.error', actions: 'rememberStrategyFailure' },
                ],
                onError: { target: '#run-manager.error', actions: 'rememberStrategyCrash' },
              },
            },
            persisting: {
              entry: 'persistRun',
              on: { PERSISTED: { target: '#run-manager.working.checkingVariables', actions: 'warnAboutStore' } },
            },
          },
        },
        checkingVariables: {
          always: [{ guard: 'needsVariables', target: 'fetchingVariables' }, { target: '#run-manager.ready' }],
        },
        fetchingVariables: {
          invoke: {
            id: 'fetchVariables',
            src: 'fetchVariables',
            input: ({ context }) => ({ services: context.services, runId: context.run!.id, names: missingVariables(context) }),
            onDone: { target: 'checkingVariables', actions: 'keepVariables' },
            onError: { target: 'checkingVariables', actions: 'giveUpOnVariables' },
          },
        },
      },
    },
    ready: {
      tags: 'ready',
      entry: 'settleCallers',
      always: { guard: 'hasQueuedReset', target: 'working', actions: 'startQueuedReset' },
      on: {
        GET_RUN: { target: 'working', actions: 'startGetRun' },
        RESET: { target: 'working', actions: 'startReset' },
      },
    },
    error: {
      tags: 'error',
      entry: 'failCallers',
      always: { guard: 'hasQueuedReset', target: 'working', actions: 'startQueuedReset' },
      on: {
        GET_RUN: { target: 'working', actions: 'startGetRun' },
        RESET: { target: 'working', actions: 'startReset' },
      },
    },
  },
});
