/**
 * Model-based paths of the run-manager machine: getRun and reset from idle, ready and error;
 * callers joining a resolution and resets queued behind it (bounded to three waiting callers);
 * the session actor answering (a user with or without a record, no user, an unreadable store) or
 * failing (the provider, a missing user where one is required, the coordinator), and the replay
 * stopped while waiting for the lock or holding it (nothing may stay held); session-store writes
 * that fail; a strategy that answers, fails or crashes; variables fetched or not.
 *
 * The strategy is a one-request machine (`modelStrategy`) that loads the recorded run on a getRun and
 * otherwise creates one, through the real Run API client; variables come through the real client too. The coordinator, session provider and
 * session store are fakes that take their answers from the path's script.
 */
import { expect } from 'vitest';
import { assign, setup, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { isRunManagerError, RunManagerError } from '../../src/errors.js';
import {
  runManagerMachine,
  type RunManagerContext,
  type RunManagerInput,
  type RunManagerServices,
} from '../../src/machines/run-manager.machine.js';
import { createRun, loadRun } from '../../src/machines/strategies/actors.js';
import { createParams, failure, markRun, strategyOutput } from '../../src/machines/strategies/shared.js';
import type { StrategyInput, StrategyOutput } from '../../src/machines/strategies/types.js';
import { createMemorySessionStore } from '../../src/services/session-store.js';
import { createPathModel, type EventVariant, type OutcomeVariant } from '../../src/testing/index.js';
import type { Run } from '../../src/types.js';
import { config, createdRun, existingRun, session } from './support/fixtures.js';
import {
  done,
  errors,
  failed,
  http,
  MODEL,
  responses,
  returns,
  runPath,
  scriptedCall,
  throws,
  type ModelItem,
} from './support/http-script.js';
import { scriptedCoordinator, stoppedWhileLocked } from './support/lock.js';
import { liveServices, modelSuite } from './support/suite.js';

interface ModelStrategyContext extends StrategyInput {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * A strategy that loads the run the record names on a getRun, and otherwise creates one. An HTTP
 * error of the create is its answer (`{ ok: false }`); any other failure (a dropped connection) is
 * left unhandled, so the strategy actor itself fails.
 */
const modelStrategy = setup({
  types: { context: {} as ModelStrategyContext, input: {} as StrategyInput, output: {} as StrategyOutput },
  actors: { createRun, loadRun },
  guards: {
    isHttpError: (_, params: { error: unknown }) => isRunManagerError(params.error, 'HTTP_ERROR'),
    reusesRecordedRun: ({ context }) => context.mode === 'getRun' && context.cachedRun !== undefined,
  },
}).createMachine({
  id: 'model-strategy',
  context: ({ input }) => ({ ...input, run: null, error: null }),
  initial: 'choosing',
  output: ({ context }) => strategyOutput(context),
  states: {
    choosing: { always: [{ guard: 'reusesRecordedRun', target: 'loadingRun' }, { target: 'creating' }] },
    loadingRun: {
      invoke: {
        id: 'loadRun',
        src: 'loadRun',
        input: ({ context }) => ({ services: context.services, runId: context.cachedRun!.id }),
        onDone: { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output, false) }) },
      },
    },
    creating: {
      invoke: {
        id: 'createRun',
        src: 'createRun',
        input: ({ context }) => ({
          services: context.services,
          params: createParams(context.config, context.session, undefined, context.createOptions),
        }),
        onDone: { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output, true) }) },
        onError: {
          guard: { type: 'isHttpError', params: ({ event }) => ({ error: event.error }) },
          target: 'error',
          actions: assign({ error: ({ event }) => failure(event.error) }),
        },
      },
    },
    ready: { type: 'final' },
    error: { type: 'final' },
  },
});

const strategy: AnyStateMachine = modelStrategy;
const machine = runManagerMachine.provide({ actors: { strategy } });

const baseInput: RunManagerInput = {
  strategyName: 'model-strategy',
  requiresAuth: false,
  cachesRun: true,
  strategyOptions: {},
  config,
  sessionKey: 'epicenter-scenario-acme-sim-model.py',
  lockKey: 'acme-sim-model.py',
  services: {} as RunManagerServices,
};

const ctx = (snapshot: AnyMachineSnapshot): RunManagerContext => snapshot.context as RunManagerContext;
const hasKey = (snapshot: AnyMachineSnapshot) => ctx(snapshot).cachesRun && ctx(snapshot).sessionKey !== false;
const waiting = (snapshot: AnyMachineSnapshot) => ctx(snapshot).callers.length + (ctx(snapshot).queuedReset?.callers.length ?? 0);
const nextRequestId = (snapshot: AnyMachineSnapshot) => waiting(snapshot) + 1;
const willWrite = (snapshot: AnyMachineSnapshot) => hasKey(snapshot) && Boolean(ctx(snapshot).run?.id);

const record = { v: 1, runId: existingRun.id, id: existingRun.id, userId: 'u1', model: MODEL, savedAt: 1 };
/** The strategy loads the recorded run (a getRun with a record) rather than creating one. */
const reuses = (snapshot: AnyMachineSnapshot) => ctx(snapshot).mode === 'getRun' && ctx(snapshot).cachedRun !== undefined;
const creates = (snapshot: AnyMachineSnapshot) => !reuses(snapshot);
const variablesPath = (snapshot: AnyMachineSnapshot) => runPath(`${ctx(snapshot).run!.id}/variables/`);
const requiresAuth = (snapshot: AnyMachineSnapshot) => ctx(snapshot).requiresAuth;
const storeFailure = (message: string) => ({ message, error: new RunManagerError('HTTP_ERROR', 'store failed') });
/** The session actor's calls before it answers: the provider, the lock, then the record when there is a key. */
const prepared = (user: object, read?: ModelItem) => (snapshot: AnyMachineSnapshot) => [
  returns('loadSession', user),
  returns('acquire'),
  ...(hasKey(snapshot) && read ? [read] : []),
];

const events: Record<string, EventVariant<ModelItem>[]> = {
  GET_RUN: [
    { label: 'plain', event: (s) => ({ type: 'GET_RUN', requestId: nextRequestId(s), variables: [] }) },
    { label: 'price', event: (s) => ({ type: 'GET_RUN', requestId: nextRequestId(s), variables: ['price'] }) },
  ],
  RESET: [{ label: 'reset', event: (s) => ({ type: 'RESET', requestId: nextRequestId(s) }) }],
  // The session actor (provider → lock → record) answers with one of these itself.
  SESSION_READY: [
    {
      label: 'user, no record',
      produced: true,
      event: { type: 'SESSION_READY', session, cachedRun: undefined },
      script: prepared(session, returns('readRecord', undefined)),
    },
    {
      label: 'user, record',
      produced: true,
      when: hasKey,
      event: { type: 'SESSION_READY', session, cachedRun: record },
      script: prepared(session, returns('readRecord', record)),
    },
    {
      label: 'store unreadable',
      produced: true,
      when: hasKey,
      event: { type: 'SESSION_READY', session, cachedRun: undefined, warning: storeFailure('Could not read the session store') },
      script: prepared(session, throws('readRecord', new Error('store failed'))),
    },
    {
      label: 'no user',
      produced: true,
      when: (snapshot) => !requiresAuth(snapshot),
      event: { type: 'SESSION_READY', session: {}, cachedRun: undefined },
      script: prepared({}, returns('readRecord', undefined)),
    },
  ],
  SESSION_FAILED: [
    {
      label: 'provider fails',
      produced: true,
      event: { type: 'SESSION_FAILED', error: new RunManagerError('UNAUTHORIZED', 'The session provider failed: session provider failed') },
      script: [throws('loadSession', new Error('session provider failed'))],
    },
    {
      label: 'no user, auth required',
      produced: true,
      when: requiresAuth,
      event: { type: 'SESSION_FAILED', error: new RunManagerError('UNAUTHORIZED', 'No user-session available') },
      script: [returns('loadSession', {})],
    },
    {
      label: 'coordinator fails',
      produced: true,
      event: { type: 'SESSION_FAILED', error: new RunManagerError('INVALID_OPTIONS', 'coordinator.acquire failed: locks unavailable') },
      script: [returns('loadSession', session), throws('acquire', new Error('locks unavailable'))],
    },
  ],
  PERSISTED: [
    // Without a key or a run the actor writes nothing: it answers at once.
    { label: 'written', produced: true, event: { type: 'PERSISTED' }, script: (s) => (willWrite(s) ? [returns('writeRecord')] : []) },
    {
      label: 'write fails',
      produced: true,
      when: willWrite,
      event: { type: 'PERSISTED', warning: storeFailure('Could not write the session store') },
      script: [throws('writeRecord', new Error('store failed'))],
    },
  ],
};

const outcomes: Record<string, OutcomeVariant<ModelItem>[]> = {
  strategy: [
    {
      ...done(
        'reused',
        { ok: true, run: markRun(existingRun, false) },
        http('GET', runPath(`${existingRun.id}/`), { status: 200, json: existingRun }),
      ),
      when: reuses,
    },
    {
      ...done('created', { ok: true, run: markRun(createdRun, true) }, http('POST', runPath(), { status: 201, json: createdRun })),
      when: creates,
    },
    { ...done('503', { ok: false, error: errors.unavailable() }, http('POST', runPath(), responses.unavailable)), when: creates },
    { ...failed('crashed', errors.network(), http('POST', runPath(), responses.network)), when: creates },
  ],
  fetchVariables: [
    { label: 'values', output: { price: 1 }, script: (s) => [http('GET', variablesPath(s), { status: 200, json: { price: 1 } })] },
    { label: '503', error: errors.unavailable(), script: (s) => [http('GET', variablesPath(s), responses.unavailable)] },
  ],
};

const model = createPathModel<ModelItem>(machine, {
  inputs: {
    caching: baseInput,
    'requires auth': { ...baseInput, requiresAuth: true },
    'no caching': { ...baseInput, cachesRun: false },
  },
  outcomes,
  events,
  paths: 'shortest',
  scenarios: [
    // A reset queued behind a getRun runs to the end once that getRun is answered, and a getRun
    // sent after the reset joins the reset (it gets the reset's run).
    {
      input: 'caching',
      steps: [
        'GET_RUN: price',
        'RESET: reset',
        'GET_RUN: plain',
        'SESSION_READY: user, no record',
        'done: created',
        'PERSISTED: written',
        'done: values',
        'SESSION_READY: user, record',
        'done: created',
        'PERSISTED: written',
      ],
    },
    // Two getRun calls waiting for the lock, then a store that fails both ways.
    {
      input: 'caching',
      steps: [
        'GET_RUN: plain',
        'GET_RUN: price',
        'SESSION_READY: store unreadable',
        'done: created',
        'PERSISTED: write fails',
        'error: 503',
      ],
    },
  ],
  isComplete: (s) => s.matches('idle') || s.matches('ready') || s.matches('error'),
  filter: (s, event) => {
    if (!s.matches('working') || (event.type !== 'GET_RUN' && event.type !== 'RESET')) return true;
    if (waiting(s) >= 3) return false;
    // With nothing to write, persisting finishes at once: no event can come in between.
    return !s.matches({ working: { locked: 'persisting' } }) || willWrite(s);
  },
  // What decides the machine's next steps: the callers (their variables), the queued reset, the
  // mode, whether the strategy reuses the recorded run, whether a run is there once resolved, and
  // which variables were tried.
  serialize: (s) => {
    const c = ctx(s);
    return {
      value: s.value,
      callers: c.callers.map((caller) => caller.variables),
      queued: c.queuedReset?.callers.map((caller) => caller.variables) ?? null,
      ...(s.matches('working') ? { mode: c.mode, attempted: c.attemptedVariables } : {}),
      ...(s.matches({ working: { locked: 'resolving' } }) ? { reuses: reuses(s) } : {}),
      ...(s.matches({ working: { locked: 'persisting' } }) || s.matches({ working: 'fetchingVariables' }) ? { run: Boolean(c.run) } : {}),
    };
  },
});

modelSuite(
  'run-manager',
  model,
  (h, script, path) => {
    const { runApi, worldApi } = liveServices(h, script);
    const { coordinator, locks } = scriptedCoordinator(script);
    const services: RunManagerServices = {
      runApi,
      worldApi,
      runService: null,
      coordinator,
      sessionStore: createMemorySessionStore(),
      loadSession: () => scriptedCall(script, 'loadSession') as Promise<RunManagerContext['session'] & object>,
      readRecord: () => scriptedCall(script, 'readRecord') as ReturnType<RunManagerServices['readRecord']>,
      writeRecord: async () => {
        await scriptedCall(script, 'writeRecord');
      },
      fetchVariables: (runId, names, signal) => runApi.variables.query(runId, names, { signal }),
    };
    return {
      input: { ...(path.input as RunManagerInput), services },
      // Answered, failed, or stopped while waiting for the lock or holding it: nothing is left held.
      afterReplay: () => expect([locks.held, locks.waiting]).toEqual([0, 0]),
    };
  },
  { stopIn: stoppedWhileLocked },
);
