/**
 * A bound on collaborators that cannot be aborted (session providers, session stores): their answer
 * is waited for at most `ms`, so one that never settles cannot hold a resolution — and the
 * single-flight lock it runs under — forever.
 */
import { RunManagerError } from '../errors.js';

/**
 * Settles like `work()`, or rejects `TIMEOUT` naming `what` once `ms` have passed. A synchronous
 * throw of `work` becomes the rejection.
 */
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
