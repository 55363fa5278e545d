/**
 * Integration: reuse-last-initialized and reuse-by-tracking-key through the public RunManager
 * against the emulator: merged scopes and encoded matrix values, the run limit on getRun, and a
 * failing init that trashes the half-made run.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Run, RunService, UserSession } from '../../src/index.js';
import {
  conditions,
  CREATE_BODY,
  expectRejection,
  NEWEST_CAMEL,
  NEWEST_LOWER,
  originalRequests,
  RUNS,
  TOKEN_U1,
  useIntegration,
} from './helpers.js';

const h = useIntegration();

describe('reuse-last-initialized', () => {
  const INIT = ['init', { step: [10] }];
  const QUERY = `GET ${RUNS};trashed=false;isInitComplete=true;scope.group=g1;user.id=u1;model=model.py/`;
  const original = (phase: 'first' | 'steady' | 'reset', variables = false) =>
    originalRequests('reuse-last-initialized', phase, { variables, initOps: 2 });
  const initTrace = (id: string) => [
    `POST ${RUNS}`,
    `POST ${RUNS}${id}/operations/init/`,
    `POST ${RUNS}${id}/operations/step/`,
    `PATCH ${RUNS}${id}/`,
  ];

  it.each([
    ['named', { strategy: 'reuse-last-initialized', strategyOptions: { initOperation: INIT } }],
    ['chosen by initOperation', { strategyOptions: { initOperation: INIT } }],
  ])('(%s) creates and initialises, reuses the flagged run, and resets by creating and initialising', async (_, options) => {
    const rm = h.manager(options);

    const first = await rm.getRun();
    const entries = await h.expectTrace([QUERY, ...initTrace(first.id)], original('first'));
    expect(entries[0]!.query).toEqual(NEWEST_LOWER);
    expect(entries.slice(1).map((entry) => entry.body)).toEqual([
      CREATE_BODY,
      { arguments: [] },
      { arguments: [10] },
      { isInitComplete: true },
    ]);
    expect(first).toMatchObject({ freshlyCreated: true, isInitComplete: true, user: { id: 'u1' } });
    expect(h.emulator.getRun(first.id)).toMatchObject({ isInitComplete: true, variables: { price: 10, initialized: true, step: 10 } });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([QUERY], original('steady', true));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    await h.expectTrace(initTrace(reset.id), original('reset'));
    expect(reset.id).not.toBe(first.id);
    expect(reset).toMatchObject({ freshlyCreated: true, isInitComplete: true });
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(2);
  });

  it('a failing init operation (built-in fail) raises INIT_FAILED and trashes the half-made run', async () => {
    const rm = h.manager({ strategy: 'reuse-last-initialized', strategyOptions: { initOperation: ['init', 'fail'] } });

    const error = await expectRejection(rm.getRun(), 'INIT_FAILED');
    expect(error.status).toBe(500);
    const [runId] = h.emulator.runs().map((run) => run.id);
    const entries = await h.expectTrace([
      QUERY,
      `POST ${RUNS}`,
      `POST ${RUNS}${runId}/operations/init/`,
      `POST ${RUNS}${runId}/operations/fail/`,
      `PATCH ${RUNS}${runId}/`,
    ]);
    expect(entries[3]!.status).toBe(500);
    expect(entries[4]!.body).toEqual({ saved: false, trashed: true });
    expect(h.runCount()).toBe(1);
    expect(h.emulator.getRun(runId!)).toMatchObject({ trashed: true, saved: false });
    expect(h.emulator.getRun(runId!)!.isInitComplete).toBeUndefined();
    expect(h.store.size).toBe(0);
  });

  it('an operations route answering 500 on reset raises INIT_FAILED and trashes the run', async () => {
    const rm = h.manager({ strategyOptions: { initOperation: 'init' } });
    const first = await rm.getRun();
    await h.take();

    h.emulator.fail({ method: 'POST', path: '/operations/', status: 500 });
    await expectRejection(rm.reset(), 'INIT_FAILED');
    const created = h.emulator.runs().find((run) => run.id !== first.id)!;
    await h.expectTrace([`POST ${RUNS}`, `POST ${RUNS}${created.id}/operations/init/`, `PATCH ${RUNS}${created.id}/`]);
    expect(created).toMatchObject({ trashed: true });
    expect(h.runCount()).toBe(2);

    // The flagged run is still the one found.
    const again = await rm.getRun();
    await h.expectTrace([QUERY]);
    expect(again.id).toBe(first.id);
  });
});

describe('reuse-by-tracking-key', () => {
  const QUERY = `GET ${RUNS};scope.trackingKey=tk1;scope.group=g1;trashed=false;user.id=u1/`;
  const BODY = { model: 'model.py', scope: { group: 'g1', trackingKey: 'tk1' } };
  const original = (phase: 'first' | 'steady' | 'reset', extra: { variables?: boolean; limited?: boolean } = {}) =>
    originalRequests('reuse-by-tracking-key', phase, extra);

  it('finds or creates the tracking-key run, and resets within the run limit', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 2 } } });
    const settings = { trackingKey: 'tk1', runLimit: 2 };

    const first = await rm.getRun();
    const [query, create] = await h.expectTrace([QUERY, `POST ${RUNS}`], original('first'));
    expect(query!.query).toEqual(NEWEST_CAMEL);
    expect(create!.body).toEqual(BODY);
    expect(first).toMatchObject({ freshlyCreated: true, settings, scope: { group: 'g1', trackingKey: 'tk1' } });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false, settings });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([QUERY], original('steady', { variables: true }));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 }, settings });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const [, resetCreate] = await h.expectTrace([QUERY, `POST ${RUNS}`], original('reset', { limited: true }));
    expect(resetCreate!.body).toEqual(BODY);
    expect(reset).toMatchObject({ freshlyCreated: true, settings });
    expect(h.runCount()).toBe(2);

    const refused = await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    expect(refused.message).toBe('You have reached your run limit and cannot create new runs.');
    await h.expectTrace([QUERY], original('reset', { limited: true }));
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false, settings });
    expect(h.runCount()).toBe(2);
  });

  it('an unlimited reset sends only the create', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1' } } });
    const reset = await rm.reset();
    const [create] = await h.expectTrace([`POST ${RUNS}`], original('reset'));
    expect(create!.body).toEqual(BODY);
    expect(reset.settings).toEqual({ trackingKey: 'tk1', runLimit: Infinity });
    expect(h.runCount()).toBe(1);
  });

  it('two managers resetting at once cannot pass the run limit together', async () => {
    h.emulator.slow({ method: 'POST', path: RUNS, delayMs: 30 });
    const options = { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 1 } } };
    const outcomes = await Promise.allSettled([h.manager(options).reset(), h.manager(options).reset()]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ type: 'RUN_LIMIT_REACHED' });
    await h.expectTrace([QUERY, `POST ${RUNS}`, QUERY]);
    expect(h.runCount()).toBe(1);
  });

  it('getRun refuses to create past runLimit', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 0 } } });
    await expectRejection(rm.getRun(), 'RUN_LIMIT_REACHED');
    await h.expectTrace([QUERY], original('first'));
    expect(h.runCount()).toBe(0);
  });

  it('a limited getRun whose query has no Content-Range refuses to create (INVALID_RESPONSE)', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 3 } } });
    h.emulator.fail({ method: 'GET', path: ';', status: 200, body: [] });
    await expectRejection(rm.getRun(), 'INVALID_RESPONSE');
    await h.expectTrace([QUERY]);
    expect(h.runCount()).toBe(0);
  });

  it('without a tracking key rejects NO_TRACKING_KEY without any request', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { runLimit: 2 } } });
    await expectRejection(rm.getRun(), 'NO_TRACKING_KEY');
    await expectRejection(rm.reset(), 'NO_TRACKING_KEY');
    await h.expectTrace([]);
  });

  it('with run.scope { region: eu } finds its own run on the second getRun', async () => {
    const rm = h.manager({
      strategy: 'reuse-by-tracking-key',
      strategyOptions: { settings: { trackingKey: 'tk1' } },
      run: { scope: { region: 'eu' } },
    });
    const scoped = `GET ${RUNS};scope.region=eu;scope.trackingKey=tk1;scope.group=g1;trashed=false;user.id=u1/`;

    const first = await rm.getRun();
    const [, create] = await h.expectTrace([scoped, `POST ${RUNS}`], original('first'));
    expect(create!.body).toEqual({ model: 'model.py', scope: { region: 'eu', group: 'g1', trackingKey: 'tk1' } });

    const second = await rm.getRun();
    await h.expectTrace([scoped], original('steady'));
    expect(second).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);
  });

  it("a hostile tracking key x;user.id=u2 cannot match another user's run", async () => {
    const HOSTILE_QUERY = `GET ${RUNS};scope.trackingKey=x%3Buser.id%3Du2;scope.group=g1;trashed=false;user.id=u1/`;
    const [theirs] = h.emulator.seed({
      runs: [{ account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u2' }, scope: { group: 'g1', trackingKey: 'x' } }],
    }).runs;
    // The original's unencoded matrix would widen the query to u2's run on this server.
    const widened = await fetch(
      `${h.emulator.baseURL}run/acme/sim/;scope.trackingKey=x;user.id=u2;scope.group=g1;trashed=false;user.id=u1/`,
      {
        headers: { Authorization: `Bearer ${TOKEN_U1}` },
      },
    );
    expect(((await widened.json()) as Run[]).map((run) => run.id)).toEqual([theirs!.id]);
    await h.take();

    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'x;user.id=u2' } } });
    const mine = await rm.getRun();
    const [query, create] = await h.expectTrace([HOSTILE_QUERY, `POST ${RUNS}`]);
    expect(query!.path).toContain('scope.trackingKey=x%3Buser.id%3Du2');
    expect(conditions(query!).sort()).toEqual(['scope.group=g1', 'scope.trackingKey=x;user.id=u2', 'trashed=false', 'user.id=u1']);
    expect(create!.body).toEqual({ model: 'model.py', scope: { group: 'g1', trackingKey: 'x;user.id=u2' } });
    expect(mine.id).not.toBe(theirs!.id);
    expect(mine).toMatchObject({ freshlyCreated: true, user: { id: 'u1' } });

    const again = await rm.getRun();
    await h.expectTrace([HOSTILE_QUERY]);
    expect(again.id).toBe(mine.id);
    expect(h.runCount()).toBe(2);
  });

  it('calls a settings function per resolution and onCreate with the service bound to the new run', async () => {
    const settings = vi.fn((_runService: unknown, session: UserSession) => ({ trackingKey: `week-${session.groupName}` }));
    const onCreate = vi.fn(async (runService: unknown, _settings: Record<string, unknown>, run: Run) => {
      await (runService as RunService).do('step', [3]);
      return { ...run, labelled: true };
    });
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings, onCreate } });

    const first = await rm.getRun();
    await h.expectTrace([
      `GET ${RUNS};scope.trackingKey=week-g1;scope.group=g1;trashed=false;user.id=u1/`,
      `POST ${RUNS}`,
      `POST ${RUNS}${first.id}/operations/step/`,
    ]);
    expect(settings).toHaveBeenCalledWith(rm.run, { userId: 'u1', groupName: 'g1' });
    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(onCreate.mock.calls[0]![0]).toBe(rm.run);
    expect(onCreate.mock.calls[0]![1]).toEqual({ trackingKey: 'week-g1' });
    expect(first).toMatchObject({ labelled: true, freshlyCreated: true, settings: { trackingKey: 'week-g1' } });
    expect(h.emulator.getRun(first.id)!.variables).toMatchObject({ step: 3 });

    const again = await rm.getRun();
    expect(again.id).toBe(first.id);
    expect(settings).toHaveBeenCalledTimes(2);
    expect(onCreate).toHaveBeenCalledTimes(1);
    await h.take();

    // On reset, onCreate's operation lands on the new run, not on the one the service was bound to.
    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUNS}`, `POST ${RUNS}${reset.id}/operations/step/`]);
    expect(onCreate).toHaveBeenCalledTimes(2);
    expect(h.emulator.getRun(reset.id)!.variables).toMatchObject({ step: 3 });
    expect(h.emulator.getRun(first.id)!.variables).toMatchObject({ step: 3 });
    expect(h.runCount()).toBe(2);
  });
});
