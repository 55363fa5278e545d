/**
 * Integration on Epicenter v3: use-specific-run, none, conditional-creation and a legacy
 * `{ getRun, reset }` strategy through the public RunManager against the emulator.
 * v2 counterpart: other-strategies.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { strategies, type Run, type RunService, type UserSession } from '../../src/index.js';
import {
  CREATE_BODY,
  expectRejection,
  expectV3Run,
  RUN,
  runRoute,
  SESSION_KEY,
  TOKEN_U1,
  U1_SCOPE,
  useV3Integration,
  variablesRoute,
} from './v3-helpers.js';

const h = useV3Integration();

type Condition = (run: Run, headers: Headers, userSession: UserSession, runSession: Record<string, unknown>) => boolean;

/** u1 without any group: enough for strategies that name their run or send nothing. */
const NO_GROUP = { userId: 'u1', auth_token: TOKEN_U1 };

describe('use-specific-run on v3', () => {
  it('loads the named run by runKey every time (no group needed) and never creates; reset is RESET_NOT_SUPPORTED without a request', async () => {
    h.emulator.seed({
      runs: [
        {
          id: 'run1',
          account: 'acme',
          project: 'sim',
          model: 'model.py',
          user: { id: 'u9' },
          scope: { group: 'g1' },
          variables: { price: 42 },
        },
      ],
    });
    const rm = h.manager({ strategy: 'use-specific-run', strategyOptions: { runId: 'run1' }, session: NO_GROUP });

    const first = await rm.getRun();
    await h.expectTrace([`GET ${runRoute('run1')}`]); // v2: 1
    expectV3Run(first, { id: 'run1', freshlyCreated: false, user: { userKey: 'u9' } });
    expect(rm.run.id).toBe('run1');

    const withVariables = await rm.getRun(['price']);
    const [, variables] = await h.expectTrace([`GET ${runRoute('run1')}`, `POST ${variablesRoute('run1')}`]); // v2: 1
    expect(variables!.body).toEqual({ include: 'price' });
    expectV3Run(withVariables, { id: 'run1', variables: { price: 42 } });

    const error = await expectRejection(rm.reset(), 'RESET_NOT_SUPPORTED');
    expect(error.message).toMatch(/reset/);
    await h.expectTrace([]); // v2: 0

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${runRoute('run1')}`]);
    expect(afterReset.id).toBe('run1');
    expect(h.runCount()).toBe(1);
  });

  it('a missing run rejects RUN_NOT_FOUND with the v3 code and creates nothing', async () => {
    const rm = h.manager({ strategy: 'use-specific-run', strategyOptions: { runId: 'nope' } });
    const error = await expectRejection(rm.getRun(), 'RUN_NOT_FOUND');
    expect(error).toMatchObject({ status: 404, code: 'RUN_NOT_FOUND' });
    await h.expectTrace([`GET ${runRoute('nope')}`]);
    expect(h.runCount()).toBe(0);
  });
});

describe('none on v3', () => {
  it('sends nothing (no group needed): getRun resolves rm.run, reset resolves undefined, nothing is cached', async () => {
    const rm = h.manager({ strategy: 'none', session: NO_GROUP });
    expect(await rm.getRun()).toBe(rm.run);
    expect(await rm.getRun(['price'])).toBe(rm.run);
    expect(await rm.reset()).toBeUndefined();
    await h.expectTrace([]); // v2: 0
    expect(h.store.size).toBe(0);
    expect(h.runCount()).toBe(0);
  });
});

describe('conditional-creation on v3', () => {
  it('creates, asks the condition about the cached v3 run, recreates when it says so, and resets by creating', async () => {
    let recreate = false;
    const condition = vi.fn<Condition>(() => recreate);
    const rm = h.manager({ strategy: 'conditional-creation', strategyOptions: { condition } });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(create!.body).toEqual(CREATE_BODY);
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE });
    expect(condition).not.toHaveBeenCalled();

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`]); // v2: 1
    expectV3Run(steady, { id: first.id, freshlyCreated: false });
    expect(condition).toHaveBeenCalledTimes(1);
    const [run, headers, userSession, runSession] = condition.mock.calls[0]!;
    // The condition sees the v3 record (runKey, hidden, scope, metaData), with id = runKey.
    expect(run).toMatchObject({ id: first.id, runKey: first.id, hidden: false, marked: false, scope: U1_SCOPE, metaData: {} });
    expect(headers).toBeInstanceOf(Headers);
    expect(headers.get('content-type')).toMatch(/json/);
    expect(userSession).toEqual({ userId: 'u1', groupName: 'g1', groupKey: 'key-g1' });
    expect(runSession).toEqual({ id: first.id, runId: first.id, v: 1, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) });

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${variablesRoute(first.id)}`]); // v2: 1
    expectV3Run(withVariables, { id: first.id, variables: { price: 10 } });

    recreate = true;
    const recreated = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${RUN}`]); // v2: 2
    expectV3Run(recreated, { freshlyCreated: true });
    expect(recreated.id).not.toBe(first.id);
    expect(h.runCount()).toBe(2);

    recreate = false;
    const calls = condition.mock.calls.length;
    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expectV3Run(reset, { freshlyCreated: true });
    expect(condition).toHaveBeenCalledTimes(calls);
    expect(h.runCount()).toBe(3);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(reset.id)}`]); // v2: 1
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });
  });

  it('a condition written against v3 fields (marked) keeps a marked run and replaces an unmarked one', async () => {
    const rm = h.manager({ strategy: 'conditional-creation', strategyOptions: { condition: (run: Run) => run.marked !== true } });
    const first = await rm.getRun();
    await rm.run.save({ saved: true });
    const [, patch] = await h.expectTrace([`POST ${RUN}`, `PATCH ${runRoute(first.id)}`]);
    expect(patch!.body).toEqual({ marked: true });

    const kept = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`]);
    expectV3Run(kept, { id: first.id, marked: true, freshlyCreated: false });

    await rm.run.save({ saved: false });
    await h.take();
    const replaced = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${RUN}`]);
    expectV3Run(replaced, { freshlyCreated: true, marked: false });
    expect(replaced.id).not.toBe(first.id);
  });
});

describe('a legacy { getRun, reset } strategy on v3', () => {
  it('gets a RunService that speaks v3: create is POST run, load is GET run/{runKey}', async () => {
    const calls: string[] = [];
    strategies.register(
      'integration-v3-legacy',
      {
        async getRun(runService: RunService, _userSession: UserSession, runSession: Record<string, unknown>) {
          calls.push('getRun');
          if (typeof runSession.id === 'string') return runService.load(runSession.id);
          return { ...(await runService.create()), freshlyCreated: true };
        },
        async reset(runService: RunService) {
          calls.push('reset');
          return { ...(await runService.create()), freshlyCreated: true };
        },
      },
      { requiresAuth: true },
    );
    const rm = h.manager({ strategy: 'integration-v3-legacy' });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUN}`]);
    expect(create!.body).toEqual(CREATE_BODY);
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE });

    const steady = await rm.getRun(['price']);
    await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${variablesRoute(first.id)}`]);
    expectV3Run(steady, { id: first.id, freshlyCreated: false, variables: { price: 10 } });

    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUN}`]);
    expectV3Run(reset, { freshlyCreated: true });
    expect(await h.store.get(SESSION_KEY)).toMatchObject({ runId: reset.id, userId: 'u1' });
    expect(calls).toEqual(['getRun', 'getRun', 'reset']);
  });
});
