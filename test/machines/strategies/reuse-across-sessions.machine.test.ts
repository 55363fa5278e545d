import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { isRunManagerError, RunManagerError } from '../../../src/errors.js';
import {
  latestRunFilter,
  prepareReuseAcrossSessionsOptions,
  reuseAcrossSessionsMachine,
  reuseAcrossSessionsStrategy,
  type ReuseAcrossSessionsOptions,
} from '../../../src/machines/strategies/reuse-across-sessions.machine.js';
import type { Run } from '../../../src/types.js';
import { createFakeServices, httpError, quickFindCreatedRun, runStrategy, strategyInput, testConfig } from '../../helpers/fake-services.js';

const session = { userId: 'u1', groupName: 'g1' };
const newest = { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' };

function mine(id: string, created: string, extra: Partial<Run> = {}): Run {
  return { id, model: 'model.py', created, user: { id: 'u1' }, scope: { group: 'g1' }, trashed: false, ...extra };
}

function input(
  fake: ReturnType<typeof createFakeServices>,
  overrides: Parameters<typeof strategyInput<ReuseAcrossSessionsOptions>>[1] = {},
) {
  return strategyInput<ReuseAcrossSessionsOptions>(fake, { session, options: { filter: {} }, ...overrides });
}

describe('reuseAcrossSessionsMachine', () => {
  it('getRun reuses the newest matching run: choosingByMode → fetchingLatest → ready', async () => {
    const fake = createFakeServices({
      runs: [mine('old', '2024-01-01T00:00:00Z'), mine('new', '2024-02-01T00:00:00Z')],
    });
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'ready']);
    expect(fake.calls.map((c) => [c.method, c.args])).toEqual([
      ['query', [{ scope: { group: 'g1' }, model: 'model.py', 'user.id': 'u1' }, newest]],
    ]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'new', freshlyCreated: false } });
    expect(result.tags[0]).toEqual(['busy']);
    expect(result.finalTags).toEqual(['ready']);
  });

  it('getRun with no matching run creates one: fetchingLatest → creating → ready', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake, { createOptions: { files: { a: 'b' } } }));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'ready']);
    expect(fake.methods()).toEqual(['query', 'create']);
    expect(fake.callsTo('create')[0]!.args).toEqual([{ model: 'model.py', scope: { group: 'g1' }, files: { a: 'b' } }]);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-1', freshlyCreated: true } });
  });

  it('getRun creates when the newest run is trashed (as the original)', async () => {
    const fake = createFakeServices({
      runs: [mine('live', '2024-01-01T00:00:00Z'), mine('binned', '2024-02-01T00:00:00Z', { trashed: true })],
    });
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'ready']);
    expect(result.output).toMatchObject({ ok: true, run: { freshlyCreated: true } });
  });

  it("filters by model, so another model's run is never reused (the original had no model filter)", async () => {
    const fake = createFakeServices({ runs: [mine('other-model', '2024-02-01T00:00:00Z', { model: 'other.py' })] });
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake));

    expect(fake.callsTo('query')[0]!.args[0]).toMatchObject({ model: 'model.py' });
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-2', model: 'model.py', freshlyCreated: true } });
  });

  it('merges the strategy filter with the configured scope and the session', async () => {
    const fake = createFakeServices();
    await runStrategy(
      reuseAcrossSessionsMachine,
      input(fake, { config: { ...testConfig, scope: { region: 'eu' } }, options: { filter: { saved: true, scope: { phase: 2 } } } }),
    );

    expect(fake.callsTo('query')[0]!.args[0]).toEqual({
      scope: { region: 'eu', group: 'g1', phase: 2 },
      saved: true,
      model: 'model.py',
      'user.id': 'u1',
    });
    expect(fake.callsTo('create')[0]!.args[0]).toEqual({ model: 'model.py', scope: { region: 'eu', group: 'g1' } });
  });

  it('without a logged-in user the query is not narrowed by user or group', async () => {
    const fake = createFakeServices();
    await runStrategy(reuseAcrossSessionsMachine, input(fake, { session: {} }));

    expect(fake.callsTo('query')[0]!.args).toEqual([{ model: 'model.py' }, newest]);
  });

  it('a failed query ends in error, never a new run', async () => {
    const fake = createFakeServices();
    const failure = httpError(503);
    fake.fail('query', failure);
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'error']);
    expect(fake.methods()).toEqual(['query']);
    expect(result.output).toEqual({ ok: false, error: failure });
    expect(result.finalTags).toEqual(['error']);
  });

  it('reset creates without querying: choosingByMode → creating → ready', async () => {
    const fake = createFakeServices({ runs: [mine('existing', '2024-02-01T00:00:00Z')] });
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'ready']);
    expect(fake.methods()).toEqual(['create']);
    expect(result.output).toMatchObject({ ok: true, run: { id: 'run-2', freshlyCreated: true } });
  });

  it('a failed create ends in error', async () => {
    const fake = createFakeServices();
    fake.fail('create', httpError(400, 'unknown model'));
    const result = await runStrategy(reuseAcrossSessionsMachine, input(fake, { mode: 'reset' }));

    expect(result.path).toEqual(['choosingByMode', 'creating', 'error']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'HTTP_ERROR', status: 400 } });
  });

  it('works with unprepared options (no filter)', async () => {
    const fake = createFakeServices();
    await runStrategy(reuseAcrossSessionsMachine, strategyInput(fake, { session }));

    expect(fake.callsTo('query')[0]!.args[0]).toEqual({ scope: { group: 'g1' }, model: 'model.py', 'user.id': 'u1' });
  });

  it('stopping the actor mid-query aborts the request', async () => {
    const fake = createFakeServices();
    const held = fake.hold('query');
    const actor = createActor(reuseAcrossSessionsMachine, { input: input(fake) }).start();
    const signal = await held.called;

    actor.stop();
    expect(signal?.aborted).toBe(true);
  });
});

describe('latestRunFilter', () => {
  it('leaves model out when the config has none', () => {
    expect(latestRunFilter({}, { account: 'a', project: 'p' } as never, {})).toEqual({});
  });
});

describe('reuseAcrossSessionsStrategy.prepareOptions', () => {
  it('defaults filter to {}', () => {
    expect(reuseAcrossSessionsStrategy.prepareOptions!({})).toEqual({ filter: {} });
    expect(prepareReuseAcrossSessionsOptions({ filter: { saved: true } })).toEqual({ filter: { saved: true } });
  });

  it.each([
    ['a string', 'saved'],
    ['an array', [1]],
    ['null', null],
  ])('rejects a filter that is %s', (_, filter) => {
    let error: unknown;
    try {
      reuseAcrossSessionsStrategy.prepareOptions!({ filter });
    } catch (e) {
      error = e;
    }
    expect(isRunManagerError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('strategyOptions.filter');
  });

  it('is registered as a caching strategy', () => {
    expect(reuseAcrossSessionsStrategy).toMatchObject({ name: 'reuse-across-sessions', cachesRun: true, requiresAuth: false });
    expect(reuseAcrossSessionsStrategy.machine).toBe(reuseAcrossSessionsMachine);
  });
});

describe('reuseAcrossSessionsMachine: a create whose answer is lost', () => {
  const lost = () => new RunManagerError('NETWORK_ERROR', 'POST run/acme/sim/ failed: socket hang up');
  const nothing = { runs: [], total: 0, range: null };
  // The search's waits shortened, so the tests do not wait 200 + 400 + 800 ms.
  const quick = reuseAcrossSessionsMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

  /** The server makes the run, but the answer never arrives (`error` is what the client reports). */
  function losingCreates(fake: ReturnType<typeof createFakeServices>, error: () => RunManagerError = lost): void {
    const create = fake.runApi.create;
    fake.runApi.create = async (params, options) => {
      await create(params, options);
      throw error();
    };
  }

  it('looks again and returns the run the create made: creating → recovering → ready', async () => {
    const fake = createFakeServices({ userId: 'u1', runs: [mine('binned', '2024-01-01T00:00:00Z', { trashed: true })] });
    losingCreates(fake);
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'ready']);
    expect(fake.methods()).toEqual(['query', 'create', 'query']);
    const made = fake.runs.find((run) => run.id !== 'binned')!;
    expect(fake.runs).toHaveLength(2);
    expect(result.output).toMatchObject({ ok: true, run: { id: made.id, freshlyCreated: true } });
  });

  it('treats a 2xx create answer it cannot read (INVALID_RESPONSE) as lost: the run was made', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    losingCreates(fake, () => new RunManagerError('INVALID_RESPONSE', 'POST run/acme/sim/ answered 201 with a body that is not JSON'));
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'ready']);
    expect(fake.runs).toHaveLength(1);
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id, freshlyCreated: true } });
  });

  it('waits and looks again while the server has not made the run yet (findCreatedRun), then keeps it', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    losingCreates(fake, () => new RunManagerError('TIMEOUT', 'POST run/acme/sim/ timed out'));
    // The first query and the first two looks see nothing yet; the third look sees the run.
    fake.reply('query', nothing, 3);
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'ready']);
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query', 'query']);
    expect(fake.runs).toHaveLength(1);
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id, freshlyCreated: true } });
    expect(result.tags.every((tags) => tags.includes('busy') || tags.includes('ready'))).toBe(true);
  });

  it('looks again after a failing look (the network may still be down)', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    losingCreates(fake);
    fake.reply('query', nothing, 1);
    fake.fail('query', lost(), 1);
    const result = await runStrategy(quick, input(fake));

    expect(result.path.slice(3)).toEqual(['recovering', 'ready']);
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query']);
    expect(result.output).toMatchObject({ ok: true, run: { id: fake.runs[0]!.id } });
  });

  it('looks at most 3 more times, then reports the create failure and never creates twice', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.fail('create', lost());
    const result = await runStrategy(quick, input(fake));

    expect(result.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'recovering', 'error']);
    // One query before the create, then 1 + 3 looks.
    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query', 'query', 'query']);
    expect(result.output).toMatchObject({
      ok: false,
      error: { type: 'NETWORK_ERROR', message: 'POST run/acme/sim/ failed: socket hang up' },
    });
  });

  it('keeps the create failure when every look fails too', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.fail('create', lost());
    fake.reply('query', nothing, 1);
    fake.fail('query', httpError(503), 4);
    const result = await runStrategy(quick, input(fake));

    expect(fake.methods()).toEqual(['query', 'create', 'query', 'query', 'query', 'query']);
    expect(result.path.slice(-2)).toEqual(['recovering', 'error']);
    expect(result.output).toMatchObject({ ok: false, error: { type: 'NETWORK_ERROR' } });
  });

  it('stopping the actor while it waits to look again cancels the wait', async () => {
    const fake = createFakeServices({ userId: 'u1' });
    fake.fail('create', lost());
    const slow = reuseAcrossSessionsMachine.provide({
      actors: { findCreatedRun: quickFindCreatedRun.provide({ delays: { waitBeforeLookingAgain: 30 } }) },
    });
    const actor = createActor(slow, { input: input(fake) }).start();
    // The wait is the search's own state: the parent stays in `recovering` meanwhile.
    while (actor.getSnapshot().children.findCreatedRun?.getSnapshot().value !== 'waiting')
      await new Promise((resolve) => setTimeout(resolve, 1));
    expect(actor.getSnapshot().value).toBe('recovering');
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);

    actor.stop();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(fake.methods()).toEqual(['query', 'create', 'query']);
    expect(actor.getSnapshot().status).toBe('stopped');
  });

  it('does not look again on reset (nothing to tell a new run from the old) or on an HTTP error', async () => {
    const resetFake = createFakeServices({ userId: 'u1' });
    resetFake.fail('create', lost());
    const reset = await runStrategy(quick, input(resetFake, { mode: 'reset' }));
    expect(reset.path).toEqual(['choosingByMode', 'creating', 'error']);

    const httpFake = createFakeServices({ userId: 'u1' });
    httpFake.fail('create', httpError(500));
    const refused = await runStrategy(quick, input(httpFake));
    expect(refused.path).toEqual(['choosingByMode', 'fetchingLatest', 'creating', 'error']);
    expect(httpFake.methods()).toEqual(['query', 'create']);
  });
});
