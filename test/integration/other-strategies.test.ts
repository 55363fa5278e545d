/**
 * Integration: conditional-creation, use-specific-run, none and legacy `{ getRun, reset }`
 * strategies registered with `requiresAuth`, through the public RunManager against the emulator.
 */
import { describe, expect, it, vi } from 'vitest';
import { RunManagerError, strategies, type Run, type RunService, type StrategyLike, type UserSession } from '../../src/index.js';
import { CREATE_BODY, expectRejection, originalRequests, RUNS, SESSION_KEY, useIntegration } from './helpers.js';

const h = useIntegration();

type Condition = (run: Run, headers: Headers, userSession: UserSession, runSession: Record<string, unknown>) => boolean;
/** Constructed with a condition: `new (strategies.byName('conditional-creation'))(condition)`. */
const Conditional = strategies.byName('conditional-creation') as unknown as new (condition: Condition) => StrategyLike;
// originalRequests has no row for conditional-creation; it sends what reuse-per-session sends (+ a create when the condition says so).
const original = (phase: 'first' | 'steady' | 'reset', variables = false) => originalRequests('reuse-per-session', phase, { variables });

describe('conditional-creation', () => {
  it('constructed with a condition: creates, asks the condition about the cached run, recreates when it says so', async () => {
    let recreate = false;
    const condition = vi.fn<Condition>(() => recreate);
    const rm = h.manager({ strategy: new Conditional(condition) });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`], original('first'));
    expect(create!.body).toEqual(CREATE_BODY);
    expect(first.freshlyCreated).toBe(true);
    expect(condition).not.toHaveBeenCalled();
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${first.id}/`], original('steady'));
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);
    expect(condition).toHaveBeenCalledTimes(1);
    const [run, headers, userSession, runSession] = condition.mock.calls[0]!;
    expect(run).toMatchObject({ id: first.id, user: { id: 'u1' } });
    expect(headers).toBeInstanceOf(Headers);
    expect(headers.get('content-type')).toMatch(/json/);
    expect(userSession).toEqual({ userId: 'u1', groupName: 'g1' });
    expect(runSession).toEqual({ id: first.id, runId: first.id, v: 1, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) });

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([`GET ${RUNS}${first.id}/`], original('steady', true));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 } });

    recreate = true;
    const recreated = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${first.id}/`, `POST ${RUNS}`]);
    expect(recreated.id).not.toBe(first.id);
    expect(recreated.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(2);

    recreate = false;
    const calls = condition.mock.calls.length;
    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUNS}`], original('reset'));
    expect(reset.freshlyCreated).toBe(true);
    expect(condition).toHaveBeenCalledTimes(calls);
    expect(h.runCount()).toBe(3);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${reset.id}/`], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(3);
  });

  it('by name with strategyOptions.condition', async () => {
    const condition = vi.fn<Condition>((run) => run.saved !== true);
    const rm = h.manager({ strategy: 'conditional-creation', strategyOptions: { condition } });

    const first = await rm.getRun();
    await h.expectTrace([`POST ${RUNS}`]);
    await rm.run.save({ saved: true });
    await h.take();

    const kept = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${first.id}/`]);
    expect(kept).toMatchObject({ id: first.id, saved: true, freshlyCreated: false });
    expect(condition.mock.calls[0]!.slice(2)).toEqual([
      { userId: 'u1', groupName: 'g1' },
      { id: first.id, runId: first.id, v: 1, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) },
    ]);
    expect(h.runCount()).toBe(1);
  });

  it('by name without a condition is refused by the constructor', async () => {
    let thrown: unknown;
    try {
      h.manager({ strategy: 'conditional-creation' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RunManagerError);
    expect(thrown).toMatchObject({ type: 'INVALID_OPTIONS', message: expect.stringContaining('strategyOptions.condition') });
    await h.expectTrace([]);
  });
});

describe('use-specific-run', () => {
  it('loads the named run every time and never creates; reset is RESET_NOT_SUPPORTED without a request', async () => {
    h.emulator.seed({
      runs: [{ id: 'run1', account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u9' }, variables: { price: 42 } }],
    });
    await h.take();
    const rm = h.manager({ strategy: 'use-specific-run', strategyOptions: { runId: 'run1' } });
    const specific = (phase: 'first' | 'steady' | 'reset', variables = false) => originalRequests('use-specific-run', phase, { variables });

    const first = await rm.getRun();
    const [load] = await h.expectTrace([`GET ${RUNS}run1/`], specific('first'));
    expect(load!.headers['x-autorestore']).toBe('true');
    expect(first).toMatchObject({ id: 'run1', freshlyCreated: false });
    expect(rm.run.id).toBe('run1');

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([`GET ${RUNS}run1/`], specific('steady', true));
    expect(withVariables.variables).toEqual({ price: 42 });

    const error = await expectRejection(rm.reset(), 'RESET_NOT_SUPPORTED');
    expect(error.message).toMatch(/reset/);
    await h.expectTrace([], specific('reset'));

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}run1/`], specific('steady'));
    expect(afterReset.id).toBe('run1');
    expect(h.runCount()).toBe(1);
  });

  it('a missing run rejects RUN_NOT_FOUND and creates nothing', async () => {
    const rm = h.manager({ strategy: 'use-specific-run', strategyOptions: { runId: 'nope' } });
    const error = await expectRejection(rm.getRun(), 'RUN_NOT_FOUND');
    expect(error.status).toBe(404);
    await h.expectTrace([`GET ${RUNS}nope/`]);
    expect(h.runCount()).toBe(0);
  });
});

describe('none', () => {
  it('sends nothing: getRun resolves rm.run, reset resolves undefined, nothing is cached', async () => {
    const rm = h.manager({ strategy: 'none' });
    expect(await rm.getRun()).toBe(rm.run);
    expect(await rm.getRun(['price'])).toBe(rm.run);
    expect(await rm.reset()).toBeUndefined();
    await h.expectTrace([], originalRequests('none', 'first'));
    expect(h.store.size).toBe(0);
    expect(h.runCount()).toBe(0);
  });
});

describe('legacy { getRun, reset } strategies registered with requiresAuth', () => {
  interface Call {
    method: 'getRun' | 'reset';
    runService: unknown;
    userSession: UserSession;
    runSession?: Record<string, unknown>;
  }

  /** The object form `{ getRun, reset }`: reuse the cached run, create otherwise; reset creates. */
  function legacy(calls: Call[]) {
    return {
      async getRun(runService: RunService, userSession: UserSession, runSession: Record<string, unknown>) {
        calls.push({ method: 'getRun', runService, userSession, runSession });
        if (typeof runSession.id === 'string') return runService.load(runSession.id);
        return { ...(await runService.create()), freshlyCreated: true };
      },
      async reset(runService: RunService, userSession: UserSession) {
        calls.push({ method: 'reset', runService, userSession });
        return { ...(await runService.create()), freshlyCreated: true };
      },
    };
  }

  const forms: Array<[string, (calls: Call[], received: unknown[]) => unknown]> = [
    ['object', (calls) => legacy(calls)],
    [
      'factory function',
      (calls, received) =>
        function factory(options: unknown) {
          received.push(options);
          return legacy(calls);
        },
    ],
    [
      'class',
      (calls, received) =>
        class LegacyStrategy {
          readonly getRun;
          readonly reset;
          constructor(options: unknown) {
            received.push(options);
            const impl = legacy(calls);
            this.getRun = impl.getRun;
            this.reset = impl.reset;
          }
        },
    ],
    [
      'arrow function',
      (calls, received) => (options: unknown) => {
        received.push(options);
        return legacy(calls);
      },
    ],
  ];

  it.each(forms)('%s form: UNAUTHORIZED with zero requests without a user; with one, the full lifecycle', async (form, make) => {
    const calls: Call[] = [];
    const received: unknown[] = [];
    const name = `integration-legacy-${form.replace(' ', '-')}`;
    strategies.register(name, make(calls, received) as StrategyLike, { requiresAuth: true });

    const anonymous = h.manager({ strategy: name, session: undefined });
    await expectRejection(anonymous.getRun(), 'UNAUTHORIZED');
    await expectRejection(anonymous.reset(), 'UNAUTHORIZED');
    const loggedOut = h.manager({ strategy: name, session: () => undefined });
    await expectRejection(loggedOut.getRun(), 'UNAUTHORIZED');
    await h.expectTrace([]);
    expect(calls).toEqual([]);

    const rm = h.manager({ strategy: name });
    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`]);
    expect(create!.body).toEqual({ model: 'model.py' });
    expect(first).toMatchObject({ freshlyCreated: true, user: { id: 'u1' } });
    expect(calls[0]).toEqual({ method: 'getRun', runService: rm.run, userSession: { userId: 'u1', groupName: 'g1' }, runSession: {} });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun(['price']);
    // A { getRun, reset } strategy loads without include=, so the variables come in a request of their own.
    await h.expectTrace([`GET ${RUNS}${first.id}/`, `GET ${RUNS}${first.id}/variables/`]);
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);
    expect(calls[1]!.runSession).toMatchObject({ id: first.id, runId: first.id, userId: 'u1' });

    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUNS}`]);
    expect(reset.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${reset.id}/`]);
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(2);
    expect(await h.store.get(SESSION_KEY)).toMatchObject({ runId: reset.id, userId: 'u1' });

    if (form !== 'object') {
      expect(received.length).toBeGreaterThan(0);
      for (const options of received)
        expect(options).toMatchObject({ strategy: name, run: { account: 'acme', project: 'sim', model: 'model.py' } });
    }
  });
});
