import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { noneMachine, noneStrategy } from '../../../src/machines/strategies/none.machine.js';
import { createFakeServices, runStrategy, strategyInput } from '../../helpers/fake-services.js';

describe('noneMachine', () => {
  it.each(['getRun', 'reset'] as const)('%s ends in ready with no run and no request', async (mode) => {
    const fake = createFakeServices({ runs: [{ id: 'r1' }] });
    const result = await runStrategy(noneMachine, strategyInput(fake, { mode, cachedRun: { id: 'r1' }, session: { userId: 'u1' } }));

    expect(result.path).toEqual(['ready']);
    expect(result.output).toEqual({ ok: true, run: null, value: undefined });
    expect(fake.calls).toEqual([]);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('is done as soon as it starts', () => {
    const fake = createFakeServices();
    const actor = createActor(noneMachine, { input: strategyInput(fake) }).start();

    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().hasTag('ready')).toBe(true);
  });

  it('is registered without a session record or options', () => {
    expect(noneStrategy).toMatchObject({ name: 'none', cachesRun: false, requiresAuth: false });
    expect(noneStrategy.machine).toBe(noneMachine);
    expect(noneStrategy.prepareOptions).toBeUndefined();
  });
});
