import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RunManagerError } from '../../../src/errors.js';
import {
  prepareUseSpecificRunOptions,
  useSpecificRunMachine,
  useSpecificRunStrategy,
  type UseSpecificRunOptions,
} from '../../../src/machines/strategies/use-specific-run.machine.js';
import { createFakeServices, httpError, notFound, runStrategy, strategyInput } from '../../helpers/fake-services.js';

type Fake = ReturnType<typeof createFakeServices>;

function input(fake: Fake, overrides: Parameters<typeof strategyInput<UseSpecificRunOptions>>[1] = {}) {
  return strategyInput<UseSpecificRunOptions>(fake, { session: { userId: 'u1' }, options: { runId: 'r1' }, ...overrides });
}

describe('useSpecificRunMachine', () => {
  it('getRun loads the given run: choosingByMode → loadingRun → ready', async () => {
    const fake = createFakeServices({
      runs: [
        { id: 'r1', model: 'model.py' },
        { id: 'r2', model: 'model.py' },
      ],
    });
    const result = await runStrategy(useSpecificRunMachine, input(fake, { cachedRun: { id: 'r2' } }));

    expect(result.path).toEqual(['choosingByMode', 'loadingRun', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([['load', ['r1']]]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'r1', freshlyCreated: false } });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('a run that does not exist ends in error with the client RUN_NOT_FOUND, never a new run', async () => {
    const fake = createFakeServices();
    const failure = notFound('r1');
    fake.fail('load', failure);
    const result = await runStrategy(useSpecificRunMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'loadingRun', 'error']);
    expect(fake.methods()).toEqual(['load']);
    expect(result.output).toEqual({ ok: false, error: failure });
    expect(result.finalTags).toEqual(['error']);
  });

  it('any other load failure is passed through', async () => {
    const fake = createFakeServices({ runs: [{ id: 'r1' }] });
    fake.fail('load', httpError(403));
    const result = await runStrategy(useSpecificRunMachine, input(fake));

    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED', status: 403 } });
  });

  it('reset ends in RESET_NOT_SUPPORTED without a request (original: a synchronous throw out of reset())', async () => {
    const fake = createFakeServices({ runs: [{ id: 'r1' }] });
    const result = await runStrategy(useSpecificRunMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'error']);
    expect(fake.calls).toEqual([]);
    expect(result.output.ok).toBe(false);
    const error = (result.output as { error: RunManagerError }).error;
    expect(error).toBeInstanceOf(RunManagerError);
    expect(error.type).toBe('RESET_NOT_SUPPORTED');
    expect(error.message).toBe('use-specific-run does not support reset');
    expect(result.finalTags).toEqual(['error']);
  });

  it('stopping the actor mid-load aborts the request', async () => {
    const fake = createFakeServices({ runs: [{ id: 'r1' }] });
    const held = fake.hold('load');
    const actor = createActor(useSpecificRunMachine, { input: input(fake) }).start();
    const signal = await held.called;

    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('useSpecificRunStrategy.prepareOptions', () => {
  it('accepts a non-empty runId', () => {
    expect(useSpecificRunStrategy.prepareOptions!({ runId: 'r1', other: 1 })).toEqual({ runId: 'r1' });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '  '],
    ['a number', 7],
    ['null', null],
  ])('rejects a runId that is %s, naming strategyOptions.runId', (_, runId) => {
    expect(() => prepareUseSpecificRunOptions({ runId })).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('strategyOptions.runId') }),
    );
  });

  it('is registered as a caching strategy (the manager still writes the session record)', () => {
    expect(useSpecificRunStrategy).toMatchObject({ name: 'use-specific-run', cachesRun: true, requiresAuth: false });
    expect(useSpecificRunStrategy.machine).toBe(useSpecificRunMachine);
  });
});
