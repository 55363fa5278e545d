/**
 * The `RunManagerError` a promise rejects with; fails the test when it resolves or rejects with
 * anything else.
 */
import { expect } from 'vitest';
import { RunManagerError } from '../../src/errors.js';

/**
 * Awaits a promise that must reject with a `RunManagerError`, and returns that error.
 *
 * @example
 * ```ts
 * expect((await rejectionOf(api.load('nope'))).type).toBe('RUN_NOT_FOUND');
 * ```
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<RunManagerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RunManagerError);
    return error as RunManagerError;
  }
  throw new Error('expected the promise to reject');
}
