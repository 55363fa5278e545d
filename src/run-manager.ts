/**
 * The RunManager facade: Epicenter.js's promise API (`getRun`, `reset`, `run`) over the
 * run-manager actor (`actor`), which UIs and the inspector can watch directly.
 */
import { createActor, type Actor, type ActorOptions, type InspectionEvent, type Observer } from 'xstate';
import { describeThrown, RunManagerError, toRunManagerError } from './errors.js';
import { createSanitizedInspector } from './inspection.js';
import { runManagerMachine, type RunManagerInput, type RunManagerServices } from './machines/run-manager.machine.js';
import { checkCreateOptions, isPlainObject } from './machines/strategies/options.js';
import type { CachedRun, RunConfig, StrategyDefinition } from './machines/strategies/types.js';
import { defaultCoordinator, trackLocks, type Coordinator } from './services/coordination.js';
import { settleWithin } from './services/deadline.js';
import { HTTP_DEFAULTS } from './services/http.js';
import { RunService, runServiceInternals } from './services/run-service.js';
import { definitionsOnly, validateOptions, type SessionKeyContext, type StrategyResolver } from './run-manager-options.js';
import { readSessionCookie, writeV3SessionCookie } from './services/session-cookie.js';
import type { FetchClient } from './services/api-types.js';
import type { AnyStrategyDefinition, DefinitionOptions, DefinitionReset, DefinitionRun } from './strategy-options.js';
import type { V3Session, V3SessionView } from './services/v3.js';
import { createDefaultSessionStore, createSessionRecord, parseSessionRecord, type SessionStore } from './services/session-store.js';
import type { RetryOptions, Run, RunOptions, UserSession } from './types.js';
import { isHeaderSafe, withFields } from './services/values.js';

/** Where the user session comes from: an object, or a (sync or async) function read on every getRun/reset. */
export type SessionSource = UserSession | (() => UserSession | undefined | Promise<UserSession | undefined>);

/** The options every `RunManager` takes, whichever entry it comes from; only `strategy` differs. */
export interface RunManagerBaseOptions {
  /** The run options, or an existing RunService. */
  run: RunOptions | RunService;
  /**
   * The session-store key, or a function of `{ account, project, model, userId }` called on every
   * getRun/reset (a server serving many users keeps a record per user this way); `false` disables caching.
   */
  sessionKey?: string | false | ((context: SessionKeyContext) => string | false);
  /**
   * The logged-in user; default: the browser's session cookie when there is one (`epicenterjs.session`,
   * or `com.forio.epicenter.session` with `run.apiVersion: 3`). On v3, `userId` is the user's key and
   * `groupKey`/`groupName` name the group.
   */
  session?: SessionSource;
  /**
   * Epicenter v3: called with the new session when the server invalidated the token (a world
   * assignment changed it) and the manager renewed it. Store it where your `session` comes from; in a
   * browser on the default cookie session the manager also writes the v3 session cookie.
   */
  onSession?: (session: V3Session) => void;
  /** Where session records live; default IndexedDB (memory without it). */
  sessionStore?: SessionStore;
  /** A custom ofetch instance (interceptors, auth refresh). */
  fetch?: FetchClient;
  /** Passed to `createActor` (e.g. the Stately inspector's `inspect`). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Per-request timeout in ms (default 15000). */
  timeout?: number;
  /** Retry policy for GETs (default `{ retries: 2, baseDelayMs: 200, maxDelayMs: 2000 }`). */
  retry?: RetryOptions;
  /** Single-flight lock provider (default: Web Locks in browsers, a process-wide mutex elsewhere). */
  coordinator?: Coordinator;
}

/** Options of the core {@link RunManager} (`run-lifecycle/core`): the strategy is a definition. */
export interface CoreRunManagerOptions<TStrategy extends StrategyDefinition = AnyStrategyDefinition> extends RunManagerBaseOptions {
  /** A strategy definition: a built-in one from `run-lifecycle/strategies`, or your own. */
  strategy: TStrategy;
  /** Options of the strategy, typed by its definition (`filter`, `initOperation`, `settings`, `onCreate`, `runId`, `condition`, …). */
  strategyOptions?: DefinitionOptions<TStrategy>;
}

/** The type of `rm.actor`: the run-manager statechart's actor, for UI adapters and the inspector. */
export type RunManagerActor = Actor<typeof runManagerMachine>;

/** Opened once per page (or process) and shared by every manager, like IndexedDB itself. */
let defaultSessionStore: SessionStore | undefined;

/** `provide()` rebuilds the whole machine, so share one per strategy machine. */
const machinesByStrategy = new WeakMap<object, typeof runManagerMachine>();

function machineFor(strategyMachine: StrategyDefinition['machine']): typeof runManagerMachine {
  let machine = machinesByStrategy.get(strategyMachine);
  if (!machine) {
    machine = runManagerMachine.provide({ actors: { strategy: strategyMachine } });
    machinesByStrategy.set(strategyMachine, machine);
  }
  return machine;
}

interface Pending {
  mode: 'getRun' | 'reset';
  resolve(value: unknown): void;
  reject(error: RunManagerError): void;
}

/**
 * Decides which run an end user works with, by strategy, and keeps `run` bound to it. The core
 * entry's manager: its strategy is a definition, so only that strategy is bundled.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle/core';
 * import { reusePerSession } from 'run-lifecycle/strategies';
 *
 * const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: reusePerSession });
 * const run = await rm.getRun(['price']);
 * await rm.run.do('step', [1]);
 * ```
 */
export class RunManager<TStrategy extends StrategyDefinition = AnyStrategyDefinition> {
  /** How the `strategy` option becomes a definition; the root entry's subclass also resolves names. */
  protected static strategyResolver: StrategyResolver = definitionsOnly;
  /** The RunService made from plain run options; the root entry's speaks Epicenter v3 too. */
  protected static runServiceClass: typeof RunService = RunService;

  /** The RunService bound to the current run. */
  readonly run: RunService;
  /**
   * The run-manager actor: subscribe to it, select tags (`busy`, `ready`, `error`), inspect it.
   * Created and started on first use (reading it, or the first `getRun`/`reset`), so a manager that
   * is made but never used costs little. Stopping it stops the manager, as `rm.stop()` does.
   */
  get actor(): RunManagerActor {
    return (this.#actor ??= this.#wire(createActor(this.#machine, this.#actorOptions)));
  }
  /** The definition of the strategy this manager runs. */
  readonly strategy: StrategyDefinition;

  #actor: RunManagerActor | undefined;
  #machine: typeof runManagerMachine;
  /** Kept as data rather than in a closure, so the checked options are not kept alive with it. */
  #actorOptions: ActorOptions<typeof runManagerMachine> & { input: RunManagerInput };
  #pending = new Map<number, Pending>();
  #nextRequestId = 1;
  #stopped = false;
  /** Set when the actor itself failed: the manager cannot resolve anything any more. */
  #broken: RunManagerError | undefined;
  #sessionToken: string | undefined;
  /** The session of the last getRun/reset, without its token. */
  #lastSession: UserSession | undefined;
  /** Tokens a v3 renewal handed out (the latest few), kept out of inspection events too. */
  #renewedTokens: string[] = [];
  #apiVersion: 2 | 3 = 2;
  #locks: ReturnType<typeof trackLocks>;

  constructor(options: CoreRunManagerOptions<TStrategy>) {
    const valid = validateOptions(options, new.target.strategyResolver);
    // Read each option once: a getter may answer differently (or throw) the second time.
    const given = valid.snapshot;
    try {
      this.strategy = valid.strategy;
      this.run =
        given.run instanceof RunService
          ? given.run
          : new new.target.runServiceClass({
              ...valid.runOptions,
              token: valid.runOptions.token,
              ...(given.fetch ? { fetch: given.fetch } : {}),
              ...(given.timeout !== undefined ? { timeout: given.timeout } : {}),
              ...(given.retry ? { retry: given.retry } : {}),
            });
      this.#apiVersion = this.run.config.apiVersion === 3 ? 3 : 2;
      runServiceInternals.attachManager(
        this.run,
        () => this.#currentToken(given.session),
        { reset: (createOptions) => this.reset(createOptions as Record<string, unknown>) },
        // Only Epicenter v3 clients scope requests by the session and renew it.
        this.#apiVersion === 3
          ? {
              view: () => this.#v3SessionView(given.session),
              renewed: (session) => this.#sessionRenewed(session, given.session, given.onSession),
            }
          : undefined,
      );

      const sessionStore = given.sessionStore ?? (defaultSessionStore ??= createDefaultSessionStore());
      const model = valid.config.model;
      // Session providers and stores cannot be aborted; each answer is waited for at most this long.
      const patience = given.timeout ?? HTTP_DEFAULTS.timeout;
      const runService = this.run;
      this.#locks = trackLocks(given.coordinator ?? defaultCoordinator(), () => runServiceInternals.writesInDoubtFor(runService));
      const services = new ManagerServices({
        runService: this.run,
        sessionStore,
        coordinator: this.#locks,
        model,
        patience,
        loadSession: async () =>
          this.#checkV3Session(await settleWithin(() => this.#loadSession(given.session), patience, 'The session provider')),
      });
      if (valid.strategy.createLegacy) services.legacy = valid.strategy.createLegacy(given as unknown as Record<string, unknown>);
      if (valid.recordKeyFor) services.recordKeyFor = valid.recordKeyFor;

      const runToken = valid.runOptions.token;
      this.#machine = machineFor(valid.strategy.machine);
      this.#actorOptions = {
        input: {
          strategyName: valid.strategy.name,
          requiresAuth: valid.strategy.requiresAuth,
          cachesRun: valid.strategy.cachesRun,
          strategyOptions: valid.strategyOptions,
          config: valid.config,
          sessionKey: valid.sessionKey,
          lockKey: valid.lockKey,
          services,
        },
        // Inspectors only ever see sanitized events: no services, credentials or token (see inspection.ts).
        ...(given.inspect
          ? { inspect: createSanitizedInspector(given.inspect, { secrets: () => this.#secrets(runToken, given.session) }) }
          : {}),
      };
    } catch (error) {
      // The constructor's only throw is INVALID_OPTIONS: whatever else goes wrong building the
      // manager (a strategy factory) is reported as such.
      if (error instanceof RunManagerError && error.type === 'INVALID_OPTIONS') throw error;
      throw new RunManagerError('INVALID_OPTIONS', `The run manager could not be built from these options: ${describeThrown(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * The run this user should work with, per the strategy. With variable names, the run's
   * `variables` holds their values (`{}` when they could not be fetched). Calls during a resolution
   * in progress join it.
   */
  getRun(variables?: string[] | string, createOptions?: Record<string, unknown>): Promise<DefinitionRun<TStrategy>> {
    let names: string[] | undefined;
    let checked: Record<string, unknown> | undefined;
    try {
      names = checkVariableNames(variables);
      checked = checkCreateOptions(createOptions, 'getRun(variables, createOptions): createOptions');
    } catch (error) {
      return Promise.reject(toRunManagerError(error, 'INVALID_OPTIONS', 'getRun'));
    }
    return this.#request<DefinitionRun<TStrategy>>('getRun', (requestId) => ({
      type: 'GET_RUN',
      requestId,
      variables: names ?? [],
      ...(checked ? { createOptions: checked } : {}),
    }));
  }

  /**
   * A fresh run per the strategy (usually a new one); waits for a resolution in progress first.
   * `success`/`error` callbacks in the options are called as in Epicenter.js.
   */
  reset(
    createOptions?: Record<string, unknown> & {
      success?: (run: DefinitionReset<TStrategy>) => void;
      error?: (error: RunManagerError) => void;
    },
  ): Promise<DefinitionReset<TStrategy>> {
    let callbacks: { success?: unknown; error?: unknown };
    let rest: Record<string, unknown> | undefined;
    try {
      if (createOptions !== undefined && !isPlainObject(createOptions)) {
        throw new RunManagerError('INVALID_OPTIONS', 'reset(createOptions): createOptions must be a plain object');
      }
      const { success, error, ...fields } = createOptions ?? {};
      callbacks = { success, error };
      rest = checkCreateOptions(fields, 'reset(createOptions): createOptions');
    } catch (error) {
      return Promise.reject(toRunManagerError(error, 'INVALID_OPTIONS', 'reset'));
    }
    const promise = this.#request<DefinitionReset<TStrategy>>('reset', (requestId) => ({
      type: 'RESET',
      requestId,
      ...(rest && Object.keys(rest).length ? { createOptions: rest } : {}),
    }));
    const { success, error } = callbacks;
    if (typeof success === 'function' || typeof error === 'function') {
      // The callbacks are the caller's: what they throw is reported, never left as a rejection of ours.
      promise.then(
        (run) => callBack(success, run, 'reset({ success })'),
        (failure: unknown) => callBack(error, failure, 'reset({ error })'),
      );
    }
    return promise;
  }

  /** Stops the actor, aborts requests in flight and rejects pending and later calls with `ABORTED`. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#actor?.stop();
    this.#locks.releaseAll();
    this.#failAll(new RunManagerError('ABORTED', 'The run manager was stopped'));
  }

  /** Listens to a new actor and starts it (stopped at once when the manager already is). */
  #wire(actor: RunManagerActor): RunManagerActor {
    actor.on('settled', (event) => this.#settle(event));
    actor.on('warning', (event) => {
      try {
        console.warn(`run-lifecycle: ${event.message}: ${event.error.message}`);
      } catch {
        // A console patched to throw on warnings (some test set-ups do) must not crash the page.
      }
    });
    actor.subscribe({
      // Stopped from outside (`rm.actor.stop()`, a UI adapter unmounting): the manager is stopped too,
      // so no call waits for an actor that will never answer.
      complete: () => this.stop(),
      error: (error) => {
        // Defence in depth: a machine that fails skips its clean-up, so give its locks back here.
        this.#broken = new RunManagerError('INVALID_RESPONSE', `The run manager failed: ${describeThrown(error)}`, { cause: error });
        this.#locks.releaseAll();
        this.#failAll(this.#broken);
      },
    });
    actor.start();
    if (this.#stopped) actor.stop();
    return actor;
  }

  #request<T>(mode: 'getRun' | 'reset', event: (requestId: number) => Parameters<RunManagerActor['send']>[0]): Promise<T> {
    if (this.#stopped) return Promise.reject(new RunManagerError('ABORTED', 'The run manager was stopped'));
    if (this.#broken) return Promise.reject(this.#broken);
    let actor: RunManagerActor;
    try {
      actor = this.actor;
    } catch (error) {
      return Promise.reject(toRunManagerError(error, 'INVALID_OPTIONS', 'The run manager could not be started'));
    }
    const requestId = this.#nextRequestId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(requestId, { mode, resolve: resolve, reject });
    });
    actor.send(event(requestId));
    return promise;
  }

  #settle(
    event: { requestId: number; ok: true; run: Run | null; value: unknown } | { requestId: number; ok: false; error: RunManagerError },
  ): void {
    const pending = this.#pending.get(event.requestId);
    if (!pending) return;
    this.#pending.delete(event.requestId);
    if (!event.ok) return pending.reject(event.error);
    if (event.run) {
      this.run.updateConfig({ id: event.run.id });
      return pending.resolve(event.run);
    }
    // Run-less strategies (`none`): getRun hands back the RunService, reset nothing — as the original.
    pending.resolve(event.value !== undefined ? event.value : pending.mode === 'getRun' ? this.run : undefined);
  }

  #failAll(error: RunManagerError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const caller of pending) caller.reject(error);
  }

  async #loadSession(source: SessionSource | undefined): Promise<UserSession> {
    const raw = typeof source === 'function' ? await source() : source === undefined ? readSessionCookie(this.#apiVersion) : source;
    if (raw === undefined || raw === null) {
      this.#sessionToken = undefined;
      this.#lastSession = {};
      return {};
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new RunManagerError(
        'INVALID_OPTIONS',
        `session must be (or resolve to) an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`,
      );
    }
    const { auth_token: token, ...session } = raw;
    if (token !== undefined && token !== null && typeof token !== 'string') {
      throw new RunManagerError('INVALID_OPTIONS', `session.auth_token must be a string, got ${typeof token}`);
    }
    if (typeof token === 'string' && !isHeaderSafe(token)) {
      throw new RunManagerError('INVALID_OPTIONS', 'session.auth_token must be printable ASCII: it is sent in a header');
    }
    this.#sessionToken = typeof token === 'string' && token !== '' ? token : undefined;
    const userId: unknown = session.userId;
    if (typeof userId === 'number' && Number.isFinite(userId)) session.userId = String(userId);
    else if (userId !== undefined && userId !== null && typeof userId !== 'string') {
      throw new RunManagerError('INVALID_OPTIONS', `session.userId must be a string, got ${typeof userId}`);
    }
    this.#lastSession = session;
    return session;
  }

  /** On Epicenter v3, a strategy whose runs belong to a group (or its worlds) cannot work without naming it. */
  #checkV3Session(session: UserSession): UserSession {
    if (this.#apiVersion !== 3) return session;
    const { scopedBy, name } = this.strategy;
    if (scopedBy === 'group' && !isKey(session.groupKey)) {
      throw new RunManagerError('UNAUTHORIZED', `Strategy '${name}' on Epicenter v3 needs session.groupKey: runs belong to a group`);
    }
    // Without a user, the strategy itself reports it, as on v2.
    if (scopedBy === 'world' && session.userId && !isKey(session.groupName)) {
      throw new RunManagerError('UNAUTHORIZED', `Strategy '${name}' on Epicenter v3 needs session.groupName: worlds are listed by group`);
    }
    return session;
  }

  /**
   * The session keys a v3 request is scoped by, read when it is sent: a browser's cookie as it is now,
   * or the session as last loaded (the object as given, before the first load).
   */
  #v3SessionView(source: SessionSource | undefined): V3SessionView {
    const session =
      source === undefined ? readSessionCookie(3) : (this.#lastSession ?? (typeof source === 'function' ? undefined : source));
    const view: V3SessionView = {};
    if (!session) return view;
    if (isKey(session.userId)) view.userKey = session.userId;
    if (isKey(session.groupKey)) view.groupKey = session.groupKey;
    if (isKey(session.groupName)) view.groupName = session.groupName;
    return view;
  }

  /**
   * A v3 token the server invalidated was renewed. The client already uses the new token in place of
   * the old; this stores it where the session came from (the browser's cookie, by default) and hands
   * it to `onSession`. A failing `onSession` is reported, never a failed request: the renewal worked.
   */
  #sessionRenewed(session: V3Session, source: SessionSource | undefined, onSession: ((session: V3Session) => void) | undefined): void {
    this.#renewedTokens = [session.token, ...this.#renewedTokens.slice(0, 7)];
    if (source === undefined || typeof source === 'function') this.#sessionToken = session.token;
    if (source === undefined) {
      try {
        writeV3SessionCookie(session, this.run.config);
      } catch (error) {
        console.error(`run-lifecycle: could not store the renewed Epicenter v3 session: ${describeThrown(error)}`);
      }
    }
    callBack(onSession, session, 'onSession');
  }

  /** The bearer tokens this manager knows of, redacted from inspection events. */
  #secrets(runToken: string | undefined, source: SessionSource | undefined): (string | undefined)[] {
    const given = source && typeof source === 'object' ? (source as { auth_token?: unknown }).auth_token : undefined;
    return [
      runToken,
      runServiceInternals.ownToken(this.run),
      this.#currentToken(source),
      typeof given === 'string' ? given : undefined,
      ...this.#renewedTokens,
    ];
  }

  #currentToken(source: SessionSource | undefined): string | undefined {
    // A browser's session cookie is read per request, so a later login is seen at once.
    if (source === undefined) {
      const token = readSessionCookie(this.#apiVersion)?.auth_token;
      if (typeof token === 'string' && token !== '') return token;
    }
    return this.#sessionToken;
  }
}

/** What {@link ManagerServices} is built from. */
interface ManagerServicesParts {
  runService: RunService;
  sessionStore: SessionStore;
  coordinator: Coordinator;
  /** The model a session record is for. */
  model: string;
  /** How long a session store's answer is waited for. */
  patience: number;
  loadSession: () => Promise<UserSession>;
}

/**
 * The I/O a manager's statecharts call. A class, not an object of closures: every manager holds
 * one for its whole life, and prototype methods cost nothing per instance.
 */
class ManagerServices implements RunManagerServices {
  readonly runApi: RunService['api'];
  readonly runService: RunService;
  readonly sessionStore: SessionStore;
  readonly coordinator: Coordinator;
  readonly createdRuns: CreatedRuns;
  legacy?: RunManagerServices['legacy'];
  recordKeyFor?: RunManagerServices['recordKeyFor'];
  readonly #model: string;
  readonly #patience: number;
  readonly #loadSession: () => Promise<UserSession>;

  constructor(parts: ManagerServicesParts) {
    this.runApi = parts.runService.api;
    this.runService = parts.runService;
    this.sessionStore = parts.sessionStore;
    this.coordinator = parts.coordinator;
    this.createdRuns = new CreatedRuns(parts.runService);
    this.#model = parts.model;
    this.#patience = parts.patience;
    this.#loadSession = parts.loadSession;
  }

  /** Made on first use, like the RunService's own: only the multiplayer strategies need it. */
  get worldApi(): RunService['worlds'] {
    return this.runService.worlds;
  }

  loadSession(): Promise<UserSession> {
    return this.#loadSession();
  }

  async readRecord(key: string, session: UserSession): Promise<CachedRun | undefined> {
    const stored = await settleWithin(() => this.sessionStore.get(key), this.#patience, 'sessionStore.get');
    const record = parseSessionRecord(stored, { userId: session.userId, model: this.#model });
    return record ? withFields(record, { id: record.runId }) : undefined;
  }

  async writeRecord(key: string, session: UserSession, run: Run): Promise<void> {
    const record = createSessionRecord(run.id, { userId: session.userId, model: this.#model });
    await settleWithin(() => this.sessionStore.set(key, record), this.#patience, 'sessionStore.set');
  }

  fetchVariables(runId: string, names: string[], signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.runApi.variables.query(runId, names, { signal });
  }
}

/** The runs `rm.run.create()` made, for telling a legacy strategy's run new from reused. */
class CreatedRuns {
  readonly #service: RunService;

  constructor(service: RunService) {
    this.#service = service;
  }

  count(): number {
    return runServiceInternals.creations(this.#service);
  }

  since(runId: string, mark: number): boolean {
    return runServiceInternals.hasCreated(this.#service, runId, mark);
  }
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function checkVariableNames(variables: unknown): string[] | undefined {
  const names = typeof variables === 'string' ? [variables] : variables;
  if (names !== undefined && (!Array.isArray(names) || names.some((name) => typeof name !== 'string' || name === ''))) {
    throw new RunManagerError('INVALID_OPTIONS', 'getRun(variables): variables must be an array of non-empty variable names');
  }
  return names as string[] | undefined;
}

function callBack<T>(callback: unknown, value: T, what: string): void {
  if (typeof callback !== 'function') return;
  const report = (thrown: unknown) => console.error(`run-lifecycle: ${what} threw: ${describeThrown(thrown)}`);
  try {
    const result: unknown = (callback as (value: T) => unknown)(value);
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, report);
    }
  } catch (thrown) {
    report(thrown);
  }
}

/** Same as `new RunManager(options)` (the core entry's). */
export function createRunManager<TStrategy extends StrategyDefinition>(options: CoreRunManagerOptions<TStrategy>): RunManager<TStrategy> {
  return new RunManager(options);
}

export type { RunConfig };
