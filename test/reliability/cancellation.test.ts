/**
 * Cancellation: `stop()` during each state of several strategies (the emulator holds the request
 * that state is waiting for, with a `slow` fault on its route) aborts that request (the emulator
 * logs it `aborted: true`), settles every pending promise — the call, a joined getRun, a queued
 * reset — with `ABORTED`, sends nothing more, and leaves the session store as it was. A manager
 * created afterwards over the same store continues correctly.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateValue } from 'xstate';
import { createDevToken, startEmulator, type Emulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { RunManager, type Run, type RunManagerOptions } from '../../src/index.js';
import { parseSessionRecord } from '../../src/services/session-store.js';
import { stateValueText } from '../../src/testing/plan.js';
import { expectRejection, recordingStore, sleep, watchArrivals, waitForLogged, type RecordingStore } from './helpers.js';

const HOLD_MS = 200;
const session = { userId: 'u1', groupName: 'g1', auth_token: createDevToken({ userId: 'u1' }) };

let emulator: Emulator;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ variables: { price: 10 } });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
});

interface Held {
  method: string;
  path: RegExp;
}

interface Case {
  name: string;
  strategy: string;
  strategyOptions?: Record<string, unknown>;
  mode: 'getRun' | 'reset';
  /** The strategy machine's state, or (`parent:`) the run-manager machine's `working` substate. */
  state: string;
  /** The request held by the emulator while `stop()` is called (none for states that wait on no request). */
  held?: (project: string) => Held;
  /** Makes the state reachable (a cached record, an init failure, …). */
  prepare?: (context: { project: string; store: RecordingStore; make: () => RunManager }) => Promise<void> | void;
  options?: (project: string) => Partial<RunManagerOptions>;
  variables?: string[];
  /** The resolution itself had finished (and written its record) before the held request. */
  resolved?: boolean;
}

const root = (project: string) => `/v2/run/acme/${project}/`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const create = (p: string): Held => ({ method: 'POST', path: new RegExp(`^${escape(root(p))}$`) });
const query = (p: string): Held => ({ method: 'GET', path: new RegExp(`^${escape(root(p))};`) });
const load = (p: string): Held => ({ method: 'GET', path: new RegExp(`^${escape(root(p))}[^/;]+/$`) });
const operation = (p: string): Held => ({ method: 'POST', path: new RegExp(`^${escape(root(p))}[^/;]+/operations/`) });
const patch = (p: string): Held => ({ method: 'PATCH', path: new RegExp(`^${escape(root(p))}[^/;]+/$`) });
const variables = (p: string): Held => ({ method: 'GET', path: new RegExp(`^${escape(root(p))}[^/;]+/variables/$`) });
const worldList = (): Held => ({ method: 'GET', path: /^\/v2\/multiplayer\/world\/$/ });
const worldRun = (p: string, method = 'POST'): Held => ({ method, path: new RegExp(`^/v2/multiplayer/world/w-${p}/run$`) });

const lastInitialized = { strategy: 'reuse-last-initialized', strategyOptions: { initOperation: 'init' } };
const trackingKey = { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'week-1', runLimit: 5 } } };
const cacheFirst: Case['prepare'] = async ({ make }) => {
  const first = make();
  await first.getRun();
  first.stop();
};

const CASES: Case[] = [
  {
    name: 'reuse-per-session, loadingRun',
    strategy: 'reuse-per-session',
    mode: 'getRun',
    state: 'loadingRun',
    held: load,
    prepare: cacheFirst,
  },
  { name: 'reuse-per-session, creating', strategy: 'reuse-per-session', mode: 'getRun', state: 'creating', held: create },
  {
    name: 'reuse-per-session reset, creating',
    strategy: 'reuse-per-session',
    mode: 'reset',
    state: 'creating',
    held: create,
    prepare: cacheFirst,
  },
  {
    name: 'reuse-across-sessions, fetchingLatest',
    strategy: 'reuse-across-sessions',
    mode: 'getRun',
    state: 'fetchingLatest',
    held: query,
    prepare: cacheFirst,
  },
  { name: 'reuse-across-sessions, creating', strategy: 'reuse-across-sessions', mode: 'getRun', state: 'creating', held: create },
  { name: 'reuse-last-initialized, fetchingLatest', ...lastInitialized, mode: 'getRun', state: 'fetchingLatest', held: query },
  { name: 'reuse-last-initialized, creating', ...lastInitialized, mode: 'getRun', state: 'creating', held: create },
  { name: 'reuse-last-initialized, initializing', ...lastInitialized, mode: 'getRun', state: 'initializing', held: operation },
  { name: 'reuse-last-initialized, flagging', ...lastInitialized, mode: 'getRun', state: 'flagging', held: patch },
  {
    name: 'reuse-last-initialized, compensating',
    ...lastInitialized,
    mode: 'getRun',
    state: 'compensating',
    held: patch,
    prepare: ({ project }) =>
      emulator.fail({ method: 'POST', path: new RegExp(`^${escape(root(project))}[^/;]+/operations/`), status: 500 }),
  },
  {
    name: 'reuse-by-tracking-key, resolvingSettings',
    strategy: 'reuse-by-tracking-key',
    mode: 'getRun',
    state: 'resolvingSettings',
    options: () => ({ strategyOptions: { settings: () => sleep(HOLD_MS).then(() => ({ trackingKey: 'week-1' })) } }),
  },
  { name: 'reuse-by-tracking-key, fetchingLatest', ...trackingKey, mode: 'getRun', state: 'locked.fetchingLatest', held: query },
  {
    name: 'reuse-by-tracking-key reset, countingRuns',
    ...trackingKey,
    mode: 'reset',
    state: 'locked.countingRuns',
    held: query,
    prepare: cacheFirst,
  },
  { name: 'reuse-by-tracking-key, creating', ...trackingKey, mode: 'getRun', state: 'locked.creating', held: create },
  { name: 'multiplayer, findingWorld', strategy: 'multiplayer', mode: 'getRun', state: 'findingWorld', held: worldList },
  { name: 'multiplayer, gettingWorldRun', strategy: 'multiplayer', mode: 'getRun', state: 'gettingWorldRun', held: (p) => worldRun(p) },
  { name: 'multiplayer, loadingRun', strategy: 'multiplayer', mode: 'getRun', state: 'loadingRun', held: load },
  {
    name: 'multiplayer reset, replacingWorldRun',
    strategy: 'multiplayer',
    mode: 'reset',
    state: 'replacingWorldRun',
    held: (p) => worldRun(p, 'DELETE'),
    prepare: cacheFirst,
  },
  {
    name: 'run manager, fetchingVariables',
    strategy: 'reuse-per-session',
    mode: 'getRun',
    state: 'parent:fetchingVariables',
    held: variables,
    variables: ['price'],
    resolved: true,
  },
  {
    name: 'run manager, waitingForLock (loading the session)',
    strategy: 'reuse-per-session',
    mode: 'getRun',
    state: 'parent:locked.waitingForLock',
    options: () => ({ session: () => sleep(HOLD_MS).then(() => session) }),
  },
];

/** The state the manager is in: the strategy child's state, or the parent's `working` substate. */
function stateOf(rm: RunManager, wanted: string): boolean {
  const snapshot = rm.actor.getSnapshot();
  if (wanted.startsWith('parent:')) return stateValueText(snapshot.value) === `working.${wanted.slice('parent:'.length)}`;
  const child = (snapshot.children as Record<string, { getSnapshot(): { value: StateValue } } | undefined>).strategy;
  // A strategy state may be nested (`locked.fetchingLatest`): compare the dotted path.
  return child !== undefined && stateValueText(child.getSnapshot().value) === wanted;
}

async function waitForState(rm: RunManager, wanted: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!stateOf(rm, wanted)) {
    if (Date.now() > deadline) throw new Error(`the manager never reached ${wanted} (at ${JSON.stringify(rm.actor.getSnapshot().value)})`);
    await sleep(1);
  }
}

let projects = 0;

function setup(testCase: Case) {
  projects += 1;
  const project = `cancel-${projects}`;
  const store = recordingStore();
  emulator.addWorld({ id: `w-${project}`, account: 'acme', project, group: 'g1', users: [{ userId: 'u1' }] });
  const make = (extra: Partial<RunManagerOptions> = {}) => {
    const rm = new RunManager({
      run: { account: 'acme', project, model: 'model.py', baseURL: emulator.baseURL },
      strategy: testCase.strategy,
      ...(testCase.strategyOptions ? { strategyOptions: testCase.strategyOptions } : {}),
      session,
      sessionStore: store,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 },
      ...extra,
    });
    managers.push(rm);
    return rm;
  };
  return { project, store, make };
}

const ours = (project: string) => (entry: RequestLogEntry) => entry.path.startsWith(root(project)) || entry.path.includes(`/w-${project}/`);

describe('stop() in the middle of a resolution', () => {
  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_title, testCase) => {
    const { project, store, make } = setup(testCase);
    await testCase.prepare?.({ project, store, make: () => make() });
    const storedBefore = await store.snapshot();
    const writesBefore = store.writes.length;
    const held = testCase.held?.(project);
    const arrivals = watchArrivals();
    try {
      if (held) emulator.slow({ method: held.method, path: held.path, delayMs: HOLD_MS });
      const rm = make(testCase.options?.(project) ?? {});
      const sentBefore = arrivals.arrivals.length;

      // The call, a getRun that joins it, and a reset queued behind it.
      const pending =
        testCase.mode === 'getRun' ? [rm.getRun(testCase.variables), rm.getRun(), rm.reset()] : [rm.reset(), rm.getRun(), rm.reset()];
      await waitForState(rm, testCase.state);
      if (held) {
        await arrivals.waitFor((arrival) => arrival.method === held.method && held.path.test(arrival.url.split('?')[0]!));
        await sleep(20); // the emulator is now holding it
      }
      rm.stop();

      for (const promise of pending) await expectRejection(promise, 'ABORTED', /stopped/);
      await expectRejection(rm.getRun(), 'ABORTED', /stopped/);
      await expectRejection(rm.reset(), 'ABORTED', /stopped/);

      if (held) {
        const entry = await waitForLogged(
          emulator,
          (logged) => logged.method === held.method && held.path.test(logged.path) && logged.fault?.startsWith('slow:') === true,
        );
        expect(entry.aborted, `${entry.method} ${entry.path} was aborted`).toBe(true);
        await sleep(30);
        // Nothing after the aborted request.
        expect(
          emulator.requests
            .filter((logged) => logged.seq > entry.seq && ours(project)(logged))
            .map((logged) => `${logged.method} ${logged.path}`),
        ).toEqual([]);
      } else {
        await sleep(HOLD_MS + 30);
        expect(arrivals.arrivals.length, 'requests sent by a manager stopped before its first request').toBe(sentBefore);
      }
      if (testCase.resolved) {
        // The run was resolved and recorded before the variables were asked for: that record is complete work.
        expect(store.writes.slice(writesBefore).map((write) => write.op)).toEqual(['set']);
      } else {
        // Half-done work never reaches the session store.
        expect(store.writes.length).toBe(writesBefore);
        expect(await store.snapshot()).toEqual(storedBefore);
      }
    } finally {
      arrivals.stop();
      emulator.clearFaults();
    }

    // A new manager over the same store carries on.
    const next = make(testCase.options?.(project) ?? {});
    const run: Run = await next.getRun();
    const again = await next.getRun();
    expect(again.id).toBe(run.id);
    expect(emulator.getRun(run.id)?.trashed).not.toBe(true);
    expect(
      parseSessionRecord(await store.get(`epicenter-scenario-acme-${project}-model.py`), { userId: 'u1', model: 'model.py' })?.runId,
    ).toBe(run.id);
  });

  it('waitingForLock: a manager stopped while another holds the lock sends nothing and leaves the winner alone', async () => {
    const { project, store, make } = setup({ name: 'lock', strategy: 'reuse-across-sessions', mode: 'getRun', state: 'creating' });
    emulator.slow({ method: 'POST', path: create(project).path, delayMs: HOLD_MS });
    const winner = make();
    const waiting = make();
    const won = winner.getRun();
    await waitForState(winner, 'creating');
    const lost = waiting.getRun();
    await sleep(10);
    expect(waiting.actor.getSnapshot().matches({ working: { locked: 'waitingForLock' } } as never)).toBe(true);
    waiting.stop();

    await expectRejection(lost, 'ABORTED', /stopped/);
    const run = await won;
    await sleep(30);
    // Only the winner's query and create: the stopped manager never sent a request.
    expect(emulator.requests.filter(ours(project)).map((entry) => entry.method)).toEqual(['GET', 'POST']);
    expect(emulator.runs({ account: 'acme', project })).toHaveLength(1);
    expect(
      parseSessionRecord(await store.get(`epicenter-scenario-acme-${project}-model.py`), { userId: 'u1', model: 'model.py' })?.runId,
    ).toBe(run.id);
    // The lock was released: a third manager resolves to the same run at once.
    expect((await make().getRun()).id).toBe(run.id);
  });
});
