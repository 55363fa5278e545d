/**
 * The baseline of figure 3: reuse-per-session, reuse-across-sessions and reuse-by-tracking-key
 * written by hand with async/await — no statecharts, no actors — over the SAME `createRunApi`
 * client and the same transport the RunManager uses, doing the same work per getRun:
 *
 * - single-flight: a getRun during another joins it (a promise field), and a process-wide lock per
 *   session key and user (the library's `createProcessCoordinator`) guards read-record → strategy →
 *   write-record, so two getRuns of one user cannot both create a run;
 * - the same session store, record validation (`parseSessionRecord`) and record written
 *   (`createSessionRecord`) when it names another run;
 * - the same filters, create bodies and run marking (the library's pure helpers);
 * - the same typed errors for a run that is gone (404 → create) and for run limits.
 *
 * What it leaves out is only what figure 3 measures: the run-manager machine, the strategy
 * machine, their actors and events, and the facade that turns events into promises.
 */
import { RunManagerError, isRunManagerError } from '../../src/errors.js';
import type { CreateRunParams, RunApi } from '../../src/services/api-types.js';
import { createProcessCoordinator, type Coordinator } from '../../src/services/coordination.js';
import { createSessionRecord, parseSessionRecord, type SessionStore } from '../../src/services/session-store.js';
import { createParams, deepMerge, markRun, newestRunModifiers, sessionFilter } from '../../src/machines/strategies/shared.js';
import {
  attachSettings,
  isLimitReached,
  isLimitUncheckable,
  normaliseSettings,
  trackingKeyCreateParams,
} from '../../src/machines/strategies/tracking-key.js';
import type { RunConfig } from '../../src/machines/strategies/types.js';
import type { Run, RunFilter, UserSession } from '../../src/types.js';

/** The strategies the baseline implements. */
export type BaselineStrategy = 'reuse-per-session' | 'reuse-across-sessions' | 'reuse-by-tracking-key';

/** What a baseline manager needs: the client, the run config, the user, the store. */
export interface BaselineOptions {
  strategy: BaselineStrategy;
  api: RunApi;
  config: RunConfig;
  session: UserSession;
  store: SessionStore;
  /** reuse-by-tracking-key settings (object form). */
  settings?: Record<string, unknown>;
  coordinator?: Coordinator;
  /** Replaces the strategy step (figure 3c measures the layer around it with a step that does no I/O). */
  resolve?: (cachedRunId: string | undefined, session: UserSession) => Promise<Run>;
}

/** The single process-wide lock map, as the library's default coordinator in Node. */
const processLocks = createProcessCoordinator();

/** What a strategy needs to decide, given the cached run id (if any). */
type Resolve = (options: BaselineOptions, cachedRunId: string | undefined, session: UserSession) => Promise<Run>;

function createBody(options: BaselineOptions, session: UserSession): CreateRunParams {
  return createParams(options.config, session);
}

const reusePerSession: Resolve = async (options, cachedRunId, session) => {
  if (cachedRunId !== undefined) {
    try {
      const run = await options.api.load(cachedRunId);
      if (run.trashed !== true) return markRun(run, false);
    } catch (error) {
      if (!isRunManagerError(error, 'RUN_NOT_FOUND')) throw error;
    }
  }
  return markRun(await options.api.create(createBody(options, session)), true);
};

const reuseAcrossSessions: Resolve = async (options, _cachedRunId, session) => {
  const filter = sessionFilter(deepMerge<RunFilter>({ model: options.config.model }), options.config, session);
  const { runs } = await options.api.query(filter, newestRunModifiers('lower'));
  const newest = runs[0];
  if (newest !== undefined && newest.trashed !== true) return markRun(newest, false);
  return markRun(await options.api.create(createBody(options, session)), true);
};

/** A settings object is validated once per manager, as the library does. */
const settingsOnce = new WeakMap<BaselineOptions, ReturnType<typeof normaliseSettings>>();

const reuseByTrackingKey: Resolve = async (options, _cachedRunId, session) => {
  let resolved = settingsOnce.get(options);
  if (!resolved) {
    resolved = normaliseSettings(options.settings ?? {});
    settingsOnce.set(options, resolved);
  }
  const { settings, trackingKey, runLimit } = resolved;
  if (!trackingKey) throw new RunManagerError('NO_TRACKING_KEY', 'No tracking key provided to reuse-by-tracking-key strategy');
  const filter = sessionFilter(deepMerge<RunFilter>({ scope: { trackingKey } }, { trashed: false }), options.config, session);
  const { runs, total } = await options.api.query(filter, newestRunModifiers('camel'));
  const newest = runs[0];
  if (newest !== undefined && newest.trashed !== true) return attachSettings(markRun(newest, false), settings);
  if (isLimitUncheckable(runLimit, total)) throw new RunManagerError('INVALID_RESPONSE', 'Run limit set but no Content-Range total');
  if (isLimitReached(runLimit, total))
    throw new RunManagerError('RUN_LIMIT_REACHED', 'You have reached your run limit and cannot create new runs.');
  const created = await options.api.create(trackingKeyCreateParams(options.config, session, trackingKey, undefined));
  return attachSettings(markRun(created, true), settings);
};

const STRATEGIES: Record<BaselineStrategy, Resolve> = {
  'reuse-per-session': reusePerSession,
  'reuse-across-sessions': reuseAcrossSessions,
  'reuse-by-tracking-key': reuseByTrackingKey,
};

/**
 * A hand-written run manager for one strategy: `getRun()` only.
 *
 * @example
 * ```ts
 * const manager = new BaselineManager({ strategy: 'reuse-per-session', api, config, session, store });
 * const run = await manager.getRun();
 * ```
 */
export class BaselineManager {
  readonly #options: BaselineOptions;
  readonly #key: string;
  readonly #coordinator: Coordinator;
  #inFlight: Promise<Run> | null = null;

  constructor(options: BaselineOptions) {
    this.#options = options;
    this.#key = ['epicenter-scenario', options.config.account, options.config.project, options.config.model].filter(Boolean).join('-');
    this.#coordinator = options.coordinator ?? processLocks;
  }

  /** The run for this user per the strategy; a call during another joins it. */
  getRun(): Promise<Run> {
    if (this.#inFlight) return this.#inFlight;
    const resolution = this.#resolve().finally(() => {
      this.#inFlight = null;
    });
    this.#inFlight = resolution;
    return resolution;
  }

  async #resolve(): Promise<Run> {
    const { auth_token: _token, ...session } = this.#options.session;
    const owner = { userId: session.userId, model: this.#options.config.model };
    const release = await this.#coordinator.acquire(`run-lifecycle:${this.#key}:${session.userId ?? ''}`);
    try {
      const record = parseSessionRecord(await this.#options.store.get(this.#key), owner);
      const run = this.#options.resolve
        ? await this.#options.resolve(record?.runId, session)
        : await STRATEGIES[this.#options.strategy](this.#options, record?.runId, session);
      // Written when it changes, as the library does.
      if (record?.runId !== run.id) await this.#options.store.set(this.#key, createSessionRecord(run.id, owner));
      return run;
    } finally {
      release();
    }
  }
}
