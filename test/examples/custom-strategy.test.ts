/**
 * Model-based paths of the favourite-run example strategy (examples/custom-strategy), generated
 * with `run-lifecycle/testing` from the machine's own definition: favourite found, newest found,
 * nothing found, each query failing, and a create that succeeds, fails or loses its answer (then
 * `recovering` finds the run or gives up). Every path is replayed twice: on in-memory fake actors,
 * and on the real actors with a Run API that answers from the path's script and checks what it is asked.
 */
import { describe, expect, it } from 'vitest';
import { RunManagerError, type Run, type RunFilter } from 'run-lifecycle';
import { findCreatedRunMachine, type RunApi, type RunQueryResult, type StrategyServices } from 'run-lifecycle/strategies';
import { createStrategyModel, formatCoverage, placeholderServices, type OutcomeVariant, type PathScript } from 'run-lifecycle/testing';
import { favouriteMachine } from '../../examples/custom-strategy/favourite.machine.js';

/** What the Run API answers, one item per request: a query result, a created run, or an error. */
type Answer = RunQueryResult | Run | RunManagerError;

const favourite: Run = { id: 'r-fav', model: 'model.py', favourite: true };
const newest: Run = { id: 'r-new', model: 'model.py' };
const created: Run = { id: 'r-created', model: 'model.py' };
const found = (run: Run): RunQueryResult => ({ runs: [run], total: 1, range: null });
const empty: RunQueryResult = { runs: [], total: 0, range: null };
const unavailable = new RunManagerError('HTTP_ERROR', 'HTTP 503', { status: 503 });
const lost = new RunManagerError('NETWORK_ERROR', 'socket hang up');

/** An outcome of one request: the actor's output (or error), and the answer that produces it. */
function answer(label: string, value: Answer): OutcomeVariant<Answer> {
  return value instanceof RunManagerError ? { label, error: value, script: [value] } : { label, output: value, script: [value] };
}

const model = createStrategyModel<Answer>(favouriteMachine, {
  input: { session: { userId: 'u1', groupName: 'g1' }, options: { favourite: { favourite: true } } },
  outcomes: {
    fetchFavourite: [answer('favourite', found(favourite)), answer('none', empty), answer('503', unavailable)],
    fetchNewest: [answer('newest', found(newest)), answer('none', empty), answer('503', unavailable)],
    createRun: [answer('created', created), answer('503', unavailable), answer('answer lost', lost)],
    // The lost-create search as a whole: its first look finds the run, or all four looks find nothing.
    findCreatedRun: [
      { label: 'found', output: created, script: [found(created)] },
      { label: 'gave up', output: null, script: [empty, empty, empty, empty] },
    ],
  },
});

/** A Run API that answers from the script and fails the replay when a query is not this user's. */
function scriptedServices(script: PathScript<Answer>): StrategyServices {
  const next = async (signal: AbortSignal | undefined) => {
    const { item } = await script.take({ signal, what: 'a Run API answer' });
    if (item instanceof RunManagerError) throw item;
    return item;
  };
  const runApi: Pick<RunApi, 'query' | 'create'> = {
    async query(filter: RunFilter, _modifiers, options) {
      if (filter['user.id'] !== 'u1' || filter.model !== 'model.py' || filter.trashed !== false) {
        script.fail(`a query for other runs than u1's: ${JSON.stringify(filter)}`);
      }
      return (await next(options?.signal)) as RunQueryResult;
    },
    async create(params, options) {
      if (params.model !== 'model.py') script.fail(`a create of another model: ${JSON.stringify(params)}`);
      return (await next(options?.signal)) as Run;
    },
  };
  return { ...placeholderServices(), runApi: runApi as RunApi };
}

// The search waits between looks on its own timer: 1 ms here, not 200 ms and up.
const quick = favouriteMachine.provide({
  actors: { findCreatedRun: findCreatedRunMachine.provide({ delays: { waitBeforeLookingAgain: 1 } }) },
});

describe('favourite-run model', () => {
  // e.g. "#3 [getRun] choosingByMode → fetchingFavourite (done: none) → fetchingLatest (done: newest) → ready"
  for (const path of model.paths) {
    it(`${path.name} (fake actors)`, async () => {
      const { output } = await model.replay(path);
      expect(output).toMatchObject(path.end.value === 'ready' ? { ok: true } : { ok: false });
    });

    it(`${path.name} (scripted Run API)`, async () => {
      await model.replay(path, {
        machine: () => quick,
        input: (script) => ({ ...(path.input as object), services: scriptedServices(script) }),
      });
    });
  }

  it('marks a run new exactly when this resolution created it', () => {
    for (const path of model.paths) {
      const output = path.end.output as { ok: boolean; run?: Run };
      if (!output.ok) continue;
      const createdHere = path.steps.some((step) => step.invokeId === 'createRun' || step.invokeId === 'findCreatedRun');
      expect(output.run?.freshlyCreated, path.name).toBe(createdHere);
    }
  });

  it('covers every state and transition', () => {
    console.log(`favourite-run: ${formatCoverage(model.replayedCoverage())}`); // states 7/7 (100%), transitions 13/13 (100%)
    expect(model.coverage.transitions.uncovered).toEqual([]);
    expect(model.replayedCoverage().states.uncovered).toEqual([]);
    expect(model.replayedCoverage().transitions.uncovered).toEqual([]);
  });
});
