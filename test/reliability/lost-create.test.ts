/**
 * Lost create responses: the server made the run, the client never learnt it. Query-based
 * strategies must end with ONE run for the user — the failing call recovers by looking before
 * creating again, or the next getRun finds the run. The others (reuse-per-session, reuse-never)
 * cannot look; they must report the failure, typed, without creating twice in that call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDevToken, startEmulator, type Emulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { RunManager, RunManagerError, type Run, type RunManagerOptions } from '../../src/index.js';
import { parseSessionRecord } from '../../src/services/session-store.js';
import { recordingStore, settledLog, watchArrivals, waitForLogged, type RecordingStore } from './helpers.js';

const CREATE_PATH = /^\/v2\/run\/acme\/sim\/?$/;
const SESSION_KEY = 'epicenter-scenario-acme-sim-model.py';
const session = { userId: 'u1', groupName: 'g1', auth_token: createDevToken({ userId: 'u1' }) };

let emulator: Emulator;
let store: RecordingStore;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  store = recordingStore();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
});

function manager(strategy: string, extra: Partial<RunManagerOptions> = {}): RunManager {
  const strategyOptions: Record<string, Record<string, unknown>> = {
    'reuse-by-tracking-key': { settings: { trackingKey: 'week-1', runLimit: 5 } },
    'reuse-last-initialized': { initOperation: ['init'] },
  };
  const rm = new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    strategy,
    ...(strategyOptions[strategy] ? { strategyOptions: strategyOptions[strategy] } : {}),
    session,
    sessionStore: store,
    retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
  managers.push(rm);
  return rm;
}

const isCreate = (entry: RequestLogEntry) => entry.method === 'POST' && CREATE_PATH.test(entry.path);

async function outcome(promise: Promise<Run>): Promise<{ ok: true; run: Run } | { ok: false; error: unknown }> {
  return promise.then(
    (run) => ({ ok: true as const, run }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

interface LostAnswer {
  name: string;
  /** The error the failing call reports when it does not recover by itself. */
  type: 'NETWORK_ERROR' | 'TIMEOUT' | 'INVALID_RESPONSE';
  options?: Partial<RunManagerOptions>;
  /** Registers the faults that lose the next create's answer. */
  arrange(): void | Promise<void>;
  /** Waits until the lost create has been carried out on the server. */
  landed(): Promise<unknown>;
}

const lostAnswers: LostAnswer[] = [
  {
    name: 'the socket drops after the server created the run',
    type: 'NETWORK_ERROR',
    arrange: () => emulator.drop({ method: 'POST', path: '/run/', when: 'after' }),
    landed: () => waitForLogged(emulator, (entry) => isCreate(entry) && entry.fault === 'drop:after'),
  },
  {
    name: 'the create answers after the client timed out',
    type: 'TIMEOUT',
    options: { timeout: 150 },
    arrange: () => emulator.slow({ method: 'POST', path: CREATE_PATH, delayMs: 400 }),
    landed: () => waitForLogged(emulator, (entry) => isCreate(entry) && entry.status === 201),
  },
  {
    name: 'the create answers 2xx with a truncated body',
    type: 'INVALID_RESPONSE',
    arrange: () => emulator.truncate({ method: 'POST', path: CREATE_PATH }),
    landed: () => waitForLogged(emulator, (entry) => isCreate(entry) && entry.fault === 'truncate'),
  },
  {
    name: 'the socket drops after the create and the next query fails too',
    type: 'NETWORK_ERROR',
    async arrange() {
      // The create is held 100 ms, then carried out and its socket dropped; while it is held, every
      // query attempt of the next 3 is made to fail (a recovery query, if any, cannot see the run).
      emulator.slow({ method: 'POST', path: CREATE_PATH, delayMs: 100 });
      emulator.drop({ method: 'POST', path: CREATE_PATH, when: 'after' });
      const arrivals = watchArrivals();
      void arrivals
        .waitFor((arrival) => arrival.method === 'POST' && CREATE_PATH.test(arrival.url))
        .then(() => emulator.fail({ method: 'GET', path: ';', status: 503, times: 3 }))
        .finally(() => arrivals.stop());
    },
    landed: () => waitForLogged(emulator, (entry) => isCreate(entry) && entry.fault === 'slow:100,drop:after'),
  },
  {
    name: 'the socket drops after the create and every query of the failing call fails',
    type: 'NETWORK_ERROR',
    async arrange() {
      // As above, but the network stays down for the rest of the call: however often the failing
      // call looks again, it cannot see the run; only the next getRun can.
      emulator.slow({ method: 'POST', path: CREATE_PATH, delayMs: 100 });
      emulator.drop({ method: 'POST', path: CREATE_PATH, when: 'after' });
      const arrivals = watchArrivals();
      void arrivals
        .waitFor((arrival) => arrival.method === 'POST' && CREATE_PATH.test(arrival.url))
        .then(() => emulator.fail({ method: 'GET', path: ';', status: 503, times: Infinity }))
        .finally(() => arrivals.stop());
    },
    landed: () => waitForLogged(emulator, (entry) => isCreate(entry) && entry.fault === 'slow:100,drop:after'),
  },
];

describe.each(['reuse-across-sessions', 'reuse-by-tracking-key', 'reuse-last-initialized'])(
  '%s (query-based): one run after a lost create',
  (strategy) => {
    it.each(lostAnswers.map((lost) => [`${lost.name} (${lost.type})`, lost] as const))('%s', async (_title, lost) => {
      await lost.arrange();
      const rm = manager(strategy, lost.options);

      const first = await outcome(rm.getRun());
      await lost.landed();
      emulator.clearFaults();
      const firstCall = await settledLog(emulator);
      // The failing call never sends the create twice.
      expect(firstCall.filter(isCreate)).toHaveLength(1);
      if (!first.ok) {
        expect(first.error).toBeInstanceOf(RunManagerError);
        expect((first.error as RunManagerError).type, String(first.error)).toBe(lost.type);
        // The session store is not pointed at anything by a failed call.
        expect(store.writes).toEqual([]);
      }

      // The user presses again (only needed when the failing call did not recover by itself).
      const run = first.ok ? first.run : await rm.getRun();
      const again = await rm.getRun();

      const live = emulator.runs({ userId: 'u1' }).filter((candidate) => candidate.trashed !== true);
      expect(
        live.map((candidate) => candidate.id),
        `live runs after a lost create (${lost.type})`,
      ).toEqual([run.id]);
      expect(again.id).toBe(run.id);
      if (strategy === 'reuse-last-initialized') {
        // The run the user gets finished initialising: init ran and the flag is set.
        const stored = emulator.getRun(run.id)!;
        expect(stored).toMatchObject({ isInitComplete: true, variables: { initialized: true } });
      } else {
        // Nothing to clean up: the run the lost create made is the one the user works with.
        expect(emulator.runs({ userId: 'u1' })).toHaveLength(1);
      }
      expect(parseSessionRecord(await store.get(SESSION_KEY), { userId: 'u1', model: 'model.py' })?.runId).toBe(run.id);
    });
  },
);

describe.each(['reuse-per-session', 'reuse-never'])('%s: a lost create is reported, never repeated', (strategy) => {
  it.each(
    [
      {
        name: 'first getRun, socket dropped after the create',
        type: 'NETWORK_ERROR' as const,
        act: (rm: RunManager) => rm.getRun(),
        arrange: () => emulator.drop({ method: 'POST', path: '/run/', when: 'after' }),
      },
      {
        name: 'first getRun, create answered after the timeout',
        type: 'TIMEOUT' as const,
        timeout: 150,
        act: (rm: RunManager) => rm.getRun(),
        arrange: () => emulator.slow({ method: 'POST', path: CREATE_PATH, delayMs: 400 }),
      },
      {
        name: 'reset after a getRun, socket dropped after the create',
        type: 'NETWORK_ERROR' as const,
        earlier: true,
        act: (rm: RunManager) => rm.reset(),
        arrange: () => emulator.drop({ method: 'POST', path: '/run/', when: 'after' }),
      },
    ].map((row) => [`${row.name} (${row.type})`, row] as const),
  )('%s', async (_title, { type, act, arrange, timeout, earlier }) => {
    const rm = manager(strategy, timeout ? { timeout } : {});
    const before = earlier ? await rm.getRun() : undefined;
    const storedBefore = await store.snapshot();
    await settledLog(emulator);
    emulator.clearLog();
    arrange();

    const failed = await outcome(act(rm));
    expect(failed.ok).toBe(false);
    const error = (failed as { error: unknown }).error;
    expect(error).toBeInstanceOf(RunManagerError);
    expect((error as RunManagerError).type, String(error)).toBe(type);
    // The message names the request that failed.
    expect((error as Error).message).toMatch(/^POST run\/acme\/sim\//);

    await waitForLogged(emulator, (entry) => isCreate(entry) && entry.status === 201);
    const call = await settledLog(emulator);
    expect(call.filter(isCreate), 'creates sent by the failing call').toHaveLength(1);
    expect(emulator.runs({ userId: 'u1' })).toHaveLength(before ? 2 : 1);
    // The session store still holds what it held before the failing call.
    expect(await store.snapshot()).toEqual(storedBefore);
    if (strategy === 'reuse-per-session' && before) {
      expect(parseSessionRecord(storedBefore[SESSION_KEY], { userId: 'u1', model: 'model.py' })?.runId).toBe(before.id);
    } else {
      expect(storedBefore).toEqual({});
    }
  });
});

describe('multiplayer: a lost world-run answer', () => {
  it('is reported typed, and the next getRun gets the run the world already has', async () => {
    emulator.addWorld({ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] });
    emulator.drop({ method: 'POST', path: '/multiplayer/world/w1/run', when: 'after' });
    const rm = manager('multiplayer');

    const failed = await outcome(rm.getRun());
    expect(failed.ok).toBe(false);
    expect((failed as { error: RunManagerError }).error.type).toBe('NETWORK_ERROR');
    const run = await rm.getRun();

    expect(emulator.runs({ userId: 'u1' }).map((candidate) => candidate.id)).toEqual([run.id]);
    expect(emulator.worlds()[0]!.run).toBe(run.id);
  });
});
