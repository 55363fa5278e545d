/**
 * Integration on Epicenter v3: multiplayer and reuse-by-tracking-key-multiplayer through the public
 * RunManager against the emulator: the user's worlds (`GET world/{groupName}?mine=true`), the world's
 * run (`POST run/world/{worldKey}`, answered with the whole run), world resets, self-assignment.
 * v2 counterpart: multiplayer.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { createMemorySessionStore, type Run, type RunService } from '../../src/index.js';
import {
  expectRejection,
  expectV3Run,
  filterOf,
  line,
  MY_WORLDS,
  NEWEST,
  operationRoute,
  runRoute,
  SELF_ASSIGN,
  SESSION_U2,
  SESSION_U3,
  useV3Integration,
  variablesRoute,
  WORLD_RUN_BODY,
  worldQuery,
  worldRunRoute,
} from './v3-helpers.js';

const h = useV3Integration();

const GET_WORLDS = `GET ${MY_WORLDS}`;
const W2_RUN = worldRunRoute('w2');
const W2_SCOPE = { scopeBoundary: 'WORLD', scopeKey: 'w2' };

/** w1 (2020) and w2 (2021, the newest); u1 is in both, u2 in w2, u3 in none. */
function seedWorlds(): void {
  h.seedWorlds(
    { id: 'w1', users: ['u1'], lastModified: '2020-01-01T00:00:00.000Z' },
    { id: 'w2', users: ['u1', 'u2'], lastModified: '2021-01-01T00:00:00.000Z' },
  );
}

describe('multiplayer on v3', () => {
  it('gets the newest world’s run in one call, reuses it, resets it, and a second member joins it', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer' });

    const first = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, `POST ${W2_RUN}`]); // v2: 3 (+ GET run: v2 answers only the id)
    expect(entries[0]!.query).toEqual({ mine: 'true' });
    expect(entries[1]!.body).toEqual(WORLD_RUN_BODY);
    expect(entries[1]!.status).toBe(201);
    expectV3Run(first, { freshlyCreated: true, scope: W2_SCOPE, world: { id: 'w2', worldKey: 'w2' } });
    expect(h.emulator.worlds().find((world) => world.id === 'w2')!.run).toBe(first.id);
    expect(h.runCount()).toBe(1);

    // The world list names the world's run (runKey): it is loaded, no world-run POST.
    const steady = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`]); // v2: 2
    expectV3Run(steady, { id: first.id, freshlyCreated: false, world: { id: 'w2', runKey: first.id, run: first.id } });

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`, `POST ${variablesRoute(first.id)}`]); // v2: 2
    expectV3Run(withVariables, { id: first.id, freshlyCreated: false, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const resetEntries = await h.expectTrace([GET_WORLDS, `DELETE ${W2_RUN}`, `POST ${W2_RUN}`]); // v2: 4
    expect(resetEntries.map((entry) => entry.status)).toEqual([200, 204, 201]);
    expect(resetEntries[2]!.body).toEqual(WORLD_RUN_BODY);
    expectV3Run(reset, { freshlyCreated: true, scope: W2_SCOPE, world: { id: 'w2' } });
    expect(reset.id).not.toBe(first.id);
    expect(h.emulator.worlds().find((world) => world.id === 'w2')!.run).toBe(reset.id);
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(reset.id)}`]); // v2: 2
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });

    // Another member of w2 gets the same run, not freshly created for them.
    const shared = await h.manager({ strategy: 'multiplayer', session: SESSION_U2 }).getRun(['price']);
    const joined = await h.expectTrace([GET_WORLDS, `GET ${runRoute(reset.id)}`, `POST ${variablesRoute(reset.id)}`]); // v2: 2
    expect(joined.map((entry) => entry.user)).toEqual(['u2', 'u2', 'u2']);
    expectV3Run(shared, { id: reset.id, freshlyCreated: false, world: { id: 'w2' }, variables: { price: 10 } });
    expect(h.runCount()).toBe(2);
  });

  it('two members asking at once while the world has no run end up with one run between them', async () => {
    seedWorlds();
    // Both listings are read before either world-run POST is answered.
    h.emulator.slow({ method: 'POST', path: W2_RUN, delayMs: 30, times: 2 });
    const [mine, theirs] = await Promise.all([
      h.manager({ strategy: 'multiplayer' }).getRun(),
      h.manager({ strategy: 'multiplayer', session: SESSION_U2, sessionStore: createMemorySessionStore() }).getRun(),
    ]);
    const entries = await h.take();
    expect(entries.map(line).sort()).toEqual([GET_WORLDS, GET_WORLDS, `POST ${W2_RUN}`, `POST ${W2_RUN}`]);
    expect(
      entries
        .filter((entry) => entry.method === 'POST')
        .map((entry) => entry.status)
        .sort(),
    ).toEqual([200, 201]);
    expect(theirs.id).toBe(mine.id);
    // Not asserted: freshlyCreated. Both listings named no run, and world-api-v3 then reports a 200 as
    // created too (its hedge for servers that never answer 201), so both members see `true` here.
    expect(h.runCount()).toBe(1);
  });

  it('a run the world list names that is gone (404): the world-run POST follows and answers the existing run', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer' });
    const first = await rm.getRun();
    await h.take();

    h.emulator.fail({ method: 'GET', path: runRoute(first.id), status: 404, code: 'RUN_NOT_FOUND', times: 1 });
    const again = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`, `POST ${W2_RUN}`]); // v2: 4
    expect(entries.map((entry) => entry.status)).toEqual([200, 404, 200]);
    expectV3Run(again, { id: first.id, freshlyCreated: false, world: { id: 'w2' } });
    expect(h.runCount()).toBe(1);
  });

  it('a user in no world: NO_WORLD_FOR_USER on getRun and on reset, after one world lookup each', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer', session: SESSION_U3 });
    const error = await expectRejection(rm.getRun(), 'NO_WORLD_FOR_USER');
    expect(error.message).toBe('User u3 is not part of a world');
    await h.expectTrace([GET_WORLDS]); // v2: 1

    await expectRejection(rm.reset(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]); // v2: 1
    expect(h.runCount()).toBe(0);
  });

  it('with selfAssign, a user in no world is put in one and gets its run; the next member joins the same run', async () => {
    const rm = h.manager({ strategy: 'multiplayer', session: SESSION_U3, strategyOptions: { selfAssign: {} } });

    const first = await rm.getRun();
    const entries = await h.take();
    const worldKey = h.emulator.worlds()[0]?.id ?? 'none';
    expect(entries.map(line)).toEqual([GET_WORLDS, `POST ${SELF_ASSIGN}`, `POST ${worldRunRoute(worldKey)}`]);
    expect(entries[1]!.body).toEqual({});
    expectV3Run(first, { freshlyCreated: true, world: { id: worldKey }, scope: { scopeBoundary: 'WORLD', scopeKey: worldKey } });
    expect(h.emulator.worlds()[0]!.users!.map((user) => user.userId)).toEqual(['u3']);

    // Now in a world: no self-assignment any more.
    const steady = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`]);
    expectV3Run(steady, { id: first.id, freshlyCreated: false });

    const joined = await h
      .manager({ strategy: 'multiplayer', session: SESSION_U2, strategyOptions: { selfAssign: { role: 'buyer' } } })
      .getRun();
    const joinEntries = await h.expectTrace([GET_WORLDS, `POST ${SELF_ASSIGN}`, `GET ${runRoute(first.id)}`]);
    expect(joinEntries[1]!.body).toEqual({ role: 'buyer' });
    expectV3Run(joined, { id: first.id, freshlyCreated: false, world: { id: worldKey } });
    expect(h.emulator.worlds()).toHaveLength(1);
    expect(h.runCount()).toBe(1);
  });

  it('with selfAssign on a project that disallows it: UNAUTHORIZED with code WORLD_SELF_ASSIGN_DISABLED', async () => {
    h.emulator.configure({ allowWorldSelfAssign: false });
    const rm = h.manager({ strategy: 'multiplayer', session: SESSION_U3, strategyOptions: { selfAssign: {} } });
    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error).toMatchObject({ status: 403, code: 'WORLD_SELF_ASSIGN_DISABLED' });
    const [, refused] = await h.expectTrace([GET_WORLDS, `POST ${SELF_ASSIGN}`]);
    expect(refused!.status).toBe(403);
    expect(h.emulator.worlds()).toEqual([]);
    expect(h.runCount()).toBe(0);
  });

  it('a user already in a world is never self-assigned again', async () => {
    seedWorlds();
    const run = await h.manager({ strategy: 'multiplayer', strategyOptions: { selfAssign: {} } }).getRun();
    await h.expectTrace([GET_WORLDS, `POST ${W2_RUN}`]);
    expectV3Run(run, { freshlyCreated: true, world: { id: 'w2' } });
    expect(h.emulator.worlds()).toHaveLength(2);
  });

  it('refuses strategyOptions.selfAssign without apiVersion 3, and a malformed one, at construction', () => {
    expect(() =>
      h.manager({ strategy: 'multiplayer', strategyOptions: { selfAssign: {} }, run: { apiVersion: 2, baseURL: h.emulator.baseURL } }),
    ).toThrow(/selfAssign needs run.apiVersion 3/);
    expect(() => h.manager({ strategy: 'multiplayer', strategyOptions: { selfAssign: { objective: 'BIGGEST' } } })).toThrow(
      /strategyOptions.selfAssign.objective/,
    );
  });
});

describe('reuse-by-tracking-key-multiplayer on v3', () => {
  const strategy = 'reuse-by-tracking-key-multiplayer';
  const BODY = { ...WORLD_RUN_BODY, trackingKey: 'tkm' };
  const COUNT = `GET ${worldQuery('w2')}`;

  it('with a run limit: counts the world’s runs before the world creates, reuses with settings, resets within the limit', async () => {
    seedWorlds();
    const settings = { trackingKey: 'tkm', runLimit: 5 };
    const rm = h.manager({ strategy, strategyOptions: { settings } });

    const first = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, COUNT, `POST ${W2_RUN}`]); // v2: 4
    expect(entries[1]!.query).toMatchObject(NEWEST);
    // No user filter: a world's runs belong to all its members.
    expect(filterOf(entries[1]!)).toEqual(['run.hidden=false', 'run.trackingKey=tkm']);
    expect(entries[2]!.body).toEqual(BODY);
    expect(entries[2]!.status).toBe(201);
    expectV3Run(first, { freshlyCreated: true, settings, trackingKey: 'tkm', scope: W2_SCOPE, world: { id: 'w2' } });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`]); // v2: 2
    expectV3Run(steady, { id: first.id, freshlyCreated: false, settings, world: { id: 'w2' } });

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(first.id)}`, `POST ${variablesRoute(first.id)}`]); // v2: 2
    expectV3Run(withVariables, { id: first.id, variables: { price: 10 }, settings });

    const reset = await rm.reset();
    const resetEntries = await h.expectTrace([GET_WORLDS, COUNT, `DELETE ${W2_RUN}`, `POST ${W2_RUN}`]); // v2: 5
    expect(resetEntries[3]!.body).toEqual(BODY);
    expectV3Run(reset, { freshlyCreated: true, settings, trackingKey: 'tkm', world: { id: 'w2' } });
    expect(h.runCount()).toBe(2);

    const shared = await h.manager({ strategy, strategyOptions: { settings }, session: SESSION_U2 }).getRun();
    await h.expectTrace([GET_WORLDS, `GET ${runRoute(reset.id)}`]); // v2: 2
    expectV3Run(shared, { id: reset.id, freshlyCreated: false, settings });
    expect(h.runCount()).toBe(2);
  });

  it('refuses a reset at the run limit without touching the world', async () => {
    seedWorlds();
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm', runLimit: 1 } } });
    const first = await rm.getRun();
    await h.take();

    await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    await h.expectTrace([GET_WORLDS, COUNT]); // v2: 2
    expect(h.runCount()).toBe(1);
    expect(h.emulator.worlds().find((world) => world.id === 'w2')!.run).toBe(first.id);
  });

  it('without a run limit sends what multiplayer sends, with the tracking key in the body', async () => {
    seedWorlds();
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm' } } });

    const first = await rm.getRun();
    const [, post] = await h.expectTrace([GET_WORLDS, `POST ${W2_RUN}`]); // v2: 3
    expect(post!.body).toEqual(BODY);
    expectV3Run(first, { freshlyCreated: true, trackingKey: 'tkm' });

    const reset = await rm.reset();
    await h.expectTrace([GET_WORLDS, `DELETE ${W2_RUN}`, `POST ${W2_RUN}`]); // v2: 4
    expectV3Run(reset, { freshlyCreated: true, settings: { trackingKey: 'tkm' } });
    expect(h.runCount()).toBe(2);
  });

  it('a user in no world: NO_WORLD_FOR_USER on getRun and on a limited reset', async () => {
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm', runLimit: 3 } } });
    await expectRejection(rm.getRun(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]); // v2: 1
    await expectRejection(rm.reset(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]); // v2: 1
    expect(h.runCount()).toBe(0);
  });

  it('with selfAssign, a user in no world is put in one and gets a tracking-key run there', async () => {
    const rm = h.manager({ strategy, session: SESSION_U3, strategyOptions: { settings: { trackingKey: 'tkm' }, selfAssign: {} } });
    const run = await rm.getRun();
    const worldKey = h.emulator.worlds()[0]?.id ?? 'none';
    await h.expectTrace([GET_WORLDS, `POST ${SELF_ASSIGN}`, `POST ${worldRunRoute(worldKey)}`]);
    expectV3Run(run, { freshlyCreated: true, trackingKey: 'tkm', world: { id: worldKey } });
  });

  it('onCreate runs on the run the world just created, with the service bound to it', async () => {
    seedWorlds();
    const onCreate = vi.fn(async (runService: unknown, _settings: Record<string, unknown>, run: Run) => {
      await (runService as RunService).do('step', [2]);
      return run;
    });
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm' }, onCreate } });

    const first = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `POST ${W2_RUN}`, `POST ${operationRoute(first.id)}`]); // v2: 4
    expect(onCreate).toHaveBeenCalledTimes(1);
    expect(onCreate.mock.calls[0]![2]).toMatchObject({ runKey: first.id });

    await rm.getRun();
    expect(onCreate).toHaveBeenCalledTimes(1);
    await h.take();

    const reset = await rm.reset();
    await h.expectTrace([GET_WORLDS, `DELETE ${W2_RUN}`, `POST ${W2_RUN}`, `POST ${operationRoute(reset.id)}`]); // v2: 5
    expect(onCreate).toHaveBeenCalledTimes(2);
    expect(h.emulator.getRun(first.id)!.variables).toMatchObject({ step: 2 });
    expect(h.emulator.getRun(reset.id)!.variables).toMatchObject({ step: 2 });
  });
});
