/**
 * The bookkeeping around one resolution, as one invoked actor: load the user session, take the
 * single-flight lock named after the session key and the user, read the session record; later,
 * on `PERSIST`, write the record. The lock is held for exactly as long as the invoking state is
 * active: leaving it, or stopping the actor, gives the lock back (or the place in the queue).
 *
 * One actor instead of one per step: each invoked actor costs a snapshot, an abort controller and
 * events of its own, and this bookkeeping is a single sequence the chart does not branch inside.
 */
import { fromCallback } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import type { Coordinator, ReleaseLock } from '../services/coordination.js';
import type { Run, UserSession } from '../types.js';
import { callRelease, lockFailure } from './lock.js';
import type { CachedRun } from './strategies/types.js';

/** What the run-manager needs to load the session and read or write its record. */
export interface SessionServices {
  /** Resolves the user session (without its token; the facade keeps the token to itself). */
  loadSession(): Promise<UserSession>;
  /** Reads the validated session record for this key and user (`undefined` when absent or not theirs). */
  readRecord(key: string, session: UserSession): Promise<CachedRun | undefined>;
  /** Writes the session record for a run. */
  writeRecord(key: string, session: UserSession, run: Run): Promise<void>;
  coordinator: Coordinator;
}

/** Input of {@link holdSession}. */
export interface HoldSessionInput {
  services: SessionServices;
  /** Reject `UNAUTHORIZED` (before any request) when the session has no user. */
  requiresAuth: boolean;
  strategyName: string;
  /** Where the record lives, or `false` when nothing is read or written. */
  recordKey: string | false;
  /** Names the lock, with the user id. */
  lockKey: string;
}

/** What {@link holdSession} sends to the state that invokes it. */
export type SessionEvent =
  | { type: 'SESSION_READY'; session: UserSession; cachedRun: CachedRun | undefined; warning?: StoreWarning }
  | { type: 'SESSION_FAILED'; error: RunManagerError }
  | { type: 'PERSISTED'; warning?: StoreWarning };

/** A session store that failed: worth a warning, never a failed resolution. */
export interface StoreWarning {
  message: string;
  error: RunManagerError;
}

/** What the invoking state sends to {@link holdSession}. */
export type PersistEvent = { type: 'PERSIST'; run: Run | null };

function storeWarning(message: string, error: unknown): StoreWarning {
  return { message, error: toRunManagerError(error, 'HTTP_ERROR') };
}

/**
 * Loads the session, holds the lock and reads the record (`SESSION_READY` or `SESSION_FAILED`);
 * writes the record on `PERSIST` (`PERSISTED`). Storage failures are warnings, never failures.
 *
 * @example
 * ```ts
 * working: {
 *   invoke: { id: 'session', src: 'holdSession', input: ({ context }) => ({ services, requiresAuth, strategyName, recordKey, lockKey }) },
 *   on: { SESSION_READY: '.resolving', SESSION_FAILED: '#machine.error' },
 * }
 * ```
 */
export const holdSession = fromCallback<PersistEvent, HoldSessionInput>(({ input, sendBack, receive }) => {
  const { services } = input;
  const waiting = new AbortController();
  let stopped = false;
  let release: ReleaseLock | undefined;
  let session: UserSession = {};

  const fail = (error: RunManagerError) => {
    if (!stopped) sendBack({ type: 'SESSION_FAILED', error } satisfies SessionEvent);
  };

  const prepare = async () => {
    try {
      session = await services.loadSession();
    } catch (error) {
      return fail(toRunManagerError(error, 'UNAUTHORIZED', 'The session provider failed'));
    }
    if (stopped) return;
    if (input.requiresAuth && !session.userId) {
      return fail(
        new RunManagerError('UNAUTHORIZED', `No user-session available: strategy '${input.strategyName}' requires a logged-in user`),
      );
    }
    let granted: unknown;
    try {
      granted = await services.coordinator.acquire(`run-lifecycle:${input.lockKey}:${session.userId ?? ''}`, waiting.signal);
    } catch (error) {
      // Rejections after a stop are the abort asked for.
      return fail(lockFailure(error));
    }
    if (typeof granted !== 'function') {
      return fail(new RunManagerError('INVALID_OPTIONS', 'coordinator.acquire must resolve to a release function'));
    }
    // Handed over while this actor was being stopped: nobody will use it, so give it back at once.
    if (stopped) return callRelease(granted as ReleaseLock);
    release = granted as ReleaseLock;
    let cachedRun: CachedRun | undefined;
    let warning: StoreWarning | undefined;
    if (input.recordKey) {
      try {
        cachedRun = await services.readRecord(input.recordKey, session);
      } catch (error) {
        warning = storeWarning('Could not read the session store', error);
      }
    }
    if (!stopped) sendBack({ type: 'SESSION_READY', session, cachedRun, ...(warning ? { warning } : {}) } satisfies SessionEvent);
  };

  const persist = async (run: Run | null) => {
    let warning: StoreWarning | undefined;
    if (input.recordKey && run?.id) {
      try {
        await services.writeRecord(input.recordKey, session, run);
      } catch (error) {
        warning = storeWarning('Could not write the session store', error);
      }
    }
    if (!stopped) sendBack({ type: 'PERSISTED', ...(warning ? { warning } : {}) } satisfies SessionEvent);
  };

  void prepare();
  receive((event) => {
    if (event.type === 'PERSIST') void persist(event.run);
  });
  return () => {
    stopped = true;
    if (release) callRelease(release);
    else waiting.abort();
  };
});
