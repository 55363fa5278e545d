/**
 * The bookkeeping around one resolution, as one invoked actor: load the session, take the
 * single-flight lock, read the session record, and on `PERSIST` write it. The lock is held exactly
 * while the invoking state is active. One actor rather than one per step: each costs a snapshot,
 * an abort controller and events, and the chart never branches inside this sequence.
 */
import { fromCallback } from 'xstate';
import { RunManagerError, toRunManagerError } from '../errors.js';
import type { Coordinator, ReleaseLock } from '../services/coordination.js';
import type { Run, UserSession } from '../types.js';
import { callRelease, requestLock } from './lock.js';
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

/** Loads the session, holds the lock and reads the record; writes it on `PERSIST`. Storage failures are only warnings. */
export const holdSession = fromCallback<PersistEvent, HoldSessionInput>(({ input, sendBack, receive }) => {
  const { services } = input;
  const waiting = new AbortController();
  let stopped = false;
  let release: ReleaseLock | undefined;
  let session: UserSession = {};
  let recordKey = input.recordKey;

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
    if (recordKey && services.recordKeyFor) {
      try {
        recordKey = services.recordKeyFor(session);
      } catch (error) {
        return fail(toRunManagerError(error, 'INVALID_OPTIONS', 'sessionKey'));
      }
    }
    let granted: ReleaseLock;
    try {
      granted = await requestLock(services.coordinator, `run-lifecycle:${input.lockKey}:${session.userId ?? ''}`, waiting.signal);
    } catch (error) {
      // Rejections after a stop are the abort asked for.
      return fail(error as RunManagerError);
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
    if (!stopped) sendBack({ type: 'SESSION_READY', session, cachedRun, ...(warning ? { warning } : {}) } satisfies SessionEvent);
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
