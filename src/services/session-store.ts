/**
 * Where the manager remembers which run a user was working with, between page loads: IndexedDB,
 * else memory. Records are small, versioned and validated; a record for another user or model,
 * or one that does not parse, is treated as absent, never thrown.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { isPlainObject } from './values.js';

/** A key/value store for session records (structured-clone safe plain objects). */
export interface SessionStore {
  /** The value under `key`, or `undefined`. */
  get(key: string): Promise<unknown>;
  /** Stores `value` under `key`. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes `key`. */
  del(key: string): Promise<void>;
}

export const SESSION_RECORD_VERSION = 1;

/** What the manager stores per session key: the run, whose it is, for which model, when. Never the token or variables. */
export interface SessionRecord {
  /** The record format's version. */
  v: 1;
  /** The run the user works with. */
  runId: string;
  /** `null` when there was no logged-in user. */
  userId: string | null;
  /** The model the run executes; a record for another model is ignored. */
  model: string;
  /** Epoch ms. */
  savedAt: number;
  [extra: string]: unknown;
}

/** Whose record the caller expects; a record for anyone else is ignored. */
export interface SessionRecordOwner {
  userId: string | null | undefined;
  model: string;
}

const RESERVED = new Set(['v', 'runId', 'userId', 'model', 'savedAt']);

/** Survives structured cloning and JSON alike: no functions, symbols, class instances or cycles. */
function isPortable(value: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (Array.isArray(value)) return value.every((item) => isPortable(item, depth + 1));
      return isPlainObject(value) && Object.values(value).every((item) => isPortable(item, depth + 1));
    default:
      return false;
  }
}

/** Builds a record for `runId`, dropping extras that are not portable plain data. */
export function createSessionRecord(
  runId: string,
  owner: SessionRecordOwner,
  extras: Record<string, unknown> = {},
  now: number = Date.now(),
): SessionRecord {
  const record: SessionRecord = {
    v: SESSION_RECORD_VERSION,
    runId,
    userId: owner.userId ?? null,
    model: owner.model,
    savedAt: now,
  };
  for (const [key, value] of Object.entries(extras)) {
    if (!RESERVED.has(key) && value !== undefined && isPortable(value)) record[key] = value;
  }
  return record;
}

/** Epicenter run ids and v3 run keys are about 40 characters; a stored one past this is corrupt (it would not fit a URL). */
const MAX_RUN_ID_LENGTH = 1024;

/** The record when it is a current-version record for this owner, else `undefined` (legacy, corrupt, someone else's). Never throws. */
export function parseSessionRecord(value: unknown, owner: SessionRecordOwner): SessionRecord | undefined {
  try {
    if (!isPlainObject(value)) return undefined;
    const { v, runId, userId, model, savedAt } = value;
    if (v !== SESSION_RECORD_VERSION) return undefined;
    // A run id that cannot address a run (`.`, `..`, or far longer than any id a server makes, which
    // would fail every load and lock the user out of the key) is as good as none: discard it.
    if (typeof runId !== 'string' || runId.length === 0 || runId.length > MAX_RUN_ID_LENGTH || runId === '.' || runId === '..') {
      return undefined;
    }
    if (userId !== null && typeof userId !== 'string') return undefined;
    if (typeof model !== 'string' || typeof savedAt !== 'number' || !Number.isFinite(savedAt)) return undefined;
    if (userId !== (owner.userId ?? null) || model !== owner.model) return undefined;
    return { ...value } as SessionRecord;
  } catch {
    // A hostile object (throwing getters, proxies) is just another corrupt record.
    return undefined;
  }
}

/** A store that keeps records in this process only; `size` is how many it holds. */
export function createMemorySessionStore(): SessionStore & {
  /** How many records it holds. */
  readonly size: number;
} {
  const entries = new Map<string, unknown>();
  return {
    // Promise-returning like every store; a clone that fails rejects instead of throwing.
    get: (key) => new Promise((resolve) => resolve(entries.has(key) ? structuredClone(entries.get(key)) : undefined)),
    set: (key, value) => new Promise((resolve) => resolve(void entries.set(key, structuredClone(value)))),
    del: (key) => new Promise((resolve) => resolve(void entries.delete(key))),
    get size() {
      return entries.size;
    },
  };
}

let warnedNoIndexedDB = false;

/** IndexedDB when the environment has it, else memory with a warning (once per process). */
function openDefaultStore(dbName: string, storeName: string): SessionStore {
  // idb-keyval throws synchronously on first use when indexedDB is absent, so look first.
  const idb = (globalThis as { indexedDB?: unknown }).indexedDB;
  if (!idb) {
    if (!warnedNoIndexedDB) {
      warnedNoIndexedDB = true;
      console.warn('run-lifecycle: IndexedDB is not available; session records are kept in memory only.');
    }
    return createMemorySessionStore();
  }
  const idbStore = createStore(dbName, storeName);
  return {
    get: (key) => get(key, idbStore),
    set: (key, value) => set(key, value, idbStore),
    del: (key) => del(key, idbStore),
  };
}

/**
 * The default store: IndexedDB database `run-lifecycle`, object store `sessions`; memory (with one
 * warning) without IndexedDB. Nothing is opened, and nothing warned, until the first `get`, `set` or
 * `del`, so a manager that keeps no record (`reuse-never`, `none`, `sessionKey: false`) never touches storage.
 */
export function createDefaultSessionStore(options: { dbName?: string; storeName?: string } = {}): SessionStore {
  const dbName = options.dbName ?? 'run-lifecycle';
  const storeName = options.storeName ?? 'sessions';
  let store: SessionStore | undefined;
  // A synchronous throw while opening (a browser refusing storage) becomes this call's rejection.
  const using = <T>(use: (opened: SessionStore) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve) => resolve(use((store ??= openDefaultStore(dbName, storeName)))));
  return {
    get: (key) => using((opened) => opened.get(key)),
    set: (key, value) => using((opened) => opened.set(key, value)),
    del: (key) => using((opened) => opened.del(key)),
  };
}
