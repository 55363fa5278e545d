/**
 * Integration on Epicenter v3: reuse-last-initialized (init operations, the flag in run metadata) and
 * reuse-by-tracking-key (top-level `trackingKey`, run limit counted from `totalResults`, `onCreate`)
 * through the public RunManager against the emulator. v2 counterpart: initialized-tracking-key.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Run, RunService, UserSession } from '../../src/index.js';
import {
  CREATE_BODY,
  expectRejection,
  expectV3Run,
  filterOf,
  GROUP_QUERY,
  metaRoute,
  NEWEST,
  operationRoute,
  RUN,
  runRoute,
  U1_SCOPE,
  useV3Integration,
  variablesRoute,
} from './v3-helpers.js';

const h = useV3Integration();

describe('reuse-last-initialized on v3', () => {
  const INIT = ['init', { step: [10] }];
  const FILTER = ['meta.isInitComplete=true', 'run.hidden=false', 'run.userKey=u1'];
  const initTrace = (runKey: string) => [
    `POST ${RUN}`,
    `POST ${operationRoute(runKey)}`,
    `POST ${operationRoute(runKey)}`,
    `PATCH ${metaRoute(runKey)}`,
  ];

  it.each([
    ['named', { strategy: 'reuse-last-initialized', strategyOptions: { initOperation: INIT } }],
    ['chosen by initOperation', { strategyOptions: { initOperation: INIT } }],
  ])('(%s) creates, initialises and flags in run metadata; reuses the flagged run; resets by creating again', async (_, options) => {
    const rm = h.manager(options);

    const first = await rm.getRun();
    const entries = await h.expectTrace([`GET ${GROUP_QUERY}`, ...initTrace(first.id)]); // v2: 5
    expect(entries[0]!.query).toMatchObject(NEWEST);
    expect(filterOf(entries[0]!)).toEqual(FILTER);
    expect(entries.slice(1).map((entry) => entry.body)).toEqual([
      CREATE_BODY,
      { name: 'init', arguments: [], objectType: 'execute' },
      { name: 'step', arguments: [10], objectType: 'execute' },
      { set: { isInitComplete: true } },
    ]);
    // The flag is metadata on v3; the run also carries it at the top, where v2 strategies read it.
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE, metaData: { isInitComplete: true }, isInitComplete: true });
    expect(h.emulator.getRun(first.id)).toMatchObject({
      metaData: { isInitComplete: true },
      variables: { price: 10, initialized: true, step: 10 },
    });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(steady, { id: first.id, freshlyCreated: false, metaData: { isInitComplete: true } });

    const withVariables = await rm.getRun(['price', 'step']);
    const [priced] = await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expect(priced!.query.var).toBe('price;step');
    expectV3Run(withVariables, { id: first.id, variables: { price: 10, step: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    await h.expectTrace(initTrace(reset.id)); // v2: 4
    expectV3Run(reset, { freshlyCreated: true, metaData: { isInitComplete: true } });
    expect(reset.id).not.toBe(first.id);
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });
  });

  it('a custom flag becomes the metadata key it sets and filters on; first getRun with variables reads them after the init', async () => {
    const rm = h.manager({ strategyOptions: { initOperation: 'init', flag: { level: 'ready' } } });

    const first = await rm.getRun(['initialized']);
    const entries = await h.expectTrace([
      `GET ${GROUP_QUERY}`,
      `POST ${RUN}`,
      `POST ${operationRoute(first.id)}`,
      `PATCH ${metaRoute(first.id)}`,
      `POST ${variablesRoute(first.id)}`,
    ]);
    expect(filterOf(entries[0]!)).toEqual(['meta.level=ready', 'run.hidden=false', 'run.userKey=u1']);
    expect(entries[3]!.body).toEqual({ set: { level: 'ready' } });
    expectV3Run(first, { freshlyCreated: true, metaData: { level: 'ready' }, variables: { initialized: true } });

    const again = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expect(again.id).toBe(first.id);
  });

  it('a run without the flag (init never finished) is not reused', async () => {
    const unflagged = await h.manager({ strategy: 'reuse-never' }).getRun();
    await h.take();

    const rm = h.manager({ strategyOptions: { initOperation: 'init' } });
    const run = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`, `POST ${operationRoute(run.id)}`, `PATCH ${metaRoute(run.id)}`]);
    expect(run.id).not.toBe(unflagged.id);
    expect(h.runCount()).toBe(2);
  });

  it('a failing init operation rejects INIT_FAILED with the v3 code and hides the half-made run', async () => {
    const rm = h.manager({ strategy: 'reuse-last-initialized', strategyOptions: { initOperation: ['init', 'fail'] } });

    const error = await expectRejection(rm.getRun(), 'INIT_FAILED');
    expect(error.status).toBe(500);
    const [runKey] = h.emulator.runs().map((run) => run.id);
    const entries = await h.expectTrace([
      `GET ${GROUP_QUERY}`,
      `POST ${RUN}`,
      `POST ${operationRoute(runKey!)}`,
      `POST ${operationRoute(runKey!)}`,
      `PATCH ${runRoute(runKey!)}`,
    ]); // v2: 5
    expect(entries[3]!.status).toBe(500);
    expect(entries[4]!.body).toEqual({ hidden: true, marked: false });
    expect(h.emulator.getRun(runKey!)).toMatchObject({ trashed: true, saved: false });
    expect(h.emulator.getRun(runKey!)!.metaData).toEqual({});
    expect(h.store.size).toBe(0);
  });
});

describe('reuse-by-tracking-key on v3', () => {
  const FILTER = ['run.hidden=false', 'run.trackingKey=tk1', 'run.userKey=u1'];
  const BODY = { ...CREATE_BODY, trackingKey: 'tk1' };

  it('finds or creates the tracking-key run, reuses it with settings, and resets within the run limit', async () => {
    const settings = { trackingKey: 'tk1', runLimit: 2 };
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings } });

    const first = await rm.getRun();
    const [query, create] = await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`]); // v2: 2
    expect(query!.query).toMatchObject(NEWEST);
    expect(filterOf(query!)).toEqual(FILTER);
    expect(create!.body).toEqual(BODY);
    expectV3Run(first, { freshlyCreated: true, settings, trackingKey: 'tk1', scope: U1_SCOPE });

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(steady, { id: first.id, freshlyCreated: false, settings, trackingKey: 'tk1' });

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(withVariables, { id: first.id, variables: { price: 10 }, settings });
    expect(h.runCount()).toBe(1);

    // The run count is the query's totalResults (v2: Content-Range).
    const reset = await rm.reset();
    const [, resetCreate] = await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`]); // v2: 2
    expect(resetCreate!.body).toEqual(BODY);
    expectV3Run(reset, { freshlyCreated: true, settings, trackingKey: 'tk1' });
    expect(h.runCount()).toBe(2);

    const refused = await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    expect(refused.message).toBe('You have reached your run limit and cannot create new runs.');
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false, settings });
  });

  it('runs of another tracking key or another user do not count toward the limit', async () => {
    h.emulator.seed({
      runs: [
        { account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u1' }, scope: { group: 'g1', trackingKey: 'other' } },
        { account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u2' }, scope: { group: 'g1', trackingKey: 'tk1' } },
      ],
    });
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 1 } } });
    const run = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`]);
    expectV3Run(run, { freshlyCreated: true, trackingKey: 'tk1', scope: { userKey: 'u1' } });
    expect(h.runCount()).toBe(3);
  });

  it('getRun refuses to create past runLimit (0), with only the count sent', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1', runLimit: 0 } } });
    await expectRejection(rm.getRun(), 'RUN_LIMIT_REACHED');
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expect(h.runCount()).toBe(0);
  });

  it('an unlimited reset sends only the create', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'tk1' } } });
    const reset = await rm.reset();
    const [create] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(create!.body).toEqual(BODY);
    expectV3Run(reset, { freshlyCreated: true, settings: { trackingKey: 'tk1', runLimit: Infinity } });
  });

  it('without a tracking key rejects NO_TRACKING_KEY without any request', async () => {
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { runLimit: 2 } } });
    await expectRejection(rm.getRun(), 'NO_TRACKING_KEY');
    await expectRejection(rm.reset(), 'NO_TRACKING_KEY');
    await h.expectTrace([]);
  });

  it('calls a settings function per resolution and onCreate with the service bound to the new run', async () => {
    const settings = vi.fn((_runService: unknown, session: UserSession) => ({ trackingKey: `week-${session.groupName}` }));
    const onCreate = vi.fn(async (runService: unknown, _settings: Record<string, unknown>, run: Run) => {
      await (runService as RunService).do('step', [3]);
      return { ...run, labelled: true };
    });
    const rm = h.manager({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings, onCreate } });

    const first = await rm.getRun();
    const entries = await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`, `POST ${operationRoute(first.id)}`]); // v2: 3
    expect(filterOf(entries[0]!)).toEqual(['run.hidden=false', 'run.trackingKey=week-g1', 'run.userKey=u1']);
    expect(entries[1]!.body).toEqual({ ...CREATE_BODY, trackingKey: 'week-g1' });
    expect(entries[2]!.body).toEqual({ name: 'step', arguments: [3], objectType: 'execute' });
    expect(settings).toHaveBeenCalledWith(rm.run, { userId: 'u1', groupName: 'g1', groupKey: 'key-g1' });
    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(onCreate.mock.calls[0]![0]).toBe(rm.run);
    expect(onCreate.mock.calls[0]![2]).toMatchObject({ runKey: first.id, trackingKey: 'week-g1' });
    expectV3Run(first, { labelled: true, freshlyCreated: true, settings: { trackingKey: 'week-g1' } });
    expect(h.emulator.getRun(first.id)!.variables).toMatchObject({ step: 3 });

    const again = await rm.getRun();
    expect(again.id).toBe(first.id);
    expect(settings).toHaveBeenCalledTimes(2);
    expect(onCreate).toHaveBeenCalledTimes(1);
    await h.take();

    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUN}`, `POST ${operationRoute(reset.id)}`]); // v2: 2
    expect(onCreate).toHaveBeenCalledTimes(2);
    expect(h.emulator.getRun(reset.id)!.variables).toMatchObject({ step: 3 });
  });
});
