/**
 * Single-flight across managers: a named exclusive lock held while a manager reads the session
 * record, runs its strategy and writes the record back, so two managers (or tabs) never both create
 * a run for one user. Web Locks span the tabs of an origin; elsewhere a FIFO mutex spans the process.
 */
import { RunManagerError } from '../errors.js';
import { handleRejection } from './values.js';

/** Calling it twice is harmless. */
export type ReleaseLock = () => void;

/**
 * Hands out exclusive locks by name. Aborting `signal` while waiting rejects with `ABORTED` and
 * leaves the queue; once the lock is handed over the caller owns it and must call the release.
 */
export interface Coordinator {
  /** Resolves with the lock's release once `name` is free for the caller. */
  acquire(name: string, signal?: AbortSignal): Promise<ReleaseLock>;
  /**
   * Optional: the lock's release at once when nobody holds or awaits `name`, else `undefined` (then
   * the caller waits with `acquire`). Spares the common uncontended case an abort signal and a promise.
   */
  tryAcquire?(name: string): ReleaseLock | undefined;
}

/** What `createWebLocksCoordinator` needs of `navigator.locks`. */
export interface WebLockManager {
  /** Runs `callback` holding the lock `name`; waiting ends when `signal` aborts. */
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

function abortedError(): RunManagerError {
  return new RunManagerError('ABORTED', 'Stopped while waiting for another resolution of the same session');
}

/** A process coordinator that shows what it holds and who waits, for tests and diagnostics. */
export interface ProcessCoordinator extends Coordinator {
  /** Locks held now. */
  readonly held: number;
  /** Callers waiting for a lock now. */
  readonly waiting: number;
  tryAcquire(name: string): ReleaseLock | undefined;
}

interface LockQueue {
  /** In arrival order; the holder is not in it. */
  waiters: Array<() => void>;
}

/** A FIFO mutex per name, in this process; a caller that stops waiting just leaves the queue. */
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

  function take(name: string): ReleaseLock | undefined {
    if (queues.has(name)) return undefined;
    const fresh: LockQueue = { waiters: [] };
    queues.set(name, fresh);
    return releaseFor(name, fresh);
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
    tryAcquire: take,
    acquire(name, signal) {
      if (signal?.aborted) return Promise.reject(abortedError());
      const queue = queues.get(name);
      if (!queue) return Promise.resolve(take(name)!);
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
 * Locks through `navigator.locks`, shared by every tab of the origin. Where the API refuses to work
 * (a sandboxed or opaque-origin frame), it falls back to `fallback` and warns once.
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

export interface TrackedCoordinator extends Coordinator {
  /** Releases every lock held through it (and any granted later), and refuses later calls. */
  releaseAll(): void;
}

/**
 * Lets one manager release everything it holds in one call: when it stops, or its actor fails in a
 * state whose clean-up never runs. A wait still queued then releases its lock as soon as granted.
 * `inDoubtFor` says how long a write the manager gave up on may still be carried out by the server:
 * a lock is given back only after that, so the next holder sees what the write made (one run, not two).
 */
export function trackLocks(coordinator: Coordinator, inDoubtFor: () => number = () => 0): TrackedCoordinator {
  return new LockTracker(coordinator, inDoubtFor);
}

/** A class, not closures: every manager holds one, and its methods then cost nothing per instance. */
class LockTracker implements TrackedCoordinator {
  readonly #coordinator: Coordinator;
  readonly #inDoubtFor: () => number;
  readonly #releases = new Set<ReleaseLock>();
  #closed = false;

  constructor(coordinator: Coordinator, inDoubtFor: () => number) {
    this.#coordinator = coordinator;
    this.#inDoubtFor = inDoubtFor;
  }

  async acquire(name: string, signal?: AbortSignal): Promise<ReleaseLock> {
    if (this.#closed || signal?.aborted) throw abortedError();
    const granted = await this.#coordinator.acquire(name, signal);
    // Not a release function: hand it on as it is, for the caller to refuse.
    if (typeof granted !== 'function') return granted;
    const release = this.#track(granted);
    if (this.#closed || signal?.aborted) {
      release();
      throw abortedError();
    }
    return release;
  }

  /** `undefined` (wait with `acquire`) when the coordinator cannot tell a free lock at once. */
  tryAcquire(name: string): ReleaseLock | undefined {
    if (this.#closed || typeof this.#coordinator.tryAcquire !== 'function') return undefined;
    const granted: unknown = this.#coordinator.tryAcquire(name);
    // Not a release function: hand it on as it is, for the caller to refuse.
    return typeof granted === 'function' ? this.#track(granted as ReleaseLock) : (granted as undefined);
  }

  releaseAll(): void {
    this.#closed = true;
    // A tracked release never throws: it only schedules the coordinator's.
    for (const release of [...this.#releases]) release();
  }

  #track(granted: ReleaseLock): ReleaseLock {
    let released = false;
    const release: ReleaseLock = () => {
      if (released) return;
      released = true;
      this.#releases.delete(release);
      // Asked once the stop that may be under way has aborted every request, so a write it cut short counts.
      queueMicrotask(() => {
        const wait = this.#inDoubtFor();
        if (wait <= 0) return callRelease(granted);
        const timer = setTimeout(callRelease, wait, granted);
        // Waiting to give a lock back must not keep a Node process alive.
        (timer as { unref?: () => void }).unref?.();
      });
    };
    this.#releases.add(release);
    return release;
  }
}

/** Calls a release; one that throws or rejects (a custom coordinator's) has still been asked to release. */
export function callRelease(release: ReleaseLock): void {
  try {
    handleRejection(release());
  } catch {
    // Nothing more to do.
  }
}

const processCoordinator = createProcessCoordinator();
let webLocksCoordinator: { locks: WebLockManager; coordinator: Coordinator } | undefined;

/** The default: Web Locks when the runtime has them, else the process-wide mutex. */
export function defaultCoordinator(): Coordinator {
  const locks = (globalThis as { navigator?: { locks?: WebLockManager } }).navigator?.locks;
  if (!locks || typeof locks.request !== 'function') return processCoordinator;
  // One per page, so the fallback decision (and its warning) is taken once.
  if (webLocksCoordinator?.locks !== locks) webLocksCoordinator = { locks, coordinator: createWebLocksCoordinator(locks) };
  return webLocksCoordinator.coordinator;
}
