/**
 * The guarantees that set the library apart, attacked through the public API against the emulator:
 * one run per user per session key and never a run past a `runLimit` — when waiting managers are
 * stopped, when a lock is handed over during a stop, when collaborators (coordinators, session
 * providers, session stores, inspectors, callbacks) fail, hang or throw values that cannot be
 * printed, and when the server answers a run id that cannot address a run.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createProcessCoordinator } from '../../src/core.js';
import {
  createMemorySessionStore,
  RunManager,
  RunManagerError,
  type Coordinator,
  type ReleaseLock,
  type RunManagerOptions,
  type SessionStore,
} from '../../src/index.js';
import { createSessionRecord } from '../../src/services/session-store.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { expectRejection, sleep, watchArrivals } from './helpers.js';

const TOKEN = createDevToken({ userId: 'u1' });
const SESSION = { userId: 'u1', groupName: 'g1', auth_token: TOKEN };
const KEY = 'epicenter-scenario-acme-sim-model.py';

let emulator: Emulator;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
  vi.restoreAllMocks();
});

function manager(options: Partial<RunManagerOptions> & { sessionStore: SessionStore }): RunManager {
  const rm = new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    session: SESSION,
    retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
    ...options,
  });
  managers.push(rm);
  return rm;
}

const userRuns = () => emulator.runs({ userId: 'u1' });
/** Resolves once a create has reached the emulator (it is held there by a `slow` fault). */
async function createArrived(): Promise<void> {
  const watch = watchArrivals();
  try {
    await watch.waitFor((arrival) => arrival.method === 'POST', 5_000);
  } finally {
    watch.stop();
  }
}
const quietWarnings = () => vi.spyOn(console, 'warn').mockImplementation(() => undefined);

describe('a stopped waiter never lets the next manager in while the lock is held', () => {
  it('A creates slowly, B waits and is stopped, C waits for A and reuses its run', async () => {
    const store = createMemorySessionStore();
    emulator.slow({ method: 'POST', delayMs: 300, times: 1 });
    const a = manager({ sessionStore: store });
    const b = manager({ sessionStore: store });
    const c = manager({ sessionStore: store });

    const arrived = createArrived();
    const first = a.getRun();
    await arrived;
    const waiting = b.getRun();
    await sleep(10);
    b.stop();
    await expectRejection(waiting, 'ABORTED');
    const third = await c.getRun();

    const run = await first;
    expect(third.id).toBe(run.id);
    expect(third.freshlyCreated).toBe(false);
    expect(userRuns()).toHaveLength(1);
  });

  it('with runLimit 1: the stopped waiter does not let a second run past the limit', async () => {
    const store = createMemorySessionStore();
    const options = {
      strategy: 'reuse-by-tracking-key',
      strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } },
      sessionStore: store,
    } as const;
    emulator.slow({ method: 'POST', delayMs: 300, times: 1 });
    const a = manager(options);
    const b = manager(options);
    const c = manager(options);
    const arrived = createArrived();
    const first = a.reset();
    await arrived;
    const waiting = b.reset();
    await sleep(10);
    b.stop();
    await expectRejection(waiting, 'ABORTED');
    // C comes while A's create is still in flight: it must wait, then count A's run.
    const third = c.reset();
    await first;
    await expectRejection(third, 'RUN_LIMIT_REACHED');
    expect(userRuns()).toHaveLength(1);
  });

  it('50 managers: the last waiter stops, the next newcomer still waits for the holder', async () => {
    const store = createMemorySessionStore();
    emulator.slow({ method: 'POST', delayMs: 300, times: 1 });
    const crowd = Array.from({ length: 50 }, () => manager({ sessionStore: store }));
    const arrived = createArrived();
    const calls = crowd.map((rm) =>
      rm.getRun().then(
        (run) => run.id,
        (error: RunManagerError) => error.type,
      ),
    );
    await arrived;
    await sleep(10);
    crowd[49]!.stop();
    const late = await manager({ sessionStore: store }).getRun();
    const outcomes = await Promise.all(calls);
    expect(outcomes[49]).toBe('ABORTED');
    expect(new Set([...outcomes.slice(0, 49), late.id])).toEqual(new Set([late.id]));
    expect(userRuns()).toHaveLength(1);
  });
});

describe('a create cut short by stop() keeps the lock while the server may still make the run', () => {
  /** Starts `call` on a manager, stops it once its create has reached the emulator (held there 300 ms), and waits for ABORTED. */
  async function stopDuringCreate(options: Partial<RunManagerOptions> & { sessionStore: SessionStore }, call: 'getRun' | 'reset') {
    emulator.slow({ method: 'POST', delayMs: 300, times: 1 });
    const coordinator = createProcessCoordinator();
    const stopped = manager({ ...options, coordinator });
    const arrived = createArrived();
    const pending = stopped[call]();
    await arrived;
    stopped.stop();
    await expectRejection(pending, 'ABORTED');
    await sleep(0);
    return coordinator;
  }

  it('reuse-across-sessions: the next manager reuses the run the stopped one made, not a second', async () => {
    const options = { strategy: 'reuse-across-sessions', sessionStore: createMemorySessionStore() } as const;
    const coordinator = await stopDuringCreate(options, 'getRun');
    expect(coordinator.held).toBe(1);

    const run = await manager({ ...options, coordinator }).getRun();
    expect(run.freshlyCreated).toBe(false);
    expect(userRuns().map((made) => made.id)).toEqual([run.id]);
  });

  it('with runLimit 1: the next reset counts the stopped create and is refused', async () => {
    const options = {
      strategy: 'reuse-by-tracking-key',
      strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } },
      sessionStore: createMemorySessionStore(),
    } as const;
    const coordinator = await stopDuringCreate(options, 'reset');

    await expectRejection(manager({ ...options, coordinator }).reset(), 'RUN_LIMIT_REACHED');
    expect(userRuns()).toHaveLength(1);
  });

  it('on Epicenter v3 too', async () => {
    const group = { groupName: 'g1', groupKey: 'key-g1' };
    const options = {
      run: { account: 'acme', project: 'sim', model: 'model.py', apiVersion: 3, baseURL: emulator.v3BaseURL },
      session: { userId: 'u1', ...group, auth_token: createDevToken({ userId: 'u1', ...group }) },
      strategy: 'reuse-across-sessions',
      sessionStore: createMemorySessionStore(),
    } as const;
    const coordinator = await stopDuringCreate(options, 'getRun');

    const run = await manager({ ...options, coordinator }).getRun();
    expect(run.freshlyCreated).toBe(false);
    expect(emulator.runs().map((made) => made.id)).toEqual([run.id]);
  });

  it('a manager stopped with no write in doubt gives its lock back at once', async () => {
    emulator.slow({ method: 'GET', delayMs: 300, times: 1 });
    const coordinator = createProcessCoordinator();
    const stopped = manager({ strategy: 'reuse-across-sessions', sessionStore: createMemorySessionStore(), coordinator });
    const pending = stopped.getRun();
    await sleep(20);
    stopped.stop();
    await expectRejection(pending, 'ABORTED');
    await sleep(0);
    expect(coordinator.held).toBe(0);
  });
});

describe('a lock handed over while its manager is being stopped is released', () => {
  it('the next manager of the user does not hang', async () => {
    const store = createMemorySessionStore();
    const locks = createProcessCoordinator();
    let stopOnHandOver: RunManager | undefined;
    // Stops the receiving manager inside the hand-over: after the lock is granted, before the manager hears of it.
    const coordinator: Coordinator = {
      async acquire(name, signal) {
        const release: ReleaseLock = await locks.acquire(name, signal);
        const victim = stopOnHandOver;
        stopOnHandOver = undefined;
        victim?.stop();
        return release;
      },
    };
    emulator.slow({ method: 'POST', delayMs: 200, times: 1 });
    const a = manager({ sessionStore: store, coordinator });
    const b = manager({ sessionStore: store, coordinator });
    const arrived = createArrived();
    const first = a.getRun();
    await arrived;
    const waiting = b.getRun();
    await sleep(10);
    stopOnHandOver = b;
    await first;
    await expectRejection(waiting, 'ABORTED');
    const c = manager({ sessionStore: store, coordinator });
    const run = await Promise.race([c.getRun(), sleep(2_000).then(() => 'hung')]);
    expect(run).not.toBe('hung');
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });
});

describe('a coordinator that fails', () => {
  it('a rejecting acquire rejects getRun and reset with INVALID_OPTIONS, sends nothing, and the manager keeps working', async () => {
    let refuse = true;
    const locks = createProcessCoordinator();
    const coordinator: Coordinator = {
      acquire: (name, signal) =>
        refuse ? Promise.reject(new DOMException('The request was denied.', 'SecurityError')) : locks.acquire(name, signal),
    };
    const rm = manager({ sessionStore: createMemorySessionStore(), coordinator });
    await expectRejection(rm.getRun(), 'INVALID_OPTIONS', /coordinator\.acquire failed: The request was denied/);
    await expectRejection(rm.reset(), 'INVALID_OPTIONS', /coordinator\.acquire failed/);
    expect(emulator.requests).toHaveLength(0);
    refuse = false;
    expect((await rm.getRun()).freshlyCreated).toBe(true);
  });
});

describe('user code that throws values that cannot be printed', () => {
  const unprintable = () => {
    const value = Object.create(null) as Record<string, unknown>;
    Object.defineProperty(value, 'message', {
      get: () => {
        throw new Error('no message for you');
      },
    });
    return value;
  };

  it('a session provider: getRun rejects, the next call settles, and the lock is not leaked', async () => {
    const store = createMemorySessionStore();
    let fail = true;
    const rm = manager({
      sessionStore: store,
      session: () => {
        if (fail) throw unprintable();
        return SESSION;
      },
    });
    await expectRejection(rm.getRun(), 'UNAUTHORIZED', /session provider failed/);
    fail = false;
    expect((await rm.getRun()).id).toBeTypeOf('string');
    expect((await manager({ sessionStore: store }).getRun()).freshlyCreated).toBe(false);
  });

  it('a session store whose get and set throw such values: the run still resolves and is reused', async () => {
    quietWarnings();
    const store: SessionStore = {
      get: () => {
        throw Object.create(null);
      },
      set: () =>
        Promise.reject({
          toString() {
            throw new Error('nope');
          },
        }),
      del: async () => undefined,
    };
    const rm = manager({ sessionStore: store });
    const run = await rm.getRun();
    expect(run.freshlyCreated).toBe(true);
    expect((await rm.getRun()).id).toBeTypeOf('string');
  });

  it('a store set failure never fails a getRun whose run was created', async () => {
    const warn = quietWarnings();
    const store = { ...createMemorySessionStore(), set: () => Promise.reject(new Error('quota exceeded')) };
    const run = await manager({ sessionStore: store }).getRun();
    expect(run.freshlyCreated).toBe(true);
    expect(userRuns()).toHaveLength(1);
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('Could not write the session store: quota exceeded'),
    ]);
  });

  it('an inspect observer that throws: construction, getRun and reset still work', async () => {
    const warn = quietWarnings();
    const rm = manager({
      sessionStore: createMemorySessionStore(),
      inspect: () => {
        throw unprintable();
      },
    });
    expect((await rm.getRun()).freshlyCreated).toBe(true);
    expect((await rm.reset()).freshlyCreated).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('async user functions whose promise nobody waits for never reject unhandled', () => {
  /** Every rejection nobody handled while `work` ran (and a moment after). */
  async function unhandledDuring(work: () => Promise<unknown>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const listener = (reason: unknown) => void seen.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await work();
      await sleep(20);
    } finally {
      process.off('unhandledRejection', listener);
    }
    return seen;
  }

  it('an async inspect observer that rejects: reported once, like one that throws', async () => {
    const warn = quietWarnings();
    const seen = await unhandledDuring(async () => {
      // An async observer, which the `inspect` type (a void function) does not foresee.
      const inspect = (() => Promise.reject(new Error('inspector down'))) as unknown as RunManagerOptions['inspect'];
      const rm = manager({ sessionStore: createMemorySessionStore(), inspect });
      expect((await rm.getRun()).freshlyCreated).toBe(true);
    });
    expect(seen).toEqual([]);
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('the inspect observer threw (inspector down)'),
    ]);
  });

  it('a coordinator whose release returns a rejected promise: released, the next manager gets the lock', async () => {
    const inner = createProcessCoordinator();
    const coordinator: Coordinator = {
      acquire: async (name, signal) => {
        const release = await inner.acquire(name, signal);
        // An async release, which the `ReleaseLock` type (a void function) does not foresee: that is the attack.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        return () => {
          release();
          return Promise.reject(new Error('release failed'));
        };
      },
    };
    const seen = await unhandledDuring(async () => {
      await manager({ sessionStore: createMemorySessionStore(), coordinator }).getRun();
      await manager({ sessionStore: createMemorySessionStore(), coordinator }).getRun();
    });
    expect(seen).toEqual([]);
    expect(inner.held).toBe(0);
  });

  it('an async sessionKey function: INVALID_OPTIONS naming what it returned, its rejection handled', async () => {
    const seen = await unhandledDuring(async () => {
      const rm = manager({ sessionStore: createMemorySessionStore(), sessionKey: (() => Promise.reject(new Error('no key'))) as never });
      await expectRejection(rm.getRun(), 'INVALID_OPTIONS', /sessionKey/);
    });
    expect(seen).toEqual([]);
  });
});

describe('collaborators that never settle are bounded by timeout', () => {
  const never = () => new Promise<never>(() => undefined);

  it('a session provider that never settles: TIMEOUT, and other managers of the user are not blocked', async () => {
    const store = createMemorySessionStore();
    const hung = manager({ sessionStore: store, session: never, timeout: 150 });
    const other = manager({ sessionStore: store, timeout: 150 });
    const pending = hung.getRun();
    await expectRejection(pending, 'TIMEOUT', /session provider did not settle within 150 ms/);
    expect((await other.getRun()).freshlyCreated).toBe(true);
  });

  it('a store whose get and set never settle: the run resolves after the timeouts, and the lock moves on', async () => {
    quietWarnings();
    const hanging: SessionStore = { get: never, set: never, del: never };
    const store = createMemorySessionStore();
    const slow = manager({ sessionStore: hanging, timeout: 150 });
    const other = manager({ sessionStore: store, timeout: 150 });
    const started = Date.now();
    const [hungRun, otherRun] = await Promise.all([slow.getRun(), other.getRun()]);
    expect(hungRun.freshlyCreated).toBe(true);
    expect(otherRun.id).toBeTypeOf('string');
    // Bounded: two waits of 150 ms, not forever (a generous ceiling, not a timing assertion).
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('runLimit holds across managers of one user with other session keys or models', () => {
  it('two session keys, concurrent getRun with runLimit 1: one run, both get it', async () => {
    emulator.slow({ method: 'POST', delayMs: 150, times: 1 });
    const options = { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } } } as const;
    const a = manager({ ...options, sessionStore: createMemorySessionStore(), sessionKey: 'tab-a' });
    const b = manager({ ...options, sessionStore: createMemorySessionStore(), sessionKey: 'tab-b' });
    const [first, second] = await Promise.all([a.getRun(), b.getRun()]);
    expect(second.id).toBe(first.id);
    expect([first.freshlyCreated, second.freshlyCreated].sort()).toEqual([false, true]);
    expect(userRuns()).toHaveLength(1);
  });

  it('two models, concurrent resets with runLimit 1: one run, the other RUN_LIMIT_REACHED', async () => {
    emulator.slow({ method: 'POST', delayMs: 150, times: 1 });
    const settings = { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } } } as const;
    const a = manager({ ...settings, sessionStore: createMemorySessionStore() });
    const b = manager({
      ...settings,
      sessionStore: createMemorySessionStore(),
      run: { account: 'acme', project: 'sim', model: 'other.py', baseURL: emulator.baseURL },
    });
    const outcomes = await Promise.all(
      [a.reset(), b.reset()].map((call) =>
        call.then(
          () => 'created',
          (error: RunManagerError) => error.type,
        ),
      ),
    );
    expect(outcomes.sort()).toEqual(['RUN_LIMIT_REACHED', 'created']);
    expect(userRuns()).toHaveLength(1);
  });

  it('multiplayer: two users of one world reset at once with runLimit 1: one new run', async () => {
    emulator.addWorld({ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }, { userId: 'u2' }] });
    emulator.slow({ method: 'POST', delayMs: 150, times: 1 });
    const settings = {
      strategy: 'reuse-by-tracking-key-multiplayer',
      strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } },
    } as const;
    const u1 = manager({ ...settings, sessionStore: createMemorySessionStore() });
    const u2 = manager({
      ...settings,
      sessionStore: createMemorySessionStore(),
      session: { userId: 'u2', groupName: 'g1', auth_token: createDevToken({ userId: 'u2' }) },
    });
    const outcomes = await Promise.all(
      [u1.reset(), u2.reset()].map((call) =>
        call.then(
          () => 'created',
          (error: RunManagerError) => error.type,
        ),
      ),
    );
    expect(outcomes.sort()).toEqual(['RUN_LIMIT_REACHED', 'created']);
    expect(emulator.runs().filter((run) => run.scope?.trackingKey === 'k')).toHaveLength(1);
  });
});

describe('reset({ success, error }) callbacks that throw', () => {
  it('are reported, never an unhandled rejection of the library', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const report = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const rm = manager({ sessionStore: createMemorySessionStore() });
      const run = await rm.reset({
        success: () => {
          throw new Error('success handler broke');
        },
      });
      expect(run.freshlyCreated).toBe(true);
      emulator.fail({ method: 'POST', status: 503, times: 1 });
      await expectRejection(
        rm.reset({
          // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a callback returning a rejected promise is the attack
          error: () => Promise.reject(new Error('error handler broke')),
        }),
        'HTTP_ERROR',
      );
      await sleep(20);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(report.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('reset({ success }) threw: success handler broke'),
      expect.stringContaining('reset({ error }) threw: error handler broke'),
    ]);
  });
});

describe('a run id that cannot address a run never sticks', () => {
  let server: ScriptedServer;
  beforeAll(async () => {
    server = await startScriptedServer(() => ({ status: 201, json: { id: '..', model: 'model.py' } }));
  });
  afterAll(async () => {
    await server.close();
  });

  it("a server run id '..' is INVALID_RESPONSE and is never stored", async () => {
    const store = createMemorySessionStore();
    const rm = new RunManager({
      run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: `${server.origin}v2/` },
      session: SESSION,
      sessionStore: store,
    });
    managers.push(rm);
    await expectRejection(rm.getRun(), 'INVALID_RESPONSE', /run with an id/);
    expect(store.size).toBe(0);
    // The next getRun tries again (a create), instead of failing on a stored '..'.
    await expectRejection(rm.getRun(), 'INVALID_RESPONSE');
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
  });

  it("a stored record with run id '..' is discarded: reuse-per-session creates", async () => {
    const store = createMemorySessionStore();
    await store.set(KEY, { ...createSessionRecord('r1', { userId: 'u1', model: 'model.py' }), runId: '..' });
    const run = await manager({ sessionStore: store }).getRun();
    expect(run.freshlyCreated).toBe(true);
    expect((await store.get(KEY)) as { runId: string }).toMatchObject({ runId: run.id });
  });
});

describe('a half-made run whose trash failed is finished by the next getRun, never duplicated', () => {
  it('reuse-last-initialized: INIT_FAILED (trash failed), then getRun adopts and initializes that run', async () => {
    const rm = manager({
      sessionStore: createMemorySessionStore(),
      strategy: 'reuse-last-initialized',
      strategyOptions: { initOperation: 'init' },
    });
    emulator.fail({ method: 'POST', path: '/operations/init/', status: 503, times: 1 });
    emulator.fail({ method: 'PATCH', status: 429, times: 1 });
    const failure = await expectRejection(rm.getRun(), 'INIT_FAILED', /trashing the run also failed/);
    const halfMade = /on run (\S+?):/.exec(failure.message)?.[1];
    const run = await rm.getRun();
    expect(run.id).toBe(halfMade);
    expect(run.freshlyCreated).toBe(true);
    expect(userRuns().map((each) => each.id)).toEqual([halfMade]);
    expect(userRuns()[0]).toMatchObject({ isInitComplete: true });
  });
});
