/**
 * `run-lifecycle/strategies`: every built-in strategy as a definition of its own (give one to the
 * `strategy` option of either entry's `RunManager`; a bundler keeps only the ones you import),
 * their statecharts, and the kit for writing a strategy statechart of your own: the contract's
 * types, the named actors, the helpers the built-ins share, the lost-create search and the lock.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle/core';
 * import { reuseByTrackingKey } from 'run-lifecycle/strategies';
 *
 * const rm = new RunManager({
 *   run: { account: 'acme', project: 'sim', model: 'model.py' },
 *   strategy: reuseByTrackingKey,
 *   strategyOptions: { settings: { trackingKey: 'week-1', runLimit: 3 } },
 * });
 * ```
 *
 * @module run-lifecycle/strategies
 */
export { reuseNeverStrategy as reuseNever, reuseNeverMachine } from './machines/strategies/reuse-never.machine.js';
export { reusePerSessionStrategy as reusePerSession, reusePerSessionMachine } from './machines/strategies/reuse-per-session.machine.js';
export {
  reuseAcrossSessionsStrategy as reuseAcrossSessions,
  reuseAcrossSessionsMachine,
} from './machines/strategies/reuse-across-sessions.machine.js';
export {
  reuseLastInitializedStrategy as reuseLastInitialized,
  reuseLastInitializedMachine,
} from './machines/strategies/reuse-last-initialized.machine.js';
export {
  reuseByTrackingKeyStrategy as reuseByTrackingKey,
  reuseByTrackingKeyMachine,
} from './machines/strategies/reuse-by-tracking-key.machine.js';
export {
  reuseByTrackingKeyMultiplayerStrategy as reuseByTrackingKeyMultiplayer,
  reuseByTrackingKeyMultiplayerMachine,
} from './machines/strategies/reuse-by-tracking-key-multiplayer.machine.js';
export { multiplayerStrategy as multiplayer, multiplayerMachine } from './machines/strategies/multiplayer.machine.js';
export { useSpecificRunStrategy as useSpecificRun, useSpecificRunMachine } from './machines/strategies/use-specific-run.machine.js';
export { noneStrategy as none, noneMachine } from './machines/strategies/none.machine.js';
// conditional-creation is also a constructor taking the condition: `new ConditionalCreation(condition)`.
export {
  ConditionalCreation as conditionalCreation,
  ConditionalCreation,
  conditionalCreationMachine,
} from './machines/strategies/conditional-creation.machine.js';
export type { ConditionalCreationConstructor, CreationCondition } from './machines/strategies/conditional-creation.machine.js';
export { legacyStrategyMachine } from './machines/strategies/legacy.machine.js';
export { toStrategyDefinition } from './machines/strategies/registry.js';
export type { StrategyLike, RegisterOptions } from './machines/strategies/definition.js';

// The kit for writing a strategy statechart.
export type {
  StrategyDefinition,
  StrategyInput,
  StrategyOutput,
  StrategyServices,
  LegacyStrategy,
  CachedRun,
  RunConfig,
  ResolutionMode,
} from './machines/strategies/types.js';
export * as strategyActors from './machines/strategies/actors.js';
export {
  createMayHaveHappened,
  createParams,
  doneOutput,
  failure,
  markRun,
  newestRunModifiers,
  sessionFilter,
  sessionScope,
  strategyOutput,
  thrownBy,
  withVariables,
} from './machines/strategies/shared.js';
export type { ScopeBy, StrategyOutcome } from './machines/strategies/shared.js';
export { literal } from './services/filter.js';
export { findCreatedRunMachine, acceptedRun } from './machines/strategies/find-created-run.machine.js';
export type { CreatedRunRule, FindCreatedRunContext, FindCreatedRunInput } from './machines/strategies/find-created-run.machine.js';
export type { HoldSessionInput, PersistEvent, SessionEvent, SessionServices, StoreWarning } from './machines/hold-session.js';
export { holdLock } from './machines/lock.js';
export type { HoldLockInput, LockEvent } from './machines/lock.js';
export { runManagerMachine } from './machines/run-manager.machine.js';
export type {
  Caller,
  RunManagerInput,
  RunManagerContext,
  RunManagerEvent,
  RunManagerEmitted,
  RunManagerServices,
} from './machines/run-manager.machine.js';
export type * from './services/api-types.js';
export type {
  NoStrategyOptions,
  ReuseAcrossSessionsStrategyOptions,
  ReuseLastInitializedStrategyOptions,
  ReuseByTrackingKeyStrategyOptions,
  ReuseByTrackingKeyMultiplayerStrategyOptions,
  TrackingKeySettingsFunction,
  MultiplayerStrategyOptions,
  UseSpecificRunStrategyOptions,
  ConditionalCreationStrategyOptions,
} from './strategy-options.js';
export type { TrackingKeySettings } from './machines/strategies/tracking-key.js';
