/**
 * One simulated user of the soak: `getRun → rm.run.do('step', [1]) → reset → (page reload) getRun`,
 * pressing again after a failure as a person would, with every press recorded.
 *
 * Each press carries an attempt tag: as the `x-soak-attempt` request header (so the emulator's
 * request log ties every request to the press that sent it) and in the create options as
 * `files.soak` (so every run on the emulator names the press that created it). The user's fetch
 * instance also records every attempt as the client saw it (its outcome and timing), because the
 * server's log cannot show a response that arrived too late for the client.
 */
import { performance } from 'node:perf_hooks';
import { ofetch, type $Fetch } from 'ofetch';
import type { World } from '../../src/emulator/index.js';
import { createDevToken } from '../../src/emulator/index.js';
import {
  createMemorySessionStore,
  RunManager,
  RunManagerError,
  type RunManagerOptions,
  type SessionStore,
  type UserSession,
} from '../../src/index.js';
import { classify, type RequestKind, type UserFaults } from './faults.js';
import { pick, stream, type Random } from './prng.js';

/** The strategies the soak mixes. */
export const SOAK_STRATEGIES = [
  'reuse-per-session',
  'reuse-across-sessions',
  'reuse-by-tracking-key',
  'reuse-last-initialized',
  'multiplayer',
  'reuse-never',
] as const;

/** One of {@link SOAK_STRATEGIES}. */
export type SoakStrategy = (typeof SOAK_STRATEGIES)[number];

/** The calls of the flow, in order. */
export const CALLS = ['getRun1', 'step', 'reset', 'getRun2'] as const;
export type CallName = (typeof CALLS)[number];

/** Header that ties a request to its press. */
export const ATTEMPT_HEADER = 'x-soak-attempt';

export const ACCOUNT = 'acme';
export const MODEL = 'model.py';
export const GROUP = 'g1';
export const TRACKING_KEY = 'week-1';

/** Who a simulated user is and how it is set up. */
export interface UserPlan {
  index: number;
  userId: string;
  /** Every user has a project of its own, so its faults (matched by path) hit only its requests. */
  project: string;
  strategy: SoakStrategy;
  /** reuse-by-tracking-key: the run limit. */
  runLimit?: number;
  /** multiplayer: the user's world. */
  worldId?: string;
  /** The session-store key of the user's runs. */
  sessionKey: string;
}

/** A failure as recorded. */
export interface RecordedError {
  typed: boolean;
  type: string;
  message: string;
  status?: number;
  name: string;
}

/** One press of one call. */
export interface Press {
  call: CallName;
  /** 1 for the first press of the call. */
  press: number;
  tag: string;
  ok: boolean;
  runId?: string;
  error?: RecordedError;
  startedAt: number;
  endedAt: number;
}

/** One HTTP attempt as the client saw it (the library's own retries are separate attempts). */
export interface ClientAttempt {
  tag: string;
  method: string;
  path: string;
  kind: RequestKind;
  /** `performance.now()` when the attempt was handed to fetch, and when it settled. */
  startedAt: number;
  endedAt: number;
  /** True for a 2xx answer. */
  ok: boolean;
  /** The answer's status, when one came. */
  status?: number;
  /** Why no answer came (`TimeoutError`, `AbortError`, `TypeError: fetch failed` …). */
  error?: string;
}

/** What a user did, and the store its browser kept. */
export interface UserOutcome {
  plan: UserPlan;
  presses: Press[];
  attempts: ClientAttempt[];
  store: SessionStore & { readonly size: number };
}

/** Transport and behaviour settings shared by every user. */
export interface UserSettings {
  seed: number;
  baseURL: string;
  timeoutMs: number;
  retry: { retries: number; baseDelayMs: number; maxDelayMs: number };
  /** Delay of a stalled response (a person pressing again waits longer than what is left of it). */
  stallMs: number;
  /** Most presses per call. */
  maxPresses: number;
}

/**
 * Who user `index` is: strategy (and run limit) drawn from the user's own seeded stream.
 *
 * @example
 * ```ts
 * planUser(1, 7).strategy; // the same on every run with seed 1
 * ```
 */
export function planUser(seed: number, index: number): UserPlan {
  const random = stream(seed, 'plan', index);
  const strategy = pick(random, SOAK_STRATEGIES);
  const project = `soak-${String(index).padStart(4, '0')}`;
  const plan: UserPlan = {
    index,
    userId: `u${index}`,
    project,
    strategy,
    sessionKey: `epicenter-scenario-${ACCOUNT}-${project}-${MODEL}`,
  };
  if (strategy === 'reuse-by-tracking-key') plan.runLimit = pick(random, [1, 2, 3]);
  if (strategy === 'multiplayer') plan.worldId = `world-${index}`;
  return plan;
}

/**
 * The world a multiplayer user belongs to (seeded before the soak starts).
 *
 * @example
 * ```ts
 * emulator.addWorld(worldOf(plan));
 * ```
 */
export function worldOf(plan: UserPlan): World {
  return {
    id: plan.worldId!,
    account: ACCOUNT,
    project: plan.project,
    group: GROUP,
    name: `world of ${plan.userId}`,
    users: [{ userId: plan.userId, userName: plan.userId }],
  };
}

function strategyOptions(plan: UserPlan): Record<string, unknown> | undefined {
  switch (plan.strategy) {
    case 'reuse-by-tracking-key':
      return { settings: { trackingKey: TRACKING_KEY, runLimit: plan.runLimit } };
    case 'reuse-last-initialized':
      return { initOperation: ['init'] };
    default:
      return undefined;
  }
}

function record(error: unknown): RecordedError {
  if (error instanceof RunManagerError) {
    return {
      typed: true,
      type: error.type,
      message: error.message,
      name: error.name,
      ...(error.status === undefined ? {} : { status: error.status }),
    };
  }
  const name = error instanceof Error ? error.name : typeof error;
  return { typed: false, type: `UNTYPED(${name})`, message: error instanceof Error ? error.message : String(error), name };
}

/** Errors after which a person would not press again. */
const FINAL_TYPES = new Set(['RUN_LIMIT_REACHED', 'RUN_NOT_FOUND', 'INVALID_OPTIONS', 'UNAUTHORIZED', 'NO_WORLD_FOR_USER']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An ofetch instance that, for every attempt: asks `before` for the attempt's tag (registering its
 * fault), adds the tag as a header, and records the attempt as the client saw it.
 */
function instrumentedFetch(before: (method: string, path: string) => string, attempts: ClientAttempt[]): $Fetch {
  const real = ofetch.create({});
  const raw = (async (request: unknown, options: { method?: string; headers?: HeadersInit } = {}) => {
    const method = (options.method ?? 'GET').toUpperCase();
    const path = new URL(String(request)).pathname;
    const tag = before(method, path);
    const headers = new Headers(options.headers);
    headers.set(ATTEMPT_HEADER, tag);
    const attempt: ClientAttempt = { tag, method, path, kind: classify(method, path), startedAt: performance.now(), endedAt: 0, ok: false };
    attempts.push(attempt);
    try {
      const response = await real.raw(request as string, { ...(options as object), headers });
      attempt.ok = response.status >= 200 && response.status < 300;
      attempt.status = response.status;
      return response;
    } catch (error) {
      const status = (error as { response?: { status?: unknown } }).response?.status;
      if (typeof status === 'number') {
        attempt.status = status;
      } else {
        const cause = (error as { cause?: unknown }).cause;
        const source = (cause instanceof Error ? cause : error) as Error;
        attempt.error = `${source.name}: ${source.message}`.slice(0, 120);
      }
      throw error;
    } finally {
      attempt.endedAt = performance.now();
    }
  }) as $Fetch['raw'];
  const fetch = (async (request: string, options?: object) => (await raw(request, options as never))._data) as unknown as $Fetch;
  return Object.assign(fetch, { raw, native: real.native, create: real.create });
}

/**
 * Runs one user's flow to the end (never rejects: every failure is recorded as a press).
 *
 * @example
 * ```ts
 * const outcome = await simulateUser(plan, settings, injector.forUser(plan.index));
 * ```
 */
export async function simulateUser(plan: UserPlan, settings: UserSettings, faults: UserFaults): Promise<UserOutcome> {
  const store = createMemorySessionStore();
  const presses: Press[] = [];
  const attempts: ClientAttempt[] = [];
  const think: Random = stream(settings.seed, 'think', plan.index);
  const session: UserSession = { userId: plan.userId, groupName: GROUP, auth_token: createDevToken({ userId: plan.userId }) };
  let tag = `${plan.userId}:idle:0`;

  const fetch = instrumentedFetch((method, path) => {
    faults.before(method, path, tag);
    return tag;
  }, attempts);
  const options = strategyOptions(plan);
  const manager = () =>
    new RunManager({
      run: { account: ACCOUNT, project: plan.project, model: MODEL, baseURL: settings.baseURL },
      strategy: plan.strategy,
      ...(options ? { strategyOptions: options } : {}),
      session,
      sessionStore: store,
      timeout: settings.timeoutMs,
      retry: settings.retry,
      fetch,
    } satisfies RunManagerOptions);

  // A person who saw an error takes a moment before pressing again: here longer than a whole stall,
  // so a request the client gave up on has landed on the server before the next press starts (a
  // client cannot see a request still queued at the server; see the README's note on run limits).
  const pause = () => sleep(settings.stallMs + 50 + Math.floor(think() * 150));

  async function call(name: CallName, action: (tag: string) => Promise<unknown>): Promise<void> {
    for (let press = 1; press <= settings.maxPresses; press += 1) {
      tag = `${plan.userId}:${name}:${press}`;
      const startedAt = Date.now();
      try {
        const value = await action(tag);
        const id = value && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
        presses.push({
          call: name,
          press,
          tag,
          ok: true,
          ...(typeof id === 'string' ? { runId: id } : {}),
          startedAt,
          endedAt: Date.now(),
        });
        return;
      } catch (error) {
        const recorded = record(error);
        presses.push({ call: name, press, tag, ok: false, error: recorded, startedAt, endedAt: Date.now() });
        await pause();
        if (FINAL_TYPES.has(recorded.type)) return;
      }
    }
  }

  let rm = manager();
  await call('getRun1', (t) => rm.getRun(undefined, { files: { soak: t } }));
  await call('step', () => rm.run.do('step', [1]));
  await call('reset', (t) => rm.reset({ files: { soak: t } }));
  rm.stop();
  rm = manager(); // a page reload: a new manager over the same session store
  await call('getRun2', (t) => rm.getRun(undefined, { files: { soak: t } }));
  rm.stop();
  return { plan, presses, attempts, store };
}
