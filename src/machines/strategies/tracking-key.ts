/** What the two tracking-key strategies share: options, settings and run-limit rules, the create body, their actors, states and actions. */
import { assertEvent, fromPromise, type EventObject } from 'xstate';
import { RunManagerError, toRunManagerError } from '../../errors.js';
import type { CreateRunParams, SelfAssignOptions } from '../../services/api-types.js';
import type { Run, RunFilter, UserSession } from '../../types.js';
import { withFields } from '../../services/values.js';
import type { LockEvent } from '../lock.js';
import type { WithServices } from './actors.js';
import {
  checkSendable,
  describe,
  hasLoneSurrogate,
  invalidOption,
  isPlainObject,
  optionalFilter,
  optionalFunction,
  optionalSelfAssign,
  optionPath,
  readSafely,
  rejectNearMisses,
  rejectProtoKeys,
} from './options.js';
import { createParams, deepMerge, doneOutput, newestRunModifiers, thrownBy } from './shared.js';
import { invokingState, sharedAssign, type Outcome, type Transitions } from './states.js';
import type { RunConfig, StrategyInput } from './types.js';

/** A tracking key, an optional run limit, and anything else the app keeps there. */
export interface TrackingKeySettings {
  /** The key runs are tagged and found by (`scope.trackingKey`); required. */
  trackingKey?: string | null;
  /** A non-negative integer (or numeric string); `undefined`, `null`, `''` or `Infinity` mean no limit. */
  runLimit?: number | string | null;
  [key: string]: unknown;
}

/** Settings computed per resolution: `(runService, userSession) => settings | Promise<settings>`. */
export type SettingsFunction = (runService: unknown, userSession: UserSession) => unknown;

/** Called once for every run the strategy creates; a result with a string `id` replaces the run. */
export type OnCreate = (runService: unknown, settings: Record<string, unknown>, run: Run) => unknown;

/** The normalised `strategyOptions` of the tracking-key strategies, as the machines get them. */
export interface TrackingKeyOptions {
  /** An object (defaults applied) or a function resolved on every `getRun`/`reset`. */
  settings: Record<string, unknown> | SettingsFunction;
  /** Always contains `trashed: false`. */
  filter: RunFilter;
  onCreate?: OnCreate;
  /** reuse-by-tracking-key-multiplayer on Epicenter v3: a user in no world is put in one. */
  selfAssign?: SelfAssignOptions;
}

/** Resolved settings: a copy of the object, the tracking key (`null` when missing) and the numeric limit (`Infinity`: none). */
export interface ResolvedSettings {
  settings: Record<string, unknown>;
  trackingKey: string | null;
  runLimit: number;
}

export const DEFAULT_TRACKING_KEY_SETTINGS: Readonly<TrackingKeySettings> = Object.freeze({
  trackingKey: null,
  runLimit: Infinity,
});

/** The original Epicenter.js messages. */
export const NO_TRACKING_KEY_MESSAGE = 'No tracking key provided to reuse-by-tracking-key strategy';
export const RUN_LIMIT_REACHED_MESSAGE = 'You have reached your run limit and cannot create new runs.';
/** A limited creation is refused when the query's total is unknown: without it, a create could pass the limit. */
export const LIMIT_UNCHECKABLE_MESSAGE =
  'Run limit set but the query response has no Content-Range total (totalResults on Epicenter v3), so the limit cannot be checked';

const RUN_LIMIT_PATH = 'strategyOptions.settings.runLimit';

/**
 * `undefined`, `null`, blank, `Infinity` and `'Infinity'` mean no limit; otherwise a non-negative
 * integer or digit string, else `INVALID_OPTIONS` (the original's `null` silently blocked every reset).
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

/** The rest of the settings object is the app's. */
const SETTINGS_KEYS = ['trackingKey', 'runLimit'] as const;

/**
 * Validates a settings object (given, or resolved by a settings function) and reads its tracking
 * key and run limit; a missing key is the strategy's `NO_TRACKING_KEY` later. `INVALID_OPTIONS` also
 * covers near misses such as `runlimit` (a misspelt limit must never silently disable the limit),
 * prototype keys, unsendable values and unreadable objects.
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

/** The `strategyOptions` keys both tracking-key strategies take; the multiplayer one also takes `selfAssign`. */
export const TRACKING_KEY_OPTION_KEYS = ['settings', 'filter', 'onCreate'] as const;

/** Both tracking-key strategies' `prepareOptions`: {@link trackingKeyOptions}, as the plain record a definition returns. */
export function prepareTrackingKeyOptions(strategyOptions: Record<string, unknown>): Record<string, unknown> {
  return { ...trackingKeyOptions(strategyOptions) };
}

/** Validates and normalises `settings` (object with defaults, or a function), `filter` (always `trashed: false`) and `onCreate`. */
export function trackingKeyOptions(strategyOptions: Record<string, unknown>): TrackingKeyOptions {
  const { settings: rawSettings } = strategyOptions;
  let settings: TrackingKeyOptions['settings'];
  if (typeof rawSettings === 'function') {
    settings = rawSettings as SettingsFunction;
  } else {
    if (rawSettings !== undefined && !isPlainObject(rawSettings)) {
      throw invalidOption('strategyOptions.settings', `must be a plain object or a function, got ${describe(rawSettings)}`);
    }
    // Checked before merging: the merge drops proto keys and would not terminate on a cycle.
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
  const selfAssign = optionalSelfAssign(strategyOptions.selfAssign);
  return { settings, filter, ...(onCreate ? { onCreate } : {}), ...(selfAssign ? { selfAssign } : {}) };
}

export function isLimited(runLimit: number): boolean {
  return runLimit !== Infinity;
}

/** A limit without the query's total cannot be checked: creating would risk passing it. */
export function isLimitUncheckable(runLimit: number, total: number | null): boolean {
  return isLimited(runLimit) && total === null;
}

export function isLimitReached(runLimit: number, total: number | null): boolean {
  return isLimited(runLimit) && total !== null && total >= runLimit;
}

export function noTrackingKeyError(): RunManagerError {
  return new RunManagerError('NO_TRACKING_KEY', NO_TRACKING_KEY_MESSAGE);
}

export function runLimitReachedError(): RunManagerError {
  return new RunManagerError('RUN_LIMIT_REACHED', RUN_LIMIT_REACHED_MESSAGE);
}

export function limitUncheckableError(): RunManagerError {
  return new RunManagerError('INVALID_RESPONSE', LIMIT_UNCHECKABLE_MESSAGE);
}

/** The tracking key is merged last so caller create options cannot drop it: a created run must be found again. */
export function trackingKeyCreateParams(
  config: RunConfig,
  session: UserSession,
  trackingKey: string,
  createOptions: Record<string, unknown> | undefined,
): CreateRunParams {
  const scoped = { scope: { trackingKey } };
  return deepMerge<CreateRunParams>(createParams(config, session, scoped, createOptions), scoped);
}

/** A copy, so the caller cannot change ours. */
export function attachSettings(run: Run, settings: Record<string, unknown> | null): Run {
  return withFields(run, { settings: deepMerge(settings ?? {}) });
}

export function isReplacementRun(value: unknown): value is Run {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string';
}

/**
 * Points the RunService at `runId` before user code gets it, as the original's `create()` and
 * `load()` did, so an `onCreate` calling `runService.do(…)` acts on the run just created.
 */
export function bindRunService(runService: unknown, runId: string): void {
  const service = runService as { updateConfig?: unknown } | null;
  if (service !== null && typeof service === 'object' && typeof service.updateConfig === 'function') {
    (service.updateConfig as (update: { id: string }) => unknown).call(service, { id: runId });
  }
}

export interface ResolveSettingsInput extends WithServices {
  settings: TrackingKeyOptions['settings'] | undefined;
  session: UserSession;
}

const givenSettingsCache = new WeakMap<Record<string, unknown>, ResolvedSettings>();

/**
 * A settings object as `resolveSettings` would resolve it, worked out once per options object (it
 * is the manager's own validated copy, so it cannot change); `undefined` for a settings function.
 */
export function givenSettings(options: TrackingKeyOptions): ResolvedSettings | undefined {
  const { settings } = options;
  if (typeof settings === 'function') return undefined;
  let resolved = givenSettingsCache.get(settings);
  if (!resolved) {
    resolved = normaliseSettings(settings);
    givenSettingsCache.set(settings, resolved);
  }
  return resolved;
}

/** Calls a settings function (on every resolution, so settings can change) or takes the object, then validates it. */
export const resolveSettings = fromPromise<ResolvedSettings, ResolveSettingsInput>(async ({ input }) => {
  const source = input.settings ?? deepMerge<Record<string, unknown>>(DEFAULT_TRACKING_KEY_SETTINGS);
  const value = typeof source === 'function' ? await source(input.services.runService, input.session) : source;
  return normaliseSettings(value);
});

export interface RunOnCreateInput extends WithServices {
  onCreate: OnCreate;
  settings: Record<string, unknown>;
  run: Run;
}

/** Calls `onCreate` with the RunService bound to the new run and a copy of the settings; a result with a string `id` replaces the run. */
export const runOnCreate = fromPromise<Run, RunOnCreateInput>(async ({ input }) => {
  bindRunService(input.services.runService, input.run.id);
  const result = await input.onCreate(input.services.runService, deepMerge(input.settings), input.run);
  return isReplacementRun(result) ? result : input.run;
});

export interface ApplySettingsInput extends WithServices {
  run: Run;
  trackingKey: string;
  settings: Record<string, unknown>;
  onCreate?: OnCreate;
}

/**
 * For a run a world just got: saves the tracking key when the run lacks it (the server may leave it
 * out, and the run limit counts by it), then calls `onCreate`; its failure is `INVALID_RESPONSE`.
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

// The states, guards and actions both tracking-key statecharts use (see states.ts).

/** What a tracking-key machine's context holds besides its input. */
interface TrackingKeyOutcome extends Outcome {
  settings: Record<string, unknown> | null;
  trackingKey: string;
  runLimit: number;
  total: number | null;
}

/** The settings of this resolution (invoke `resolveSettings`): the object, or what the settings function answers. */
function resolvingSettingsState<const TDone, const TError>({ onDone, onError }: Transitions<TDone, TError>) {
  return invokingState({
    id: 'resolveSettings',
    src: 'resolveSettings',
    input: ({ context }: { context: StrategyInput<TrackingKeyOptions> }) => ({
      services: context.services,
      settings: context.options.settings,
      session: context.session,
    }),
    onDone,
    onError,
  });
}

/** The invoke of the key's lock (`holdLock`), held while the invoking state is active; `name` names the lock. */
export function trackingKeyLock<TContext extends StrategyInput<TrackingKeyOptions>>(name: (context: TContext) => string) {
  return {
    id: 'lock',
    src: 'holdLock',
    input: ({ context }: { context: TContext }) => ({ coordinator: context.services.coordinator, name: name(context) }),
  } as const;
}

/**
 * How both tracking-key statecharts start: a settings object is taken as it is (`checkingSettings`),
 * a function is resolved on every resolution (`resolvingSettings`); settings without a tracking key
 * end in `error`, the rest go on to `next`.
 */
export function settingsStates<const TNext extends string>(next: TNext) {
  return {
    checkingSettings: {
      tags: 'busy',
      always: [
        { guard: 'settingsAreComputed', target: 'resolvingSettings' },
        { guard: 'givenSettingsLackTrackingKey', target: 'error', actions: 'rememberNoTrackingKey' },
        { target: next, actions: 'keepGivenSettings' },
      ],
    },
    resolvingSettings: resolvingSettingsState({
      onDone: [
        { guard: 'settingsLackTrackingKey', target: 'error', actions: 'rememberNoTrackingKey' },
        { target: next, actions: 'keepSettings' },
      ],
      onError: { target: 'error', actions: 'rememberSettingsFailure' },
    }),
  } as const;
}

/**
 * The run-limit check after a count: a total the server did not give, or one at the limit, ends in
 * `error` (the machine's own, by id); otherwise the machine's `next` transitions follow.
 */
export function checkingLimitState<const TError extends string, const TNext extends readonly object[]>(error: TError, ...next: TNext) {
  return {
    tags: 'busy',
    always: [
      { guard: 'isLimitUncheckable', target: error, actions: 'rememberLimitUncheckable' },
      { guard: 'isLimitReached', target: error, actions: 'rememberLimitReached' },
      ...next,
    ],
  } as const;
}

/** The guards {@link checkingLimitState} names, for both machines' `setup()`. */
export const limitGuards = {
  isLimitUncheckable: ({ context }: { context: TrackingKeyOutcome }) => isLimitUncheckable(context.runLimit, context.total),
  isLimitReached: ({ context }: { context: TrackingKeyOutcome }) => isLimitReached(context.runLimit, context.total),
};

/** The query that counts the runs the limit counts (invoke `countRuns`), `filter` finding them; its newest run comes too. */
export function countingRunsState<TContext extends StrategyInput<TrackingKeyOptions>, const TDone, const TError>({
  filter,
  onDone,
  onError,
}: Transitions<TDone, TError> & { filter: (context: TContext) => RunFilter }) {
  return invokingState({
    id: 'countRuns',
    src: 'fetchLatest',
    input: ({ context }: { context: TContext }) => ({
      services: context.services,
      filter: filter(context),
      modifiers: newestRunModifiers('camel'),
    }),
    onDone,
    onError,
  });
}

export const settingsLackTrackingKey = ({ event }: { event: EventObject }) => !doneOutput<ResolvedSettings>(event).trackingKey;

/** Guard: the settings are a function, computed on every resolution (`resolvingSettings`); an object needs no actor. */
export const settingsAreComputed = ({ context }: { context: StrategyInput<TrackingKeyOptions> }) =>
  typeof context.options.settings === 'function';

export const givenSettingsLackTrackingKey = ({ context }: { context: StrategyInput<TrackingKeyOptions> }) =>
  !givenSettings(context.options)?.trackingKey;

function settingsFields(resolved: ResolvedSettings): Pick<TrackingKeyOutcome, 'settings' | 'trackingKey' | 'runLimit'> {
  return { settings: resolved.settings, trackingKey: resolved.trackingKey ?? '', runLimit: resolved.runLimit };
}

/** `keepSettings`: what the settings function resolved to, its tracking key and run limit. */
export const keepSettings = sharedAssign<TrackingKeyOutcome>(({ event }) => settingsFields(doneOutput<ResolvedSettings>(event)));

/** `keepGivenSettings`: the settings object, its tracking key and run limit. */
export const keepGivenSettings = sharedAssign<TrackingKeyOutcome & StrategyInput<TrackingKeyOptions>>(({ context }) =>
  settingsFields(givenSettings(context.options)!),
);

export const rememberNoTrackingKey = sharedAssign<TrackingKeyOutcome>(() => ({ error: noTrackingKeyError() }));

/** `rememberSettingsFailure`: what the settings function failed with, as `INVALID_OPTIONS`. */
export const rememberSettingsFailure = sharedAssign<TrackingKeyOutcome>(({ event }) => ({
  error: toRunManagerError(thrownBy(event), 'INVALID_OPTIONS', 'settings'),
}));

export const rememberLockFailure = sharedAssign<TrackingKeyOutcome, LockEvent>(({ event }) => {
  assertEvent(event, 'LOCK_FAILED');
  return { error: event.error };
});

/** `rememberLimitUncheckable`: a limited creation whose count came without a total. */
export const rememberLimitUncheckable = sharedAssign<TrackingKeyOutcome>(() => ({ error: limitUncheckableError() }));

export const rememberLimitReached = sharedAssign<TrackingKeyOutcome>(() => ({ error: runLimitReachedError() }));
