/**
 * `run-lifecycle/emulator`: a local Epicenter Run API server (v2 under `/v2/`, v3 under
 * `/api/v3/{account}/{project}/`, one store behind both) for tests, demos, the playground and
 * benchmarks.
 *
 * @example
 * ```ts
 * import { createDevToken, startEmulator } from 'run-lifecycle/emulator';
 *
 * const emulator = await startEmulator();
 * const token = createDevToken({ userId: 'u1' });
 * // point a RunManager at emulator.baseURL with this token …
 * await emulator.close();
 * ```
 *
 * @module run-lifecycle/emulator
 */
export { startEmulator } from './emulator.js';
export { createDevToken, decodeJwtUser, type DevTokenOptions } from './identity.js';
export { builtinOperations } from './operations.js';
export type {
  AuthKind,
  DropFault,
  Emulator,
  EmulatorOptions,
  EmulatorSettings,
  EmulatorStats,
  FailFault,
  FaultSpec,
  FaultTarget,
  OperationContext,
  OperationHandler,
  RequestLogEntry,
  RunsFilter,
  SeedData,
  SlowFault,
  TruncateFault,
} from './types.js';
export type { Run, RunUser, World } from '../types.js';
