/**
 * Shared harness of the integration tests: one Run API emulator per test file on 127.0.0.1
 * (reset before every test), RunManagers built through the public API only, and helpers that
 * read the emulator's request log as a trace of `METHOD path` lines.
 *
 * Matrix segments are compared as decoded sets of conditions: the library percent-encodes keys and
 * values and may order conditions differently from the original library.
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

export const TOKEN_U1 = createDevToken({ userId: 'u1', userName: 'alice' });
export const TOKEN_U2 = createDevToken({ userId: 'u2', userName: 'bob' });
export const SESSION_U1 = { userId: 'u1', groupName: 'g1', auth_token: TOKEN_U1 } satisfies UserSession;
export const SESSION_U2 = { userId: 'u2', groupName: 'g1', auth_token: TOKEN_U2 } satisfies UserSession;

/** Paths as the emulator logs them. */
export const RUNS = '/v2/run/acme/sim/';
export const WORLDS = '/v2/multiplayer/world/';
export const SESSION_KEY = 'epicenter-scenario-acme-sim-model.py';
/** The create body for user u1 in group g1. */
export const CREATE_BODY = { model: 'model.py', scope: { group: 'g1' } };
/** "Newest run" modifiers as the emulator logs them (two spellings: lower and camel case). */
export const NEWEST_LOWER = { startrecord: '0', endrecord: '0', sort: 'created', direction: 'desc' };
export const NEWEST_CAMEL = { startRecord: '0', endRecord: '0', sort: 'created', direction: 'desc' };
/** The world lookup of user u1 in group g1. */
export const WORLD_QUERY = { account: 'acme', project: 'sim', group: 'g1', userId: 'u1' };

export type Phase = 'first' | 'steady' | 'reset';

/**
 * Requests the original library sends per resolution (optional requests, bracketed in the comments
 * below, counted), before the variables GET that `getRun(names)` adds.
 */
export function originalRequests(
  strategy: string,
  phase: Phase,
  extra: { variables?: boolean; initOps?: number; limited?: boolean } = {},
): number {
  const ops = extra.initOps ?? 0;
  const limited = extra.limited ? 1 : 0;
  const table: Record<string, Record<Phase, number>> = {
    'reuse-never': { first: 1, steady: 1, reset: 1 },
    'reuse-per-session': { first: 1, steady: 1, reset: 1 },
    'reuse-across-sessions': { first: 2, steady: 1, reset: 1 },
    'reuse-last-initialized': { first: 3 + ops, steady: 1, reset: 2 + ops },
    'reuse-by-tracking-key': { first: 2, steady: 1, reset: 1 + limited },
    multiplayer: { first: 3, steady: 3, reset: 4 },
    // first: "as multiplayer [+ PATCH]"; reset: "[GET worlds, GET query], GET worlds, DELETE, POST, GET run [+PATCH]".
    'reuse-by-tracking-key-multiplayer': { first: 4, steady: 3, reset: 5 + 2 * limited },
    'use-specific-run': { first: 1, steady: 1, reset: 0 },
    none: { first: 0, steady: 0, reset: 0 },
  };
  const row = table[strategy];
  if (!row) throw new Error(`no row of original requests for ${strategy}`);
  return row[phase] + (extra.variables && phase !== 'reset' ? 1 : 0);
}

/** The decoded conditions of a matrix segment (`;a=1;b=2`). */
function segmentConditions(segment: string): string[] {
  return segment
    .slice(1)
    .split(';')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part));
}

/** `METHOD path` with every matrix segment replaced by its sorted, decoded conditions. */
export function normalize(line: string): string {
  const space = line.indexOf(' ');
  const method = line.slice(0, space);
  const path = line.slice(space + 1);
  const segments = path
    .split('/')
    .map((segment) => (segment.startsWith(';') ? `;${segmentConditions(segment).sort().join(';')}` : segment));
  return `${method} ${segments.join('/')}`;
}

/** The normalized `METHOD path` of a logged request. */
export function line(entry: RequestLogEntry): string {
  return normalize(`${entry.method} ${entry.path}`);
}

/** The decoded matrix conditions of a logged run query, in the order sent. */
export function conditions(entry: RequestLogEntry): string[] {
  const segment = entry.path.split('/').find((part) => part.startsWith(';'));
  if (segment === undefined) throw new Error(`${entry.method} ${entry.path} has no matrix segment`);
  return segmentConditions(segment);
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

/** Options of `Harness.manager`: any RunManager option, with `run` merged into the defaults. */
export type ManagerOverrides = Omit<Partial<RunManagerOptions>, 'run'> & { run?: Partial<RunOptions> };

export interface Harness {
  readonly emulator: Emulator;
  /** A fresh memory session store per test. */
  readonly store: SessionStore & { readonly size: number };
  /**
   * A RunManager against the emulator (user u1 in group g1, retries off); `overrides.run` is merged
   * into the run options. Stopped after the test.
   */
  manager(overrides?: ManagerOverrides): RunManager;
  /** The requests answered since the last take (after the log settles), and clears the log. */
  take(): Promise<RequestLogEntry[]>;
  /**
   * Takes the requests and expects exactly these `METHOD path` lines in this order (matrix
   * conditions compared as sets), and — when `original` is given — no more requests than the
   * original library sends for the same resolution.
   */
  expectTrace(expected: string[], original?: number): Promise<RequestLogEntry[]>;
  /** Runs on the emulator. */
  runCount(): number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts one emulator for the calling test file (default variables `{ price: 10 }`), resets it
 * before every test and closes it after the file.
 */
export function useIntegration(): Harness {
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
    store = createMemorySessionStore();
  });
  afterEach(() => {
    for (const manager of managers.splice(0)) manager.stop();
  });

  const harness: Harness = {
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
        run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: harness.emulator.baseURL, ...runOverrides },
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
    async expectTrace(expected, original) {
      const entries = await harness.take();
      expect(entries.map(line)).toEqual(expected.map(normalize));
      if (original !== undefined) expect(entries.length).toBeLessThanOrEqual(original);
      return entries;
    },
    runCount() {
      return harness.emulator.runs().length;
    },
  };
  return harness;
}
