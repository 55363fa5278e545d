import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { multiplayerMachine, multiplayerStrategy } from '../../../src/machines/strategies/multiplayer.machine.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { httpError, notFound, runStrategy, strategyInput } from '../../helpers/fake-services.js';
import { createFakeWorldServices, type FakeWorldServices } from '../../helpers/fake-world-services.js';

const session = { userId: 'u1', groupName: 'g1' };
const body = { model: 'model.py', scope: { group: 'g1' } };
const NO_USER = 'We need an authenticated user to join a multiplayer world. (ERR: no userId in session)';

function withWorld(run?: string): FakeWorldServices {
  const fake = createFakeWorldServices({ userId: 'u1' });
  fake.addWorld({ id: 'w-old', group: 'g1', lastModified: '2020-01-01T00:00:00.000Z' }, ['u1']);
  fake.addWorld({ id: 'w1', group: 'g1', lastModified: '2021-01-01T00:00:00.000Z', ...(run ? { run } : {}) }, ['u1', 'u2']);
  if (run) fake.addRun({ id: run, model: 'model.py', scope: { group: 'g1', worldId: 'w1' } });
  return fake;
}

function input(fake: FakeWorldServices, overrides: Partial<StrategyInput> = {}): StrategyInput {
  return strategyInput(fake, { session, ...overrides });
}

describe('multiplayerMachine — getRun', () => {
  it('a world without a current run: the world creates one (201), loaded with the world attached', async () => {
    const fake = withWorld();
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'gettingWorldRun', 'loadingRun', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['currentRunId', ['w1', body]],
      ['load', ['run-1']],
    ]);
    expect(result.output).toMatchObject({
      ok: true,
      run: {
        id: 'run-1',
        freshlyCreated: true,
        scope: { group: 'g1', worldId: 'w1' },
        world: { id: 'w1', users: [{ userId: 'u1' }, { userId: 'u2' }] },
      },
    });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('a world whose list names its current run: loads that run as reused, without the world-run call', async () => {
    const fake = withWorld('wr1');
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'loadingListedRun', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['load', ['wr1']],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr1', freshlyCreated: false, world: { id: 'w1', run: 'wr1' } } });
    expect(result.finalTags).toEqual(['ready']);
  });

  it('a listed run that is gone (404) falls back to the world-run call, which answers the current run', async () => {
    const fake = withWorld();
    fake.worlds.find((w) => w.id === 'w1')!.run = 'wr-gone';
    fake.reply('currentRunId', { runId: 'wr2', freshlyCreated: true });
    fake.addRun({ id: 'wr2', model: 'model.py', scope: { group: 'g1', worldId: 'w1' } });
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'loadingListedRun', 'gettingWorldRun', 'loadingRun', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['load', ['wr-gone']],
      ['currentRunId', ['w1', body]],
      ['load', ['wr2']],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr2', freshlyCreated: true, world: { id: 'w1' } } });
  });

  it('a listed run that is gone, and still named by the world-run call, ends in RUN_NOT_FOUND (never a silent failure)', async () => {
    const fake = withWorld();
    fake.worlds.find((w) => w.id === 'w1')!.run = 'wr-gone';
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path.slice(-4)).toEqual(['loadingListedRun', 'gettingWorldRun', 'loadingRun', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'load', 'currentRunId', 'load']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'RUN_NOT_FOUND' } });
  });

  it('a listed run whose load fails otherwise (503) ends in error without the world-run call', async () => {
    const fake = withWorld('wr1');
    const failure = httpError(503);
    fake.fail('load', failure);
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path.slice(-2)).toEqual(['loadingListedRun', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'load']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });

  it('freshlyCreated follows the world call: 201 is fresh, 200 is reused', async () => {
    const fresh = withWorld();
    fresh.setWorldRunStatus(201);
    expect((await runStrategy(multiplayerMachine, input(fresh))).output).toMatchObject({ ok: true, run: { freshlyCreated: true } });

    const reused = withWorld();
    reused.setWorldRunStatus(200);
    expect((await runStrategy(multiplayerMachine, input(reused))).output).toMatchObject({ ok: true, run: { freshlyCreated: false } });
  });

  it('without a userId rejects UNAUTHORIZED before any request', async () => {
    const fake = withWorld();
    const result = await runStrategy(multiplayerMachine, input(fake, { session: { groupName: 'g1' } }));

    expect(result.path).toEqual(['checkingSession', 'error']);
    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED', message: NO_USER } });
    expect(result.finalTags).toEqual(['error']);
  });

  it('a user in no world rejects NO_WORLD_FOR_USER', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NO_WORLD_FOR_USER', message: 'User u1 is not part of a world' } });
  });

  it('the cached run never leaks into the world-run body (original: stale cookie fields sent)', async () => {
    const fake = withWorld();
    await runStrategy(
      multiplayerMachine,
      input(fake, {
        cachedRun: { id: 'stale', scope: { worldId: 'w-gone', trackingKey: 'old' }, files: { data: 'old.xls' }, model: 'other.py' },
        createOptions: { files: { data: 'new.xls' } },
      }),
    );

    expect(fake.callsTo('currentRunId')[0]!.args).toEqual(['w1', { ...body, files: { data: 'new.xls' } }]);
  });

  it('without a group name looks the world up by user id only', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.addWorld({ id: 'w9', lastModified: '2022-01-01T00:00:00.000Z' }, ['u1']);
    const result = await runStrategy(multiplayerMachine, input(fake, { session: { userId: 'u1' } }));

    expect(fake.callsTo('currentWorldForUser')[0]!.args).toEqual([{ userId: 'u1' }]);
    expect(fake.callsTo('currentRunId')[0]!.args).toEqual(['w9', { model: 'model.py' }]);
    expect(result.output).toMatchObject({ ok: true, run: { world: { id: 'w9' } } });
  });

  it.each([
    ['currentWorldForUser', 'findingWorld'],
    ['currentRunId', 'gettingWorldRun'],
    ['load', 'loadingRun'],
  ] as const)('a failing %s ends in error from %s', async (method, state) => {
    const fake = withWorld();
    const failure = method === 'load' ? notFound('run-1') : httpError(502);
    fake.fail(method, failure);
    const result = await runStrategy(multiplayerMachine, input(fake));

    expect(result.path.slice(-2)).toEqual([state, 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('multiplayerMachine — reset', () => {
  it('gives the world a new run (DELETE + POST) and returns it as fresh', async () => {
    const fake = withWorld('wr1');
    const result = await runStrategy(multiplayerMachine, input(fake, { mode: 'reset', createOptions: { ephemeral: true } }));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'replacingWorldRun', 'loadingRun', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['newRunForWorld', ['w1', { ...body, ephemeral: true }]],
      ['load', ['run-1']],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true, world: { id: 'w1' } } });
  });

  it('reset is fresh even when the server answers 200', async () => {
    const fake = withWorld();
    fake.reply('newRunForWorld', { runId: 'wr2', freshlyCreated: false });
    fake.addRun({ id: 'wr2', model: 'model.py' });
    const result = await runStrategy(multiplayerMachine, input(fake, { mode: 'reset' }));

    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr2', freshlyCreated: true } });
  });

  it('reset with no world rejects NO_WORLD_FOR_USER (original: TypeError)', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(multiplayerMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['checkingSession', 'findingWorld', 'error']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NO_WORLD_FOR_USER', message: 'User u1 is not part of a world' } });
  });

  it('reset without a userId rejects UNAUTHORIZED before any request (original: no check)', async () => {
    const fake = withWorld();
    const result = await runStrategy(multiplayerMachine, input(fake, { mode: 'reset', session: {} }));

    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED', message: NO_USER } });
  });

  it('a failing world-run replacement ends in error', async () => {
    const fake = withWorld();
    const failure = httpError(500);
    fake.fail('newRunForWorld', failure);
    const result = await runStrategy(multiplayerMachine, input(fake, { mode: 'reset' }));

    expect(result.path.slice(-2)).toEqual(['replacingWorldRun', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('multiplayerMachine — stopping', () => {
  it('stopping mid-request aborts it', async () => {
    const fake = withWorld();
    const held = fake.hold('currentRunId');
    const actor = createActor(multiplayerMachine, { input: input(fake) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toBe('gettingWorldRun');
    expect(signal?.aborted).toBe(false);
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('stopping while loading the listed run aborts the load', async () => {
    const fake = withWorld('wr1');
    const held = fake.hold('load');
    const actor = createActor(multiplayerMachine, { input: input(fake) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toBe('loadingListedRun');
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('multiplayerStrategy', () => {
  it('is registered with a session record, its own user check, world scope and only the selfAssign option', () => {
    expect(multiplayerStrategy).toMatchObject({ name: 'multiplayer', cachesRun: true, requiresAuth: false, scopedBy: 'world' });
    expect(multiplayerStrategy.machine).toBe(multiplayerMachine);
    expect(multiplayerStrategy.optionKeys).toEqual(['selfAssign']);
    const prepare = multiplayerStrategy.prepareOptions!;
    expect(prepare({})).toEqual({});
    expect(prepare({ selfAssign: { role: 'buyer', objective: 'MAXIMUM' } })).toEqual({
      selfAssign: { role: 'buyer', objective: 'MAXIMUM' },
    });
    expect(() => prepare({ selfAssign: { role: 'buyer', objectve: 'MAXIMUM' } })).toThrow(/objectve/);
    expect(() => prepare({ selfAssign: { objective: 'MOST' } })).toThrow(/strategyOptions\.selfAssign\.objective must be one of/);
    expect(() => prepare({ selfAssign: { populace: [{ role: 'buyer', maximum: -1 }] } })).toThrow(/populace\[0\]\.maximum/);
  });
});
