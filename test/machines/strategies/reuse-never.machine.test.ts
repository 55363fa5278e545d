import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { reuseNeverMachine, reuseNeverStrategy } from '../../../src/machines/strategies/reuse-never.machine.js';
import { createFakeServices, httpError, runStrategy, strategyInput } from '../../helpers/fake-services.js';

describe('reuseNeverMachine', () => {
  it('getRun without a cached run: creating → ready, one create', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    const result = await runStrategy(reuseNeverMachine, strategyInput(fake, { session: { userId: 'u1', groupName: 'g1' } }));

    expect(result.path).toEqual(['creating', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([['create', [{ model: 'model.py', scope: { group: 'g1' } }]]]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true } });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('never loads a cached run: exactly one request per getRun (original: GET of the cookie run, then create anyway)', async () => {
    const fake = createFakeServices({ runs: [{ id: 'old', model: 'model.py' }] });
    const result = await runStrategy(reuseNeverMachine, strategyInput(fake, { cachedRun: { id: 'old' } }));

    expect(fake.methods()).toEqual(['create']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-2', freshlyCreated: true } });
  });

  it('reset creates too, with the caller create options in the body', async () => {
    const fake = createFakeServices();
    const result = await runStrategy(
      reuseNeverMachine,
      strategyInput(fake, { mode: 'reset', cachedRun: { id: 'old' }, createOptions: { files: { data: 'x.xls' } } }),
    );

    expect(result.path).toEqual(['creating', 'ready']);
    expect(fake.callsTo('create')[0]!.args).toEqual([{ model: 'model.py', files: { data: 'x.xls' } }]);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });

  it('a failed create ends in error with the client error', async () => {
    const fake = createFakeServices();
    const failure = httpError(503);
    fake.fail('create', failure);
    const result = await runStrategy(reuseNeverMachine, strategyInput(fake));

    expect(result.path).toEqual(['creating', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
    expect(result.finalTags).toEqual(['error']);
  });

  it('stopping the actor mid-create aborts the request', async () => {
    const fake = createFakeServices();
    const held = fake.hold('create');
    const actor = createActor(reuseNeverMachine, { input: strategyInput(fake) }).start();
    const signal = await held.called;

    expect(signal?.aborted).toBe(false);
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('is registered without a session record', () => {
    expect(reuseNeverStrategy).toMatchObject({ name: 'reuse-never', cachesRun: false, requiresAuth: false });
    expect(reuseNeverStrategy.machine).toBe(reuseNeverMachine);
    expect(reuseNeverStrategy.prepareOptions).toBeUndefined();
  });
});
