/**
 * A named exclusive lock as an invoked actor: held exactly while the invoking state is active. The
 * state waits for `LOCK_ACQUIRED` (or `LOCK_FAILED`); leaving it gives back the lock or the place in the queue.
 */
import { fromCallback } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import { callRelease, defaultCoordinator, type Coordinator, type ReleaseLock } from '../services/coordination.js';

/** What {@link holdLock} sends its parent: `LOCK_ACQUIRED`, or `LOCK_FAILED` with the `RunManagerError`. */
export type LockEvent = { type: 'LOCK_ACQUIRED' } | { type: 'LOCK_FAILED'; error: RunManagerError };

/** The lock's name and who hands locks out (default: the page's or process's coordinator). */
export interface HoldLockInput {
  /** Who hands locks out; default: the page's or process's coordinator. */
  coordinator?: Coordinator;
  /** The lock's name; callers with the same name exclude each other. */
  name: string;
}

/**
 * Asks the coordinator for a lock: its release function, or a rejection as a `RunManagerError`
 * (a coordinator that throws, rejects or grants no function is `INVALID_OPTIONS`).
 */
async function requestLock(coordinator: Coordinator, name: string, signal: AbortSignal): Promise<ReleaseLock> {
  let granted: unknown;
  try {
    granted = await coordinator.acquire(name, signal);
  } catch (error) {
    throw toRunManagerError(error, 'INVALID_OPTIONS', 'coordinator.acquire failed');
  }
  if (typeof granted !== 'function') throw new RunManagerError('INVALID_OPTIONS', 'coordinator.acquire must resolve to a release function');
  return granted as ReleaseLock;
}

/**
 * The lock at once when the coordinator can tell it is free (`tryAcquire`), else `undefined`: then
 * wait with {@link requestLock}. A `tryAcquire` that throws or returns anything but a function or
 * `undefined` is `INVALID_OPTIONS`.
 */
function takeFreeLock(coordinator: Coordinator, name: string): ReleaseLock | undefined {
  let granted: unknown;
  try {
    if (typeof coordinator.tryAcquire !== 'function') return undefined;
    granted = coordinator.tryAcquire(name);
  } catch (error) {
    throw toRunManagerError(error, 'INVALID_OPTIONS', 'coordinator.tryAcquire failed');
  }
  if (granted === undefined || typeof granted === 'function') return granted as ReleaseLock | undefined;
  throw new RunManagerError('INVALID_OPTIONS', 'coordinator.tryAcquire must return a release function or undefined');
}

/**
 * The named lock: taken at once when the coordinator can tell it is free, else waited for, with
 * `waiting` told the controller that ends the wait (and `undefined` once it is over). A controller per
 * wait, not per call: a coordinator (Web Locks) may keep what it hangs on a signal until it aborts.
 */
export async function acquireLock(
  coordinator: Coordinator,
  name: string,
  waiting: (controller: AbortController | undefined) => void,
): Promise<ReleaseLock> {
  const free = takeFreeLock(coordinator, name);
  if (free) return free;
  const controller = new AbortController();
  waiting(controller);
  try {
    return await requestLock(coordinator, name, controller.signal);
  } finally {
    waiting(undefined);
  }
}

/** Holds the named lock while the invoking state is active. */
export const holdLock = fromCallback<{ type: string }, HoldLockInput>(({ input, sendBack }) => {
  let waiting: AbortController | undefined;
  let release: ReleaseLock | undefined;
  let stopped = false;
  // Answered in a later microtask even when the lock is free, as a lock that had to be waited for is.
  acquireLock(input.coordinator ?? defaultCoordinator(), input.name, (controller) => (waiting = controller)).then(
    (lock) => {
      // Handed over while this actor was being stopped: nobody will use it, so give it back at once.
      if (stopped) return callRelease(lock);
      release = lock;
      sendBack({ type: 'LOCK_ACQUIRED' });
    },
    (error: unknown) => {
      // Rejections after a stop are the abort this actor asked for.
      if (!stopped) sendBack({ type: 'LOCK_FAILED', error: error as RunManagerError });
    },
  );
  return () => {
    stopped = true;
    if (release) callRelease(release);
    else waiting?.abort();
  };
});
