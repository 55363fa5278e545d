/**
 * Single-flight across managers: a named exclusive lock, held while a manager reads the session
 * record, runs its strategy and writes the record back, so two managers (or two browser tabs)
 * resolving the same session key for the same user never both create a run.
 *
 * In a browser with the Web Locks API the lock spans tabs of one origin; elsewhere it is a
 * FIFO mutex shared by every manager in the process.
 */
import { RunManagerError } from '../errors.js';

/** Releases a held lock; calling it twice is harmless. */
export type ReleaseLock = () => void;

/**
 * Hands out exclusive locks by name.
 *
 * @example
 * ```ts
 * const release = await coordinator.acquire('epicenter-scenario-acme-sim-model.py|u1', signal);
 * try { await resolveRun(); } finally { release(); }
 * ```
 */
export interface Coordinator {
  acquire(name: string, signal?: AbortSignal): Promise<ReleaseLock>;
}

interface WebLockManager {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

function abortedError(): RunManagerError {
  return new RunManagerError('ABORTED', 'Stopped while waiting for another resolution of the same session');
}

/**
 * A FIFO mutex per name, in this process.
 *
 * @example
 * ```ts
 * const locks = createProcessCoordinator();
 * const release = await locks.acquire('key');
 * release();
 * ```
 */
export function createProcessCoordinator(): Coordinator & { readonly held: number } {
  const tails = new Map<string, Promise<void>>();
  return {
    get held() {
      return tails.size;
    },
    acquire(name, signal) {
      if (signal?.aborted) return Promise.reject(abortedError());
      const previous = tails.get(name) ?? Promise.resolve();
      let releaseSlot!: () => void;
      const slot = new Promise<void>((resolve) => (releaseSlot = resolve));
      const tail = previous.then(() => slot);
      tails.set(name, tail);
      let released = false;
      const release: ReleaseLock = () => {
        if (released) return;
        released = true;
        releaseSlot();
        if (tails.get(name) === tail) tails.delete(name);
      };
      return new Promise<ReleaseLock>((resolve, reject) => {
        const onAbort = () => {
          // Give the slot up at once so later waiters are not held by a caller that left.
          release();
          reject(abortedError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        void previous.then(() => {
          signal?.removeEventListener('abort', onAbort);
          if (!released) resolve(release);
        });
      });
    },
  };
}

/**
 * Locks through the Web Locks API (`navigator.locks`), shared by every tab of the origin.
 *
 * @example
 * ```ts
 * const locks = createWebLocksCoordinator(navigator.locks);
 * ```
 */
export function createWebLocksCoordinator(locks: WebLockManager): Coordinator {
  return {
    acquire(name, signal) {
      if (signal?.aborted) return Promise.reject(abortedError());
      return new Promise<ReleaseLock>((resolve, reject) => {
        let release!: ReleaseLock;
        const held = new Promise<void>((done) => (release = done));
        locks
          .request(name, signal ? { signal } : {}, async () => {
            resolve(release);
            await held;
          })
          .catch(() => reject(abortedError()));
      });
    },
  };
}

const processCoordinator = createProcessCoordinator();

/**
 * The coordinator managers use by default: Web Locks when the runtime has them, else one
 * process-wide mutex map.
 *
 * @example
 * ```ts
 * const coordinator = defaultCoordinator();
 * ```
 */
export function defaultCoordinator(): Coordinator {
  const locks = (globalThis as { navigator?: { locks?: WebLockManager } }).navigator?.locks;
  return locks && typeof locks.request === 'function' ? createWebLocksCoordinator(locks) : processCoordinator;
}
