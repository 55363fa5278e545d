/**
 * Shared helpers of the reliability tests: typed-rejection assertions, a store that records every
 * write, a safe JSON form of anything (cycles and functions skipped), waiting for the emulator to
 * receive a request (Node's `http.server.request.start` diagnostics channel) and to settle.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { expect } from 'vitest';
import type { Emulator, RequestLogEntry } from '../../src/emulator/index.js';
import { createMemorySessionStore, RunManagerError, type RunManagerErrorType, type SessionStore } from '../../src/index.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Expects `promise` to reject with a `RunManagerError` of `type` whose message matches `message`;
 * returns the error.
 */
export async function expectRejection(promise: Promise<unknown>, type: RunManagerErrorType, message?: RegExp): Promise<RunManagerError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a ${type} rejection, got ${safeStringify(outcome.value).slice(0, 300)}`);
  const { error } = outcome;
  expect(error, String(error)).toBeInstanceOf(RunManagerError);
  expect((error as RunManagerError).type, (error as Error).message).toBe(type);
  if (message) expect((error as Error).message).toMatch(message);
  return error as RunManagerError;
}

/** Expects a synchronous `RunManagerError` throw of `type` whose message matches `message`. */
export function expectThrow(action: () => unknown, type: RunManagerErrorType, message: RegExp): RunManagerError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a throw').toBeInstanceOf(RunManagerError);
  expect((thrown as RunManagerError).type, (thrown as Error).message).toBe(type);
  expect((thrown as Error).message).toMatch(message);
  return thrown as RunManagerError;
}

/** A memory session store that also remembers every `set` and `del` (a copy of each value). */
export interface RecordingStore extends SessionStore {
  readonly size: number;
  readonly writes: Array<{ op: 'set' | 'del'; key: string; value?: unknown }>;
  /** A copy of what is stored now, key by key. */
  snapshot(): Promise<Record<string, unknown>>;
}

export function recordingStore(): RecordingStore {
  const inner = createMemorySessionStore();
  const keys = new Set<string>();
  const writes: RecordingStore['writes'] = [];
  return {
    get: (key) => inner.get(key),
    async set(key, value) {
      writes.push({ op: 'set', key, value: structuredClone(value) });
      keys.add(key);
      await inner.set(key, value);
    },
    async del(key) {
      writes.push({ op: 'del', key });
      keys.delete(key);
      await inner.del(key);
    },
    get size() {
      return inner.size;
    },
    writes,
    async snapshot() {
      const copy: Record<string, unknown> = {};
      for (const key of keys) copy[key] = await inner.get(key);
      return copy;
    },
  };
}

/**
 * JSON of anything: functions and symbols dropped, repeated objects (cycles and shared references)
 * written as `"[seen]"`, Maps/Sets/Errors/Headers/Requests/Responses expanded, non-enumerable own
 * properties and getters included (so nothing an object carries is missed). Keys in `skip` are left out.
 */
export function safeStringify(value: unknown, skip: ReadonlySet<string> = new Set()): string {
  const seen = new WeakSet<object>();
  const walk = (current: unknown, depth: number): unknown => {
    if (current === null || typeof current !== 'object') {
      if (typeof current === 'function' || typeof current === 'symbol') return undefined;
      if (typeof current === 'bigint') return String(current);
      return current;
    }
    if (seen.has(current)) return '[seen]';
    seen.add(current);
    if (depth > 40) return '[deep]';
    if (current instanceof Headers || current instanceof URLSearchParams) return { entries: [...current.entries()] };
    if (current instanceof Response || current instanceof Request) {
      return {
        url: current.url,
        headers: [...current.headers.entries()],
        ...(current instanceof Response ? { status: current.status } : { method: current.method }),
      };
    }
    if (current instanceof Map) return { map: [...current.entries()].map(([key, item]) => [walk(key, depth + 1), walk(item, depth + 1)]) };
    if (current instanceof Set) return { set: [...current].map((item) => walk(item, depth + 1)) };
    if (Array.isArray(current)) return current.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    if (current instanceof Error) {
      out.name = current.name;
      out.message = current.message;
      out.stack = current.stack;
    }
    for (const key of Object.getOwnPropertyNames(current)) {
      if (skip.has(key)) continue;
      let item: unknown;
      try {
        item = (current as Record<string, unknown>)[key];
      } catch (error) {
        item = `[getter threw ${String(error)}]`;
      }
      const walked = walk(item, depth + 1);
      if (walked !== undefined) out[key] = walked;
    }
    return out;
  };
  return JSON.stringify(walk(value, 0)) ?? 'undefined';
}

/**
 * Requests as they reach any HTTP server in this process, from the moment their headers arrive
 * (the emulator logs a request only when it is answered or dropped).
 */
export function watchArrivals(): {
  arrivals: Array<{ method: string; url: string }>;
  waitFor(match: (arrival: { method: string; url: string }) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
} {
  const arrivals: Array<{ method: string; url: string }> = [];
  const listener = (message: unknown) => {
    const request = (message as { request: IncomingMessage }).request;
    arrivals.push({ method: request.method ?? 'GET', url: request.url ?? '/' });
  };
  diagnostics.subscribe('http.server.request.start', listener);
  return {
    arrivals,
    async waitFor(match, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!arrivals.some(match)) {
        if (Date.now() > deadline)
          throw new Error(
            `no matching request arrived within ${timeoutMs} ms; saw ${arrivals.map((a) => `${a.method} ${a.url}`).join(', ')}`,
          );
        await sleep(2);
      }
    },
    stop() {
      diagnostics.unsubscribe('http.server.request.start', listener);
    },
  };
}

/** Waits until the emulator's log stops growing, then returns a copy of it. */
export async function settledLog(emulator: Emulator, quietMs = 30): Promise<RequestLogEntry[]> {
  let seen = -1;
  while (emulator.requests.length !== seen) {
    seen = emulator.requests.length;
    await sleep(quietMs);
  }
  return [...emulator.requests];
}

/** Waits until the emulator has logged an entry that matches. */
export async function waitForLogged(
  emulator: Emulator,
  match: (entry: RequestLogEntry) => boolean,
  timeoutMs = 3000,
): Promise<RequestLogEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = emulator.requests.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log entry within ${timeoutMs} ms`);
    await sleep(5);
  }
}
