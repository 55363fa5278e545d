/**
 * `run-lifecycle/emulator`: a local Epicenter v2 Run API server for tests, demos, the playground and
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
 */
export { startEmulator } from './emulator.js';
export { createDevToken, decodeJwtUser, type DevTokenOptions } from './identity.js';
export { builtinOperations } from './operations.js';
export type {
  AuthKind,
  DropFault,
  Emulator,
  EmulatorOptions,
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
