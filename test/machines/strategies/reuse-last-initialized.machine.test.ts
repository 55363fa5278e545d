import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { isRunManagerError, RunManagerError } from '../../../src/errors.js';
import {
  initializedRunFilter,
  prepareReuseLastInitializedOptions,
  reuseLastInitializedMachine,
  reuseLastInitializedStrategy,
  type ReuseLastInitializedOptions,
} from '../../../src/machines/strategies/reuse-last-initialized.machine.js';
import type { Run } from '../../../src/types.js';
import { createFakeServices, httpError, quickFindCreatedRun, runStrategy, strategyInput, testConfig } from '../../helpers/fake-services.js';

const session = { userId: 'u1', groupName: 'g1' };
const newest = { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' };
const options = prepareReuseLastInitializedOptions({ initOperation: ['init', { step: [10] }] });

type Fake = ReturnType<typeof createFakeServices>;

function input(fake: Fake, overrides: Parameters<typeof strategyInput<ReuseLastInitializedOptions>>[1] = {}) {
  return strategyInput<ReuseLastInitializedOptions>(fake, { session, options, ...overrides });
}

function flagged(id: string, created: string, extra: Partial<Run> = {}): Run {
  return {
    id,
    model: 'model.py',
    created,
    user: { id: 'u1' },
    scope: { group: 'g1' },
    trashed: false,
    isInitComplete: true,
    ...extra,
  };
}

function thrown(fn: () => unknown): RunManagerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RunManagerError) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('reuseLastInitializedMachine', () => {
  it('getRun reuses the newest initialised run: choosingByMode → fetchingLatest → ready', async () => {
    const fake = createFakeServices({
      runs: [
        flagged('old', '2024-01-01T00:00:00Z'),
        flagged('new', '2024-02-01T00:00:00Z'),
        flagged('unflagged', '2024-03-01T00:00:00Z', { isInitComplete: false }),
      ],
    });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['query', [{ scope: { group: 'g1' }, trashed: false, isInitComplete: true, model: 'model.py', 'user.id': 'u1' }, newest]],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'new', freshlyCreated: false } });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('getRun with no initialised run creates, initialises and flags: … → creating → initializing → flagging → ready', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { createOptions: { files: { a: 'b' } } }));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'initializing', 'flagging', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['query', [{ scope: { group: 'g1' }, trashed: false, isInitComplete: true, model: 'model.py', 'user.id': 'u1' }, newest]],
      ['create', [{ model: 'model.py', scope: { group: 'g1' }, files: { a: 'b' } }]],
      [
        'serial',
        [
          'run-1',
          [
            { name: 'init', params: [] },
            { name: 'step', params: [10] },
          ],
        ],
      ],
      ['save', ['run-1', { isInitComplete: true }]],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', isInitComplete: true, freshlyCreated: true } });
    expect(result.tags.slice(0, -1).every((tags) => tags.includes('busy'))).toBe(true);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('the run returned is the create response deep-merged with the PATCH response', async () => {
    const fake = createFakeServices();
    fake.reply('create', { id: 'r9', model: 'model.py', scope: { group: 'g1' }, fromCreate: 1 });
    fake.reply('serial', [
      { name: 'init', result: null },
      { name: 'step', result: null },
    ]);
    fake.reply('save', { id: 'r9', isInitComplete: true, scope: { trackingKey: 'tk' }, fromPatch: 2 });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { mode: 'reset' }));

    expect(result.output).toEqual({
      ok: true,
      run: {
        id: 'r9',
        model: 'model.py',
        scope: { group: 'g1', trackingKey: 'tk' },
        fromCreate: 1,
        fromPatch: 2,
        isInitComplete: true,
        freshlyCreated: true,
      },
    });
  });

  it('a query result with only a trashed run counts as none', async () => {
    const fake = createFakeServices();
    fake.reply('query', { runs: [flagged('binned', '2024-01-01T00:00:00Z', { trashed: true })], total: 1, range: null });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'initializing', 'flagging', 'ready']);
  });

  it('reset always creates: choosingByMode → creating → initializing → flagging → ready', async () => {
    const fake = createFakeServices({ runs: [flagged('existing', '2024-01-01T00:00:00Z')] });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'initializing', 'flagging', 'ready']);
    expect(fake.methods()).toEqual(['create', 'serial', 'save']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-2', freshlyCreated: true } });
  });

  it('uses the custom flag for the query and the PATCH, and honours scopeByUser/scopeByGroup = false', async () => {
    const fake = createFakeServices();
    const custom = prepareReuseLastInitializedOptions({
      initOperation: 'init',
      flag: { ready: 'yes' },
      scope: { scopeByUser: false, scopeByGroup: false },
    });
    await runStrategy(reuseLastInitializedMachine, input(fake, { options: custom, config: { ...testConfig, scope: { region: 'eu' } } }));

    expect(fake.callsTo('query')[0]!.args[0]).toEqual({ scope: { region: 'eu' }, trashed: false, ready: 'yes', model: 'model.py' });
    expect(fake.callsTo('serial')[0]!.args[1]).toEqual([{ name: 'init', params: [] }]);
    expect(fake.callsTo('save')[0]!.args[1]).toEqual({ ready: 'yes' });
  });

  it('a failed query ends in error without creating', async () => {
    const fake = createFakeServices();
    fake.fail('query', httpError(500));
    const result = await runStrategy(reuseLastInitializedMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'error']);
    expect(fake.methods()).toEqual(['query']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'HTTP_ERROR', status: 500 } });
    expect(result.finalTags).toEqual(['error']);
  });

  it('a failed create ends in error with nothing to compensate', async () => {
    const fake = createFakeServices();
    const failure = httpError(400, 'unknown model');
    fake.fail('create', failure);
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'error']);
    expect(fake.methods()).toEqual(['create']);
    expect(result.output).toEqual({ ok: false, error: failure });
  });

  it('trashes the half-made run when an init operation fails (the original left an unflagged orphan)', async () => {
    const fake = createFakeServices();
    const original = httpError(500, 'init exploded');
    fake.fail('serial', original);
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'initializing', 'compensating', 'error']);
    expect(fake.calls.map((c) => [c.method, c.args[0], c.args[1]])).toEqual([
      ['create', { model: 'model.py', scope: { group: 'g1' } }, undefined],
      ['serial', 'run-1', options.initOperation],
      ['save', 'run-1', { saved: false, trashed: true }],
    ]);
    expect(fake.runs.find((r) => r.id === 'run-1')).toMatchObject({ trashed: true, saved: false });
    expect(result.finalTags).toEqual(['error']);
    expect(result.output.ok).toBe(false);
    const error = (result.output as { error: RunManagerError }).error;
    expect(error.type).toBe('INIT_FAILED');
    expect(error.message).toBe('reuse-last-initialized: the init operations failed on run run-1: init exploded; the run was trashed');
    expect(error.cause).toBe(original);
    expect(error.status).toBe(500);
  });

  it('trashes the run when the flag PATCH fails, naming the flag step', async () => {
    const fake = createFakeServices();
    fake.fail('save', httpError(503, 'flag refused'));
    const result = await runStrategy(reuseLastInitializedMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'initializing', 'flagging', 'compensating', 'error']);
    expect(fake.callsTo('save').map((c) => c.args)).toEqual([
      ['run-1', { isInitComplete: true }],
      ['run-1', { saved: false, trashed: true }],
    ]);
    const error = (result.output as { error: RunManagerError }).error;
    expect(error.type).toBe('INIT_FAILED');
    expect(error.message).toBe('reuse-last-initialized: setting the init flag failed on run run-1: flag refused; the run was trashed');
  });

  it('still ends in INIT_FAILED when trashing fails too, and says so', async () => {
    const fake = createFakeServices();
    const original = new Error('operation step failed');
    fake.fail('serial', original);
    fake.fail('save', httpError(502, 'bad gateway'));
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'initializing', 'compensating', 'error']);
    const error = (result.output as { error: RunManagerError }).error;
    expect(error.type).toBe('INIT_FAILED');
    expect(error.message).toBe(
      'reuse-last-initialized: the init operations failed on run run-1: operation step failed; trashing the run also failed: bad gateway',
    );
    expect(error.cause).toBe(original);
    expect(error.status).toBeUndefined();
  });

  it('stopping the actor mid-initialisation aborts the request', async () => {
    const fake = createFakeServices();
    const held = fake.hold('serial');
    const actor = createActor(reuseLastInitializedMachine, { input: input(fake, { mode: 'reset' }) }).start();
    const signal = await held.called;

    expect(actor.getSnapshot().value).toBe('initializing');
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);
    actor.stop();
    expect(signal?.aborted).toBe(true);
  });

  it('stopping the actor mid-query aborts the request', async () => {
    const fake = createFakeServices();
    const held = fake.hold('query');
    const actor = createActor(reuseLastInitializedMachine, { input: input(fake) }).start();
    const signal = await held.called;

    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('initializedRunFilter', () => {
  it('uses the default flag and scope when options are unprepared, and leaves out a missing model', () => {
    expect(initializedRunFilter({}, { account: 'a', project: 'p' } as never, { userId: 'u1' })).toEqual({
      trashed: false,
      isInitComplete: true,
      'user.id': 'u1',
    });
  });
});

describe('reuseLastInitializedStrategy.prepareOptions', () => {
  const prepare = reuseLastInitializedStrategy.prepareOptions!;

  it('normalises every operation shape and fills the defaults', () => {
    expect(prepare({ initOperation: 'init' })).toEqual({
      initOperation: [{ name: 'init', params: [] }],
      flag: { isInitComplete: true },
      scope: { scopeByUser: true, scopeByGroup: true },
    });
    expect(prepare({ initOperation: { name: 'add', params: [2, 4] } }).initOperation).toEqual([{ name: 'add', params: [2, 4] }]);
    expect(prepare({ initOperation: { add: [1, 2], subtract: [2, 4] } }).initOperation).toEqual([
      { name: 'add', params: [1, 2] },
      { name: 'subtract', params: [2, 4] },
    ]);
    expect(prepare({ initOperation: [{ step: 10 }] }).initOperation).toEqual([{ name: 'step', params: [10] }]);
    expect(prepare({ initOperation: 'init', scope: { scopeByGroup: false } }).scope).toEqual({ scopeByUser: true, scopeByGroup: false });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['an empty array', []],
    ['an empty string', ''],
    ['a number', 42],
    ['an array with a number', ['init', 3]],
    ['an object with stray keys', { name: 'init', args: [] }],
  ])('rejects an initOperation that is %s, naming strategyOptions.initOperation', (_, initOperation) => {
    const error = thrown(() => prepare({ initOperation }));
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('strategyOptions.initOperation');
  });

  it("rejects an init operation named 'reset' (original: recursed through the special-operation hook)", () => {
    for (const initOperation of ['reset', ['init', 'reset'], { reset: [] }, [{ name: 'reset' }]]) {
      const error = thrown(() => prepare({ initOperation }));
      expect(error.type).toBe('INVALID_OPTIONS');
      expect(error.message).toContain('strategyOptions.initOperation');
      expect(error.message).toContain('reset');
    }
  });

  it('rejects a flag or scope that is not a plain object, and scope flags that are not booleans', () => {
    expect(thrown(() => prepare({ initOperation: 'init', flag: 'done' })).message).toContain('strategyOptions.flag');
    expect(thrown(() => prepare({ initOperation: 'init', scope: true })).message).toContain('strategyOptions.scope');
    expect(thrown(() => prepare({ initOperation: 'init', scope: { scopeByUser: 'no' } })).message).toContain(
      'strategyOptions.scope.scopeByUser',
    );
    expect(
      isRunManagerError(
        thrown(() => prepare({ initOperation: 'init', scope: { scopeByGroup: 0 } })),
        'INVALID_OPTIONS',
      ),
    ).toBe(true);
  });

  it('is registered as a caching strategy', () => {
    expect(reuseLastInitializedStrategy).toMatchObject({ name: 'reuse-last-initialized', cachesRun: true, requiresAuth: false });
    expect(reuseLastInitializedStrategy.machine).toBe(reuseLastInitializedMachine);
  });
});

describe('reuseLastInitializedMachine: a create whose answer is lost', () => {
  const lost = () => new RunManagerError('NETWORK_ERROR', 'POST run/acme/sim/ failed: socket hang up');
  const nothing = { runs: [], total: 0, range: null };
  // The search's waits shortened, so the tests do not wait 200 + 400 + 800 ms.
  const quick = reuseLastInitializedMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

  /** The server makes the run, but the answer never arrives (`error` is what the client reports). */
  function losingCreates(fake: Fake, error: () => RunManagerError = lost): void {
    const create = fake.runApi.create;
    fake.runApi.create = async (params, requestOptions) => {
      await create(params, requestOptions);
      throw error();
    };
  }

  it('finds the unflagged run the create made and initializes it: creating → recovering → initializing', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    losingCreates(fake);
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'initializing', 'flagging', 'ready']);
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'serial', 'save']);
    expect(fake.callsTo('query')[1]!.args[0]).toEqual({ scope: { group: 'g1' }, trashed: false, model: 'model.py', 'user.id': 'u1' });
    expect(fake.runs).toHaveLength(1);
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id, isInitComplete: true, freshlyCreated: true } });
  });

  it('treats a 2xx create answer it cannot read (INVALID_RESPONSE) as lost: the run was made, and gets initialised', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    losingCreates(fake, () => new RunManagerError('INVALID_RESPONSE', 'POST run/acme/sim/ answered 201 with a body that is not JSON'));
    const result = await runStrategy(quick, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'recovering', 'initializing', 'flagging', 'ready']);
    expect(fake.runs).toHaveLength(1);
    expect(fake.runs[0]).toMatchObject({ isInitComplete: true });
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id, freshlyCreated: true } });
  });

  it('recovering → error after the search gives up (a flagged run is not the one the create made), creating nothing more', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.fail('create', lost());
    fake.reply('query', nothing, 1);
    fake.reply('query', { runs: [flagged('done', '2024-01-01T00:00:00Z')], total: 1, range: null }, 4);
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'error']);
    // One query before the create, then the search's looks; never a second create.
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query', 'query', 'query']);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'NETWORK_ERROR', message: 'POST run/acme/sim/ failed: socket hang up' },
      createInDoubt: true,
    });
  });

  it('does not look again without a user to narrow the search, or after an HTTP error', async () => {
    const anonymous = createFakeServices();
    anonymous.fail('create', lost());
    const result = await runStrategy(quick, input(anonymous, { session: {} }));
    expect(result.path.slice(-2)).toEqual(['creating', 'error']);

    const refused = createFakeServices({ userId: 'u1' });
    refused.fail('create', httpError(500));
    const second = await runStrategy(quick, input(refused));
    expect(second.path.slice(-2)).toEqual(['creating', 'error']);
    expect(refused.methods()).toEqual(['query', 'create']);
  });
});

describe('reuseLastInitializedMachine: after a create left in doubt', () => {
  it('looks for the unflagged run before creating again, and initializes it: fetchingLatest → findingHalfMadeRun → initializing', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.runs.push({
      id: 'half',
      model: 'model.py',
      created: '2024-01-01T00:00:00Z',
      user: { id: 'u1' },
      scope: { group: 'g1' },
      trashed: false,
    });
    const result = await runStrategy(reuseLastInitializedMachine, input(fake, { createInDoubt: true }));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'findingHalfMadeRun', 'initializing', 'flagging', 'ready']);
    expect(fake.methods()).toEqual(['query', 'query', 'serial', 'save']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'half', isInitComplete: true, freshlyCreated: true } });
  });

  it('creates when nothing half-made is found, and without doubt never sends the extra query', async () => {
    const doubtful = createFakeServices({ userId: 'u1' });
    const first = await runStrategy(reuseLastInitializedMachine, input(doubtful, { createInDoubt: true }));
    expect(first.path).toEqual(['choosingByMode', 'fetchingLatest', 'findingHalfMadeRun', 'creating', 'initializing', 'flagging', 'ready']);

    const sure = createFakeServices({ userId: 'u1' });
    const second = await runStrategy(reuseLastInitializedMachine, input(sure));
    expect(second.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'initializing', 'flagging', 'ready']);
    expect(sure.methods()).toEqual(['query', 'create', 'serial', 'save']);
  });

  it('reports createInDoubt in its output when a lost create is never found', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.fail('create', new RunManagerError('NETWORK_ERROR', 'socket hang up'));
    const quick = reuseLastInitializedMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });
    const result = await runStrategy(quick, input(fake));
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NETWORK_ERROR' }, createInDoubt: true });
  });
});
