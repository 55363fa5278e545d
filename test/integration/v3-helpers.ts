/**
 * Shared harness of the Epicenter v3 integration tests: one emulator per test file on 127.0.0.1
 * (reset before every test, its v3 switches back to their defaults), RunManagers with
 * `run.apiVersion: 3` built through the public API only, and helpers that read the emulator's
 * request log as `METHOD route` lines, the route relative to `/api/v3/acme/sim/`.
 *
 * v2 counterparts: helpers.ts. The v2 request counts quoted in the v3 tests are the ones the v2
 * integration tests assert for the same path (this library on v2, not the original library).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import {
  createMemorySessionStore,
  RunManager,
  RunManagerError,
  type RunManagerErrorType,
  type RunManagerOptions,
  type RunOptions,
  type SessionStore,
  type UserSession,
} from '../../src/index.js';
import { createDevToken, startEmulator, type Emulator, type RequestLogEntry } from '../../src/emulator/index.js';
import type { Run, World } from '../../src/types.js';

/** The v3 root of project acme/sim as the emulator logs paths. */
export const V3 = '/api/v3/acme/sim/';
/** The v3 key of group g1 (the tokens below name it). */
export const G1_KEY = 'key-g1';
export const MODEL = 'model.py';

export const TOKEN_U1 = createDevToken({ userId: 'u1', userName: 'alice', groupName: 'g1', groupKey: G1_KEY });
export const TOKEN_U2 = createDevToken({ userId: 'u2', userName: 'bob', groupName: 'g1', groupKey: G1_KEY });
export const TOKEN_U3 = createDevToken({ userId: 'u3', userName: 'carol', groupName: 'g1', groupKey: G1_KEY });

/** A v3 session: `userId` is the v3 userKey. */
export const SESSION_U1 = { userId: 'u1', groupName: 'g1', groupKey: G1_KEY, auth_token: TOKEN_U1 } satisfies UserSession;
export const SESSION_U2 = { userId: 'u2', groupName: 'g1', groupKey: G1_KEY, auth_token: TOKEN_U2 } satisfies UserSession;
export const SESSION_U3 = { userId: 'u3', groupName: 'g1', groupKey: G1_KEY, auth_token: TOKEN_U3 } satisfies UserSession;
export const SESSION_KEY = 'epicenter-scenario-acme-sim-model.py';

/** Routes, relative to {@link V3}. */
export const RUN = 'run';
export const GROUP_QUERY = `run/GROUP/${G1_KEY}/${MODEL}`;
export const MY_WORLDS = 'world/g1';
export const SELF_ASSIGN = 'world/selfassign/g1';
export const AUTHENTICATION = 'authentication';
export const runRoute = (runKey: string) => `run/${runKey}`;
export const variablesRoute = (runKey: string) => `run/variable/${runKey}`;
export const operationRoute = (runKey: string) => `run/operation/${runKey}`;
export const metaRoute = (runKey: string) => `run/meta/${runKey}`;
export const worldRunRoute = (worldKey: string) => `run/world/${worldKey}`;
export const worldQuery = (worldKey: string) => `run/WORLD/${worldKey}/${MODEL}`;

/** The scope of a group run of user u1 in g1, as v3 answers it. */
export const U1_SCOPE = { scopeBoundary: 'GROUP', scopeKey: G1_KEY, userKey: 'u1' };
/** The create body (`POST run`) of user u1 in group g1, as reuse-never sends it. */
export const CREATE_BODY = {
  scope: U1_SCOPE,
  morphology: 'MANY',
  modelFile: MODEL,
  modelContext: {},
  executionContext: {},
};
/** The world-run body (`POST run/world/{worldKey}`): no scope, the world is in the path. */
export const WORLD_RUN_BODY = { morphology: 'MANY', modelFile: MODEL, modelContext: {}, executionContext: {} };
/** "The newest run" as v3 query parameters. */
export const NEWEST = { sort: '-run.created', first: '0', max: '1' };

/** `METHOD route`: the path relative to {@link V3} (a v2 or other path stays whole), without the query. */
export function line(entry: RequestLogEntry): string {
  const path = entry.path.startsWith(V3) ? entry.path.slice(V3.length) : entry.path;
  return `${entry.method} ${path}`;
}

/** The `filter=` conditions of a logged v3 query, sorted (their order carries no meaning). */
export function filterOf(entry: RequestLogEntry): string[] {
  const filter = entry.query.filter;
  return filter === undefined ? [] : filter.split(';').sort();
}

/**
 * Expects a run as a v3 RunManager returns it: the server's record (`runKey`, `scope`, …) with
 * `id` = `runKey`, and these fields.
 */
export function expectV3Run(run: Run, expected: Record<string, unknown>): void {
  expect(typeof run.runKey).toBe('string');
  expect(run.id).toBe(run.runKey);
  expect(run).toMatchObject(expected);
}

/** Expects a promise to reject with a `RunManagerError` of this type; returns the error. */
export async function expectRejection(promise: Promise<unknown>, type: RunManagerErrorType): Promise<RunManagerError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a ${type} rejection, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RunManagerError);
  expect((error as RunManagerError).type, (error as Error).message).toBe(type);
  return error as RunManagerError;
}

/** Options of `Harness.manager`: any RunManager option, with `run` merged into the v3 defaults. */
export type ManagerOverrides = Omit<Partial<RunManagerOptions>, 'run'> & { run?: Partial<RunOptions> };

export interface V3Harness {
  readonly emulator: Emulator;
  /** A fresh memory session store per test. */
  readonly store: SessionStore & { readonly size: number };
  /**
   * A RunManager on Epicenter v3 against the emulator (user u1 in group g1, retries off);
   * `overrides.run` is merged into the run options. Stopped after the test.
   */
  manager(overrides?: ManagerOverrides): RunManager;
  /** The requests answered since the last take (after the log settles), and clears the log. */
  take(): Promise<RequestLogEntry[]>;
  /** Takes the requests and expects exactly these `METHOD route` lines, in this order. */
  expectTrace(expected: string[]): Promise<RequestLogEntry[]>;
  /** Runs on the emulator. */
  runCount(): number;
  /** Seeds worlds of group g1 in acme/sim: `users` are user ids; `lastModified` orders them. */
  seedWorlds(...worlds: Array<{ id: string; users: string[]; lastModified: string; run?: string }>): World[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts one emulator for the calling test file (default variables `{ price: 10 }`), resets it and
 * its v3 switches (`allowWorldSelfAssign: true`, `invalidateTokensOnAssignment: false`) before every
 * test, and closes it after the file.
 */
export function useV3Integration(): V3Harness {
  let emulator: Emulator | undefined;
  let store = createMemorySessionStore();
  const managers: RunManager[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ variables: { price: 10 } });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => {
    harness.emulator.reset();
    harness.emulator.configure({ allowWorldSelfAssign: true, invalidateTokensOnAssignment: false });
    store = createMemorySessionStore();
  });
  afterEach(() => {
    for (const manager of managers.splice(0)) manager.stop();
  });

  const harness: V3Harness = {
    get emulator() {
      if (!emulator) throw new Error('the emulator is not running');
      return emulator;
    },
    get store() {
      return store;
    },
    manager(overrides = {}) {
      const { run: runOverrides, ...rest } = overrides;
      const manager = new RunManager({
        session: SESSION_U1,
        sessionStore: store,
        retry: { retries: 0 },
        ...rest,
        run: { account: 'acme', project: 'sim', model: MODEL, apiVersion: 3, baseURL: harness.emulator.v3BaseURL, ...runOverrides },
      });
      managers.push(manager);
      return manager;
    },
    async take() {
      // The emulator logs a request once its response has closed: wait until the log is still.
      let seen = -1;
      while (harness.emulator.requests.length !== seen) {
        seen = harness.emulator.requests.length;
        await sleep(5);
      }
      const entries = [...harness.emulator.requests];
      harness.emulator.clearLog();
      return entries;
    },
    async expectTrace(expected) {
      const entries = await harness.take();
      expect(entries.map(line)).toEqual(expected);
      return entries;
    },
    runCount() {
      return harness.emulator.runs().length;
    },
    seedWorlds(...worlds) {
      return harness.emulator.seed({
        worlds: worlds.map(({ id, users, lastModified, run }) => ({
          id,
          account: 'acme',
          project: 'sim',
          group: 'g1',
          lastModified,
          users: users.map((userId) => ({ userId })),
          ...(run === undefined ? {} : { run }),
        })),
      }).worlds;
    },
  };
  return harness;
}
