/**
 * Collaborators that cannot be aborted (session providers and stores) are waited for at most `ms`,
 * so one that never settles cannot hold a resolution, and the lock it runs under, forever.
 */
import { RunManagerError } from '../errors.js';

/** Settles like `work()` (a synchronous throw becomes the rejection), or rejects `TIMEOUT` after `ms`. */
export function settleWithin<T>(work: () => T | PromiseLike<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RunManagerError('TIMEOUT', `${what} did not settle within ${ms} ms`)), ms);
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(work());
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
