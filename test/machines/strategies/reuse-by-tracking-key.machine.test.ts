import { createActor } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { RunManagerError } from '../../../src/errors.js';
import { reuseByTrackingKeyMachine, reuseByTrackingKeyStrategy } from '../../../src/machines/strategies/reuse-by-tracking-key.machine.js';
import type { TrackingKeyOptions } from '../../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createProcessCoordinator } from '../../../src/services/coordination.js';
import { httpError, quickFindCreatedRun, runStrategy, strategyInput } from '../../helpers/fake-services.js';
import { createFakeWorldServices, type FakeWorldServices } from '../../helpers/fake-world-services.js';

const session = { userId: 'u1', groupName: 'g1' };
const filter = { scope: { group: 'g1', trackingKey: 'tk1' }, trashed: false, 'user.id': 'u1' };
const newest = { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' };
const body = { model: 'model.py', scope: { group: 'g1', trackingKey: 'tk1' } };

/** A strategy input whose options went through `prepareOptions`, as the manager does. */
function input(
  fake: FakeWorldServices,
  strategyOptions: Record<string, unknown>,
  overrides: Partial<StrategyInput<TrackingKeyOptions>> = {},
): StrategyInput<TrackingKeyOptions> {
  const options = reuseByTrackingKeyStrategy.prepareOptions!(strategyOptions) as unknown as TrackingKeyOptions;
  return strategyInput<TrackingKeyOptions>(fake, { session, options, ...overrides });
}

function seeded(): FakeWorldServices {
  const fake = createFakeWorldServices({ userId: 'u1' });
  fake.addRun({
    id: 'old',
    created: '2023-01-01T00:00:00.000Z',
    model: 'model.py',
    user: { id: 'u1' },
    scope: { group: 'g1', trackingKey: 'tk1' },
  });
  fake.addRun({
    id: 'older',
    created: '2022-01-01T00:00:00.000Z',
    model: 'model.py',
    user: { id: 'u1' },
    scope: { group: 'g1', trackingKey: 'tk1' },
  });
  return fake;
}

describe('reuseByTrackingKeyMachine — getRun', () => {
  it('reuses the newest run with the tracking key: one camelCase query, settings attached as a copy', async () => {
    const fake = seeded();
    const strategyOptions = { settings: { trackingKey: 'tk1', week: 1 } };
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, strategyOptions));

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.fetchingLatest', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([['query', [filter, newest]]]);
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: 'old', freshlyCreated: false, settings: { trackingKey: 'tk1', runLimit: Infinity, week: 1 } },
    });
    const run = result.output.ok ? result.output.run : null;
    expect(run?.settings).not.toBe(strategyOptions.settings);
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('creates when nothing matches, with scope.trackingKey in the body so the run is found again', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const first = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(first.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.fetchingLatest',
      'locked.checkingLimit',
      'locked.creating',
      'ready',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['query', [filter, newest]],
      ['create', [body]],
    ]);
    expect(first.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true, settings: { trackingKey: 'tk1' } } });

    const second = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }));
    expect(second.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: false } });
    expect(fake.methods()).toEqual(['query', 'create', 'query']);
  });

  it('creates when the newest run is trashed', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.reply('query', { runs: [{ id: 'gone', trashed: true }], total: 1, range: { start: 0, end: 0, total: 1 } });
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 5 } }));

    expect(result.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.fetchingLatest',
      'locked.checkingLimit',
      'locked.creating',
      'ready',
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true } });
  });

  it('getRun does not create past the run limit (original: unchecked)', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.reply('query', { runs: [{ id: 'gone', trashed: true }], total: 2, range: { start: 0, end: 0, total: 2 } });
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }));

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.fetchingLatest', 'locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['query']);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'RUN_LIMIT_REACHED', message: 'You have reached your run limit and cannot create new runs.' },
    });
    expect(result.finalTags).toEqual(['error']);
  });

  it('runLimit 0 forbids creating but still reuses', async () => {
    const empty = createFakeWorldServices({ userId: 'u1' });
    const refused = await runStrategy(reuseByTrackingKeyMachine, input(empty, { settings: { trackingKey: 'tk1', runLimit: 0 } }));
    expect(refused.output).toMatchObject({ ok: false, error: { type: 'RUN_LIMIT_REACHED' } });
    expect(empty.methods()).toEqual(['query']);

    const fake = seeded();
    const reused = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 0 } }));
    expect(reused.output).toMatchObject({ ok: true, run: { id: 'old', freshlyCreated: false } });
  });

  it('getRun with a limit and no Content-Range total rejects INVALID_RESPONSE (original: limit silently off)', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.setQueryTotal(null);
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1', runLimit: 3 } }));

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.fetchingLatest', 'locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['query']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_RESPONSE' } });
    expect(result.output.ok ? '' : result.output.error.message).toMatch(/Content-Range total/);
  });

  it('getRun without a limit creates even when the total is unknown', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.setQueryTotal(null);
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });

  it('merges the configured scope and user filter keys into the query and the create', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(
        fake,
        { settings: { trackingKey: 'tk1' }, filter: { saved: true } },
        {
          config: { account: 'acme', project: 'sim', model: 'model.py', scope: { region: 'eu' } },
        },
      ),
    );

    expect(result.output.ok).toBe(true);
    expect(fake.calls.map((c) => c.args[0])).toEqual([
      { scope: { region: 'eu', group: 'g1', trackingKey: 'tk1' }, trashed: false, saved: true, 'user.id': 'u1' },
      { model: 'model.py', scope: { region: 'eu', group: 'g1', trackingKey: 'tk1' } },
    ]);
  });

  it('create options join the body but cannot drop the tracking key', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1' } }, { createOptions: { files: { data: 'x.xls' }, scope: { trackingKey: 'other' } } }),
    );

    expect(fake.callsTo('create')[0]!.args).toEqual([{ ...body, files: { data: 'x.xls' } }]);
  });

  it('without a session user the query has no user.id and no group', async () => {
    const fake = createFakeWorldServices();
    await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }, { session: {} }));

    expect(fake.callsTo('query')[0]!.args[0]).toEqual({ scope: { trackingKey: 'tk1' }, trashed: false });
  });

  it('a failed query ends in error with the client error', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const failure = httpError(500);
    fake.fail('query', failure);
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.fetchingLatest', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });

  it('a failed create ends in error with the client error', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const failure = httpError(400);
    fake.fail('create', failure);
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path.slice(-2)).toEqual(['locked.creating', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('reuseByTrackingKeyMachine — reset', () => {
  it('without a limit creates straight away, no query (original: a query even without a limit)', async () => {
    const fake = seeded();
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' } }, { mode: 'reset' }));

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.creating', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([['create', [body]]]);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true, settings: { trackingKey: 'tk1' } } });
  });

  it('with a limit counts with the same query, then creates under the limit', async () => {
    const fake = seeded();
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: '3' } }, { mode: 'reset' }),
    );

    expect(result.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.countingRuns',
      'locked.checkingLimit',
      'locked.creating',
      'ready',
    ]);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['query', [filter, newest]],
      ['create', [body]],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true, settings: { runLimit: '3' } } });
  });

  it('at the limit rejects RUN_LIMIT_REACHED without creating', async () => {
    const fake = seeded();
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: 2 } }, { mode: 'reset' }),
    );

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.countingRuns', 'locked.checkingLimit', 'error']);
    expect(fake.methods()).toEqual(['query']);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'RUN_LIMIT_REACHED', message: 'You have reached your run limit and cannot create new runs.' },
    });
  });

  it('with a limit and no Content-Range total rejects INVALID_RESPONSE (original: allowed)', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.setQueryTotal(null);
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: 1 } }, { mode: 'reset' }),
    );

    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_RESPONSE' } });
    expect(fake.methods()).toEqual(['query']);
  });

  it('runLimit null means no limit (original: null blocked every reset)', async () => {
    const fake = seeded();
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: null } }, { mode: 'reset' }),
    );

    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
    expect(fake.methods()).toEqual(['create']);
  });

  it('a failed count ends in error with the client error', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const failure = httpError(503);
    fake.fail('query', failure);
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1', runLimit: 1 } }, { mode: 'reset' }),
    );

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.countingRuns', 'error']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });
});

describe('reuseByTrackingKeyMachine — settings', () => {
  it.each([
    ['the default settings', {}, ['checkingSettings', 'error']],
    ['an empty tracking key', { settings: { trackingKey: '' } }, ['checkingSettings', 'error']],
    ['a function without one', { settings: () => ({ runLimit: 2 }) }, ['checkingSettings', 'resolvingSettings', 'error']],
  ])('%s: NO_TRACKING_KEY before any request', async (_, strategyOptions, path) => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, strategyOptions));

    expect(result.path).toEqual(path);
    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'NO_TRACKING_KEY', message: 'No tracking key provided to reuse-by-tracking-key strategy' },
    });
  });

  it('a sync function gets (runService, session) on every resolution; no defaults are added', async () => {
    const fake = seeded();
    const settings = vi.fn(() => ({ trackingKey: 'tk1', week: 2 }));
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings }));
    await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings }, { mode: 'reset' }));

    expect(settings).toHaveBeenCalledTimes(2);
    expect(settings).toHaveBeenCalledWith(fake.services.runService, session);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'old' } });
    expect(result.output.ok && result.output.run?.settings).toEqual({ trackingKey: 'tk1', week: 2 });
    expect(fake.methods()).toEqual(['query', 'create']);
  });

  it('an async function is awaited, and its runLimit normalised', async () => {
    const fake = seeded();
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: async () => ({ trackingKey: 'tk1', runLimit: ' 2 ' }) }, { mode: 'reset' }),
    );

    expect(result.output).toMatchObject({ ok: false, error: { type: 'RUN_LIMIT_REACHED' } });
  });

  it('a rejecting function ends in INVALID_OPTIONS naming settings', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: () => Promise.reject(new Error('settings service down')) }),
    );

    expect(result.path).toEqual(['checkingSettings', 'resolvingSettings', 'error']);
    expect(fake.calls).toEqual([]);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_OPTIONS', message: 'settings: settings service down' } });
  });

  it('a RunManagerError from the function passes through unchanged', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const denied = new RunManagerError('UNAUTHORIZED', 'no access', { status: 401 });
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, {
        settings: () => {
          throw denied;
        },
      }),
    );

    expect(result.output).toEqual({ ok: false, error: denied });
  });

  it.each([
    ['a negative runLimit', { trackingKey: 'tk1', runLimit: -1 }, /settings\.runLimit/],
    ['a non-numeric runLimit', { trackingKey: 'tk1', runLimit: 'abc' }, /settings\.runLimit/],
    ['a tracking key that is not a string', { trackingKey: 7 }, /settings\.trackingKey/],
    ['a value that is not an object', 'tk1', /strategyOptions\.settings/],
  ])('a function resolving %s fails INVALID_OPTIONS', async (_, resolved, message) => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: async () => resolved }));

    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_OPTIONS' } });
    expect(result.output.ok ? '' : result.output.error.message).toMatch(message);
    expect(fake.calls).toEqual([]);
  });
});

describe('reuseByTrackingKeyMachine — onCreate', () => {
  it('is called with (runService, settings, run) and a result with an id replaces the run', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const onCreate = vi.fn(async (_rs: unknown, _settings: Record<string, unknown>, run: { id: string }) => ({
      ...run,
      id: 'replaced',
      label: 'x',
    }));
    const result = await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' }, onCreate }));

    expect(result.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.fetchingLatest',
      'locked.checkingLimit',
      'locked.creating',
      'applyingSettings',
      'ready',
    ]);
    expect(onCreate).toHaveBeenCalledTimes(1);
    const [runService, settings, run] = onCreate.mock.calls[0]!;
    expect(runService).toBe(fake.services.runService);
    expect(settings).toEqual({ trackingKey: 'tk1', runLimit: Infinity });
    expect(run).toMatchObject({ id: 'run-1', freshlyCreated: true, scope: { trackingKey: 'tk1' } });
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: 'replaced', label: 'x', freshlyCreated: true, settings: { trackingKey: 'tk1' } },
    });
  });

  it('a result without an id keeps the created run', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, { settings: { trackingKey: 'tk1' }, onCreate: () => 'done' }, { mode: 'reset' }),
    );

    expect(result.path).toEqual(['checkingSettings', 'locked.waitingForLock', 'locked.creating', 'applyingSettings', 'ready']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true, settings: { trackingKey: 'tk1' } } });
  });

  it('is not called for a reused run', async () => {
    const fake = seeded();
    const onCreate = vi.fn();
    await runStrategy(reuseByTrackingKeyMachine, input(fake, { settings: { trackingKey: 'tk1' }, onCreate }));

    expect(onCreate).not.toHaveBeenCalled();
  });

  it('a throwing onCreate ends in INVALID_RESPONSE naming onCreate', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const result = await runStrategy(
      reuseByTrackingKeyMachine,
      input(fake, {
        settings: { trackingKey: 'tk1' },
        onCreate: () => {
          throw new Error('bad hook');
        },
      }),
    );

    expect(result.path.slice(-2)).toEqual(['applyingSettings', 'error']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'INVALID_RESPONSE', message: 'onCreate: bad hook' } });
  });
});

describe('reuseByTrackingKeyMachine — stopping', () => {
  it('stopping mid-query aborts the request', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const held = fake.hold('query');
    const actor = createActor(reuseByTrackingKeyMachine, { input: input(fake, { settings: { trackingKey: 'tk1' } }) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toEqual({ locked: 'fetchingLatest' });
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);
    expect(signal?.aborted).toBe(false);
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('stopping mid-count aborts the request', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    const held = fake.hold('query');
    const actor = createActor(reuseByTrackingKeyMachine, {
      input: input(fake, { settings: { trackingKey: 'tk1', runLimit: 1 } }, { mode: 'reset' }),
    }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toEqual({ locked: 'countingRuns' });
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('reuseByTrackingKeyStrategy', () => {
  it('is registered with a session record and prepareOptions', () => {
    expect(reuseByTrackingKeyStrategy).toMatchObject({ name: 'reuse-by-tracking-key', cachesRun: true, requiresAuth: false });
    expect(reuseByTrackingKeyStrategy.machine).toBe(reuseByTrackingKeyMachine);
  });

  it('prepareOptions applies the defaults and rejects a bad runLimit naming it', () => {
    expect(reuseByTrackingKeyStrategy.prepareOptions!({})).toEqual({
      settings: { trackingKey: null, runLimit: Infinity },
      filter: { trashed: false },
    });
    expect(() => reuseByTrackingKeyStrategy.prepareOptions!({ settings: { trackingKey: 'tk', runLimit: 1.5 } })).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('settings.runLimit') }),
    );
  });
});

describe('reuseByTrackingKeyMachine — a create whose answer is lost', () => {
  const lost = () => new RunManagerError('TIMEOUT', 'POST run/acme/sim/ timed out');
  // The search's waits shortened, so the tests do not wait 200 + 400 + 800 ms.
  const quick = reuseByTrackingKeyMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

  /** The server makes the run, but the answer never arrives (`error` is what the client reports). */
  function losingCreates(fake: FakeWorldServices, error: () => RunManagerError = lost): void {
    const create = fake.runApi.create;
    fake.runApi.create = async (params, options) => {
      await create(params, options);
      throw error();
    };
  }

  it('getRun looks again and keeps the run the create made: creating → recovering → ready', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    losingCreates(fake);
    const result = await runStrategy(quick, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.fetchingLatest',
      'locked.checkingLimit',
      'locked.creating',
      'locked.recovering',
      'ready',
    ]);
    expect(fake.methods()).toEqual(['query', 'create', 'query']);
    expect(fake.callsTo('query')[1]!.args).toEqual([filter, newest]);
    expect(fake.runs).toHaveLength(1);
    expect(result.output).toMatchObject({
      ok: true,
      run: { id: fake.runs[0]!.id, freshlyCreated: true, settings: { trackingKey: 'tk1' } },
    });
  });

  it('treats a 2xx create answer it cannot read (INVALID_RESPONSE) as lost: the run was made', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    losingCreates(fake, () => new RunManagerError('INVALID_RESPONSE', 'POST run/acme/sim/ answered 201 with a run without id'));
    const result = await runStrategy(quick, input(fake, { settings: { trackingKey: 'tk1' } }));

    expect(result.path.slice(-3)).toEqual(['locked.creating', 'locked.recovering', 'ready']);
    expect(fake.runs).toHaveLength(1);
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id, freshlyCreated: true } });
  });

  it('a limited reset recovers too, and onCreate runs once on the recovered run', async () => {
    const fake = seeded();
    losingCreates(fake);
    const onCreate = vi.fn((_service: unknown, _settings: unknown, run: unknown) => run);
    const result = await runStrategy(quick, input(fake, { settings: { trackingKey: 'tk1', runLimit: 5 }, onCreate }, { mode: 'reset' }));

    expect(result.path).toEqual([
      'checkingSettings',
      'locked.waitingForLock',
      'locked.countingRuns',
      'locked.checkingLimit',
      'locked.creating',
      'locked.recovering',
      'applyingSettings',
      'ready',
    ]);
    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true, settings: { trackingKey: 'tk1' } } });
    expect((result.output as { run: { id: string } }).run.id).not.toBe('old');
  });

  it('recovering → error after the search gives up: the create failure, and no second create', async () => {
    const fake = seeded();
    fake.fail('create', lost());
    const result = await runStrategy(quick, input(fake, { settings: { trackingKey: 'tk1', runLimit: 5 } }, { mode: 'reset' }));

    expect(result.path.slice(-3)).toEqual(['locked.creating', 'locked.recovering', 'error']);
    // The count, then the search's 1 + 3 looks.
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query', 'query', 'query']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'TIMEOUT', message: 'POST run/acme/sim/ timed out' } });
  });

  it('stopping the actor while the search waits to look again cancels the wait and frees the lock', async () => {
    const fake = createFakeWorldServices({ userId: 'u1' });
    fake.fail('create', lost());
    const slow = reuseByTrackingKeyMachine.provide({
      actors: { findCreatedRun: quickFindCreatedRun.provide({ delays: { waitBeforeLookingAgain: 30 } }) },
    });
    const locks = createProcessCoordinator();
    const actor = createActor(slow, {
      input: input(fake, { settings: { trackingKey: 'tk1' } }, { services: { ...fake.services, coordinator: locks } }),
    }).start();
    // The wait is the search's own state: the parent stays in `locked.recovering`, holding the lock.
    while (actor.getSnapshot().children.findCreatedRun?.getSnapshot().value !== 'waiting')
      await new Promise((resolve) => setTimeout(resolve, 1));
    expect(actor.getSnapshot().value).toEqual({ locked: 'recovering' });
    expect(locks.held).toBe(1);

    actor.stop();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(fake.methods()).toEqual(['query', 'create', 'query']);
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('an unlimited reset (no query to compare with) reports the failure at once', async () => {
    const fake = seeded();
    fake.fail('create', lost());
    const result = await runStrategy(quick, input(fake, { settings: { trackingKey: 'tk1' } }, { mode: 'reset' }));
    expect(result.path.slice(-2)).toEqual(['locked.creating', 'error']);
    expect(fake.methods()).toEqual(['create']);
  });
});
