/**
 * In-memory fakes of the Run API and World API clients for machine tests, plus a small harness that
 * runs a strategy machine and records the path it took.
 *
 * The fake keeps a run list, records every call (method, arguments, signal), can be scripted per
 * method (fail, reply, hold until released), and honours `signal`: an aborted call rejects `ABORTED`.
 */
import { createActor, toPromise, type AnyStateMachine, type InspectionEvent, type StateValue } from 'xstate';
import { RunManagerError } from '../../src/errors.js';
import type {
  CreateRunParams,
  LoadedRun,
  RequestOptions,
  RunApi,
  RunQueryResult,
  WorldApi,
  WorldRunId,
} from '../../src/services/api-types.js';
import { normalizeOperations } from '../../src/services/operations.js';
import { stateValueText } from '../../src/testing/plan.js';
import { findCreatedRunMachine } from '../../src/machines/strategies/find-created-run.machine.js';
import type { StrategyInput, StrategyOutput, StrategyServices } from '../../src/machines/strategies/types.js';
import type { OperationResult, Operations, QueryModifiers, Run, RunFilter, World } from '../../src/types.js';

/** Every method the fake answers, as recorded in {@link FakeCall.method}. */
export type FakeMethod =
  | 'create'
  | 'query'
  | 'load'
  | 'loadWithHeaders'
  | 'save'
  | 'operation'
  | 'serial'
  | 'parallel'
  | 'variables.query'
  | 'variables.load'
  | 'variables.save'
  | 'removeFromMemory'
  | 'worldsForUser'
  | 'currentWorldForUser'
  | 'currentRunId'
  | 'deleteCurrentRun'
  | 'newRunForWorld';

/** One recorded call. */
export interface FakeCall {
  method: FakeMethod;
  /** The arguments before the request options. */
  args: unknown[];
  signal: AbortSignal | undefined;
}

/** A call that waits until the test releases it (or its signal aborts). */
export interface HeldCall {
  /** Resolves with the call's signal once the held method is called. */
  readonly called: Promise<AbortSignal | undefined>;
  /** Lets the call go on (with its normal or scripted behaviour). */
  release(): void;
}

type Script = { kind: 'fail'; error: unknown } | { kind: 'reply'; value: unknown } | { kind: 'hold'; held: Deferred };

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  called: Promise<AbortSignal | undefined>;
  markCalled(signal: AbortSignal | undefined): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let markCalled!: (signal: AbortSignal | undefined) => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const called = new Promise<AbortSignal | undefined>((r) => (markCalled = r));
  return { promise, resolve, called, markCalled };
}

/** Options of {@link createFakeServices}. */
export interface FakeServicesOptions {
  account?: string;
  project?: string;
  /** The user the fake server sees (stamped on created runs as `user.id`). */
  userId?: string;
  runs?: Run[];
  worlds?: World[];
  /** Headers returned by `loadWithHeaders`. */
  loadHeaders?: Record<string, string>;
}

/** The fake clients and their controls. */
export interface FakeServices {
  runApi: RunApi;
  worldApi: WorldApi;
  services: StrategyServices;
  /** The server's runs (mutable: tests may add or edit). */
  runs: Run[];
  worlds: World[];
  calls: FakeCall[];
  /** The method of every call, in order, e.g. `['load', 'create']`. */
  methods(): FakeMethod[];
  /** Calls to one method. */
  callsTo(method: FakeMethod): FakeCall[];
  /** The next `times` calls to `method` reject with `error`. */
  fail(method: FakeMethod, error: unknown, times?: number): void;
  /** The next `times` calls to `method` resolve with `value` (no server change). */
  reply(method: FakeMethod, value: unknown, times?: number): void;
  /** The next call to `method` waits until released or aborted. */
  hold(method: FakeMethod): HeldCall;
}

/**
 * A 404 as the Run API client reports it for a run that does not exist.
 *
 * @example
 * ```ts
 * fake.fail('load', notFound('r1'));
 * ```
 */
export function notFound(runId: string): RunManagerError {
  return new RunManagerError('RUN_NOT_FOUND', `Run ${runId} was not found`, { status: 404 });
}

/**
 * A non-2xx answer as the clients report it (`HTTP_ERROR` with status; 401/403 as `UNAUTHORIZED`).
 *
 * @example
 * ```ts
 * fake.fail('query', httpError(503));
 * ```
 */
export function httpError(status: number, message = `HTTP ${status}`): RunManagerError {
  return new RunManagerError(status === 401 || status === 403 ? 'UNAUTHORIZED' : 'HTTP_ERROR', message, { status });
}

function aborted(method: string, signal: AbortSignal): RunManagerError {
  return new RunManagerError('ABORTED', `${method} was aborted`, { cause: signal.reason });
}

function valueAt(run: Run, path: string): unknown {
  let current: unknown = run;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function flatten(filter: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(filter).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value] as [string, unknown]],
  );
}

function matches(run: Run, filter: RunFilter): boolean {
  return flatten(filter).every(([path, expected]) => {
    if (expected === undefined) return true;
    // A run without a `trashed` field is not trashed.
    const actual = valueAt(run, path) ?? (path === 'trashed' ? false : undefined);
    const wanted = Array.isArray(expected) ? expected : [expected];
    return wanted.some((w) => String(actual) === String(w));
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    current[part] = next !== null && typeof next === 'object' ? { ...(next as Record<string, unknown>) } : {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]!] = value;
}

/**
 * Fake `RunApi` + `WorldApi` over an in-memory run list.
 *
 * @example
 * ```ts
 * const fake = createFakeServices({ userId: 'u1' });
 * fake.fail('load', notFound('r1'));
 * const output = await runStrategy(reusePerSessionMachine, strategyInput(fake, { cachedRun: { id: 'r1' } }));
 * expect(fake.methods()).toEqual(['load', 'create']);
 * ```
 */
export function createFakeServices(options: FakeServicesOptions = {}): FakeServices {
  const { account = 'acme', project = 'sim', userId } = options;
  const runs: Run[] = [...(options.runs ?? [])];
  const worlds: World[] = [...(options.worlds ?? [])];
  const calls: FakeCall[] = [];
  const scripts = new Map<FakeMethod, Script[]>();
  let sequence = runs.length;
  let clock = Date.parse('2024-01-01T00:00:00Z') + runs.length * 1000;

  function enqueue(method: FakeMethod, script: Script, times = 1): void {
    const queue = scripts.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(script);
    scripts.set(method, queue);
  }

  /** Records the call, applies its script, and otherwise runs `body` (all while honouring the signal). */
  async function call<T>(method: FakeMethod, args: unknown[], request: RequestOptions | undefined, body: () => T): Promise<T> {
    const signal = request?.signal;
    calls.push({ method, args, signal });
    const script = scripts.get(method)?.shift();
    const abortable = <R>(work: Promise<R>): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        if (signal?.aborted) return reject(aborted(method, signal));
        const onAbort = () => reject(aborted(method, signal!));
        signal?.addEventListener('abort', onAbort, { once: true });
        work.then(
          (value) => {
            signal?.removeEventListener('abort', onAbort);
            if (signal?.aborted) reject(aborted(method, signal));
            else resolve(value);
          },
          (error: unknown) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
      });
    if (script?.kind === 'hold') {
      script.held.markCalled(signal);
      await abortable(script.held.promise);
      return abortable(Promise.resolve().then(body));
    }
    return abortable(Promise.resolve().then(() => runScript(script, body)));
  }

  function runScript<T>(script: Script | undefined, body: () => T): T {
    if (script?.kind === 'fail') throw script.error;
    if (script?.kind === 'reply') return structuredClone(script.value) as T;
    return body();
  }

  function findRun(runId: string): Run {
    const run = runs.find((r) => r.id === runId);
    if (!run) throw notFound(runId);
    return run;
  }

  function newRun(params: CreateRunParams): Run {
    sequence += 1;
    clock += 1000;
    const stamp = new Date(clock).toISOString();
    const run: Run = {
      id: `run-${sequence}`,
      account,
      project,
      model: params.model,
      scope: params.scope ? structuredClone(params.scope) : null,
      files: params.files ?? null,
      user: userId ? { id: userId } : null,
      created: stamp,
      lastModified: stamp,
      trashed: false,
      saved: false,
      initialized: true,
      active: true,
    };
    runs.push(run);
    return structuredClone(run);
  }

  function operationResults(runId: string, operations: Operations): OperationResult[] {
    findRun(runId);
    return normalizeOperations(operations).map(({ name, args }) => ({ name, arguments: args, result: null }));
  }

  const runApi: RunApi = {
    create: (params, request) => call('create', [params], request, () => newRun(params)),
    query: (filter: RunFilter, modifiers: QueryModifiers = {}, request?: RequestOptions) =>
      call('query', [filter, modifiers], request, (): RunQueryResult => {
        const found = runs.filter((run) => matches(run, filter));
        if (modifiers.sort) {
          const key = modifiers.sort;
          const direction = modifiers.direction === 'desc' ? -1 : 1;
          found.sort((a, b) => String(a[key]).localeCompare(String(b[key])) * direction);
        }
        const start = Number(modifiers.startRecord ?? modifiers.startrecord ?? 0);
        const end = Number(modifiers.endRecord ?? modifiers.endrecord ?? found.length - 1);
        const page = found.slice(start, end + 1);
        const range = found.length === 0 ? null : { start, end: start + page.length - 1, total: found.length };
        return { runs: structuredClone(page), total: found.length, range };
      }),
    load: (runId, request) => call('load', [runId], request, () => structuredClone(findRun(runId))),
    loadWithHeaders: (runId, request) =>
      call('loadWithHeaders', [runId], request, (): LoadedRun => ({
        run: structuredClone(findRun(runId)),
        headers: new Headers({ 'content-type': 'application/json', ...(options.loadHeaders ?? {}) }),
        status: 200,
      })),
    save: (target, attributes, request) =>
      call('save', [target, attributes], request, () => {
        if (typeof target !== 'string') throw new Error('the fake saves by run id only');
        const run = findRun(target) as Record<string, unknown>;
        for (const [key, value] of Object.entries(attributes)) setPath(run, key, value);
        clock += 1000;
        run.lastModified = new Date(clock).toISOString();
        return structuredClone(run) as Run;
      }),
    operation: (runId, name, args = [], request) =>
      call('operation', [runId, name, args], request, (): OperationResult => {
        findRun(runId);
        return { name, arguments: args, result: null };
      }),
    serial: (runId, operations, request) => call('serial', [runId, operations], request, () => operationResults(runId, operations)),
    parallel: (runId, operations, request) => call('parallel', [runId, operations], request, () => operationResults(runId, operations)),
    variables: {
      query: (runId, names, request) =>
        call('variables.query', [runId, names], request, () => {
          const values = findRun(runId).variables ?? {};
          return Object.fromEntries(names.filter((n) => n in values).map((n) => [n, values[n]]));
        }),
      load: (runId, name, request) => call('variables.load', [runId, name], request, () => (findRun(runId).variables ?? {})[name]),
      save: (runId, values, request) =>
        call('variables.save', [runId, values], request, () => {
          const run = findRun(runId);
          run.variables = { ...(run.variables ?? {}), ...values };
          return structuredClone(run.variables);
        }),
    },
    removeFromMemory: (runId, request) =>
      call('removeFromMemory', [runId], request, () => {
        findRun(runId);
      }),
  };

  const worldsOf = (user: { userId: string; groupName?: string }) =>
    worlds.filter(
      (world) =>
        (world.users ?? []).some((member) => member.userId === user.userId) &&
        (user.groupName === undefined || world.group === user.groupName),
    );

  function findWorld(worldId: string): World {
    const world = worlds.find((w) => w.id === worldId);
    if (!world) throw httpError(404, `World ${worldId} was not found`);
    return world;
  }

  const worldApi: WorldApi = {
    worldsForUser: (user, request) => call('worldsForUser', [user], request, () => structuredClone(worldsOf(user))),
    currentWorldForUser: (user, request) =>
      call('currentWorldForUser', [user], request, () => {
        const newest = [...worldsOf(user)].sort((a, b) => String(b.lastModified).localeCompare(String(a.lastModified)))[0];
        return newest ? structuredClone(newest) : undefined;
      }),
    currentRunId: (worldId, params, request) =>
      call('currentRunId', [worldId, params], request, (): WorldRunId => {
        const world = findWorld(worldId);
        if (world.run) return { runId: world.run, freshlyCreated: false };
        world.run = newRun({ ...params, scope: { ...(params.scope ?? {}), worldId } }).id;
        return { runId: world.run, freshlyCreated: true };
      }),
    deleteCurrentRun: (worldId, request) =>
      call('deleteCurrentRun', [worldId], request, () => {
        delete findWorld(worldId).run;
      }),
    newRunForWorld: (worldId, params, request) =>
      call('newRunForWorld', [worldId, params], request, (): WorldRunId => {
        const world = findWorld(worldId);
        world.run = newRun({ ...params, scope: { ...(params.scope ?? {}), worldId } }).id;
        return { runId: world.run, freshlyCreated: true };
      }),
  };

  return {
    runApi,
    worldApi,
    services: { runApi, worldApi, runService: { fake: true } },
    runs,
    worlds,
    calls,
    methods: () => calls.map((c) => c.method),
    callsTo: (method) => calls.filter((c) => c.method === method),
    fail: (method, error, times = 1) => enqueue(method, { kind: 'fail', error }, times),
    reply: (method, value, times = 1) => enqueue(method, { kind: 'reply', value }, times),
    hold: (method) => {
      const held = deferred();
      enqueue(method, { kind: 'hold', held });
      return { called: held.called, release: () => held.resolve() };
    },
  };
}

/** The run options every test config uses unless it says otherwise. */
export const testConfig = { account: 'acme', project: 'sim', model: 'model.py' } as const;

/**
 * A strategy input over the fake services (`getRun`, no cached run, no options, by default).
 *
 * @example
 * ```ts
 * const input = strategyInput(fake, { mode: 'reset', session: { userId: 'u1', groupName: 'g1' } });
 * ```
 */
export function strategyInput<TOptions = Record<string, unknown>>(
  fake: FakeServices,
  overrides: Partial<StrategyInput<TOptions>> = {},
): StrategyInput<TOptions> {
  return {
    mode: 'getRun',
    config: { ...testConfig },
    session: {},
    cachedRun: undefined,
    options: {} as TOptions,
    createOptions: undefined,
    services: fake.services,
    ...overrides,
  };
}

/** What {@link runStrategy} observed. */
export interface StrategyRun {
  output: StrategyOutput;
  /** Every state the machine was in, in order, transient ones included (e.g. `checkingSession`). */
  path: string[];
  /** The tags of each snapshot the actor emitted, in order. */
  tags: string[][];
  /** The final state's tags. */
  finalTags: string[];
}

/**
 * Runs a strategy machine to its final state and records the path it took (from the actor's
 * microsteps, so transient states show too) and the tags of every emitted snapshot.
 *
 * @example
 * ```ts
 * const { output, path } = await runStrategy(reuseNeverMachine, strategyInput(fake));
 * expect(path).toEqual(['checkingSession', 'creating', 'ready']);
 * ```
 */
export async function runStrategy(machine: AnyStateMachine, input: StrategyInput<unknown>): Promise<StrategyRun> {
  const path: string[] = [];
  const tags: string[][] = [];
  const visit = (state: string) => {
    if (path[path.length - 1] !== state) path.push(state);
  };
  // The initial (transient) microsteps happen inside createActor, so the root is recognised by id.
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.microstep' || event.actorRef.sessionId !== event.rootId) return;
    for (const transition of event._transitions) visit(transition.source.path.join('.'));
    visit(stateValueText((event.snapshot as unknown as { value: StateValue }).value));
  };
  const actor = createActor(machine, { input, inspect });
  if (path.length === 0) visit(stateValueText(actor.getSnapshot().value as StateValue));
  actor.subscribe((snapshot) => tags.push([...snapshot.tags].sort()));
  actor.start();
  const output = (await toPromise(actor)) as StrategyOutput;
  return { output, path, tags, finalTags: [...actor.getSnapshot().tags].sort() };
}

/** The lost-create search with its waits shortened to 1 ms (provide it as the strategy's `findCreatedRun`). */
export const quickFindCreatedRun = findCreatedRunMachine.provide({ delays: { waitBeforeLookingAgain: 1 } });
