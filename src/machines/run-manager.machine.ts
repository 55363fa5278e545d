/**
 * The run-manager statechart: one resolution at a time, composed of the chosen strategy machine.
 *
 * `idle → working (loadingSession → locked (waitingForLock → readingRecord → resolving → persisting)
 * → checkingVariables ⇄ fetchingVariables) → ready | error`.
 *
 * `GET_RUN` while working joins the resolution in progress; `RESET` while working is queued and
 * runs next (a `GET_RUN` after a queued reset joins that reset). Every caller is answered with an
 * emitted `settled` event carrying its request id; the facade turns those into promises.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import type { Coordinator } from '../services/coordination.js';
import type { SessionStore } from '../services/session-store.js';
import type { Run, UserSession } from '../types.js';
import { holdLock, type LockEvent } from './lock.js';
import { reusePerSessionMachine } from './strategies/reuse-per-session.machine.js';
import type { CachedRun, ResolutionMode, RunConfig, StrategyInput, StrategyOutput, StrategyServices } from './strategies/types.js';

/** One promise waiting for a resolution. */
export interface Caller {
  requestId: number;
  variables: string[];
}

/** I/O the run-manager machine needs besides the strategy's own services. */
export interface RunManagerServices extends StrategyServices {
  /** Resolves the user session (without its token; the facade keeps the token to itself). */
  loadSession(): Promise<UserSession>;
  /** Reads the validated session record for this key and user (`undefined` when absent or not theirs). */
  readRecord(key: string, session: UserSession): Promise<CachedRun | undefined>;
  /** Writes the session record for a run. */
  writeRecord(key: string, session: UserSession, run: Run): Promise<void>;
  /** Fetches variables of a run by name. */
  fetchVariables(runId: string, names: string[], signal: AbortSignal): Promise<Record<string, unknown>>;
  coordinator: Coordinator;
  sessionStore: SessionStore;
}

/**
 * Input of the run-manager machine.
 *
 * @example
 * ```ts
 * createActor(runManagerMachine.provide({ actors: { strategy: reusePerSessionMachine } }), { input });
 * ```
 */
export interface RunManagerInput {
  strategyName: string;
  requiresAuth: boolean;
  cachesRun: boolean;
  strategyOptions: Record<string, unknown>;
  config: RunConfig;
  /** The session key, or `false` when caching is off. */
  sessionKey: string | false;
  /** Names the single-flight lock when `sessionKey` is `false`. */
  lockKey: string;
  services: RunManagerServices;
}

/** Context of {@link runManagerMachine}. */
export interface RunManagerContext extends RunManagerInput {
  mode: ResolutionMode;
  createOptions: Record<string, unknown> | undefined;
  callers: Caller[];
  queuedReset: { callers: Caller[]; createOptions: Record<string, unknown> | undefined } | null;
  session: UserSession | null;
  cachedRun: CachedRun | undefined;
  /** The last resolved run (null before the first, or for strategies that return none). */
  run: Run | null;
  /** What a run-less strategy resolved (`none`, some legacy strategies). */
  value: unknown;
  error: RunManagerError | null;
  variables: Record<string, unknown>;
  /** Variable names already fetched (or given up on) for the current run. */
  attemptedVariables: string[];
  variablesFailed: boolean;
  /** The last resolution lost a create's answer without finding its run (the next one looks first). */
  createInDoubt: boolean;
}

/** Events the run-manager machine accepts. */
export type RunManagerEvent =
  | { type: 'GET_RUN'; requestId: number; variables?: string[]; createOptions?: Record<string, unknown> }
  | { type: 'RESET'; requestId: number; createOptions?: Record<string, unknown> }
  | LockEvent;

/** Events the run-manager machine emits (listen with `actor.on(type, …)`). */
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

/**
 * The run-manager statechart. Provide the strategy as the `strategy` actor.
 *
 * @example
 * ```ts
 * const machine = runManagerMachine.provide({ actors: { strategy: reuseAcrossSessionsMachine } });
 * const actor = createActor(machine, { input });
 * actor.on('settled', (event) => console.log(event));
 * actor.start();
 * actor.send({ type: 'GET_RUN', requestId: 1, variables: ['price'] });
 * ```
 */
export const runManagerMachine = setup({
  types: {
    context: {} as RunManagerContext,
    events: {} as RunManagerEvent,
    input: {} as RunManagerInput,
    emitted: {} as RunManagerEmitted,
    children: {} as {
      loadSession: 'loadSession';
      lock: 'holdLock';
      readRecord: 'readRecord';
      strategy: 'strategy';
      writeRecord: 'writeRecord';
      fetchVariables: 'fetchVariables';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: {
    loadSession: fromPromise<UserSession, { services: RunManagerServices }>(({ input }) => input.services.loadSession()),
    holdLock,
    readRecord: fromPromise<CachedRun | undefined, { services: RunManagerServices; key: string | false; session: UserSession }>(
      async ({ input }) => (input.key ? input.services.readRecord(input.key, input.session) : undefined),
    ),
    // The default strategy; a manager provides its own with `.provide({ actors: { strategy } })`.
    strategy: reusePerSessionMachine,
    writeRecord: fromPromise<void, { services: RunManagerServices; key: string | false; session: UserSession; run: Run | null }>(
      async ({ input }) => {
        if (input.key && input.run?.id) await input.services.writeRecord(input.key, input.session, input.run);
      },
    ),
    fetchVariables: fromPromise<Record<string, unknown>, { services: RunManagerServices; runId: string; names: string[] }>(
      ({ input, signal }) => input.services.fetchVariables(input.runId, input.names, signal),
    ),
  },
  guards: {
    lacksRequiredAuth: ({ context }, params: { session: UserSession }) => context.requiresAuth && !params.session.userId,
    strategySucceeded: (_, params: { output: StrategyOutput }) => params.output.ok,
    needsVariables: ({ context }) => missingVariables(context).length > 0,
    hasQueuedReset: ({ context }) => context.queuedReset !== null,
  },
  actions: {
    startGetRun: assign((_, params: { requestId: number; variables?: string[]; createOptions?: Record<string, unknown> }) =>
      fresh('getRun', [{ requestId: params.requestId, variables: params.variables ?? [] }], params.createOptions),
    ),
    startReset: assign((_, params: { requestId: number; createOptions?: Record<string, unknown> }) =>
      fresh('reset', [{ requestId: params.requestId, variables: [] }], params.createOptions),
    ),
    startQueuedReset: assign(({ context }) => fresh('reset', context.queuedReset?.callers ?? [], context.queuedReset?.createOptions)),
    clearQueuedReset: assign({ queuedReset: null }),
    rememberLockFailure: assign((_, params: { error: RunManagerError }) => ({ error: params.error })),
    joinResolution: assign(({ context }, params: { requestId: number; variables?: string[] }) => {
      const caller = { requestId: params.requestId, variables: params.variables ?? [] };
      // A getRun after a queued reset wants the run that reset makes.
      if (context.queuedReset) {
        return { queuedReset: { ...context.queuedReset, callers: [...context.queuedReset.callers, caller] } };
      }
      return { callers: [...context.callers, caller] };
    }),
    queueReset: assign(({ context }, params: { requestId: number; createOptions?: Record<string, unknown> }) => {
      const caller = { requestId: params.requestId, variables: [] };
      return {
        queuedReset: context.queuedReset
          ? { ...context.queuedReset, callers: [...context.queuedReset.callers, caller] }
          : { callers: [caller], createOptions: params.createOptions },
      };
    }),
    settleCallers: enqueueActions(({ context, enqueue }) => {
      for (const caller of context.callers) {
        let run = context.run;
        if (run && caller.variables.length > 0) {
          run = { ...run, variables: context.variablesFailed ? {} : pick(context.variables, caller.variables) };
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
    warn: enqueueActions(({ enqueue }, params: { message: string; error: unknown }) => {
      enqueue.emit({
        type: 'warning',
        message: params.message,
        error: toRunManagerError(params.error, 'HTTP_ERROR', params.message),
      });
    }),
  },
}).createMachine({
  id: 'run-manager',
  context: ({ input }) => ({
    ...input,
    ...fresh('getRun', [], undefined),
    queuedReset: null,
    createInDoubt: false,
    session: null,
    cachedRun: undefined,
    run: null,
    value: undefined,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        GET_RUN: { target: 'working', actions: { type: 'startGetRun', params: ({ event }) => event } },
        RESET: { target: 'working', actions: { type: 'startReset', params: ({ event }) => event } },
      },
    },
    working: {
      tags: 'busy',
      on: {
        GET_RUN: { actions: { type: 'joinResolution', params: ({ event }) => event } },
        RESET: { actions: { type: 'queueReset', params: ({ event }) => event } },
      },
      initial: 'loadingSession',
      states: {
        loadingSession: {
          invoke: {
            id: 'loadSession',
            src: 'loadSession',
            input: ({ context }) => ({ services: context.services }),
            onDone: [
              {
                guard: { type: 'lacksRequiredAuth', params: ({ event }) => ({ session: event.output }) },
                target: '#run-manager.error',
                actions: assign({
                  error: ({ context }) =>
                    new RunManagerError(
                      'UNAUTHORIZED',
                      `No user-session available: strategy '${context.strategyName}' requires a logged-in user`,
                    ),
                }),
              },
              { target: 'locked', actions: assign({ session: ({ event }) => event.output }) },
            ],
            onError: {
              target: '#run-manager.error',
              actions: assign({
                error: ({ event }) => toRunManagerError(event.error, 'UNAUTHORIZED', 'The session provider failed'),
              }),
            },
          },
        },
        locked: {
          invoke: {
            id: 'lock',
            src: 'holdLock',
            input: ({ context }) => ({
              coordinator: context.services.coordinator,
              name: `run-lifecycle:${context.sessionKey || context.lockKey}:${context.session?.userId ?? ''}`,
            }),
          },
          initial: 'waitingForLock',
          states: {
            waitingForLock: {
              on: {
                LOCK_ACQUIRED: 'readingRecord',
                LOCK_FAILED: { target: '#run-manager.error', actions: { type: 'rememberLockFailure', params: ({ event }) => event } },
              },
            },
            readingRecord: {
              invoke: {
                id: 'readRecord',
                src: 'readRecord',
                input: ({ context }) => ({
                  services: context.services,
                  key: context.cachesRun ? context.sessionKey : false,
                  session: context.session ?? {},
                }),
                onDone: { target: 'resolving', actions: assign({ cachedRun: ({ event }) => event.output }) },
                onError: {
                  target: 'resolving',
                  actions: [
                    assign({ cachedRun: undefined }),
                    { type: 'warn', params: ({ event }) => ({ message: 'Could not read the session store', error: event.error }) },
                  ],
                },
              },
            },
            resolving: {
              invoke: {
                id: 'strategy',
                src: 'strategy',
                input: ({ context }) => ({
                  mode: context.mode,
                  config: context.config,
                  session: context.session ?? {},
                  cachedRun: context.cachedRun,
                  options: context.strategyOptions,
                  createOptions: context.createOptions,
                  services: context.services,
                  createInDoubt: context.createInDoubt,
                  variables: unique(context.callers.flatMap((caller) => caller.variables)),
                }),
                onDone: [
                  {
                    guard: { type: 'strategySucceeded', params: ({ event }) => ({ output: event.output }) },
                    target: 'persisting',
                    actions: assign(({ event }) => {
                      const output = event.output;
                      if (!output.ok) return {};
                      // A run loaded or queried with include= already carries the variables asked for.
                      const carried = output.run ? carriedVariables(output.run) : {};
                      return {
                        run: output.run,
                        value: output.run ? undefined : output.value,
                        createInDoubt: false,
                        variables: carried,
                        attemptedVariables: Object.keys(carried),
                      };
                    }),
                  },
                  {
                    target: '#run-manager.error',
                    actions: assign({
                      error: ({ event }) => (event.output.ok ? null : event.output.error),
                      createInDoubt: ({ event }) => !event.output.ok && event.output.createInDoubt === true,
                    }),
                  },
                ],
                onError: {
                  target: '#run-manager.error',
                  actions: assign({ error: ({ event }) => toRunManagerError(event.error, 'HTTP_ERROR', 'The strategy failed') }),
                },
              },
            },
            persisting: {
              invoke: {
                id: 'writeRecord',
                src: 'writeRecord',
                input: ({ context }) => ({
                  services: context.services,
                  key: context.cachesRun ? context.sessionKey : false,
                  session: context.session ?? {},
                  run: context.run,
                }),
                onDone: '#run-manager.working.checkingVariables',
                onError: {
                  target: '#run-manager.working.checkingVariables',
                  actions: { type: 'warn', params: ({ event }) => ({ message: 'Could not write the session store', error: event.error }) },
                },
              },
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
            onDone: {
              target: 'checkingVariables',
              actions: assign(({ context, event }) => ({
                variables: { ...context.variables, ...event.output },
                attemptedVariables: unique([...context.attemptedVariables, ...missingVariables(context)]),
              })),
            },
            onError: {
              target: 'checkingVariables',
              actions: [
                assign(({ context }) => ({
                  variablesFailed: true,
                  attemptedVariables: unique([...context.attemptedVariables, ...missingVariables(context)]),
                })),
                { type: 'warn', params: ({ event }) => ({ message: 'Could not fetch the requested variables', error: event.error }) },
              ],
            },
          },
        },
      },
    },
    ready: {
      tags: 'ready',
      entry: 'settleCallers',
      always: { guard: 'hasQueuedReset', target: 'working', actions: ['startQueuedReset', 'clearQueuedReset'] },
      on: {
        GET_RUN: { target: 'working', actions: { type: 'startGetRun', params: ({ event }) => event } },
        RESET: { target: 'working', actions: { type: 'startReset', params: ({ event }) => event } },
      },
    },
    error: {
      tags: 'error',
      entry: 'failCallers',
      always: { guard: 'hasQueuedReset', target: 'working', actions: ['startQueuedReset', 'clearQueuedReset'] },
      on: {
        GET_RUN: { target: 'working', actions: { type: 'startGetRun', params: ({ event }) => event } },
        RESET: { target: 'working', actions: { type: 'startReset', params: ({ event }) => event } },
      },
    },
  },
});
