/**
 * The `strategyOptions` each built-in strategy takes, and what `getRun`/`reset` resolve with, so a
 * manager's options and results type-check per strategy — by name and by definition object.
 */
import type { CreationCondition } from './machines/strategies/conditional-creation.machine.js';
import type { StrategyLike } from './machines/strategies/definition.js';
import type { StrategyName } from './machines/strategies/registry.js';
import type { StrategyDefinition } from './machines/strategies/types.js';
import type { TrackingKeySettings } from './machines/strategies/tracking-key.js';
import type { SelfAssignOptions } from './services/api-types.js';
import type { RunService } from './services/run-service.js';
import type { Operations, Run, RunFilter, UserSession } from './types.js';

/** The `strategyOptions` of a strategy that reads none: every key is refused. */
export type NoStrategyOptions = Readonly<Record<string, never>>;

/** `strategyOptions` of reuse-across-sessions. */
export interface ReuseAcrossSessionsStrategyOptions {
  /** Narrows the query for the newest run (merged with the run's scope and `trashed: false`). */
  filter?: RunFilter;
}

/** `strategyOptions` of reuse-last-initialized. */
export interface ReuseLastInitializedStrategyOptions {
  /** The operations run on a new run before it counts as initialized, as `serial()` takes them. */
  initOperation: Operations;
  /** The fields that mark a run initialized; default `{ isInitComplete: true }`. */
  flag?: RunFilter;
  /** Whether the newest initialized run is looked for among the user's (`scopeByUser`) and the group's (`scopeByGroup`) runs; both default `true`. */
  scope?: { scopeByUser?: boolean; scopeByGroup?: boolean };
}

/** Settings computed on every getRun/reset; may be async. */
export type TrackingKeySettingsFunction = (
  runService: RunService,
  userSession: UserSession,
) => TrackingKeySettings | Promise<TrackingKeySettings>;

/** `strategyOptions` of reuse-by-tracking-key. */
export interface ReuseByTrackingKeyStrategyOptions {
  /** The tracking key, the run limit (`runLimit`) and anything else the app keeps with the run; or a function giving them. */
  settings?: TrackingKeySettings | TrackingKeySettingsFunction;
  /** Narrows the query for the tracking key's runs. */
  filter?: RunFilter;
  /** Called once for every run the strategy creates; a result with a string `id` replaces the run. */
  onCreate?: (runService: RunService, settings: TrackingKeySettings, run: Run) => unknown;
}

/** `strategyOptions` of reuse-by-tracking-key-multiplayer. */
export interface ReuseByTrackingKeyMultiplayerStrategyOptions extends ReuseByTrackingKeyStrategyOptions {
  /** Epicenter v3: a user in no world is assigned to one. */
  selfAssign?: SelfAssignOptions;
}

/** `strategyOptions` of multiplayer. */
export interface MultiplayerStrategyOptions {
  /** Epicenter v3: a user in no world is assigned to one. */
  selfAssign?: SelfAssignOptions;
}

/** `strategyOptions` of use-specific-run. */
export interface UseSpecificRunStrategyOptions {
  /** The run to load. */
  runId: string;
}

/** `strategyOptions` of conditional-creation. */
export interface ConditionalCreationStrategyOptions {
  /** Decides, for the cached run, whether to create a new one instead (truthy: create). */
  condition: CreationCondition;
}

/** Each strategy name (and alias) with the `strategyOptions` it takes. */
export interface StrategyOptionsByName {
  /** reuse-never takes none. */
  'reuse-never': NoStrategyOptions;
  /** The alias of reuse-never. */
  'always-new': NoStrategyOptions;
  /** reuse-per-session takes none. */
  'reuse-per-session': NoStrategyOptions;
  /** The alias of reuse-per-session. */
  'new-if-missing': NoStrategyOptions;
  /** `filter`. */
  'reuse-across-sessions': ReuseAcrossSessionsStrategyOptions;
  /** The alias of reuse-across-sessions. */
  'persistent-single-player': ReuseAcrossSessionsStrategyOptions;
  /** `initOperation`, `flag`, `scope`. */
  'reuse-last-initialized': ReuseLastInitializedStrategyOptions;
  /** `settings`, `filter`, `onCreate`. */
  'reuse-by-tracking-key': ReuseByTrackingKeyStrategyOptions;
  /** `settings`, `filter`, `onCreate`, `selfAssign`. */
  'reuse-by-tracking-key-multiplayer': ReuseByTrackingKeyMultiplayerStrategyOptions;
  /** `selfAssign` (Epicenter v3). */
  multiplayer: MultiplayerStrategyOptions;
  /** `runId`. */
  'use-specific-run': UseSpecificRunStrategyOptions;
  /** none takes none. */
  none: NoStrategyOptions;
  /** `condition`. */
  'conditional-creation': ConditionalCreationStrategyOptions;
}

/** With no `strategy`: reuse-per-session, or reuse-last-initialized when `initOperation` is given. */
export type DefaultStrategyOptions = NoStrategyOptions | ReuseLastInitializedStrategyOptions;

/** The types a strategy definition declares (type-only: never present at run time). */
interface DeclaredTypes {
  readonly '~types'?: { options: unknown; run: unknown; reset: unknown };
}

type Declared<D, K extends 'options' | 'run' | 'reset', Otherwise> = D extends DeclaredTypes
  ? unknown extends NonNullable<D['~types']>[K]
    ? Otherwise
    : NonNullable<D['~types']>[K]
  : Otherwise;

/** The `strategyOptions` a strategy definition takes; a plain record when it does not say. */
export type DefinitionOptions<D> = Declared<D, 'options', Record<string, unknown>>;
/** What `getRun` resolves with under a strategy definition: a `Run` unless it says otherwise. */
export type DefinitionRun<D> = Declared<D, 'run', Run>;
/** What `reset` resolves with under a strategy definition: a `Run` unless it says otherwise. */
export type DefinitionReset<D> = Declared<D, 'reset', Run>;

/**
 * The type parameter of a core manager whose strategy is not known statically: a manager of every
 * strategy is assignable to the plain `RunManager` type, and its options and results are the general ones.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyStrategyDefinition = StrategyDefinition<any, any, any>;

/** Whatever the root entry's `strategy` option takes: a name, a definition, a statechart or a legacy strategy. */
export type StrategyChoice = StrategyName | (string & {}) | StrategyLike | undefined;

/**
 * The type parameter of a manager whose strategy is not known statically: `RunManager` written
 * without one. `any` rather than {@link StrategyChoice}, so a manager of every strategy is assignable to it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyStrategyChoice = any;

/**
 * The `strategyOptions` of a strategy given by name (built-in or registered), by definition, or left
 * out; any record when the strategy is not known statically.
 */
export type StrategyOptionsFor<S> = [StrategyChoice] extends [S] ? Record<string, unknown> : OptionsOfChoice<S>;

type OptionsOfChoice<S> = S extends undefined
  ? DefaultStrategyOptions
  : S extends keyof StrategyOptionsByName
    ? StrategyOptionsByName[S]
    : S extends string
      ? Record<string, unknown>
      : DefinitionOptions<S>;

/** What `getRun` resolves with: the RunService for `none`, else a `Run` unless a definition says otherwise. */
export type StrategyRunFor<S> = [StrategyChoice] extends [S] ? Run : RunOfChoice<S>;

type RunOfChoice<S> = S extends 'none' ? RunService : S extends string | undefined ? Run : DefinitionRun<S>;

/** What `reset` resolves with: nothing for `none`, else a `Run` unless a definition says otherwise. */
export type StrategyResetFor<S> = [StrategyChoice] extends [S] ? Run : ResetOfChoice<S>;

type ResetOfChoice<S> = S extends 'none' ? undefined : S extends string | undefined ? Run : DefinitionReset<S>;
