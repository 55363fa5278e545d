/**
 * Integration: multiplayer and reuse-by-tracking-key-multiplayer through the public RunManager
 * against the emulator: NO_WORLD_FOR_USER on getRun and reset, and no stale cached field in the
 * world-run body.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Run, RunService } from '../../src/index.js';
import {
  CREATE_BODY,
  expectRejection,
  NEWEST_CAMEL,
  originalRequests,
  RUNS,
  SESSION_KEY,
  SESSION_U2,
  TOKEN_U1,
  useIntegration,
  WORLD_QUERY,
  WORLDS,
} from './helpers.js';

const h = useIntegration();

const GET_WORLDS = `GET ${WORLDS}`;
const WORLD_RUN = `${WORLDS}w2/run`;

/** Worlds: w1 (2020) and w2 (2021); u1 is in both, u2 in w2. */
function seedWorlds(): void {
  h.emulator.seed({
    worlds: [
      { id: 'w1', account: 'acme', project: 'sim', group: 'g1', lastModified: '2020-01-01T00:00:00.000Z', users: [{ userId: 'u1' }] },
      {
        id: 'w2',
        account: 'acme',
        project: 'sim',
        group: 'g1',
        lastModified: '2021-01-01T00:00:00.000Z',
        users: [{ userId: 'u1' }, { userId: 'u2' }],
      },
    ],
  });
}

describe('multiplayer', () => {
  const original = (phase: 'first' | 'steady' | 'reset', variables = false) => originalRequests('multiplayer', phase, { variables });

  it('joins the current run of the newest world, reuses it, and resets it', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer' });

    const first = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`], original('first'));
    expect(entries[0]!.query).toEqual(WORLD_QUERY);
    expect(entries[1]!.body).toEqual(CREATE_BODY);
    expect(entries[1]!.status).toBe(201);
    expect(first).toMatchObject({ freshlyCreated: true, world: { id: 'w2' }, scope: { group: 'g1', worldId: 'w2' }, user: { id: 'u1' } });
    expect(h.runCount()).toBe(1);

    // The world list names the world's run: no world-run POST, which would only answer 200 with that id.
    const steady = await rm.getRun();
    const again = await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`], original('steady'));
    expect(again[1]!.status).toBe(200);
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false, world: { id: 'w2', run: first.id } });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`], original('steady', true));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const resetEntries = await h.expectTrace(
      [GET_WORLDS, `DELETE ${WORLD_RUN}`, `POST ${WORLD_RUN}`, `GET ${RUNS}${reset.id}/`],
      original('reset'),
    );
    expect(resetEntries.map((entry) => entry.status)).toEqual([200, 204, 201, 200]);
    expect(resetEntries[2]!.body).toEqual(CREATE_BODY);
    expect(reset.id).not.toBe(first.id);
    expect(reset).toMatchObject({ freshlyCreated: true, world: { id: 'w2' } });
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${RUNS}${reset.id}/`], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false, world: { id: 'w2' } });
    expect(h.runCount()).toBe(2);

    // Another member of the world gets the same run.
    const shared = await h.manager({ strategy: 'multiplayer', session: SESSION_U2 }).getRun();
    const [lookup] = await h.expectTrace([GET_WORLDS, `GET ${RUNS}${reset.id}/`]);
    expect(lookup!.query).toMatchObject({ userId: 'u2' });
    expect(shared).toMatchObject({ id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(2);
  });

  it('a run the world list names that answers 404: the world-run POST follows, never a silent failure', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer' });
    const first = await rm.getRun();
    await h.take();

    h.emulator.fail({ method: 'GET', path: `/run/acme/sim/${first.id}/`, status: 404, times: 1 });
    const again = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`]);
    expect(entries.map((entry) => entry.status)).toEqual([200, 404, 200, 200]);
    expect(entries[2]!.body).toEqual(CREATE_BODY);
    expect(again).toMatchObject({ id: first.id, freshlyCreated: false, world: { id: 'w2' } });
    expect(h.runCount()).toBe(1);
  });

  it('a user in no world: NO_WORLD_FOR_USER on getRun and on reset', async () => {
    const rm = h.manager({ strategy: 'multiplayer' });
    const error = await expectRejection(rm.getRun(), 'NO_WORLD_FOR_USER');
    expect(error.message).toBe('User u1 is not part of a world');
    await h.expectTrace([GET_WORLDS]);

    await expectRejection(rm.reset(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]);
    expect(h.runCount()).toBe(0);
  });

  it('without a userId rejects UNAUTHORIZED before any request', async () => {
    seedWorlds();
    const rm = h.manager({ strategy: 'multiplayer', session: { groupName: 'g1', auth_token: TOKEN_U1 } });
    await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    await expectRejection(rm.reset(), 'UNAUTHORIZED');
    await h.expectTrace([]);
  });

  it('stale fields of the cached record never reach the world-run body', async () => {
    seedWorlds();
    await h.store.set(SESSION_KEY, {
      v: 1,
      runId: 'old-run',
      userId: 'u1',
      model: 'model.py',
      savedAt: Date.now(),
      scope: { worldId: 'w1', trackingKey: 'stale' },
      files: { data: 'old.xls' },
    });
    const rm = h.manager({ strategy: 'multiplayer' });

    const run = await rm.getRun();
    const [, post] = await h.expectTrace([GET_WORLDS, `POST ${WORLD_RUN}`, `GET ${RUNS}${run.id}/`]);
    expect(post!.body).toEqual(CREATE_BODY);
    expect(await h.store.get(SESSION_KEY)).toEqual({ v: 1, runId: run.id, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) });

    const reset = await rm.reset();
    const [, , resetPost] = await h.expectTrace([GET_WORLDS, `DELETE ${WORLD_RUN}`, `POST ${WORLD_RUN}`, `GET ${RUNS}${reset.id}/`]);
    expect(resetPost!.body).toEqual(CREATE_BODY);
    expect(h.emulator.getRun(reset.id)!.scope).toEqual({ group: 'g1', worldId: 'w2' });
  });
});

describe('reuse-by-tracking-key-multiplayer', () => {
  const QUERY = `GET ${RUNS};scope.trackingKey=tkm;scope.worldId=w2;scope.group=g1;trashed=false/`;
  const BODY = { model: 'model.py', scope: { group: 'g1', trackingKey: 'tkm' } };
  const original = (phase: 'first' | 'steady' | 'reset', extra: { variables?: boolean; limited?: boolean } = {}) =>
    originalRequests('reuse-by-tracking-key-multiplayer', phase, extra);
  const strategy = 'reuse-by-tracking-key-multiplayer';

  it('with a run limit: counts before the world creates, reuses with settings, resets within the limit', async () => {
    seedWorlds();
    const settings = { trackingKey: 'tkm', runLimit: 5 };
    const rm = h.manager({ strategy, strategyOptions: { settings } });

    const first = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, QUERY, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`], original('first'));
    expect(entries[1]!.query).toEqual(NEWEST_CAMEL);
    expect(entries[2]!.body).toEqual(BODY);
    expect(entries[2]!.status).toBe(201);
    expect(first).toMatchObject({
      freshlyCreated: true,
      settings,
      world: { id: 'w2' },
      scope: { group: 'g1', trackingKey: 'tkm', worldId: 'w2' },
    });
    expect(h.runCount()).toBe(1);

    // The world list names the run: no count, no world-run POST.
    const steady = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`], original('steady'));
    // The original returns a reused run without settings.
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false, settings, world: { id: 'w2' } });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`], original('steady', { variables: true }));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 }, settings });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const resetEntries = await h.expectTrace(
      [GET_WORLDS, QUERY, `DELETE ${WORLD_RUN}`, `POST ${WORLD_RUN}`, `GET ${RUNS}${reset.id}/`],
      original('reset', { limited: true }),
    );
    expect(resetEntries[3]!.body).toEqual(BODY);
    expect(reset).toMatchObject({ freshlyCreated: true, settings, world: { id: 'w2' }, scope: { trackingKey: 'tkm' } });
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `GET ${RUNS}${reset.id}/`], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false, settings });
    expect(h.runCount()).toBe(2);
  });

  it('with a run limit, a named run that answers 404 is counted for before the world-run POST', async () => {
    seedWorlds();
    const settings = { trackingKey: 'tkm', runLimit: 5 };
    const rm = h.manager({ strategy, strategyOptions: { settings } });
    const first = await rm.getRun();
    await h.take();

    h.emulator.fail({ method: 'GET', path: `/run/acme/sim/${first.id}/`, status: 404, times: 1 });
    const again = await rm.getRun();
    const entries = await h.expectTrace([GET_WORLDS, `GET ${RUNS}${first.id}/`, QUERY, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`]);
    expect(entries.map((entry) => entry.status)).toEqual([200, 404, 200, 200, 200]);
    expect(entries[3]!.body).toEqual(BODY);
    expect(again).toMatchObject({ id: first.id, freshlyCreated: false, settings });
    expect(h.runCount()).toBe(1);
  });

  it('refuses a reset at the run limit without touching the world', async () => {
    seedWorlds();
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm', runLimit: 1 } } });
    const first = await rm.getRun();
    await h.take();

    await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    await h.expectTrace([GET_WORLDS, QUERY], original('reset', { limited: true }));
    expect(h.runCount()).toBe(1);
    expect(h.emulator.worlds().find((world) => world.id === 'w2')!.run).toBe(first.id);
  });

  it('without a run limit sends what multiplayer sends', async () => {
    seedWorlds();
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm' } } });

    const first = await rm.getRun();
    const [, post] = await h.expectTrace(
      [GET_WORLDS, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`],
      originalRequests('multiplayer', 'first'),
    );
    expect(post!.body).toEqual(BODY);

    const reset = await rm.reset();
    await h.expectTrace(
      [GET_WORLDS, `DELETE ${WORLD_RUN}`, `POST ${WORLD_RUN}`, `GET ${RUNS}${reset.id}/`],
      originalRequests('multiplayer', 'reset'),
    );
    expect(reset).toMatchObject({ freshlyCreated: true, settings: { trackingKey: 'tkm' } });
    expect(h.runCount()).toBe(2);
  });

  it('a user in no world: NO_WORLD_FOR_USER on getRun and on a limited reset (never a TypeError)', async () => {
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm', runLimit: 3 } } });
    await expectRejection(rm.getRun(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]);
    await expectRejection(rm.reset(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([GET_WORLDS]);
    expect(h.runCount()).toBe(0);
  });

  it('onCreate runs on the run the world just created, with the service bound to it', async () => {
    seedWorlds();
    const onCreate = vi.fn(async (runService: unknown, _settings: Record<string, unknown>, run: Run) => {
      await (runService as RunService).do('step', [2]);
      return run;
    });
    const rm = h.manager({ strategy, strategyOptions: { settings: { trackingKey: 'tkm' }, onCreate } });

    const first = await rm.getRun();
    await h.expectTrace([GET_WORLDS, `POST ${WORLD_RUN}`, `GET ${RUNS}${first.id}/`, `POST ${RUNS}${first.id}/operations/step/`]);
    expect(onCreate).toHaveBeenCalledTimes(1);

    await rm.getRun();
    expect(onCreate).toHaveBeenCalledTimes(1);
    await h.take();

    const reset = await rm.reset();
    await h.expectTrace([
      GET_WORLDS,
      `DELETE ${WORLD_RUN}`,
      `POST ${WORLD_RUN}`,
      `GET ${RUNS}${reset.id}/`,
      `POST ${RUNS}${reset.id}/operations/step/`,
    ]);
    expect(onCreate).toHaveBeenCalledTimes(2);
    expect(h.emulator.getRun(first.id)!.variables).toMatchObject({ step: 2 });
    expect(h.emulator.getRun(reset.id)!.variables).toMatchObject({ step: 2 });
  });
});
