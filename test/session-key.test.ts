/**
 * The `sessionKey` option on a server serving many users from one process: the default key names one
 * record for everyone (each user replaces the other's), a key function of the user keeps one per user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { createMemorySessionStore, RunManager, type RunManagerOptions } from '../src/index.js';
import { SESSION_U1, SESSION_U2 } from './integration/helpers.js';
import type { UserSession } from '../src/types.js';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});

afterAll(async () => {
  await emulator.close();
});

const RUN = { account: 'acme', project: 'sim', model: 'model.py' };

/** One getRun per user in turn, each through a fresh manager on the one shared store, as a server does per request. */
async function alternate(options: Pick<RunManagerOptions, 'sessionKey'>, store = createMemorySessionStore()): Promise<string[]> {
  const ids: string[] = [];
  for (const session of [SESSION_U1, SESSION_U2, SESSION_U1, SESSION_U2] as UserSession[]) {
    const rm = new RunManager({
      run: { ...RUN, baseURL: emulator.baseURL },
      strategy: 'reuse-per-session',
      session,
      sessionStore: store,
      ...options,
    });
    ids.push((await rm.getRun()).id);
    rm.stop();
  }
  return ids;
}

describe('sessionKey', () => {
  it('with the default key, users alternating on one store replace each other’s record and each getRun creates', async () => {
    const ids = await alternate({});
    expect(new Set(ids).size).toBe(4);
  });

  it('a key function receives the user and keeps one record per user', async () => {
    const seen: unknown[] = [];
    const ids = await alternate({
      sessionKey: (context) => {
        seen.push(context);
        return `sim-${context.userId ?? 'anonymous'}`;
      },
    });
    expect(ids[2]).toBe(ids[0]);
    expect(ids[3]).toBe(ids[1]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(seen[0]).toEqual({ account: 'acme', project: 'sim', model: 'model.py', userId: 'u1' });
    expect(seen[1]).toEqual({ account: 'acme', project: 'sim', model: 'model.py', userId: 'u2' });
  });

  it('a key function returning false for a user caches nothing for that user', async () => {
    const store = createMemorySessionStore();
    const ids = await alternate({ sessionKey: ({ userId }) => (userId === 'u2' ? false : `sim-${userId ?? ''}`) }, store);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[3]).not.toBe(ids[1]);
    expect(await store.get('sim-u1')).toMatchObject({ runId: ids[0], userId: 'u1' });
  });

  it('managers of one user racing on a key function still create one run, and each resolution asks for the key once', async () => {
    const store = createMemorySessionStore();
    const asked: unknown[] = [];
    const sessionKey = ({ userId }: { userId: string | undefined }) => {
      asked.push(userId);
      return `sim-${userId ?? ''}`;
    };
    const managers = [0, 1, 2].map(
      () =>
        new RunManager({
          run: { ...RUN, baseURL: emulator.baseURL },
          strategy: 'reuse-per-session',
          session: SESSION_U1,
          sessionStore: store,
          sessionKey,
        }),
    );
    const before = emulator.runs().length;
    const runs = await Promise.all([...managers.map((rm) => rm.getRun()), managers[0]!.getRun()]);
    expect(new Set(runs.map((run) => run.id)).size).toBe(1);
    expect(emulator.runs().length - before).toBe(1);
    // Three resolutions (the second getRun of the first manager joins its first).
    expect(asked).toEqual(['u1', 'u1', 'u1']);
    for (const rm of managers) rm.stop();
  });
});
