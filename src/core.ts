/**
 * `run-lifecycle/core`: the same `RunManager` as the root entry, but its `strategy` is a
 * definition — a built-in one from `run-lifecycle/strategies`, or your own — so nothing but that
 * strategy is bundled: no registry, no other strategy.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle/core';
 * import { reuseAcrossSessions } from 'run-lifecycle/strategies';
 *
 * const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: reuseAcrossSessions });
 * const run = await rm.getRun();
 * ```
 *
 * @module run-lifecycle/core
 */
export { RunManager, createRunManager } from './run-manager.js';
export type { CoreRunManagerOptions as RunManagerOptions, RunManagerActor, RunManagerBaseOptions, SessionSource } from './run-manager.js';
export type { SessionKeyContext } from './run-manager-options.js';
export type { AnyStrategyDefinition, DefinitionOptions, DefinitionReset, DefinitionRun } from './strategy-options.js';
export { RunManagerError, isRunManagerError, ERROR_TYPES } from './errors.js';
export type { RunManagerErrorType, RunManagerErrorDetails } from './errors.js';
export type * from './types.js';
export type { StrategyDefinition, LegacyStrategy } from './machines/strategies/types.js';
export { RunService } from './services/run-service.js';
export type { RunServiceOptions } from './services/run-service.js';
export type { FetchClient, FetchClientRequest, FetchClientResponse } from './services/api-types.js';
export { createDefaultSessionStore, createMemorySessionStore } from './services/session-store.js';
export type { SessionStore, SessionRecord } from './services/session-store.js';
export { createProcessCoordinator, createWebLocksCoordinator } from './services/coordination.js';
export type { Coordinator, ProcessCoordinator, ReleaseLock, WebLockManager } from './services/coordination.js';
