/**
 * A named exclusive lock as an invoked actor: the lock is held for exactly as long as the state that
 * invokes `holdLock` is active. The invoking state waits for `LOCK_ACQUIRED` (or `LOCK_FAILED`);
 * leaving the state, or stopping the actor, gives the lock back — or the place in the queue, when
 * it was still waiting.
 */
import { fromCallback } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import { defaultCoordinator, type Coordinator, type ReleaseLock } from '../services/coordination.js';

/** What `holdLock` sends to the state that invokes it. */
export type LockEvent = { type: 'LOCK_ACQUIRED' } | { type: 'LOCK_FAILED'; error: RunManagerError };

/** Input of {@link holdLock}: the lock's name and who hands locks out (default: the page's or process's). */
export interface HoldLockInput {
  coordinator?: Coordinator;
  name: string;
}

/** Calls a release, whatever it throws: the coordinator has been asked, and nothing more can be done. */
export function callRelease(release: ReleaseLock): void {
  try {
    release();
  } catch {
    // A custom coordinator's release that throws has still been asked to release; nothing more to do.
  }
}

/** A failing `acquire` as the error a caller gets. */
export function lockFailure(error: unknown): RunManagerError {
  return toRunManagerError(error, 'INVALID_OPTIONS', 'coordinator.acquire failed');
}

/**
 * Holds the named lock while the invoking state is active.
 *
 * @example
 * ```ts
 * locked: {
 *   invoke: { id: 'lock', src: 'holdLock', input: ({ context }) => ({ coordinator: context.services.coordinator, name }) },
 *   initial: 'waitingForLock',
 *   states: { waitingForLock: { on: { LOCK_ACQUIRED: 'working', LOCK_FAILED: '#machine.error' } }, working: {} },
 * }
 * ```
 */
export const holdLock = fromCallback<{ type: string }, HoldLockInput>(({ input, sendBack }) => {
  const controller = new AbortController();
  let release: ReleaseLock | undefined;
  let stopped = false;
  let acquiring: Promise<unknown>;
  try {
    acquiring = Promise.resolve((input.coordinator ?? defaultCoordinator()).acquire(input.name, controller.signal));
  } catch (error) {
    acquiring = Promise.reject(error);
  }
  acquiring.then(
    (granted) => {
      if (typeof granted !== 'function') {
        if (!stopped) {
          sendBack({
            type: 'LOCK_FAILED',
            error: new RunManagerError('INVALID_OPTIONS', 'coordinator.acquire must resolve to a release function'),
          });
        }
        return;
      }
      // Handed over while this actor was being stopped: nobody will use it, so give it back at once.
      if (stopped) return callRelease(granted as ReleaseLock);
      release = granted as ReleaseLock;
      sendBack({ type: 'LOCK_ACQUIRED' });
    },
    (error: unknown) => {
      // Rejections after a stop are the abort this actor asked for.
      if (!stopped) sendBack({ type: 'LOCK_FAILED', error: lockFailure(error) });
    },
  );
  return () => {
    stopped = true;
    if (release) callRelease(release);
    else controller.abort();
  };
});
