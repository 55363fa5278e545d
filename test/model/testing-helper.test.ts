/**
 * `run-lifecycle/testing` used as a user would: a custom strategy statechart written here, its
 * paths generated from outcome variants, replayed with in-memory fakes and with the user's own
 * services, and its coverage checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RunManagerError } from '../../src/index.js';
import * as strategyActors from '../../src/machines/strategies/actors.js';
import { markRun, strategyOutput } from '../../src/machines/strategies/shared.js';
import { type StrategyInput, type StrategyOutput } from '../../src/machines/strategies/types.js';
import type { RunApi } from '../../src/services/api-types.js';
import type { Run } from '../../src/types.js';
import { runManagerMachine, type RunManagerServices } from '../../src/machines/run-manager.machine.js';
import {
  createPathModel,
  createStrategyModel,
  formatCoverage,
  machineTransitions,
  ReplayError,
  replayPath,
  type PathScript,
} from '../../src/testing/index.js';

// ---- a custom strategy, as a user writes it ------------------------------------------------------

interface FavouriteContext extends StrategyInput {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * "favourite": keep the cached run while it is saved; without one, take the newest run; else create.
 * Reset creates.
 */
function favouriteMachine(options: { reuseUnsaved?: boolean } = {}) {
  return setup({
    types: { context: {} as FavouriteContext, input: {} as StrategyInput, output: {} as StrategyOutput },
    actors: { loadRun: strategyActors.loadRun, fetchLatest: strategyActors.fetchLatest, createRun: strategyActors.createRun },
    guards: {
      isReset: ({ context }) => context.mode === 'reset',
      hasCachedRun: ({ context }) => context.cachedRun !== undefined,
      // The bug a replay must catch: `reuseUnsaved` keeps runs that are not saved.
      isSaved: (_, params: { run: Run }) => options.reuseUnsaved === true || params.run.saved === true,
      foundOne: (_, params: { runs: Run[] }) => params.runs.length > 0,
    },
  }).createMachine({
    id: 'favourite',
    context: ({ input }) => ({ ...input, run: null, error: null }),
    initial: 'checkingSession',
    output: ({ context }) => strategyOutput(context),
    states: {
      checkingSession: {
        always: [{ guard: 'isReset', target: 'creating' }, { guard: 'hasCachedRun', target: 'loadingRun' }, { target: 'fetchingLatest' }],
      },
      loadingRun: {
        invoke: {
          id: 'loadRun',
          src: 'loadRun',
          input: ({ context }) => ({ services: context.services, runId: context.cachedRun!.id }),
          onDone: [
            {
              guard: { type: 'isSaved', params: ({ event }) => ({ run: event.output }) },
              target: 'ready',
              actions: assign({ run: ({ event }) => markRun(event.output, false) }),
            },
            { target: 'creating' },
          ],
          onError: { target: 'error', actions: assign({ error: ({ event }) => event.error as RunManagerError }) },
        },
      },
      fetchingLatest: {
        invoke: {
          id: 'fetchLatest',
          src: 'fetchLatest',
          input: ({ context }) => ({
            services: context.services,
            filter: { saved: true },
            modifiers: { sort: 'created', direction: 'desc' },
          }),
          onDone: [
            {
              guard: { type: 'foundOne', params: ({ event }) => ({ runs: event.output.runs }) },
              target: 'ready',
              actions: assign({ run: ({ event }) => markRun(event.output.runs[0]!, false) }),
            },
            { target: 'creating' },
          ],
          onError: { target: 'error', actions: assign({ error: ({ event }) => event.error as RunManagerError }) },
        },
      },
      creating: {
        invoke: {
          id: 'createRun',
          src: 'createRun',
          input: ({ context }) => ({ services: context.services, params: { model: context.config.model } }),
          onDone: { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output, true) }) },
          onError: { target: 'error', actions: assign({ error: ({ event }) => event.error as RunManagerError }) },
        },
      },
      ready: { type: 'final' },
      error: { type: 'final' },
    },
  });
}

const saved: Run = { id: 'r1', saved: true };
const unsaved: Run = { id: 'r1', saved: false };
const created: Run = { id: 'r2' };
const unavailable = new RunManagerError('HTTP_ERROR', 'HTTP 503', { status: 503 });

const outcomes = {
  loadRun: [
    { label: 'saved', output: saved },
    { label: 'unsaved', output: unsaved },
    { label: '503', error: unavailable },
  ],
  fetchLatest: [
    { label: 'empty', output: { runs: [], total: 0, range: null } },
    { label: 'one', output: { runs: [saved], total: 1, range: null } },
    { label: '503', error: unavailable },
  ],
  createRun: [
    { label: 'created', output: created },
    { label: '503', error: unavailable },
  ],
};

// ---- path tests in a few lines --------------------------------------------------------------------

const model = createStrategyModel(favouriteMachine(), {
  inputs: {
    'getRun (cached)': {
      mode: 'getRun',
      config: { account: 'acme', project: 'sim', model: 'model.py' },
      session: { userId: 'u1' },
      cachedRun: { id: 'r1' },
      options: {},
      createOptions: undefined,
      services: {} as StrategyInput['services'],
    },
  },
  outcomes,
});

describe('run-lifecycle/testing on a custom strategy', () => {
  describe('generated paths, replayed with in-memory fakes', () => {
    for (const path of model.paths) {
      it(path.name, async () => {
        await model.replay(path);
      });
    }

    it('covers every state and transition', () => {
      console.info(`[model] custom favourite strategy: ${model.paths.length} paths | ${formatCoverage(model.replayedCoverage())}`);
      expect(model.coverage.states.uncovered).toEqual([]);
      expect(model.coverage.transitions.uncovered).toEqual([]);
      expect(model.replayedCoverage()).toEqual(model.coverage);
      expect(model.coverage.transitions.total).toBe(machineTransitions(model.machine).length);
    });
  });

  it('describes each path by the states it passes through and the outcomes on the way', () => {
    const descriptions = model.paths.map((path) => `[${path.inputLabel}] ${path.description}`);
    expect(descriptions).toContain('[getRun] checkingSession → fetchingLatest (done: empty) → creating (done: created) → ready');
    expect(descriptions).toContain('[getRun (cached)] checkingSession → loadingRun (done: unsaved) → creating (error: 503) → error');
    expect(descriptions).toContain('[reset] checkingSession → creating (done: created) → ready');
    expect(new Set(model.paths.map((path) => path.name)).size).toBe(model.paths.length);
    // Every path ends where the machine is done, with the output it plans.
    const ends = model.paths.map((path) => path.end.output as StrategyOutput);
    expect(ends.every((output) => output.ok !== undefined)).toBe(true);
  });

  it('records the transient state and the transitions each step takes', () => {
    const path = model.paths.find((candidate) => candidate.description.startsWith('checkingSession → loadingRun (done: unsaved)'))!;
    expect(path.start.passedThrough).toEqual(['checkingSession', 'loadingRun']);
    expect(path.steps.map((step) => [step.label, step.value, step.kind, step.invokeId])).toEqual([
      ['done: unsaved', 'creating', 'done', 'loadRun'],
      [path.steps[1]!.label, path.steps[1]!.value, path.steps[1]!.kind, 'createRun'],
    ]);
  });

  it('fails a replay when the implementation does not do what the model says', async () => {
    const path = model.paths.find((candidate) => candidate.description.includes('(done: unsaved) → creating (done: created)'))!;
    const buggy = favouriteMachine({ reuseUnsaved: true });
    const failure = await replayPath(buggy, path).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReplayError);
    expect((failure as ReplayError).message).toMatch(/step 1 \(done: unsaved\): expected creating \(active\), got ready \(done\)/);
    expect((failure as ReplayError).step?.label).toBe('done: unsaved');
  });

  it('lists what no path covers when an outcome variant is missing', () => {
    const partial = createStrategyModel(favouriteMachine(), {
      modes: ['getRun'],
      outcomes: { fetchLatest: outcomes.fetchLatest, createRun: [{ label: 'created', output: created }] },
    });
    expect(partial.coverage.states.uncovered).toEqual(['loadingRun']);
    expect(partial.coverage.transitions.uncovered).toEqual([
      'checkingSession --always [isReset]--> creating',
      'checkingSession --always [hasCachedRun]--> loadingRun',
      'loadingRun --xstate.done.actor.loadRun [isSaved]--> ready',
      'loadingRun --xstate.done.actor.loadRun--> creating',
      'loadingRun --xstate.error.actor.loadRun--> error',
      'creating --xstate.error.actor.createRun--> error',
    ]);
    expect(formatCoverage(partial.coverage)).toMatch(/^states 5\/6 \(83\.33%\) — uncovered: loadingRun, transitions 5\/11 \(45\.45%\)/);
  });

  it('replays against your own services, which answer from the path script', async () => {
    // Each variant says what the user's services answer; the replay releases it when the path gets there.
    type Answer = { body: unknown } | { fail: RunManagerError };
    const own = createStrategyModel<Answer>(favouriteMachine(), {
      modes: ['getRun'],
      outcomes: {
        fetchLatest: [{ label: 'one', output: { runs: [saved], total: 1, range: null }, script: [{ body: [saved] }] }],
      },
    });
    const answer = async (script: PathScript<Answer>, signal?: AbortSignal) => {
      const { item } = await script.take({ what: 'query', ...(signal ? { signal } : {}) });
      if ('fail' in item) throw item.fail;
      return item.body;
    };
    const runApi = (script: PathScript<Answer>) =>
      ({
        query: async (_filter, _modifiers, request) => ({ runs: (await answer(script, request?.signal)) as Run[], total: 1, range: null }),
      }) as Pick<RunApi, 'query'> as RunApi;

    expect(own.paths.map((path) => path.description)).toEqual(['checkingSession → fetchingLatest (done: one) → ready']);
    const result = await own.replay(own.paths[0]!, {
      machine: () => own.machine,
      input: (script) => ({
        ...(script.path.input as StrategyInput),
        services: { runApi: runApi(script), worldApi: {} as never, runService: null },
      }),
    });
    expect(result.output).toEqual({ ok: true, run: { ...saved, freshlyCreated: false } });
    expect(result.snapshots.map((snapshot) => snapshot.value)).toEqual(['fetchingLatest', 'ready']);
  });

  it('includes scenarios as told and refuses steps that are not offered', () => {
    const told = createStrategyModel(favouriteMachine(), {
      modes: ['getRun'],
      paths: 'shortest',
      outcomes,
      scenarios: [{ input: 'getRun', steps: ['done: empty'] }],
    });
    expect(told.paths[0]!.description).toBe('checkingSession → fetchingLatest (done: empty) → creating (done: created) → ready');
    expect(() =>
      createStrategyModel(favouriteMachine(), { modes: ['getRun'], outcomes, scenarios: [{ input: 'getRun', steps: ['done: saved'] }] }),
    ).toThrow(/'done: saved' is not offered in fetchingLatest \(offered: done: empty, done: one, error: 503\)/);
  });

  it('is framework-agnostic: nothing in src/testing imports a test runner', () => {
    const dir = new URL('../../src/testing/', import.meta.url);
    for (const file of readdirSync(dir)) {
      expect(readFileSync(new URL(file, dir), 'utf8'), file).not.toMatch(/from ['"](vitest|jest|mocha|node:test)/);
    }
  });
});

// ---- delayed transitions (`after`) ---------------------------------------------------------------

interface PatientContext extends StrategyInput {
  run: Run | null;
  error: RunManagerError | null;
  retries: number;
}

/** "patient": query; when the query fails, wait (the named delay `retryDelay`) and query again, twice at most. */
const patientMachine = setup({
  types: { context: {} as PatientContext, input: {} as StrategyInput, output: {} as StrategyOutput },
  actors: { fetchLatest: strategyActors.fetchLatest },
  delays: { retryDelay: ({ context }) => 100 * 2 ** context.retries },
  guards: { canRetry: ({ context }) => context.retries < 2 },
}).createMachine({
  id: 'patient',
  context: ({ input }) => ({ ...input, run: null, error: null, retries: 0 }),
  initial: 'fetchingLatest',
  output: ({ context }) => strategyOutput(context),
  states: {
    fetchingLatest: {
      invoke: {
        id: 'fetchLatest',
        src: 'fetchLatest',
        input: ({ context }) => ({ services: context.services, filter: {}, modifiers: {} }),
        onDone: { target: 'ready', actions: assign({ run: ({ event }) => markRun(event.output.runs[0]!, false) }) },
        onError: [
          { guard: 'canRetry', target: 'waiting' },
          { target: 'error', actions: assign({ error: ({ event }) => event.error as RunManagerError }) },
        ],
      },
    },
    waiting: {
      after: { retryDelay: { target: 'fetchingLatest', actions: assign({ retries: ({ context }) => context.retries + 1 }) } },
    },
    ready: { type: 'final' },
    error: { type: 'final' },
  },
});

const patientOutcomes = {
  fetchLatest: [
    { label: 'one', output: { runs: [saved], total: 1, range: null } },
    { label: '503', error: unavailable },
  ],
};

describe('run-lifecycle/testing on a machine with delayed transitions', () => {
  // Replays wait for the actor's own timer: give the model a machine whose delays are short.
  const patient = createStrategyModel(patientMachine.provide({ delays: { retryDelay: 1 } }), {
    modes: ['getRun'],
    outcomes: patientOutcomes,
  });

  it('offers the delayed event as an `after: <delay>` step the actor takes by itself', () => {
    const path = patient.paths.find((candidate) => candidate.steps.some((step) => step.kind === 'after'))!;
    const after = path.steps.find((step) => step.kind === 'after')!;
    expect(after).toMatchObject({
      eventType: 'xstate.after.retryDelay.patient.waiting',
      label: 'after: retryDelay',
      variant: 'retryDelay',
      produced: true,
      script: [],
      value: 'fetchingLatest',
    });
    expect(patient.paths.map((candidate) => candidate.description)).toContain(
      'fetchingLatest (error: 503) → waiting (after: retryDelay) → fetchingLatest (error: 503) → waiting (after: retryDelay) → fetchingLatest (error: 503) → error',
    );
  });

  it('replays every path, waiting for the timers, and covers the delayed transition', async () => {
    for (const path of patient.paths) await patient.replay(path);
    expect(patient.coverage.transitions.uncovered).toEqual([]);
    expect(patient.replayedCoverage()).toEqual(patient.coverage);
    expect(machineTransitions(patient.machine).map((transition) => transition.label)).toContain(
      'waiting --xstate.after.retryDelay.patient.waiting--> fetchingLatest',
    );
  });

  it('never sends the delayed event itself: a delay longer than the step timeout fails the replay', async () => {
    const slow = createStrategyModel(patientMachine.provide({ delays: { retryDelay: 10_000 } }), {
      modes: ['getRun'],
      outcomes: patientOutcomes,
    });
    const path = slow.paths.find((candidate) => candidate.steps.some((step) => step.kind === 'after'))!;
    const failure = await slow.replay(path, { stepTimeoutMs: 100 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReplayError);
    expect((failure as ReplayError).message).toMatch(
      /timed out after 100 ms waiting for xstate\.after\.retryDelay\.patient\.waiting \(the actor takes it when its delay 'retryDelay' elapses\); the actor is in waiting/,
    );
    expect((failure as ReplayError).step?.label).toBe('after: retryDelay');
  });
});

describe('run-lifecycle/testing on any machine', () => {
  it('replays the run-manager machine with in-memory fakes, parent and child invokes waiting at once', async () => {
    const rm = createPathModel(runManagerMachine, {
      inputs: {
        default: {
          strategyName: 'fake',
          requiresAuth: false,
          cachesRun: true,
          strategyOptions: {},
          config: { account: 'acme', project: 'sim', model: 'model.py' },
          sessionKey: 'key',
          lockKey: 'lock',
          services: {} as RunManagerServices,
        },
      },
      events: {
        GET_RUN: [{ label: 'getRun', event: { type: 'GET_RUN', requestId: 1, variables: [] } }],
        RESET: [{ label: 'reset', event: { type: 'RESET', requestId: 2 } }],
        // The session actor answers itself; with in-memory fakes the replay sends its answers.
        SESSION_READY: [
          { label: 'no record', produced: true, event: { type: 'SESSION_READY', session: { userId: 'u1' }, cachedRun: undefined } },
          {
            label: 'store unreadable',
            produced: true,
            event: {
              type: 'SESSION_READY',
              session: { userId: 'u1' },
              cachedRun: undefined,
              warning: { message: 'Could not read the session store', error: new RunManagerError('HTTP_ERROR', 'store read failed') },
            },
          },
        ],
        PERSISTED: [{ label: 'written', produced: true, event: { type: 'PERSISTED' } }],
      },
      outcomes: {
        strategy: [
          { label: 'created', output: { ok: true, run: created } },
          { label: 'failed', output: { ok: false, error: unavailable } },
        ],
      },
      // Bound the self-loops: nobody joins or queues while a resolution is in progress.
      filter: (snapshot, event) => !(snapshot.matches('working') && (event.type === 'GET_RUN' || event.type === 'RESET')),
      isComplete: (snapshot) => snapshot.matches('ready') || snapshot.matches('error'),
    });
    for (const path of rm.paths) await rm.replay(path);
    const coverage = rm.replayedCoverage();
    // No variant makes the strategy crash, fetches variables, or queues a reset: those stay uncovered, and are listed.
    expect(coverage.transitions.uncovered).toContain('working.locked.resolving --xstate.error.actor.strategy--> error');
    expect(coverage.states.uncovered).toEqual(['working.fetchingVariables']);
    expect(
      rm.paths.some((path) =>
        path.description.includes('working.locked.waitingForLock (SESSION_READY: store unreadable) → working.locked.resolving'),
      ),
    ).toBe(true);
  });
});
