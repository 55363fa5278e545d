/**
 * What the two tracking-key strategies (reuse-by-tracking-key and its multiplayer variant) share:
 * their options, how settings resolve and how `runLimit` is read, the run-limit rule, the create
 * body, and the actors that resolve settings and run `onCreate`.
 */
import { fromPromise } from 'xstate';
import { RunManagerError, toRunManagerError } from '../../errors.js';
import type { CreateRunParams } from '../../services/api-types.js';
import type { Run, RunFilter, UserSession } from '../../types.js';
import type { WithServices } from './actors.js';
import {
  checkSendable,
  describe,
  hasLoneSurrogate,
  invalidOption,
  isPlainObject,
  optionalFilter,
  optionalFunction,
  optionalObject,
  optionPath,
  readSafely,
  rejectNearMisses,
  rejectProtoKeys,
} from './options.js';
import { createParams, deepMerge } from './shared.js';
import type { RunConfig } from './types.js';

/** The settings of a tracking-key strategy: a tracking key, an optional run limit, and anything else the app keeps there. */
export interface TrackingKeySettings {
  trackingKey?: string | null;
  /** A non-negative integer (or numeric string); `undefined`, `null`, `''` or `Infinity` mean no limit. */
  runLimit?: number | string | null;
  [key: string]: unknown;
}

/**
 * Settings computed per resolution: `(runService, userSession) => settings | Promise<settings>`.
 *
 * @example
 * ```ts
 * const settings: SettingsFunction = async (_runService, session) => ({ trackingKey: `week-${session.groupName}`, runLimit: 3 });
 * ```
 */
export type SettingsFunction = (runService: unknown, userSession: UserSession) => unknown;

/**
 * Called once for every run the strategy creates; a result with a string `id` replaces the run.
 *
 * @example
 * ```ts
 * const onCreate: OnCreate = async (_runService, settings, run) => ({ ...run, label: settings.trackingKey });
 * ```
 */
export type OnCreate = (runService: unknown, settings: Record<string, unknown>, run: Run) => unknown;

/**
 * The normalised `strategyOptions` of the tracking-key strategies (what `prepareOptions` returns and
 * the machines get as `input.options`).
 */
export interface TrackingKeyOptions {
  /** An object (defaults applied) or a function resolved on every `getRun`/`reset`. */
  settings: Record<string, unknown> | SettingsFunction;
  /** Extra query conditions; always contains `trashed: false`. */
  filter: RunFilter;
  onCreate?: OnCreate;
}

/** Settings after resolution: a copy of the settings object, the tracking key (`null` when missing) and the numeric limit. */
export interface ResolvedSettings {
  settings: Record<string, unknown>;
  trackingKey: string | null;
  /** `Infinity` when there is no limit. */
  runLimit: number;
}

/** The defaults of the object form of `settings`: no tracking key, no limit. */
export const DEFAULT_TRACKING_KEY_SETTINGS: Readonly<TrackingKeySettings> = Object.freeze({
  trackingKey: null,
  runLimit: Infinity,
});

/** The original's message when the settings have no tracking key. */
export const NO_TRACKING_KEY_MESSAGE = 'No tracking key provided to reuse-by-tracking-key strategy';
/** The original's message when the run limit is reached. */
export const RUN_LIMIT_REACHED_MESSAGE = 'You have reached your run limit and cannot create new runs.';
/** Why a limited creation is refused when the query's total is unknown: without it, a create could pass the limit. */
export const LIMIT_UNCHECKABLE_MESSAGE = 'Run limit set but the query response has no Content-Range total, so the limit cannot be checked';

const RUN_LIMIT_PATH = 'strategyOptions.settings.runLimit';

/**
 * Reads a `runLimit`: `undefined`, `null`, `''` (or blanks), `Infinity` and `'Infinity'` mean no limit
 * (`Infinity`); a non-negative integer or a string of digits is that number. Anything else throws
 * `INVALID_OPTIONS` naming `settings.runLimit` (the original's `null` silently blocked every reset).
 *
 * @example
 * ```ts
 * normaliseRunLimit('3');  // 3
 * normaliseRunLimit(null); // Infinity
 * normaliseRunLimit(-1);   // throws RunManagerError INVALID_OPTIONS
 * ```
 */
export function normaliseRunLimit(value: unknown): number {
  if (value === undefined || value === null || value === Infinity) return Infinity;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '' || text === 'Infinity') return Infinity;
    if (/^\d+$/.test(text)) return Number(text);
  }
  throw invalidOption(
    RUN_LIMIT_PATH,
    `must be a non-negative integer or a string of digits (null, undefined, '' or Infinity for no limit), got ${describe(value)}`,
  );
}

/** The settings keys the strategies read; the rest of the settings object is the app's. */
const SETTINGS_KEYS = ['trackingKey', 'runLimit'] as const;

/**
 * Validates a settings object (the object form, or what a settings function resolved to) and reads
 * its tracking key and run limit. A missing or empty tracking key is not an error here (the strategy
 * rejects `NO_TRACKING_KEY` when it runs). `INVALID_OPTIONS`, naming the key: a tracking key that is
 * not a string (or not valid Unicode), a bad run limit, a key that is a near miss of `trackingKey` or
 * `runLimit` (`runlimit`, `run_limit`, `trakingKey`: a misspelt limit must never silently disable
 * the limit), a `__proto__`/`constructor`/`prototype` key at any depth, or a value that cannot be
 * copied and sent (`checkSendable`: BigInt, functions, cycles; `runLimit` may be `Infinity`).
 * Settings that cannot even be read (a throwing getter, a proxy) are `INVALID_OPTIONS` too.
 *
 * @example
 * ```ts
 * normaliseSettings({ trackingKey: 'tk', runLimit: '2' });
 * // { settings: { trackingKey: 'tk', runLimit: '2' }, trackingKey: 'tk', runLimit: 2 }
 * normaliseSettings({ trackingKey: 'tk', runlimit: 1 }); // throws: strategyOptions.settings.runlimit: did you mean runLimit? …
 * ```
 */
export function normaliseSettings(value: unknown): ResolvedSettings {
  const path = 'strategyOptions.settings';
  return readSafely(path, () => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalidOption(path, `must be (or resolve to) an object, got ${describe(value)}`);
    }
    const settings = value as Record<string, unknown>;
    rejectProtoKeys(settings, path);
    const { trackingKey } = settings;
    if (trackingKey !== undefined && trackingKey !== null && typeof trackingKey !== 'string') {
      throw invalidOption(`${path}.trackingKey`, `must be a string, got ${describe(trackingKey)}`);
    }
    if (typeof trackingKey === 'string' && hasLoneSurrogate(trackingKey)) {
      throw invalidOption(`${path}.trackingKey`, 'is not valid Unicode (half of a surrogate pair)');
    }
    const runLimit = normaliseRunLimit(settings.runLimit);
    rejectNearMisses(settings, SETTINGS_KEYS, path);
    for (const [key, child] of Object.entries(settings)) {
      if (key !== 'runLimit') checkSendable(child, optionPath(path, key));
    }
    return { settings: deepMerge(settings), trackingKey: trackingKey ? trackingKey : null, runLimit };
  });
}

/**
 * Validates and normalises the `strategyOptions` of both tracking-key strategies: `settings` (object
 * with defaults `{ trackingKey: null, runLimit: Infinity }`, or a function), `filter` (always with
 * `trashed: false`) and `onCreate`. Throws `INVALID_OPTIONS` naming the option. (Unknown keys are
 * refused by the manager, from the definitions' `optionKeys`.)
 *
 * @example
 * ```ts
 * trackingKeyOptions({ settings: { trackingKey: 'week-1' }, filter: { saved: true } });
 * // { settings: { trackingKey: 'week-1', runLimit: Infinity }, filter: { trashed: false, saved: true } }
 * ```
 */
export function trackingKeyOptions(strategyOptions: Record<string, unknown>): TrackingKeyOptions {
  const { settings: rawSettings } = strategyOptions;
  let settings: TrackingKeyOptions['settings'];
  if (typeof rawSettings === 'function') {
    settings = rawSettings as SettingsFunction;
  } else {
    if (rawSettings !== undefined && !isPlainObject(rawSettings)) {
      throw invalidOption('strategyOptions.settings', `must be a plain object or a function, got ${describe(rawSettings)}`);
    }
    // Checked before merging: the merge drops proto keys, and would not terminate on a cycle.
    if (rawSettings !== undefined) normaliseSettings(rawSettings);
    settings = deepMerge<Record<string, unknown>>(DEFAULT_TRACKING_KEY_SETTINGS, rawSettings);
  }

  const userFilter = optionalFilter(strategyOptions.filter, 'strategyOptions.filter') ?? {};
  if (userFilter.trashed !== undefined && userFilter.trashed !== false) {
    throw invalidOption('strategyOptions.filter.trashed', 'cannot be changed: the strategy only reuses runs that are not trashed');
  }
  const userScope = userFilter.scope;
  if (isPlainObject(userScope) && userScope.trackingKey !== undefined) {
    throw invalidOption('strategyOptions.filter.scope.trackingKey', 'cannot be set: the tracking key comes from settings.trackingKey');
  }
  const filter = deepMerge<RunFilter>({ trashed: false }, userFilter);

  const onCreate = optionalFunction<OnCreate>(strategyOptions.onCreate, 'strategyOptions.onCreate');
  return onCreate ? { settings, filter, onCreate } : { settings, filter };
}

/** True when a run limit is set. */
export function isLimited(runLimit: number): boolean {
  return runLimit !== Infinity;
}

/** True when a limit is set but the query gave no total: creating would risk passing the limit. */
export function isLimitUncheckable(runLimit: number, total: number | null): boolean {
  return isLimited(runLimit) && total === null;
}

/** True when a limit is set and the matching runs already reach it. */
export function isLimitReached(runLimit: number, total: number | null): boolean {
  return isLimited(runLimit) && total !== null && total >= runLimit;
}

/** The error for settings without a tracking key (the original's type and message). */
export function noTrackingKeyError(): RunManagerError {
  return new RunManagerError('NO_TRACKING_KEY', NO_TRACKING_KEY_MESSAGE);
}

/** The error for a creation past the run limit (the original's type and message). */
export function runLimitReachedError(): RunManagerError {
  return new RunManagerError('RUN_LIMIT_REACHED', RUN_LIMIT_REACHED_MESSAGE);
}

/** The error for a limited creation whose query response had no `Content-Range` total. */
export function limitUncheckableError(): RunManagerError {
  return new RunManagerError('INVALID_RESPONSE', LIMIT_UNCHECKABLE_MESSAGE);
}

/**
 * The create body of a tracking-key strategy: `createParams` with `{ scope: { trackingKey } }`, and the
 * tracking key asserted last so that caller create options cannot drop it (a created run is found again).
 */
export function trackingKeyCreateParams(
  config: RunConfig,
  session: UserSession,
  trackingKey: string,
  createOptions: Record<string, unknown> | undefined,
): CreateRunParams {
  const scoped = { scope: { trackingKey } };
  return deepMerge<CreateRunParams>(createParams(config, session, scoped, createOptions), scoped);
}

/** The run with a copy of the settings attached as `run.settings` (a copy, so the caller cannot change ours). */
export function attachSettings(run: Run, settings: Record<string, unknown> | null): Run {
  return { ...run, settings: deepMerge(settings ?? {}) };
}

/** True for an `onCreate` result that replaces the run (an object with a string `id`). */
export function isReplacementRun(value: unknown): value is Run {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string';
}

/**
 * Points the manager's RunService at `runId` before user code gets it, as the original's
 * `create()` and `load()` did: an `onCreate` that calls `runService.do(…)` acts on the run just
 * created, not on the previous one (or on none). Anything without `updateConfig` is left alone.
 */
export function bindRunService(runService: unknown, runId: string): void {
  const service = runService as { updateConfig?: unknown } | null;
  if (service !== null && typeof service === 'object' && typeof service.updateConfig === 'function') {
    (service.updateConfig as (update: { id: string }) => unknown).call(service, { id: runId });
  }
}

/** Input of {@link resolveSettings}. */
export interface ResolveSettingsInput extends WithServices {
  settings: TrackingKeyOptions['settings'] | undefined;
  session: UserSession;
}

/**
 * Resolves the settings: calls a settings function with `(services.runService, session)` (value or
 * promise), or takes the object; then validates it ({@link normaliseSettings}). Rejects with what the
 * function threw, or `INVALID_OPTIONS` for settings it resolved to that do not validate. A function
 * runs on every resolution, so settings can change between `getRun` calls.
 */
export const resolveSettings = fromPromise<ResolvedSettings, ResolveSettingsInput>(async ({ input }) => {
  const source = input.settings ?? deepMerge<Record<string, unknown>>(DEFAULT_TRACKING_KEY_SETTINGS);
  const value = typeof source === 'function' ? await source(input.services.runService, input.session) : source;
  return normaliseSettings(value);
});

/** Input of {@link runOnCreate}. */
export interface RunOnCreateInput extends WithServices {
  onCreate: OnCreate;
  settings: Record<string, unknown>;
  run: Run;
}

/**
 * Binds `services.runService` to the new run ({@link bindRunService}), then calls
 * `onCreate(services.runService, settings, run)` (value or promise) and resolves with the run
 * it returned when that has a string `id`, else with the run it was given. Rejects with what
 * `onCreate` threw. `onCreate` gets a copy of the settings, so it cannot change the run's.
 */
export const runOnCreate = fromPromise<Run, RunOnCreateInput>(async ({ input }) => {
  bindRunService(input.services.runService, input.run.id);
  const result = await input.onCreate(input.services.runService, deepMerge(input.settings), input.run);
  return isReplacementRun(result) ? result : input.run;
});

/** Input of {@link applySettings}. */
export interface ApplySettingsInput extends WithServices {
  run: Run;
  trackingKey: string;
  settings: Record<string, unknown>;
  onCreate?: OnCreate;
}

/**
 * For a run a world just got: `PATCH run/{id}/` with `{ 'scope.trackingKey': K }` when the run's
 * tracking key differs (the server may have left it out of the world-run body, and the run limit
 * counts by it; the server response is merged over the run), then `onCreate` when given, with `services.runService`
 * bound to the run (a result with a string `id` replaces the run). PATCH failures reject as they
 * are; an `onCreate` failure rejects as `INVALID_RESPONSE` naming `onCreate`.
 */
export const applySettings = fromPromise<Run, ApplySettingsInput>(async ({ input, signal }) => {
  let run = input.run;
  if (run.scope?.trackingKey !== input.trackingKey) {
    const saved = await input.services.runApi.save(run.id, { 'scope.trackingKey': input.trackingKey }, { signal });
    run = { ...run, ...saved };
  }
  if (!input.onCreate) return run;
  bindRunService(input.services.runService, run.id);
  try {
    const result = await input.onCreate(input.services.runService, deepMerge(input.settings), run);
    return isReplacementRun(result) ? result : run;
  } catch (error) {
    throw toRunManagerError(error, 'INVALID_RESPONSE', 'onCreate');
  }
});
