/**
 * The default session store outside a browser: without IndexedDB it keeps records in memory and warns
 * once — but only when a manager actually stores something, never for `reuse-never`, `none` or
 * `sessionKey: false`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { RunManager, RunManagerOptions } from '../../src/index.js';

const NO_INDEXEDDB = /IndexedDB is not available/;
const SESSION = { userId: 'u1', auth_token: createDevToken({ userId: 'u1' }) };

let emulator: Emulator;
let warn: MockInstance<typeof console.warn>;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  // The warning is printed once per process: a fresh copy of the library per test sees its own first use.
  vi.resetModules();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
  vi.restoreAllMocks();
});

/** A manager from a fresh copy of the library, with the default session store. */
async function manager(options: Partial<RunManagerOptions>): Promise<RunManager> {
  const { RunManager } = await import('../../src/index.js');
  const created = new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    session: SESSION,
    retry: { retries: 0 },
    ...options,
  });
  managers.push(created);
  return created;
}

function storageWarnings(): unknown[][] {
  expect(globalThis.indexedDB).toBeUndefined();
  return warn.mock.calls.filter((args) => NO_INDEXEDDB.test(String(args[0])));
}

describe('the default session store without IndexedDB', () => {
  it.each<[string, Partial<RunManagerOptions>]>([
    ['reuse-never', { strategy: 'reuse-never' }],
    ['none', { strategy: 'none' }],
    ['sessionKey: false', { strategy: 'reuse-per-session', sessionKey: false }],
  ])('%s: no warning, since nothing is stored', async (_label, options) => {
    const rm = await manager(options);
    await rm.getRun();
    await rm.reset();
    await rm.getRun();
    expect(storageWarnings()).toEqual([]);
  });

  it('a strategy that keeps a record: one warning at its first use, not at construction', async () => {
    const rm = await manager({ strategy: 'reuse-per-session' });
    expect(storageWarnings()).toEqual([]);
    const first = await rm.getRun();
    expect(storageWarnings()).toEqual([['run-lifecycle: IndexedDB is not available; session records are kept in memory only.']]);
    // The memory fallback works: the run is found again, and the warning is not repeated.
    expect((await rm.getRun()).id).toBe(first.id);
    expect((await (await manager({ strategy: 'reuse-per-session' })).getRun()).id).toBe(first.id);
    await (await manager({ strategy: 'reuse-across-sessions' })).getRun();
    expect(storageWarnings()).toHaveLength(1);
  });

  it('createDefaultSessionStore warns at the first get, set or del, not when created', async () => {
    const { createDefaultSessionStore } = await import('../../src/index.js');
    const store = createDefaultSessionStore();
    expect(storageWarnings()).toEqual([]);
    await store.set('k', { v: 1 });
    expect(storageWarnings()).toHaveLength(1);
    expect(await store.get('k')).toEqual({ v: 1 });
    await store.del('k');
    expect(await store.get('k')).toBeUndefined();
    expect(storageWarnings()).toHaveLength(1);
  });
});
