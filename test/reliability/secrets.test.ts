/**
 * Secrets: a recognisable bearer token (a dev JWT with a marker claim) used through full runs of
 * several strategies, with successes and failures (401, 500, dropped sockets, timeouts), never
 * shows up in the session store, in any rejection (message, `String`, JSON, `util.inspect`, stack,
 * the whole `cause` chain), in console output, in the actors' snapshots (the live snapshot, the
 * persisted snapshot, everything reachable from them — `services` included), or in the events an
 * inspector receives.
 */
import { randomUUID } from 'node:crypto';
import { inspect as nodeInspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RunManager, type RunManagerOptions, type UserSession } from '../../src/index.js';
import { recordingStore, safeStringify, type RecordingStore } from './helpers.js';

const MARKER = `SECRET-MARKER-${randomUUID()}`;
const TOKEN = createDevToken({ userId: 'u1', userName: 'alice', marker: MARKER });
/** What must never appear: the token, its payload segment (carries the marker), the marker itself. */
const NEEDLES = [TOKEN, TOKEN.split('.')[1]!, MARKER];

let emulator: Emulator;
let console$: ReturnType<typeof spyOnConsole>;

function spyOnConsole() {
  const lines: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  for (const method of methods) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        `console.${method}: ${args.map((arg) => (typeof arg === 'string' ? arg : nodeInspect(arg, { depth: 10, showHidden: true, getters: true }))).join(' ')}`,
      );
    });
  }
  return lines;
}

beforeAll(async () => {
  emulator = await startEmulator({ variables: { price: 10 } });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.addWorld({ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] });
  console$ = spyOnConsole();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every text form of an error and of each error in its cause chain. */
function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    const value = current as { message?: unknown; stack?: unknown; cause?: unknown };
    texts.push(
      String(current),
      String(value.message),
      String(value.stack),
      safeStringify(current),
      nodeInspect(current, { depth: 10, showHidden: true, getters: true }),
    );
    try {
      texts.push(JSON.stringify(current) ?? '');
    } catch (stringifyError) {
      texts.push(`JSON.stringify threw: ${String(stringifyError)}`);
    }
    current = value.cause;
  }
  return texts;
}

function expectNoSecret(where: string, texts: string[]): void {
  for (const text of texts) {
    for (const needle of NEEDLES) {
      if (text.includes(needle)) {
        const at = text.indexOf(needle);
        throw new Error(`${where} contains the token (…${text.slice(Math.max(0, at - 120), at)}<TOKEN>…)`);
      }
    }
  }
}

interface Collected {
  errors: unknown[];
  snapshots: string[];
  inspected: unknown[];
}

const STRATEGIES: Array<{ strategy: string; strategyOptions?: Record<string, unknown> }> = [
  { strategy: 'reuse-per-session' },
  { strategy: 'reuse-across-sessions' },
  { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'week-1', runLimit: 10 } } },
  { strategy: 'reuse-last-initialized', strategyOptions: { initOperation: ['init', { step: [2] }] } },
  { strategy: 'multiplayer' },
  { strategy: 'reuse-never' },
];

/** Where the token comes from: the session object, a session function, or `run.token`. */
const SOURCES: Array<{ name: string; session: RunManagerOptions['session']; token?: string }> = [
  { name: 'session.auth_token', session: { userId: 'u1', groupName: 'g1', auth_token: TOKEN } },
  { name: 'a session function', session: async (): Promise<UserSession> => ({ userId: 'u1', groupName: 'g1', auth_token: TOKEN }) },
  { name: 'run.token', session: { userId: 'u1', groupName: 'g1' }, token: TOKEN },
];

async function settle<T>(promise: Promise<T>, collected: Collected): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    collected.errors.push(error);
    return undefined;
  }
}

function manager(
  store: RecordingStore,
  collected: Collected,
  source: (typeof SOURCES)[number],
  strategy: (typeof STRATEGIES)[number],
  timeout?: number,
): RunManager {
  return new RunManager({
    run: {
      account: 'acme',
      project: 'sim',
      model: 'model.py',
      baseURL: emulator.baseURL,
      ...(source.token ? { token: source.token } : {}),
    },
    strategy: strategy.strategy,
    ...(strategy.strategyOptions ? { strategyOptions: strategy.strategyOptions } : {}),
    session: source.session,
    sessionStore: store,
    retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 },
    ...(timeout ? { timeout } : {}),
    inspect: (event) => collected.inspected.push(event),
  });
}

/** The snapshot (with everything reachable from it), the persisted snapshot, the manager itself; `deep` adds `util.inspect` of the snapshot (slow, so only once per manager). */
function snapshotTexts(rm: RunManager, deep = false): string[] {
  const snapshot = rm.actor.getSnapshot();
  return [
    safeStringify(snapshot),
    safeStringify(rm.actor.getPersistedSnapshot()),
    safeStringify(snapshot.context.services),
    safeStringify(rm),
    ...(deep ? [nodeInspect(snapshot, { depth: 6, getters: true }), nodeInspect(rm, { depth: 4, getters: true })] : []),
  ];
}

/** Every strategy with the token in the session; three of them with the other two sources. */
const CASES = SOURCES.flatMap((source, index) =>
  STRATEGIES.filter(
    (strategy) => index === 0 || ['reuse-per-session', 'reuse-by-tracking-key', 'multiplayer'].includes(strategy.strategy),
  ).map((strategy) => ({
    source,
    strategy,
    name: `${strategy.strategy}, token from ${source.name}`,
  })),
);

describe('a bearer token', () => {
  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))(
    'never leaks: %s, in success or failure',
    async (_title, { source, strategy }) => {
      const store = recordingStore();
      const collected: Collected = { errors: [], snapshots: [], inspected: [] };
      const rm = manager(store, collected, source, strategy);

      // A full, successful run.
      expect(await settle(rm.getRun(['price']), collected)).toBeDefined();
      await settle(rm.run.do('step', [1]), collected);
      await settle(rm.reset(), collected);
      collected.snapshots.push(...snapshotTexts(rm));
      expect(collected.errors).toEqual([]);

      // Failures: 401, 500 on every retry, sockets dropped on every retry — on getRun, reset and run.do.
      const faults = [
        () => emulator.fail({ status: 401, times: 2 }),
        () => emulator.fail({ status: 500, times: 2, body: { message: 'internal error' } }),
        () => emulator.drop({ times: 2 }),
        () => emulator.drop({ times: 2, when: 'after' }),
      ];
      for (const arrange of faults) {
        for (const call of [() => rm.getRun(), () => rm.reset(), () => rm.run.do('step', [1])]) {
          emulator.clearFaults();
          arrange();
          await settle(call(), collected);
          collected.snapshots.push(...snapshotTexts(rm));
        }
      }
      emulator.clearFaults();
      collected.snapshots.push(...snapshotTexts(rm, true));
      rm.stop();

      // Timeouts, with a manager of its own (short timeout, stalled answers).
      const slow = manager(store, collected, source, strategy, 40);
      emulator.slow({ delayMs: 90, times: 2 });
      await settle(slow.getRun(), collected);
      emulator.clearFaults();
      emulator.slow({ delayMs: 90, times: 2 });
      await settle(slow.reset(), collected);
      collected.snapshots.push(...snapshotTexts(slow, true));
      emulator.clearFaults();
      slow.stop();
      // Calls on a stopped manager reject too.
      await settle(slow.getRun(), collected);

      const types = new Set(collected.errors.map((error) => (error as { type?: string }).type));
      expect([...types].sort(), 'the failures this test meant to cause').toEqual(
        expect.arrayContaining(['ABORTED', 'HTTP_ERROR', 'NETWORK_ERROR', 'TIMEOUT', 'UNAUTHORIZED']),
      );

      expectNoSecret('a rejection', collected.errors.flatMap(errorTexts));
      expectNoSecret(
        'the session store',
        store.writes.map((write) => safeStringify(write)),
      );
      expectNoSecret('the session store', [safeStringify(await store.snapshot())]);
      expectNoSecret('console output', console$);
      expectNoSecret('an actor snapshot', collected.snapshots);
      expectNoSecret('an inspection event', [safeStringify(collected.inspected)]);
      // The token really was in use: the emulator authenticated u1 with it.
      expect(emulator.requests.some((entry) => entry.user === 'u1' && entry.auth === 'bearer')).toBe(true);
    },
  );
});
