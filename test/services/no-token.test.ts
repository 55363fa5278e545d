/**
 * A user with no token: the emulator answers 401, as Epicenter does, and the rejection says how to
 * pass a token instead of a bare status. A token that is refused keeps the plain message, without the token.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createMemorySessionStore, RunManager, type RunManagerOptions, type RunOptions } from '../../src/index.js';
import { expectRejection } from '../integration/helpers.js';

const HINT =
  'no token was sent: pass run.token, or a session with auth_token (by default the session comes from the epicenterjs.session cookie, ' +
  'on Epicenter v3 from the com.forio.epicenter.session cookie)';

let emulator: Emulator;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
  emulator.reset();
});

function manager(apiVersion: 2 | 3, options: Partial<RunManagerOptions> = {}, run: Partial<RunOptions> = {}): RunManager {
  const created = new RunManager({
    run: {
      account: 'acme',
      project: 'sim',
      model: 'model.py',
      ...(apiVersion === 3 ? { apiVersion: 3, baseURL: emulator.v3BaseURL } : { baseURL: emulator.baseURL }),
      ...run,
    },
    strategy: 'reuse-never',
    sessionStore: createMemorySessionStore(),
    retry: { retries: 0 },
    ...options,
  });
  managers.push(created);
  return created;
}

describe.each([2, 3] as const)('Epicenter v%i without a token', (apiVersion) => {
  // v3 runs belong to a group by its key, so a v3 session names it.
  const user = apiVersion === 3 ? { userId: 'u1', groupName: 'g1', groupKey: 'key-g1' } : { userId: 'u1', groupName: 'g1' };

  it('a session without auth_token: UNAUTHORIZED 401 that says how to pass a token', async () => {
    const rm = manager(apiVersion, { session: user });
    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/^POST \S+ failed: HTTP 401/);
    expect(error.message).toContain(`; ${HINT}`);
    expect(emulator.runs()).toEqual([]);
  });

  it('a token the server refuses: no hint, and the token is in no message', async () => {
    const token = 'not-a-token-the-emulator-knows-0123456789';
    const rm = manager(apiVersion, { session: { ...user, auth_token: token } });
    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error.message).not.toContain('no token was sent');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
  });

  it('run.token works where the session has none', async () => {
    const token = createDevToken(user);
    const run = await manager(apiVersion, { session: user }, { token }).getRun();
    expect(run.freshlyCreated).toBe(true);
  });
});

// On v3 a missing session fails before any request, for want of its group key.
it('Epicenter v2 with no session at all: the same hint', async () => {
  const error = await expectRejection(manager(2).getRun(), 'UNAUTHORIZED');
  expect(error.message).toContain(HINT);
});
