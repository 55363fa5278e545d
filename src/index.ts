/**
 * run-lifecycle: which simulation run an end user works with — reuse one or create one — by a
 * named strategy, with every strategy an XState v5 statechart.
 *
 * This root entry resolves strategy names through the registry (every built-in strategy comes
 * along). `run-lifecycle/core` takes a strategy definition instead and bundles only that one;
 * `run-lifecycle/strategies` holds the definitions, their machines and the kit for writing more.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle';
 * const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: 'reuse-across-sessions' });
 * const run = await rm.getRun();
 * ```
 *
 * @module run-lifecycle
 */
export { RunManager, createRunManager } from './run-manager-by-name.js';
export type { RunManagerOptions } from './run-manager-by-name.js';
export type { RunManagerActor, RunManagerBaseOptions, SessionSource } from './run-manager.js';
export type { SessionKeyContext } from './run-manager-options.js';
export type * from './strategy-options.js';
export type { TrackingKeySettings } from './machines/strategies/tracking-key.js';
export type { CreationCondition } from './machines/strategies/conditional-creation.machine.js';
export { RunManagerError, isRunManagerError, ERROR_TYPES } from './errors.js';
export type { RunManagerErrorType, RunManagerErrorDetails } from './errors.js';
export type * from './types.js';
export { strategies, STRATEGY, STRATEGY_ALIASES } from './machines/strategies/registry.js';
export type { StrategyName, StrategyLike, RegisterOptions } from './machines/strategies/registry.js';
export type { StrategyDefinition, LegacyStrategy } from './machines/strategies/types.js';
export { RunService } from './services/run-service-v3.js';
export type { RunServiceOptions } from './services/run-service.js';
export type { V3Session } from './services/v3.js';
export type { FetchClient, FetchClientRequest, FetchClientResponse, SelfAssignOptions } from './services/api-types.js';
export { createDefaultSessionStore, createMemorySessionStore } from './services/session-store.js';
export type { SessionStore, SessionRecord } from './services/session-store.js';
export type { Coordinator, ReleaseLock } from './services/coordination.js';
export { createSanitizedInspector } from './inspection.js';
export type { InspectionObserver, SanitizeOptions } from './inspection.js';
export { createTraceRecorder } from './trace.js';
export type { TraceLine, TraceRecorder, TraceRecorderOptions, TraceTarget } from './trace.js';
