/**
 * The bookkeeping around each resolution, as one actor invoked while the run-manager is `locked`:
 * started, it loads the session, takes the single-flight lock and reads the session record; on
 * `PERSIST` it writes the record; stopped, it gives the lock back (or leaves the queue). One actor
 * for the whole sequence, because the chart never branches inside it; invoked per resolution rather
 * than for the manager's life, because an idle manager then keeps no second actor.
 */
import { fromCallback } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import { callRelease, type Coordinator, type ReleaseLock } from '../services/coordination.js';
import type { Run, UserSession } from '../types.js';
import { acquireLock } from './lock.js';
import type { CachedRun } from './strategies/types.js';

/** The I/O of the run-manager's `session` actor: the user session, the session record and the lock. */
export interface SessionServices {
  /** Without its token: the facade keeps the token to itself. */
  loadSession(): Promise<UserSession>;
  /** `undefined` when absent or not this user's. */
  readRecord(key: string, session: UserSession): Promise<CachedRun | undefined>;
  /** Writes the session record for `run`. */
  writeRecord(key: string, session: UserSession, run: Run): Promise<void>;
  /** The record's key for this session, when it depends on the user (a `sessionKey` function); `false`: none. */
  recordKeyFor?(session: UserSession): string | false;
  /** Hands out the single-flight lock. */
  coordinator: Coordinator;
}

/** Input of the run-manager's `session` actor. */
export interface HoldSessionInput {
  /** The session, record and lock services. */
  services: SessionServices;
  /** Reject `UNAUTHORIZED` (before any request) when the session has no user. */
  requiresAuth: boolean;
  /** The strategy's name, for messages. */
  strategyName: string;
  /** `false`: nothing is read or written. */
  recordKey: string | false;
  /** Names the lock, with the user id. */
  lockKey: string;
}

/** What the `session` actor sends its parent: the session and cached run once the lock is held, a failure, or `PERSISTED`. */
export type SessionEvent =
  | { type: 'SESSION_READY'; session: UserSession; cachedRun: CachedRun | undefined; warning?: StoreWarning }
  | { type: 'SESSION_FAILED'; error: RunManagerError }
  | { type: 'PERSISTED'; warning?: StoreWarning };

/** A session store that failed: worth a warning, never a failed resolution. */
export interface StoreWarning {
  /** What failed. */
  message: string;
  /** The failure, typed. */
  error: RunManagerError;
}

/** Asks the `session` actor to write the session record for `run`; it answers `PERSISTED`. */
export type PersistEvent = { type: 'PERSIST'; run: Run | null };

function storeWarning(message: string, error: unknown): StoreWarning {
  return { message, error: toRunManagerError(error, 'HTTP_ERROR') };
}

/** Loads the session, holds the lock and reads the record when started; writes it on `PERSIST`. Storage failures are only warnings. */
export const holdSession = fromCallback<PersistEvent, HoldSessionInput>(({ input, sendBack, receive }) => {
  const { services } = input;
  let session: UserSession = {};
  let recordKey = input.recordKey;
  /** Set while waiting for the lock. */
  let waiting: AbortController | undefined;
  let release: ReleaseLock | undefined;
  /** Stopped: nothing more is sent, and a lock granted late goes straight back. */
  let stopped = false;

  const answer = (event: SessionEvent) => {
    if (!stopped) sendBack(event);
  };

  const acquire = async () => {
    try {
      session = await services.loadSession();
    } catch (error) {
      return answer({ type: 'SESSION_FAILED', error: toRunManagerError(error, 'UNAUTHORIZED', 'The session provider failed') });
    }
    if (stopped) return;
    if (input.requiresAuth && !session.userId) {
      const message = `No user-session available: strategy '${input.strategyName}' requires a logged-in user`;
      return answer({ type: 'SESSION_FAILED', error: new RunManagerError('UNAUTHORIZED', message) });
    }
    if (recordKey && services.recordKeyFor) {
      try {
        recordKey = services.recordKeyFor(session);
      } catch (error) {
        return answer({ type: 'SESSION_FAILED', error: toRunManagerError(error, 'INVALID_OPTIONS', 'sessionKey') });
      }
    }
    const lockName = `run-lifecycle:${input.lockKey}:${session.userId ?? ''}`;
    let granted: ReleaseLock;
    try {
      granted = await acquireLock(services.coordinator, lockName, (controller) => (waiting = controller));
    } catch (error) {
      // A rejection after a stop is the abort asked for: `answer` drops it.
      return answer({ type: 'SESSION_FAILED', error: error as RunManagerError });
    }
    // Handed over while this actor was being stopped: nobody will use it, so give it back at once.
    if (stopped) return callRelease(granted);
    release = granted;
    let cachedRun: CachedRun | undefined;
    let warning: StoreWarning | undefined;
    if (recordKey) {
      try {
        cachedRun = await services.readRecord(recordKey, session);
      } catch (error) {
        warning = storeWarning('Could not read the session store', error);
      }
    }
    answer({ type: 'SESSION_READY', session, cachedRun, ...(warning ? { warning } : {}) });
  };

  const persist = async (run: Run | null) => {
    let warning: StoreWarning | undefined;
    if (recordKey && run?.id) {
      try {
        await services.writeRecord(recordKey, session, run);
      } catch (error) {
        warning = storeWarning('Could not write the session store', error);
      }
    }
    answer({ type: 'PERSISTED', ...(warning ? { warning } : {}) });
  };

  void acquire();
  receive((event) => void persist(event.run));
  return () => {
    stopped = true;
    if (release) callRelease(release);
    else waiting?.abort();
  };
});
