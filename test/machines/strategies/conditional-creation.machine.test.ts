import { createActor } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { RunManagerError } from '../../../src/errors.js';
import {
  checkCondition,
  ConditionalCreation,
  conditionalCreationMachine,
  conditionalCreationStrategy,
  prepareConditionalCreationOptions,
  type ConditionalCreationOptions,
  type CreationCondition,
} from '../../../src/machines/strategies/conditional-creation.machine.js';
import type { StrategyDefinition } from '../../../src/machines/strategies/types.js';
import { createFakeServices, httpError, runStrategy, strategyInput } from '../../helpers/fake-services.js';

type Fake = ReturnType<typeof createFakeServices>;

const session = { userId: 'u1', groupName: 'g1' };
const cachedRun = { id: 'r1', v: 1, userId: 'u1' };

function input(fake: Fake, condition: CreationCondition, overrides: Parameters<typeof strategyInput<ConditionalCreationOptions>>[1] = {}) {
  return strategyInput<ConditionalCreationOptions>(fake, { session, cachedRun, options: { condition }, ...overrides });
}

function withRun(): Fake {
  return createFakeServices({
    runs: [{ id: 'r1', model: 'model.py', created: '2024-01-01T00:00:00Z' }],
    loadHeaders: { pragma: 'persistent' },
  });
}

describe('conditionalCreationMachine', () => {
  it('keeps the loaded run when the condition is false: checkingSession → loadingRun → evaluatingCondition → ready', async () => {
    const fake = withRun();
    const condition = vi.fn<CreationCondition>(() => false);
    const result = await runStrategy(conditionalCreationMachine, input(fake, condition));

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'evaluatingCondition', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([['loadWithHeaders', ['r1']]]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'r1', freshlyCreated: false } });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('calls the condition with (run, headers, userSession, runSession)', async () => {
    const fake = withRun();
    const condition = vi.fn<CreationCondition>(() => false);
    await runStrategy(conditionalCreationMachine, input(fake, condition));

    expect(condition).toHaveBeenCalledTimes(1);
    const [run, headers, userSession, runSession] = condition.mock.calls[0]!;
    expect(run).toMatchObject({ id: 'r1', model: 'model.py' });
    expect(headers.get('pragma')).toBe('persistent');
    expect(userSession).toEqual(session);
    expect(runSession).toEqual(cachedRun);
  });

  it('creates when the condition is true: … → evaluatingCondition → creating → ready', async () => {
    const fake = withRun();
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, async () => true, { createOptions: { files: { a: 'b' } } }),
    );

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'evaluatingCondition', 'creating', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['loadWithHeaders', ['r1']],
      ['create', [{ model: 'model.py', scope: { group: 'g1' }, files: { a: 'b' } }]],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-2', freshlyCreated: true } });
  });

  it('creates without loading when there is no cached run', async () => {
    const fake = createFakeServices();
    const condition = vi.fn<CreationCondition>(() => false);
    const result = await runStrategy(conditionalCreationMachine, input(fake, condition, { cachedRun: undefined }));

    expect(result.path).toEqual(['checkingSession', 'creating', 'ready']);
    expect(fake.methods()).toEqual(['create']);
    expect(condition).not.toHaveBeenCalled();
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });

  it('reset creates without loading the cached run', async () => {
    const fake = withRun();
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => false, { mode: 'reset' }),
    );

    expect(result.path).toEqual(['checkingSession', 'creating', 'ready']);
    expect(fake.methods()).toEqual(['create']);
  });

  it('a cached run that is gone (404) means create', async () => {
    const fake = createFakeServices();
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => false),
    );

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'creating', 'ready']);
    expect(fake.methods()).toEqual(['loadWithHeaders', 'create']);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });

  it("a 503 on load is an error, not a new run (the original silently abandoned the user's run on any load failure)", async () => {
    const fake = withRun();
    const failure = httpError(503);
    fake.fail('loadWithHeaders', failure);
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => true),
    );

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'error']);
    expect(fake.methods()).toEqual(['loadWithHeaders']);
    expect(result.output).toEqual({ ok: false, error: failure });
    expect(result.finalTags).toEqual(['error']);
  });

  it('a 401 on load is an error too', async () => {
    const fake = withRun();
    fake.fail('loadWithHeaders', httpError(401));
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => true),
    );

    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED', status: 401 } });
  });

  it('a condition that throws ends in error (INVALID_RESPONSE naming strategyOptions.condition)', async () => {
    const fake = withRun();
    const boom = new Error('boom');
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => {
        throw boom;
      }),
    );

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'evaluatingCondition', 'error']);
    expect(fake.methods()).toEqual(['loadWithHeaders']);
    const error = (result.output as { error: RunManagerError }).error;
    expect(error).toBeInstanceOf(RunManagerError);
    expect(error.type).toBe('INVALID_RESPONSE');
    expect(error.message).toBe('strategyOptions.condition threw: boom');
    expect(error.cause).toBe(boom);
  });

  it('a condition that rejects ends in error too', async () => {
    const fake = withRun();
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => Promise.reject(new Error('nope'))),
    );

    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'INVALID_RESPONSE', message: 'strategyOptions.condition threw: nope' },
    });
  });

  it('a failed create ends in error (and is not retried: original tried the create twice)', async () => {
    const fake = withRun();
    fake.fail('create', httpError(500));
    const result = await runStrategy(
      conditionalCreationMachine,
      input(fake, () => true),
    );

    expect(result.path).toEqual(['checkingSession', 'loadingRun', 'evaluatingCondition', 'creating', 'error']);
    expect(fake.methods()).toEqual(['loadWithHeaders', 'create']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'HTTP_ERROR', status: 500 } });
  });

  it('stopping the actor mid-load aborts the request', async () => {
    const fake = withRun();
    const held = fake.hold('loadWithHeaders');
    const actor = createActor(conditionalCreationMachine, { input: input(fake, () => false) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toBe('loadingRun');
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('stopping the actor mid-create aborts the request', async () => {
    const fake = withRun();
    const held = fake.hold('create');
    const actor = createActor(conditionalCreationMachine, { input: input(fake, () => true) }).start();
    const signal = await held.called;

    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('a condition that answers after the actor stopped changes nothing (no create)', async () => {
    const fake = withRun();
    let answer!: (value: boolean) => void;
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    const condition: CreationCondition = () => {
      asked();
      return new Promise<boolean>((resolve) => (answer = resolve));
    };
    const actor = createActor(conditionalCreationMachine, { input: input(fake, condition) }).start();
    await wasAsked;

    expect(actor.getSnapshot().value).toBe('evaluatingCondition');
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);
    actor.stop();
    answer(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(actor.getSnapshot().status).toBe('stopped');
    expect(fake.methods()).toEqual(['loadWithHeaders']);
  });
});

describe('checkCondition', () => {
  it('coerces a truthy answer to true', async () => {
    const actor = createActor(checkCondition, {
      input: { condition: (() => 1) as never, run: { id: 'r1' }, headers: new Headers(), session: {}, cachedRun: { id: 'r1' } },
    }).start();
    await vi.waitFor(() => expect(actor.getSnapshot().status).toBe('done'));
    expect(actor.getSnapshot().output).toBe(true);
  });
});

describe('conditional-creation options', () => {
  const condition: CreationCondition = () => false;

  it('prepareOptions takes strategyOptions.condition', () => {
    expect(conditionalCreationStrategy.prepareOptions!({ condition, other: 1 })).toEqual({ condition });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
  ])('prepareOptions rejects a condition that is %s', (_, value) => {
    expect(() => prepareConditionalCreationOptions({ condition: value })).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('strategyOptions.condition is required') }),
    );
  });

  it.each([
    ['true', true],
    ['a string', 'always'],
    ['an object (the manager options, as the original passed by name)', { run: {} }],
  ])('a non-function condition (%s) is refused, not turned into a constant (as the original did)', (_, value) => {
    expect(() => conditionalCreationStrategy.prepareOptions!({ condition: value })).toThrow(
      expect.objectContaining({
        type: 'INVALID_OPTIONS',
        message: expect.stringContaining('strategyOptions.condition must be a function'),
      }),
    );
  });

  it('by name without a condition is refused (original: always recreated)', () => {
    expect(() => conditionalCreationStrategy.prepareOptions!({})).toThrow(expect.objectContaining({ type: 'INVALID_OPTIONS' }));
  });

  it('new ConditionalCreation(fn) binds the condition, as the original library did', () => {
    const definition = new ConditionalCreation(condition);

    expect(definition).toMatchObject({ name: 'conditional-creation', cachesRun: true, requiresAuth: false, boundOptions: { condition } });
    expect(definition.machine).toBe(conditionalCreationMachine);
    // What the manager does: prepareOptions({ ...boundOptions, ...strategyOptions }).
    expect(definition.prepareOptions!({ ...definition.boundOptions })).toEqual({ condition });
    expect(definition.prepareOptions!({})).toEqual({ condition });
    expect(definition.prepareOptions!({ ...definition.boundOptions, condition: undefined })).toEqual({ condition });
  });

  it('ConditionalCreation works without new, and a strategyOptions.condition wins over the bound one', () => {
    const other: CreationCondition = () => true;
    const definition = ConditionalCreation(condition);

    expect(definition.prepareOptions!({ ...definition.boundOptions, condition: other })).toEqual({ condition: other });
    expect(() => definition.prepareOptions!({ condition: 'x' })).toThrow(expect.objectContaining({ type: 'INVALID_OPTIONS' }));
  });

  it('ConditionalCreation refuses a missing or non-function condition', () => {
    expect(() => new ConditionalCreation(undefined as never)).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('strategyOptions.condition') }),
    );
    expect(() => ConditionalCreation(true as never)).toThrow(expect.objectContaining({ type: 'INVALID_OPTIONS' }));
  });

  it('ConditionalCreation is itself the conditional-creation definition (for the registry and byName)', () => {
    const asDefinition: StrategyDefinition = ConditionalCreation;

    expect(asDefinition.name).toBe('conditional-creation');
    expect(asDefinition.machine).toBe(conditionalCreationMachine);
    expect(asDefinition.cachesRun).toBe(true);
    expect(asDefinition.requiresAuth).toBe(false);
    expect(asDefinition.prepareOptions!({ condition })).toEqual({ condition });
    expect(conditionalCreationStrategy).toMatchObject({ name: 'conditional-creation', machine: conditionalCreationMachine });
  });

  it('a bound definition runs the machine with the bound condition', async () => {
    const fake = withRun();
    const definition = new ConditionalCreation(() => true);
    const options = definition.prepareOptions!({ ...definition.boundOptions }) as unknown as ConditionalCreationOptions;
    const result = await runStrategy(definition.machine, input(fake, options.condition));

    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });
});
