import { createActor } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import {
  reuseByTrackingKeyMultiplayerMachine,
  reuseByTrackingKeyMultiplayerStrategy,
} from '../../../src/machines/strategies/reuse-by-tracking-key-multiplayer.machine.js';
import type { TrackingKeyOptions } from '../../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { httpError, notFound, runStrategy, strategyInput } from '../../helpers/fake-services.js';
import { createFakeWorldServices, type FakeWorldServices } from '../../helpers/fake-world-services.js';

const session = { userId: 'u1', groupName: 'g1' };
const body = { model: 'model.py', scope: { group: 'g1', trackingKey: 'tk1' } };
const countFilter = { scope: { group: 'g1', trackingKey: 'tk1', worldId: 'w1' }, trashed: false };
const newest = { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' };
const NO_USER = 'We need an authenticated user to join a multiplayer world. (ERR: no userId in session)';

function input(
  fake: FakeWorldServices,
  strategyOptions: Record<string, unknown>,
  overrides: Partial<StrategyInput<TrackingKeyOptions>> = {},
): StrategyInput<TrackingKeyOptions> {
  const options = reuseByTrackingKeyMultiplayerStrategy.prepareOptions!(strategyOptions) as unknown as TrackingKeyOptions;
  return strategyInput<TrackingKeyOptions>(fake, { session, options, ...overrides });
}

/** User u1 in world w1; `run` is the world's current run; `earlier` runs of w1 with tk1 already exist. */
function world(options: { run?: { id: string; trackingKey?: string }; earlier?: number } = {}): FakeWorldServices {
  const fake = createFakeWorldServices({ userId: 'u1' });
  fake.addWorld({ id: 'w1', group: 'g1', lastModified: '2021-01-01T00:00:00.000Z', ...(options.run ? { run: options.run.id } : {}) }, [
    'u1',
    'u2',
  ]);
  for (let i = 0; i < (options.earlier ?? 0); i += 1) {
    fake.addRun({ id: `e${i}`, created: `2020-01-0${i + 1}T00:00:00.000Z`, scope: { group: 'g1', trackingKey: 'tk1', worldId: 'w1' } });
  }
  if (options.run) {
    const scope = options.run.trackingKey
      ? { group: 'g1', worldId: 'w1', trackingKey: options.run.trackingKey }
      : { group: 'g1', worldId: 'w1' };
    fake.addRun({ id: options.run.id, model: 'model.py', scope });
  }
  return fake;
}

/** Every path that gets the world's lock starts so. */
const THROUGH_THE_LOCK = ['checkingSession', 'checkingSettings', 'findingWorld', 'locked.waitingForLock'];

describe('reuseByTrackingKeyMultiplayerMachine — getRun', () => {
  it('a world without a run: the world creates one with the tracking key; settings and world attached', async () => {
    const fake = world();
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path).toEqual([...THROUGH_THE_LOCK, 'locked.gettingWorldRun', 'locked.loadingRun', 'locked.applyingSettings', 'ready']);
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
        scope: { trackingKey: 'tk1', worldId: 'w1' },
        world: { id: 'w1' },
        settings: { trackingKey: 'tk1', runLimit: Infinity },
      },
    });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('a reused world run gets settings too (original: returned without settings)', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'other' } });
    const onCreate = vi.fn();
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1' }, onCreate }));

    expect(result.path).toEqual([...THROUGH_THE_LOCK, 'locked.loadingListedRun', 'ready']);
    // The world list names the run: no world-run call, which would only answer the same id.
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['load', ['wr1']],
    ]);
    expect(onCreate).not.toHaveBeenCalled();
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: 'wr1', freshlyCreated: false, world: { id: 'w1' }, settings: { trackingKey: 'tk1' } },
    });
  });

  it('with a limit and a world without a run, counts the world runs (group, no user.id) before the POST', async () => {
    const fake = world({ earlier: 1 });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path).toEqual([
      ...THROUGH_THE_LOCK,
      'locked.countingRuns',
      'locked.checkingLimit',
      'locked.gettingWorldRun',
      'locked.loadingRun',
      'locked.applyingSettings',
      'ready',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['query', [countFilter, newest]],
      ['currentRunId', ['w1', body]],
      ['load', ['run-1']],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true } });
  });

  it('getRun does not create past the run limit (original: unchecked)', async () => {
    const fake = world({ earlier: 2 });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path).toEqual([...THROUGH_THE_LOCK, 'locked.countingRuns', 'locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'query']);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'RUN_LIMIT_REACHED', message: 'You have reached your run limit and cannot create new runs.' },
    });
    expect(result.finalTags).toEqual(['error']);
  });

  it('with a limit and a world that has a run, joins it without counting', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' }, earlier: 2 });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 1 } }));

    expect(fake.methods()).toEqual(['currentWorldForUser', 'load']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr1', freshlyCreated: false, settings: { runLimit: 1 } } });
  });

  it('a listed run that is gone (404), no limit: the world-run call answers the current run, tagged and settled as created', async () => {
    const fake = world();
    fake.worlds[0]!.run = 'wr-gone';
    fake.reply('currentRunId', { runId: 'wr2', freshlyCreated: true });
    fake.addRun({ id: 'wr2', model: 'model.py', scope: { group: 'g1', worldId: 'w1', trackingKey: 'tk1' } });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path).toEqual([
      ...THROUGH_THE_LOCK,
      'locked.loadingListedRun',
      'locked.gettingWorldRun',
      'locked.loadingRun',
      'locked.applyingSettings',
      'ready',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['load', ['wr-gone']],
      ['currentRunId', ['w1', body]],
      ['load', ['wr2']],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr2', freshlyCreated: true, settings: { trackingKey: 'tk1' } } });
  });

  it('a listed run that is gone (404), with a limit: counts before the world-run call, which may create', async () => {
    const fake = world({ earlier: 1 });
    fake.worlds[0]!.run = 'wr-gone';
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path.slice(3)).toEqual([
      'locked.waitingForLock',
      'locked.loadingListedRun',
      'locked.countingRuns',
      'locked.checkingLimit',
      'locked.gettingWorldRun',
      'locked.loadingRun',
      'error',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['load', ['wr-gone']],
      ['query', [countFilter, newest]],
      ['currentRunId', ['w1', body]],
      ['load', ['wr-gone']],
    ]);
    // The world-run call still names the gone run: its load's 404 is the error, never a silent failure.
    expect(result.output).toMatchObject({ ok: false, error: { type: 'RUN_NOT_FOUND' } });
  });

  it('a listed run that is gone (404) at the run limit rejects RUN_LIMIT_REACHED without the world-run call', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' }, earlier: 1 });
    fake.fail('load', notFound('wr1'));
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path.slice(-4)).toEqual(['locked.loadingListedRun', 'locked.countingRuns', 'locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'load', 'query']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'RUN_LIMIT_REACHED' } });
  });

  it('a listed run whose load fails otherwise (503) ends in error without the world-run call', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' } });
    const failure = httpError(503);
    fake.fail('load', failure);
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 5 } }));

    expect(result.path.slice(-2)).toEqual(['locked.loadingListedRun', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'load']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });

  it('with a limit and no Content-Range total rejects INVALID_RESPONSE', async () => {
    const fake = world();
    fake.setQueryTotal(null);
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 3 } }));

    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_RESPONSE' } });
    expect(fake.methods()).toEqual(['currentWorldForUser', 'query']);
  });

  it('a run the world created without the tracking key gets it by PATCH, then onCreate may replace it', async () => {
    const fake = world();
    fake.addRun({ id: 'bare', model: 'model.py', scope: { group: 'g1', worldId: 'w1' } });
    fake.reply('currentRunId', { runId: 'bare', freshlyCreated: true });
    const onCreate = vi.fn(async (_rs: unknown, _settings: Record<string, unknown>, run: { id: string }) => ({ ...run, id: 'replaced' }));
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: async () => ({ trackingKey: 'tk1', week: 3 }), onCreate }),
    );

    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['currentRunId', ['w1', body]],
      ['load', ['bare']],
      ['save', ['bare', { 'scope.trackingKey': 'tk1' }]],
    ]);
    const [runService, settings, run] = onCreate.mock.calls[0]!;
    expect(runService).toBe(fake.services.runService);
    expect(settings).toEqual({ trackingKey: 'tk1', week: 3 });
    expect(run).toMatchObject({ id: 'bare', freshlyCreated: true, scope: { trackingKey: 'tk1' }, world: { id: 'w1' } });
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: 'replaced', freshlyCreated: true, world: { id: 'w1' }, settings: { trackingKey: 'tk1', week: 3 } },
    });
  });

  it('a world run reported as 201 goes through applySettings even if it already existed', async () => {
    const fake = world();
    fake.addRun({ id: 'wr1', model: 'model.py', scope: { group: 'g1', worldId: 'w1', trackingKey: 'tk1' } });
    fake.reply('currentRunId', { runId: 'wr1', freshlyCreated: true });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path.slice(-3)).toEqual(['locked.loadingRun', 'locked.applyingSettings', 'ready']);
    expect(fake.methods()).not.toContain('save');
    expect(result.output).toMatchObject({ ok: true, run: { id: 'wr1', freshlyCreated: true } });
  });

  it('a failing PATCH ends in the client error; a throwing onCreate in INVALID_RESPONSE', async () => {
    const patch = world();
    patch.addRun({ id: 'bare', model: 'model.py', scope: { worldId: 'w1' } });
    patch.reply('currentRunId', { runId: 'bare', freshlyCreated: true });
    const failure = httpError(500);
    patch.fail('save', failure);
    const patched = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(patch, { settings: { trackingKey: 'tk1' } }));
    expect(patched.path.slice(-2)).toEqual(['locked.applyingSettings', 'error']);
    expect(patched.output).toEqual({ ok: false, error: failure });

    const hook = world();
    const thrown = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(hook, { settings: { trackingKey: 'tk1' }, onCreate: () => Promise.reject(new Error('nope')) }),
    );
    expect(thrown.output).toMatchObject({ ok: false, error: { type: 'INVALID_RESPONSE', message: 'onCreate: nope' } });
  });

  it('without a userId rejects UNAUTHORIZED before settings or any request', async () => {
    const fake = world();
    const settings = vi.fn(() => ({ trackingKey: 'tk1' }));
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings }, { session: {} }));

    expect(result.path).toEqual(['checkingSession', 'error']);
    expect(settings).not.toHaveBeenCalled();
    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED', message: NO_USER } });
  });

  it('without a tracking key rejects NO_TRACKING_KEY before any request', async () => {
    const fake = world();
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: () => ({ trackingKey: '' }) }));

    expect(result.path).toEqual(['checkingSession', 'checkingSettings', 'resolvingSettings', 'error']);
    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'NO_TRACKING_KEY', message: 'No tracking key provided to reuse-by-tracking-key strategy' },
    });
  });

  it('a rejecting settings function ends in INVALID_OPTIONS', async () => {
    const fake = world();
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: () => Promise.reject('offline') }));

    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_OPTIONS', message: 'settings: offline' } });
  });

  it('a user in no world rejects NO_WORLD_FOR_USER', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path).toEqual(['checkingSession', 'checkingSettings', 'findingWorld', 'error']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NO_WORLD_FOR_USER', message: 'User u1 is not part of a world' } });
  });

  it.each([
    ['currentWorldForUser', 'findingWorld'],
    ['currentRunId', 'locked.gettingWorldRun'],
    ['load', 'locked.loadingRun'],
    ['query', 'locked.countingRuns'],
  ] as const)('a failing %s ends in error from %s', async (method, state) => {
    const fake = world();
    const failure = httpError(503);
    fake.fail(method, failure);
    const result = await runStrategy(reuseByTrackingKeyMultiplayerMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 5 } }));

    expect(result.path.slice(-2)).toEqual([state, 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('reuseByTrackingKeyMultiplayerMachine — reset', () => {
  it('without a limit: one world lookup, new world run with the tracking key, no query', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' } });
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1' } }, { mode: 'reset', createOptions: { files: { data: 'x.xls' } } }),
    );

    expect(result.path).toEqual([...THROUGH_THE_LOCK, 'locked.replacingWorldRun', 'locked.loadingRun', 'locked.applyingSettings', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['newRunForWorld', ['w1', { ...body, files: { data: 'x.xls' } }]],
      ['load', ['run-1']],
    ]);
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: 'run-1', freshlyCreated: true, world: { id: 'w1' }, settings: { trackingKey: 'tk1' } },
    });
  });

  it('with a limit: counts once (original: looked the world up twice), then replaces the world run', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' }, earlier: 1 });
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: '5' } }, { mode: 'reset' }),
    );

    expect(result.path).toEqual([
      ...THROUGH_THE_LOCK,
      'locked.countingRuns',
      'locked.checkingLimit',
      'locked.replacingWorldRun',
      'locked.loadingRun',
      'locked.applyingSettings',
      'ready',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['currentWorldForUser', [{ userId: 'u1', groupName: 'g1' }]],
      ['query', [countFilter, newest]],
      ['newRunForWorld', ['w1', body]],
      ['load', ['run-1']],
    ]);
  });

  it('at the limit rejects RUN_LIMIT_REACHED without touching the world run', async () => {
    const fake = world({ run: { id: 'wr1', trackingKey: 'tk1' }, earlier: 1 });
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }, { mode: 'reset' }),
    );

    expect(result.path.slice(-2)).toEqual(['locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser', 'query']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'RUN_LIMIT_REACHED' } });
  });

  it('reset with no world rejects NO_WORLD_FOR_USER (original: TypeError)', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }, { mode: 'reset' }),
    );

    expect(result.path).toEqual(['checkingSession', 'checkingSettings', 'findingWorld', 'error']);
    expect(fake.methods()).toEqual(['currentWorldForUser']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NO_WORLD_FOR_USER', message: 'User u1 is not part of a world' } });
  });

  it('reset without a userId rejects UNAUTHORIZED (original: no check)', async () => {
    const fake = world();
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1' } }, { mode: 'reset', session: { groupName: 'g1' } }),
    );

    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'UNAUTHORIZED' } });
  });

  it('a failing replacement ends in the client error', async () => {
    const fake = world();
    const failure = httpError(500);
    fake.fail('newRunForWorld', failure);
    const result = await runStrategy(
      reuseByTrackingKeyMultiplayerMachine,
      input(fake, { settings: { trackingKey: 'tk1' } }, { mode: 'reset' }),
    );

    expect(result.path.slice(-2)).toEqual(['locked.replacingWorldRun', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('reuseByTrackingKeyMultiplayerMachine — stopping', () => {
  it('stopping mid-PATCH aborts the request', async () => {
    const fake = world();
    fake.addRun({ id: 'bare', model: 'model.py', scope: { worldId: 'w1' } });
    fake.reply('currentRunId', { runId: 'bare', freshlyCreated: true });
    const held = fake.hold('save');
    const actor = createActor(reuseByTrackingKeyMultiplayerMachine, { input: input(fake, { settings: { trackingKey: 'tk1' } }) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toEqual({ locked: 'applyingSettings' });
    expect(signal?.aborted).toBe(false);
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('reuseByTrackingKeyMultiplayerStrategy', () => {
  it('is registered with a session record and the tracking-key prepareOptions', () => {
    expect(reuseByTrackingKeyMultiplayerStrategy).toMatchObject({
      name: 'reuse-by-tracking-key-multiplayer',
      cachesRun: true,
      requiresAuth: false,
    });
    expect(reuseByTrackingKeyMultiplayerStrategy.machine).toBe(reuseByTrackingKeyMultiplayerMachine);
    expect(() => reuseByTrackingKeyMultiplayerStrategy.prepareOptions!({ settings: { runLimit: 'abc' } })).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('settings.runLimit') }),
    );
  });
});
