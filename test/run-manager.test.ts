import { ofetch } from 'ofetch';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  RunManager,
  RunManagerError,
  RunService,
  createMemorySessionStore,
  createRunManager,
  type RunManagerOptions,
  type SessionStore,
} from '../src/index.js';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import { createProcessCoordinator } from '../src/core.js';

let emulator: Emulator;
const token = createDevToken({ userId: 'u1', userName: 'alice' });
const token2 = createDevToken({ userId: 'u2', userName: 'bob' });

beforeAll(async () => {
  emulator = await startEmulator({ variables: { price: 10, sales: 3 } });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function options(overrides: Partial<RunManagerOptions> = {}): RunManagerOptions {
  return {
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    session: { userId: 'u1', groupName: 'g1', auth_token: token },
    sessionStore: createMemorySessionStore(),
    retry: { retries: 0 },
    ...overrides,
  };
}

const creates = () => emulator.requests.filter((r) => r.method === 'POST' && /\/run\/acme\/sim\/?$/.test(r.path)).length;

describe('RunManager construction', () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /options/],
    ['no run', { strategy: 'reuse-never' }, /run/],
    ['missing account', { run: { project: 'p', model: 'm' } }, /run\.account/],
    ['missing project', { run: { account: 'a', model: 'm' } }, /run\.project/],
    ['empty model', { run: { account: 'a', project: 'p', model: '' } }, /run\.model/],
    ['unknown strategy', { run: { account: 'a', project: 'p', model: 'm' }, strategy: 'reuse-sometimes' }, /reuse-sometimes/],
    ['use-specific-run without runId', { run: { account: 'a', project: 'p', model: 'm' }, strategy: 'use-specific-run' }, /runId/],
    ['empty initOperation', { run: { account: 'a', project: 'p', model: 'm' }, strategyOptions: { initOperation: [] } }, /initOperation/],
    [
      'runLimit -1',
      {
        run: { account: 'a', project: 'p', model: 'm' },
        strategy: 'reuse-by-tracking-key',
        strategyOptions: { settings: { trackingKey: 'k', runLimit: -1 } },
      },
      /runLimit/,
    ],
    ['timeout of 0', { run: { account: 'a', project: 'p', model: 'm' }, timeout: 0 }, /timeout/],
    ['sessionStore without del', { run: { account: 'a', project: 'p', model: 'm' }, sessionStore: { get() {}, set() {} } }, /sessionStore/],
    ['bad baseURL', { run: { account: 'a', project: 'p', model: 'm', baseURL: 'not a url' } }, /run\.baseURL/],
  ];
  it.each(invalid)('throws INVALID_OPTIONS for %s', (_, value, message) => {
    let thrown: unknown;
    try {
      new RunManager(value as RunManagerOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RunManagerError);
    expect((thrown as RunManagerError).type).toBe('INVALID_OPTIONS');
    expect((thrown as RunManagerError).message).toMatch(message);
  });

  it('defaults to reuse-per-session, or reuse-last-initialized when initOperation is given', () => {
    expect(new RunManager(options()).strategy.name).toBe('reuse-per-session');
    expect(new RunManager(options({ strategyOptions: { initOperation: 'init' } })).strategy.name).toBe('reuse-last-initialized');
  });

  it('createRunManager is the same as new RunManager', () => {
    expect(createRunManager(options())).toBeInstanceOf(RunManager);
    expect(RunManager.STRATEGY.REUSE_ACROSS_SESSIONS).toBe('reuse-across-sessions');
    expect(RunManager.strategies.byName('always-new')?.name).toBe('reuse-never');
  });
});

describe('RunManager.getRun', () => {
  it('binds rm.run to the resolved run', async () => {
    const rm = new RunManager(options());
    const run = await rm.getRun();
    expect(rm.run.id).toBe(run.id);
    const result = (await rm.run.do('step', [2])) as { result: unknown };
    expect(result.result).toBe(2);
    expect(emulator.getRun(run.id)?.variables).toMatchObject({ step: 2 });
  });

  it('concurrent calls join one resolution and each gets the variables it asked for', async () => {
    const rm = new RunManager(options());
    const [a, b, c] = await Promise.all([rm.getRun(['price']), rm.getRun(['sales']), rm.getRun()]);
    expect(creates()).toBe(1);
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    expect(a.variables).toEqual({ price: 10 });
    expect(b.variables).toEqual({ sales: 3 });
    expect(c.variables).not.toEqual({ price: 10 });
  });

  it('a failed variables fetch still resolves the run, with variables {}, and warns', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rm = new RunManager(options());
    emulator.fail({ method: 'GET', path: /variables/, status: 500 });
    const run = await rm.getRun(['price']);
    expect(run.variables).toEqual({});
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/variables/));
    warn.mockRestore();
  });

  it('rejects variables that are not names', async () => {
    const rm = new RunManager(options());
    await expect(rm.getRun([''] as string[])).rejects.toMatchObject({ type: 'INVALID_OPTIONS' });
  });

  it('two managers resolving the same session at once create one run', async () => {
    const sessionStore = createMemorySessionStore();
    const managers = Array.from({ length: 5 }, () => new RunManager(options({ sessionStore })));
    const runs = await Promise.all(managers.map((rm) => rm.getRun()));
    expect(creates()).toBe(1);
    expect(new Set(runs.map((r) => r.id)).size).toBe(1);
    expect(runs.filter((r) => r.freshlyCreated)).toHaveLength(1);
  });

  it('reuse-across-sessions managers with separate stores still create once for one user', async () => {
    const managers = Array.from({ length: 3 }, () => new RunManager(options({ strategy: 'reuse-across-sessions' })));
    const runs = await Promise.all(managers.map((rm) => rm.getRun()));
    expect(creates()).toBe(1);
    expect(new Set(runs.map((r) => r.id)).size).toBe(1);
  });
});

describe('RunManager.reset', () => {
  it('waits for a getRun in progress, and a getRun after it joins the reset', async () => {
    const rm = new RunManager(options());
    const first = rm.getRun();
    const reset = rm.reset();
    const after = rm.getRun(['price']);
    const [r1, r2, r3] = await Promise.all([first, reset, after]);
    expect(r1.id).not.toBe(r2.id);
    expect(r3.id).toBe(r2.id);
    expect(r3.variables).toEqual({ price: 10 });
    expect(r2.freshlyCreated).toBe(true);
    expect(creates()).toBe(2);
  });

  it('stores the new run, so a reload keeps it', async () => {
    const sessionStore = createMemorySessionStore();
    const rm = new RunManager(options({ sessionStore }));
    await rm.getRun();
    const fresh = await rm.reset();
    const reloaded = await new RunManager(options({ sessionStore })).getRun();
    expect(reloaded.id).toBe(fresh.id);
    expect(reloaded.freshlyCreated).toBe(false);
    expect(creates()).toBe(2);
  });

  it("rm.run.do('reset') resets through the manager", async () => {
    const rm = new RunManager(options());
    const run = await rm.getRun();
    const fresh = (await rm.run.do('reset')) as { id: string };
    expect(fresh.id).not.toBe(run.id);
    expect(rm.run.id).toBe(fresh.id);
    expect(emulator.requests.some((r) => r.path.includes('/operations/reset'))).toBe(false);
  });

  it("rm.run.do('toString') is the model's operation, not a property of every object", async () => {
    const rm = new RunManager(options());
    await rm.getRun();
    await rm.run.do('toString').catch(() => undefined);
    await rm.run.do('constructor').catch(() => undefined);
    const sent = emulator.requests.filter((r) => r.path.includes('/operations/')).map((r) => r.path.split('/operations/')[1]);
    expect(sent).toEqual(['toString/', 'constructor/']);
  });

  it('calls success and error callbacks as Epicenter.js did', async () => {
    const rm = new RunManager(options());
    const success = vi.fn();
    const run = await rm.reset({ success });
    expect(success).toHaveBeenCalledWith(run);
  });
});

describe('session records', () => {
  it('are small, versioned, and never hold the token or variables', async () => {
    const sessionStore = createMemorySessionStore();
    const set = vi.spyOn(sessionStore, 'set');
    const run = await new RunManager(options({ sessionStore })).getRun(['price']);
    const [key, record] = set.mock.calls[0]!;
    expect(key).toBe('epicenter-scenario-acme-sim-model.py');
    expect(record).toEqual({ v: 1, runId: run.id, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) });
    expect(JSON.stringify(record)).not.toContain(token);
  });

  it('is written when it changes: a getRun that reuses the recorded run writes nothing, a reset or a lost record writes again', async () => {
    const key = 'epicenter-scenario-acme-sim-model.py';
    const sessionStore = createMemorySessionStore();
    const set = vi.spyOn(sessionStore, 'set');
    const rm = new RunManager(options({ sessionStore, strategy: 'reuse-across-sessions' }));
    const first = await rm.getRun();
    const reused = await new RunManager(options({ sessionStore, strategy: 'reuse-across-sessions' })).getRun();
    expect(reused).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(set).toHaveBeenCalledTimes(1);

    const fresh = await rm.reset();
    expect(set).toHaveBeenCalledTimes(2);
    expect(await sessionStore.get(key)).toMatchObject({ runId: fresh.id });

    await sessionStore.del(key);
    expect((await rm.getRun()).id).toBe(fresh.id);
    expect(await sessionStore.get(key)).toMatchObject({ v: 1, runId: fresh.id, userId: 'u1' });
  });

  it('a record of another user, a legacy string or a corrupt value is ignored and replaced', async () => {
    const sessionStore = createMemorySessionStore();
    const first = await new RunManager(options({ sessionStore })).getRun();
    const other = await new RunManager(options({ sessionStore, session: { userId: 'u2', auth_token: token2 } })).getRun();
    expect(other.id).not.toBe(first.id);
    for (const junk of [JSON.stringify(first.id), { runId: first.id }, 42, null, { v: 1, runId: 7 }]) {
      await sessionStore.set('epicenter-scenario-acme-sim-model.py', junk);
      const run = await new RunManager(options({ sessionStore })).getRun();
      expect(run.freshlyCreated).toBe(true);
      expect(await sessionStore.get('epicenter-scenario-acme-sim-model.py')).toMatchObject({ v: 1, runId: run.id });
    }
  });

  it('a sessionKey function gets { account, project, model, userId } on every getRun; false disables caching', async () => {
    const sessionStore = createMemorySessionStore();
    const sessionKey = vi.fn(() => 'my-key');
    const rm = new RunManager(options({ sessionStore, sessionKey }));
    expect(sessionKey).not.toHaveBeenCalled();
    await rm.getRun();
    expect(sessionKey).toHaveBeenCalledWith({ account: 'acme', project: 'sim', model: 'model.py', userId: 'u1' });
    expect(await sessionStore.get('my-key')).toMatchObject({ v: 1 });

    const silent = createMemorySessionStore();
    await new RunManager(options({ sessionStore: silent, sessionKey: () => false })).getRun();
    expect(silent.size).toBe(0);
  });

  it('a sessionKey function that throws rejects the getRun with INVALID_OPTIONS', async () => {
    const rm = new RunManager(
      options({
        sessionKey: () => {
          throw new Error('boom');
        },
      }),
    );
    await expect(rm.getRun()).rejects.toMatchObject({ type: 'INVALID_OPTIONS', message: 'sessionKey function threw: boom' });
  });

  it('a store that fails to read or write does not fail the getRun', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const broken: SessionStore = {
      get: () => Promise.reject(new Error('disk on fire')),
      set: () => Promise.reject(new Error('quota')),
      del: () => Promise.resolve(),
    };
    const run = await new RunManager(options({ sessionStore: broken })).getRun();
    expect(run.id).toBeTruthy();
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});

describe('the single-flight lock', () => {
  it('a coordinator that can tell a lock is free (tryAcquire) is asked first; a busy one is waited for with acquire', async () => {
    const locks = createProcessCoordinator();
    const tryAcquire = vi.fn((name: string) => locks.tryAcquire(name));
    const acquire = vi.fn((name: string, signal?: AbortSignal) => locks.acquire(name, signal));
    const rm = new RunManager(options({ coordinator: { acquire, tryAcquire } }));
    await rm.getRun();
    expect([tryAcquire.mock.calls.length, acquire.mock.calls.length]).toEqual([1, 0]);

    const other = await locks.acquire('run-lifecycle:epicenter-scenario-acme-sim-model.py:u1');
    const waiting = rm.getRun();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(acquire).toHaveBeenCalledTimes(1);
    other();
    await waiting;
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('locks broken');
      },
      /^coordinator\.tryAcquire failed: locks broken/,
    ],
    ['returns a string', () => 'yes', /^coordinator\.tryAcquire must return a release function or undefined/],
  ])('a tryAcquire that %s rejects the getRun INVALID_OPTIONS, with no request sent', async (_, tryAcquire, message) => {
    const rm = new RunManager(options({ coordinator: { acquire: () => Promise.resolve(() => undefined), tryAcquire } as never }));
    await expect(rm.getRun()).rejects.toMatchObject({ type: 'INVALID_OPTIONS', message: expect.stringMatching(message) });
    expect(emulator.requests).toHaveLength(0);
  });
});

describe('sessions and tokens', () => {
  it('reads a session function on every call and the token on every request', async () => {
    let current = { userId: 'u1', auth_token: token };
    const rm = new RunManager(options({ strategy: 'reuse-never', session: () => current }));
    await rm.getRun();
    current = { userId: 'u2', auth_token: token2 };
    const second = await rm.getRun();
    expect(emulator.getRun(second.id)?.user?.id).toBe('u2');
  });

  it('a session provider that rejects fails the call with a typed error, and the next call works', async () => {
    let fail = true;
    const rm = new RunManager(
      options({
        session: async () => {
          if (fail) throw new Error('login service down');
          return { userId: 'u1', auth_token: token };
        },
      }),
    );
    await expect(rm.getRun()).rejects.toMatchObject({ type: 'UNAUTHORIZED', message: expect.stringMatching(/login service down/) });
    fail = false;
    await expect(rm.getRun()).resolves.toMatchObject({ freshlyCreated: true });
  });

  it('run.token wins over the session token', async () => {
    const rm = new RunManager(
      options({
        run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL, token: token2 },
      }),
    );
    const run = await rm.getRun();
    expect(emulator.getRun(run.id)?.user?.id).toBe('u2');
  });

  it('the token never reaches the actor snapshot', async () => {
    const rm = new RunManager(options());
    await rm.getRun();
    expect(JSON.stringify(rm.actor.getSnapshot().context.session)).not.toContain(token);
  });
});

describe('legacy { getRun, reset } strategies', () => {
  it('report freshlyCreated from whether they created the run through rm.run', async () => {
    let existing: string | undefined;
    const strategy = {
      getRun: async (runService: RunService) => {
        if (existing) return runService.load(existing);
        const run = await runService.create();
        existing = run.id;
        return run;
      },
      reset: (runService: RunService) => runService.load(existing),
    };
    const rm = new RunManager(options({ strategy }));
    expect((await rm.getRun()).freshlyCreated).toBe(true);
    expect((await rm.getRun()).freshlyCreated).toBe(false);
    expect((await rm.reset()).freshlyCreated).toBe(false);
  });
});

describe('the actor', () => {
  it('is tagged busy while resolving, ready with a run, error after a failure', async () => {
    const rm = new RunManager(options({ strategy: 'use-specific-run', strategyOptions: { runId: 'nope' } }));
    const tags: string[] = [];
    rm.actor.subscribe((snapshot) => tags.push([...snapshot.tags].join(',')));
    const pending = rm.getRun();
    expect(rm.actor.getSnapshot().hasTag('busy')).toBe(true);
    await expect(pending).rejects.toMatchObject({ type: 'RUN_NOT_FOUND', status: 404 });
    expect(rm.actor.getSnapshot().hasTag('error')).toBe(true);
    expect(tags).toContain('busy');
    const good = new RunManager(options());
    await good.getRun();
    expect(good.actor.getSnapshot().hasTag('ready')).toBe(true);
    expect(good.actor.getSnapshot().context.run?.id).toBe(good.run.id);
  });

  it('starts on first use: a manager never used runs no actor; reading rm.actor starts it, once', async () => {
    const events: string[] = [];
    const rm = new RunManager(options({ inspect: (event) => events.push(event.type) }));
    expect(events).toEqual([]);
    const actor = rm.actor;
    expect(actor).toBe(rm.actor);
    expect(actor.getSnapshot()).toMatchObject({ status: 'active', value: 'idle' });
    expect(events).toContain('@xstate.actor');
    await rm.getRun();
    expect(rm.actor).toBe(actor);

    const unused = new RunManager(options());
    unused.stop();
    expect(unused.actor.getSnapshot().status).toBe('stopped');
    await expect(unused.getRun()).rejects.toMatchObject({ type: 'ABORTED' });
  });
});

describe('RunManager.stop', () => {
  // `rm.actor.stop()` is what a UI adapter does when its component unmounts: it stops the manager too.
  const stops: Array<[string, (rm: RunManager) => void]> = [
    ['rm.stop()', (rm) => rm.stop()],
    ['rm.actor.stop()', (rm) => rm.actor.stop()],
  ];

  it.each(stops)('%s aborts requests in flight and rejects pending and later calls with ABORTED', async (_, stop) => {
    emulator.slow({ method: 'POST', delayMs: 2_000 });
    const rm = new RunManager(options());
    const pending = rm.getRun();
    await emulator.waitForRequests(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop(rm);
    await expect(pending).rejects.toMatchObject({ type: 'ABORTED' });
    await expect(rm.getRun()).rejects.toMatchObject({ type: 'ABORTED' });
    await expect(rm.reset()).rejects.toMatchObject({ type: 'ABORTED' });
  });

  it.each(stops)('%s leaves the store untouched, and a new manager continues', async (_, stop) => {
    const sessionStore = createMemorySessionStore();
    emulator.slow({ method: 'POST', delayMs: 1_000 });
    const rm = new RunManager(options({ sessionStore }));
    const pending = rm.getRun();
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop(rm);
    await expect(pending).rejects.toMatchObject({ type: 'ABORTED' });
    expect(sessionStore.size).toBe(0);
    emulator.reset();
    const run = await new RunManager(options({ sessionStore })).getRun();
    expect(run.id).toBeTruthy();
  });
});

describe('RunService input checks', () => {
  it('refuses a malformed updateConfig or variables query with INVALID_OPTIONS, not a TypeError', async () => {
    const rm = new RunManager(options());
    await rm.getRun();
    for (const update of [null, 'abc', { id: 5 }, { filter: '' }]) {
      expect(() => rm.run.updateConfig(update as never)).toThrow(expect.objectContaining({ type: 'INVALID_OPTIONS' }));
    }
    await expect(rm.run.variables().query(null as never)).rejects.toMatchObject({ type: 'INVALID_OPTIONS' });
    await expect(rm.run.variables().query({} as never)).rejects.toMatchObject({ type: 'INVALID_OPTIONS' });
    await expect(rm.run.query('abc' as never)).rejects.toMatchObject({
      type: 'INVALID_OPTIONS',
      message: 'A run filter must be an object',
    });
  });

  it("serial(['reset', 'step']) resets through the manager, then steps the new run", async () => {
    const rm = new RunManager(options());
    const run = await rm.getRun();
    const [fresh] = (await rm.run.serial(['reset', { step: [1] }])) as [{ id: string }];
    expect(fresh.id).not.toBe(run.id);
    expect(rm.run.id).toBe(fresh.id);
    const sent = emulator.requests.filter((r) => r.path.includes('/operations/')).map((r) => r.path);
    expect(sent).toEqual([expect.stringContaining(`${fresh.id}/operations/step/`)]);
  });
});

describe('transport options', () => {
  it("keeps a custom ofetch instance's hooks", async () => {
    const seen: string[] = [];
    const fetch = ofetch.create({ onRequest: ({ request }) => void seen.push(String(request)), headers: { 'x-app': 'demo' } });
    const rm = new RunManager(options({ fetch }));
    await rm.getRun();
    expect(seen).toHaveLength(1);
    expect(emulator.requests[0]?.headers['x-app']).toBe('demo');
  });

  it('accepts an existing RunService as run', async () => {
    const service = new RunService({ account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL });
    const rm = new RunManager(options({ run: service }));
    const run = await rm.getRun();
    expect(rm.run).toBe(service);
    expect(service.id).toBe(run.id);
  });

  it("keeps the manager's bookkeeping out of the RunService's public face, and the token out of it", async () => {
    const rm = new RunManager(options({ run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL, token } }));
    await rm.getRun();
    for (const name of ['attachManager', 'ownToken', 'hasCreated', 'creations']) expect(name in rm.run).toBe(false);
    expect(JSON.stringify(rm.run)).not.toContain(token);
    expect(Object.keys(rm.run).sort()).toEqual(['api', 'config', 'id']);
    // The World API client is made on first use, once.
    expect(typeof rm.run.worlds.currentWorldForUser).toBe('function');
    expect(rm.run.worlds).toBe(rm.run.worlds);
  });
});
