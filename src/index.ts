/**
 * run-lifecycle: which simulation run an end user works with — reuse one or create one — by a
 * named strategy, with every strategy an XState v5 statechart.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle';
 * const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: 'reuse-across-sessions' });
 * const run = await rm.getRun();
 * ```
 */
export { RunManager, createRunManager } from './run-manager.js';
export type { RunManagerOptions, SessionSource } from './run-manager.js';
export { RunManagerError, isRunManagerError, ERROR_TYPES } from './errors.js';
export type { RunManagerErrorType, RunManagerErrorDetails } from './errors.js';
export type * from './types.js';
export {
  createEventSanitizer,
  createSanitizedInspector,
  sanitizeInspectionEvent,
  sanitizeSnapshot,
  sanitizeValue,
  REDACTED,
} from './inspection.js';
export type { SanitizeOptions, InspectionObserver } from './inspection.js';
export { createTraceRecorder } from './trace.js';
export type { TraceLine, TraceRecorder, TraceRecorderOptions, TraceTarget } from './trace.js';

export { strategies, STRATEGY, STRATEGY_ALIASES, toStrategyDefinition } from './machines/strategies/registry.js';
export type { StrategyName, StrategyLike, RegisterOptions } from './machines/strategies/registry.js';
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
export { runManagerMachine } from './machines/run-manager.machine.js';
export type {
  RunManagerInput,
  RunManagerContext,
  RunManagerEvent,
  RunManagerEmitted,
  RunManagerServices,
} from './machines/run-manager.machine.js';
export { reuseNeverMachine } from './machines/strategies/reuse-never.machine.js';
export { reusePerSessionMachine } from './machines/strategies/reuse-per-session.machine.js';
export { reuseAcrossSessionsMachine } from './machines/strategies/reuse-across-sessions.machine.js';
export { reuseLastInitializedMachine } from './machines/strategies/reuse-last-initialized.machine.js';
export { reuseByTrackingKeyMachine } from './machines/strategies/reuse-by-tracking-key.machine.js';
export { reuseByTrackingKeyMultiplayerMachine } from './machines/strategies/reuse-by-tracking-key-multiplayer.machine.js';
export { multiplayerMachine } from './machines/strategies/multiplayer.machine.js';
export { useSpecificRunMachine } from './machines/strategies/use-specific-run.machine.js';
export { noneMachine } from './machines/strategies/none.machine.js';
export { conditionalCreationMachine, ConditionalCreation } from './machines/strategies/conditional-creation.machine.js';
export type { ConditionalCreationConstructor, CreationCondition } from './machines/strategies/conditional-creation.machine.js';
export { legacyStrategyMachine } from './machines/strategies/legacy.machine.js';
export { findCreatedRunMachine } from './machines/strategies/find-created-run.machine.js';
export type { CreatedRunRule, FindCreatedRunInput } from './machines/strategies/find-created-run.machine.js';
export * as strategyActors from './machines/strategies/actors.js';
export { sessionFilter, sessionScope, createParams, newestRunModifiers, markRun, strategyOutput } from './machines/strategies/shared.js';

export { RunService } from './services/run-service.js';
export type { RunServiceOptions } from './services/run-service.js';
export { createRunApi } from './services/run-api.js';
export { createWorldApi } from './services/world-api.js';
export type * from './services/api-types.js';
export { toMatrix, toQueryString, parseContentRange } from './services/filter.js';
export { normalizeOperations } from './services/operations.js';
export { createDefaultSessionStore, createMemorySessionStore, createSessionRecord, parseSessionRecord } from './services/session-store.js';
export type { SessionStore, SessionRecord } from './services/session-store.js';
export { createProcessCoordinator, createWebLocksCoordinator, defaultCoordinator } from './services/coordination.js';
export type { Coordinator, ReleaseLock } from './services/coordination.js';
