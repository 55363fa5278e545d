/**
 * Single-flight across managers: a named exclusive lock, held while a manager reads the session
 * record, runs its strategy and writes the record back, so two managers (or two browser tabs)
 * resolving the same session key for the same user never both create a run. Strategies with a run
 * limit take a second lock, named after what the limit counts, around the count and the create.
 *
 * In a browser with the Web Locks API the lock spans tabs of one origin; elsewhere it is a
 * FIFO mutex shared by every manager in the process.
 */
import { RunManagerError } from '../errors.js';

/** Releases a held lock; calling it twice is harmless. */
export type ReleaseLock = () => void;

/**
 * Hands out exclusive locks by name. `acquire` resolves once the caller holds the lock; aborting
 * `signal` while waiting rejects with `ABORTED` and gives the place in the queue up. Once the lock
 * is handed over the caller owns it, signal or not, and must call the release.
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

/** A process coordinator, with what it holds and who waits, for tests and diagnostics. */
export interface ProcessCoordinator extends Coordinator {
  /** How many lock names are held now. */
  readonly held: number;
  /** How many callers wait for a lock now. */
  readonly waiting: number;
}

interface LockQueue {
  /** Grants of the callers waiting, in arrival order; the holder is not in it. */
  waiters: Array<() => void>;
}

/**
 * A FIFO mutex per name, in this process. A caller that stops waiting leaves the queue and nothing
 * else changes: the holder keeps the lock and the callers behind move up.
 *
 * @example
 * ```ts
 * const locks = createProcessCoordinator();
 * const release = await locks.acquire('key');
 * release();
 * ```
 */
export function createProcessCoordinator(): ProcessCoordinator {
  // A name is in the map exactly while someone holds it.
  const queues = new Map<string, LockQueue>();

  function releaseFor(name: string, queue: LockQueue): ReleaseLock {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.waiters.shift();
      // Ownership passes straight to the next caller, so nobody can slip in between.
      if (next) next();
      else queues.delete(name);
    };
  }

  return {
    get held() {
      return queues.size;
    },
    get waiting() {
      let count = 0;
      for (const queue of queues.values()) count += queue.waiters.length;
      return count;
    },
    acquire(name, signal) {
      if (signal?.aborted) return Promise.reject(abortedError());
      const queue = queues.get(name);
      if (!queue) {
        const fresh: LockQueue = { waiters: [] };
        queues.set(name, fresh);
        return Promise.resolve(releaseFor(name, fresh));
      }
      return new Promise<ReleaseLock>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', leave);
          resolve(releaseFor(name, queue));
        };
        const leave = () => {
          const index = queue.waiters.indexOf(grant);
          if (index >= 0) queue.waiters.splice(index, 1);
          reject(abortedError());
        };
        queue.waiters.push(grant);
        signal?.addEventListener('abort', leave, { once: true });
      });
    },
  };
}

function isAbort(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { name?: unknown }).name === 'AbortError';
}

/**
 * Locks through the Web Locks API (`navigator.locks`), shared by every tab of the origin. Where the
 * API refuses to work (a sandboxed or opaque-origin frame answers `SecurityError`), it falls back to
 * `fallback` — the process mutex by default — and warns once: one tab still gets single-flight.
 *
 * @example
 * ```ts
 * const locks = createWebLocksCoordinator(navigator.locks);
 * ```
 */
export function createWebLocksCoordinator(locks: WebLockManager, fallback: Coordinator = processCoordinator): Coordinator {
  let unusable = false;
  return {
    async acquire(name, signal) {
      if (signal?.aborted) throw abortedError();
      if (unusable) return fallback.acquire(name, signal);
      let release!: ReleaseLock;
      const held = new Promise<void>((done) => (release = done));
      let granted: (release: ReleaseLock) => void;
      const grant = new Promise<ReleaseLock>((resolve) => (granted = resolve));
      let request: Promise<unknown>;
      try {
        request = locks.request(name, signal ? { signal } : {}, async () => {
          granted(release);
          await held;
        });
      } catch (error) {
        request = Promise.reject(error);
      }
      const refused = request.then(
        () => undefined,
        (error: unknown) => error ?? new Error('navigator.locks.request failed'),
      );
      const outcome = await Promise.race([grant.then((value) => ({ granted: value })), refused.then((error) => ({ error }))]);
      if ('granted' in outcome) return outcome.granted;
      if (signal?.aborted || isAbort(outcome.error)) throw abortedError();
      unusable = true;
      console.warn('run-lifecycle: the Web Locks API is not usable here; single-flight covers this page only.');
      return fallback.acquire(name, signal);
    },
  };
}

/** A coordinator that can give back, at once, every lock taken through it. */
export interface TrackedCoordinator extends Coordinator {
  /** Releases every lock held through this coordinator (and any granted later), and refuses later calls. */
  releaseAll(): void;
}

/**
 * Wraps a coordinator so that its owner (one manager) can release everything it holds in one call:
 * when the manager stops, or its actor fails in a state whose clean-up never runs. A wait still
 * queued then is answered by releasing the lock as soon as it is granted.
 */
export function trackLocks(coordinator: Coordinator): TrackedCoordinator {
  const releases = new Set<ReleaseLock>();
  let closed = false;
  return {
    async acquire(name, signal) {
      if (closed || signal?.aborted) throw abortedError();
      // The caller's own signal is passed on as it is: one abort controller per wait is the caller's, not ours too.
      const granted = await coordinator.acquire(name, signal);
      // Not a release function: hand it on as it is, for the caller to refuse.
      if (typeof granted !== 'function') return granted;
      let released = false;
      const release: ReleaseLock = () => {
        if (released) return;
        released = true;
        releases.delete(release);
        granted();
      };
      if (closed || signal?.aborted) {
        release();
        throw abortedError();
      }
      releases.add(release);
      return release;
    },
    releaseAll() {
      closed = true;
      for (const release of [...releases]) {
        try {
          release();
        } catch {
          // Keep releasing the others.
        }
      }
    },
  };
}

const processCoordinator = createProcessCoordinator();
let webLocksCoordinator: { locks: WebLockManager; coordinator: Coordinator } | undefined;

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
  if (!locks || typeof locks.request !== 'function') return processCoordinator;
  // One per page, so the fallback decision (and its warning) is taken once.
  if (webLocksCoordinator?.locks !== locks) webLocksCoordinator = { locks, coordinator: createWebLocksCoordinator(locks) };
  return webLocksCoordinator.coordinator;
}
