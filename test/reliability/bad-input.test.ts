/**
 * The bad-input table (`bad-input.rows.ts`): invalid options, calls, server answers and session
 * records. Every row that must fail asserts a `RunManagerError` whose type and message name the
 * problem, and that nothing already stored is lost: the session store still holds the good record
 * it had, the emulator's runs are unchanged, and no write request went out besides the one that got
 * the bad answer. Corrupt records are ignored and replaced (by design), never followed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RunManager, type Run, type RunManagerOptions, type SessionStore } from '../../src/index.js';
import { createSessionRecord, parseSessionRecord } from '../../src/services/session-store.js';
import { startScriptedServer, type RecordedRequest, type ScriptedResponse, type ScriptedServer } from '../helpers/scripted-server.js';
import { callRows, emulatorRows, markdownTable, optionRows, recordRows, serverRows } from './bad-input.rows.js';
import { expectRejection, expectThrow, recordingStore, settledLog, type RecordingStore } from './helpers.js';

const KEY = 'epicenter-scenario-acme-sim-model.py';
const TOKEN = createDevToken({ userId: 'u1' });
const SESSION = { userId: 'u1', groupName: 'g1', auth_token: TOKEN };
const OWNER = { userId: 'u1', model: 'model.py' };
const GOOD_STRATEGY_OPTIONS: Record<string, Record<string, unknown>> = {
  'reuse-by-tracking-key': { settings: { trackingKey: 'week-1', runLimit: 3 } },
  'reuse-last-initialized': { initOperation: 'init' },
};

let emulator: Emulator;
let server: ScriptedServer;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  server = await startScriptedServer(fakeApi);
});
afterAll(async () => {
  await emulator.close();
  await server.close();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
  vi.restoreAllMocks();
});

function track(manager: RunManager): RunManager {
  managers.push(manager);
  return manager;
}

function validOptions(store: SessionStore, baseURL = emulator.baseURL): RunManagerOptions {
  return {
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL },
    session: SESSION,
    sessionStore: store,
    retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 },
  };
}

function run(id: string, extra: Partial<Run> = {}): Run {
  return {
    id,
    account: 'acme',
    project: 'sim',
    model: 'model.py',
    user: { id: 'u1' },
    scope: { group: 'g1', trackingKey: 'week-1' },
    trashed: false,
    isInitComplete: true,
    ...extra,
  };
}

/** A well-behaved Run API and World API for the scripted server: u1 has run r1 in world w1. */
function fakeApi(request: RecordedRequest): ScriptedResponse {
  const { method, path } = request;
  if (method === 'GET' && path.startsWith('/v2/run/acme/sim/;'))
    return { json: [run('r1')], headers: { 'Content-Range': 'records 0-0/1' } };
  if (method === 'GET' && /^\/v2\/run\/acme\/sim\/r1\/?$/.test(path)) return { json: run('r1') };
  if (method === 'POST' && path === '/v2/run/acme/sim/') return { status: 201, json: run('r1') };
  if (method === 'POST' && path.includes('/operations/')) return { json: { name: 'init', result: null } };
  if (method === 'PATCH') return { json: run('r1') };
  if (method === 'GET' && path === '/v2/multiplayer/world/')
    return { json: [{ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] }] };
  if (method === 'POST' && path === '/v2/multiplayer/world/w1/run') return { json: 'r1' };
  if (method === 'DELETE') return { status: 204 };
  return { status: 599, json: { message: `fakeApi: nothing scripted for ${method} ${path}` } };
}

/** A store holding a good record for a seeded run of u1 (and the seeded run). */
async function storeWithGoodRecord(): Promise<{ store: RecordingStore; runId: string }> {
  emulator.reset();
  const store = recordingStore();
  const [seeded] = emulator.seed({
    runs: [{ account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u1' }, scope: { group: 'g1' } }],
  }).runs;
  await store.set(KEY, createSessionRecord(seeded!.id, OWNER));
  return { store, runId: seeded!.id };
}

describe('options: the constructor throws INVALID_OPTIONS naming the option', () => {
  it('accepts the valid options every row starts from', async () => {
    const { store } = await storeWithGoodRecord();
    expect(() => track(new RunManager(validOptions(store)))).not.toThrow();
  });

  it.each(optionRows.map((row) => [row.input, row] as const))('%s', async (_title, row) => {
    const { store } = await storeWithGoodRecord();
    const before = await store.snapshot();
    const runsBefore = emulator.runs();

    expectThrow(() => track(new RunManager(row.options(validOptions(store)) as RunManagerOptions)), 'INVALID_OPTIONS', row.message);

    expect(await store.snapshot()).toEqual(before);
    expect(emulator.runs()).toEqual(runsBefore);
    expect(emulator.requests).toEqual([]);
  });
});

describe('calls: a bad session, settings or argument rejects; the stored record survives', () => {
  it.each(callRows.map((row) => [row.input, row] as const))('%s', async (_title, row) => {
    emulator.reset();
    emulator.addWorld({ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] });
    const store = recordingStore();
    const strategyOptions = GOOD_STRATEGY_OPTIONS[row.strategy];
    const base = { ...validOptions(store), strategy: row.strategy, ...(strategyOptions ? { strategyOptions } : {}) };
    const good = track(new RunManager(base));
    await good.getRun();
    good.stop();
    const before = await store.snapshot();
    expect(parseSessionRecord(before[KEY], OWNER)).toBeDefined();
    const runsBefore = emulator.runs();
    await settledLog(emulator, 10);
    emulator.clearLog();

    const rm = track(new RunManager({ ...base, ...row.options }));
    const call = row.call === undefined || row.call === 'getRun' ? rm.getRun() : row.call === 'reset' ? rm.reset() : row.call(rm);
    await expectRejection(call, row.type, row.message);

    expect(await store.snapshot()).toEqual(before);
    expect(emulator.runs()).toEqual(runsBefore);
    expect((await settledLog(emulator, 10)).filter((entry) => entry.method !== 'GET')).toEqual([]);
  });
});

describe('server answers that are not what the endpoint returns', () => {
  it.each(serverRows.map((row) => [`${row.input} (${row.strategy} ${row.call})`, row] as const))('%s', async (_title, row) => {
    server.reset();
    server.setHandler(fakeApi);
    const store = recordingStore();
    const options = {
      ...validOptions(store, server.baseURL),
      strategy: row.strategy,
      ...((row.strategyOptions ?? GOOD_STRATEGY_OPTIONS[row.strategy])
        ? { strategyOptions: row.strategyOptions ?? GOOD_STRATEGY_OPTIONS[row.strategy] }
        : {}),
    };
    const good = track(new RunManager(options));
    expect((await good.getRun()).id).toBe('r1');
    good.stop();
    const before = await store.snapshot();
    expect(parseSessionRecord(before[KEY], OWNER)?.runId).toBe('r1');

    server.reset();
    server.setHandler((request) => row.bad(request) ?? fakeApi(request));
    const rm = track(new RunManager(options)); // a page reload over the same store
    const error = await expectRejection(row.call === 'getRun' ? rm.getRun() : rm.reset(), row.type, row.message);
    if (row.status !== undefined) expect(error.status).toBe(row.status);

    expect(await store.snapshot()).toEqual(before);
    // Nothing was created or changed after the bad answer (a load that fails is never "run gone → create").
    expect(
      server.requests.filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path}`),
    ).toHaveLength(row.writes ?? 0);
  });

  it.each(emulatorRows.map((row) => [row.input, row] as const))('%s', async (_title, row) => {
    emulator.reset();
    const store = recordingStore();
    const options = { ...validOptions(store), strategy: row.strategy };
    const good = track(new RunManager(options));
    await good.getRun();
    good.stop();
    const before = await store.snapshot();
    const runsBefore = emulator.runs();
    await settledLog(emulator, 10);
    emulator.clearLog();
    row.arrange(emulator);

    const rm = track(new RunManager(options));
    const error = await expectRejection(rm.getRun(), row.type, row.message);
    if (row.status !== undefined) expect(error.status).toBe(row.status);

    expect(await store.snapshot()).toEqual(before);
    expect(emulator.runs()).toEqual(runsBefore);
    expect((await settledLog(emulator, 10)).filter((entry) => entry.method !== 'GET')).toEqual([]);
  });
});

describe('corrupt session records are ignored and replaced, never thrown or followed', () => {
  it.each(recordRows.map((row) => [row.input, row] as const))('%s', async (_title, row) => {
    emulator.reset();
    const seeded = emulator.seed({
      runs: [
        { account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u1' }, scope: { group: 'g1' } },
        { account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u2' }, scope: { group: 'g1' } },
        { account: 'acme', project: 'sim', model: 'other.py', user: { id: 'u1' }, scope: { group: 'g1' } },
      ],
    }).runs;
    const [mine, theirs, otherModel] = seeded.map((seededRun) => seededRun.id) as [string, string, string];
    const value = row.value({ mine, theirs, otherModel });
    const inner = recordingStore();
    let raw: unknown = value;
    const store: SessionStore = row.raw
      ? {
          get: async () => raw,
          set: async (key, next) => {
            raw = next;
            await inner.set(key, next);
          },
          del: async () => undefined,
        }
      : inner;
    if (!row.raw) await inner.set(KEY, value);
    const runsBefore = emulator.runs();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    const rm = track(new RunManager({ ...validOptions(store), strategy: 'reuse-per-session' }));
    const fresh = await rm.getRun();

    expect(fresh.freshlyCreated).toBe(true);
    const log = await settledLog(emulator, 10);
    // The run the record names is never loaded: not another user's, not another model's, not a guess.
    expect(log.map((entry) => `${entry.method} ${entry.path}`)).toEqual(['POST /v2/run/acme/sim/']);
    expect(emulator.runs().filter((candidate) => candidate.id !== fresh.id)).toEqual(runsBefore);
    expect(parseSessionRecord(await store.get(KEY), OWNER)?.runId).toBe(fresh.id);
    // Quietly: a corrupt record is not an error, not even a warning.
    expect(warn).not.toHaveBeenCalled();
  });

  it.each([
    { input: 'store.get rejects', failing: 'get' as const, warning: /^run-lifecycle: Could not read the session store: .*disk on fire/ },
    { input: 'store.set rejects', failing: 'set' as const, warning: /^run-lifecycle: Could not write the session store: .*disk on fire/ },
  ])('$input: getRun still resolves, with one warning', async ({ failing, warning }) => {
    emulator.reset();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const inner = recordingStore();
    const store: SessionStore = {
      get: failing === 'get' ? () => Promise.reject(new Error('disk on fire')) : (key) => inner.get(key),
      set: failing === 'set' ? () => Promise.reject(new Error('disk on fire')) : (key, value) => inner.set(key, value),
      del: (key) => inner.del(key),
    };
    const rm = track(new RunManager({ ...validOptions(store), strategy: 'reuse-per-session' }));

    const fresh = await rm.getRun();

    expect(fresh.freshlyCreated).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(warning);
  });
});

describe('the table', () => {
  it('has at least 30 rows, each naming its input once', () => {
    const table = markdownTable();
    const rows = table.split('\n').slice(2);
    expect(rows.length).toBeGreaterThanOrEqual(30);
    const inputs = [...optionRows, ...callRows, ...serverRows, ...emulatorRows, ...recordRows].map((row) => row.input);
    expect(new Set(inputs).size).toBe(inputs.length);
  });
});
