import { afterEach, describe, expect, it } from 'vitest';
import { createDevToken } from '../../src/emulator/index.js';
import { call, useEmulator } from './helpers.js';
import { fault, G1_KEY, V3_U1, V3_U2, V3_U3, V3_U4_G2, v3 } from './v3-helpers.js';

const emu = useEmulator({
  worlds: [
    {
      id: 'w1',
      account: 'acme',
      project: 'sim',
      group: 'g1',
      name: 'red',
      created: '2020-01-01T00:00:00.000Z',
      lastModified: '2020-01-02T00:00:00.000Z',
      users: [
        { userId: 'u1', userName: 'alice', role: 'leader' },
        { userId: 'u2', userName: 'bob' },
      ],
    },
    { id: 'w2', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1', role: 'member' }] },
    { id: 'w3', account: 'acme', project: 'sim', group: 'g2', users: [{ userId: 'u4' }] },
    { id: 'w4', account: 'acme', project: 'other', group: 'g1', users: [{ userId: 'u1' }] },
  ],
});
afterEach(() => emu.stop());

const worldKeys = (response: { body: Array<{ worldKey: string }> }) => response.body.map((world) => world.worldKey);
const modelBody = { morphology: 'MANY', modelFile: 'model.py' };

describe('world lists', () => {
  it('GET world/{group} lists the group, mine=true only the caller’s, as world views', async () => {
    await emu.start();
    const all = await v3(emu.current, 'GET', 'world/g1');
    expect(all.status).toBe(200);
    expect(worldKeys(all)).toEqual(['w1', 'w2']);
    expect(all.body[0]).toEqual({
      worldKey: 'w1',
      name: 'red',
      displayName: 'red',
      orbitType: 'GROUP',
      orbitKey: G1_KEY,
      created: '2020-01-01T00:00:00.000Z',
      lastUpdated: '2020-01-02T00:00:00.000Z',
      assignments: [{ role: 'leader', user: { userKey: 'u1', displayName: 'alice' } }, { user: { userKey: 'u2', displayName: 'bob' } }],
      allowChannel: false,
    });
    expect(worldKeys(await v3(emu.current, 'GET', 'world/g1?mine=true', { token: V3_U2 }))).toEqual(['w1']);
    expect(worldKeys(await v3(emu.current, 'GET', 'world/g1?mine=true', { token: V3_U3 }))).toEqual([]);
    expect(worldKeys(await v3(emu.current, 'GET', 'world/assignment/for/g1?mine=true', { token: V3_U2 }))).toEqual(['w1']);
    expect(worldKeys(await v3(emu.current, 'GET', 'world/assignment'))).toEqual(['w1', 'w2']);
    expect(worldKeys(await v3(emu.current, 'GET', 'world/assignment', { token: V3_U4_G2 }))).toEqual(['w3']);
    expect((await v3(emu.current, 'GET', 'world/assignment/w1')).body.worldKey).toBe('w1');
    expect((await v3(emu.current, 'GET', 'world/g2')).body[0].orbitKey).toBe('gk-g2');
  });
});

describe('run/world/{worldKey}', () => {
  it('creates the world run (201), returns it to every member (200), detaches it (204) and creates anew (201)', async () => {
    await emu.start();
    const first = await v3(emu.current, 'POST', 'run/world/w1', { body: { ...modelBody, trackingKey: 'tk' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      scope: { scopeBoundary: 'WORLD', scopeKey: 'w1' },
      trackingKey: 'tk',
      modelFile: 'model.py',
      address: { groupName: 'g1', worldKey: 'w1' },
      user: { userKey: 'u1' },
    });
    expect(first.body.scope.userKey).toBeUndefined();
    expect((await v3(emu.current, 'GET', 'world/g1')).body[0].runKey).toBe(first.body.runKey);

    const again = await v3(emu.current, 'POST', 'run/world/w1', { token: V3_U2, body: modelBody });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // An existing run is answered even without a model: nothing is created.
    expect((await v3(emu.current, 'POST', 'run/world/w1')).status).toBe(200);

    const detached = await v3(emu.current, 'DELETE', 'run/world/w1');
    expect(detached.status).toBe(204);
    expect(detached.text).toBe('');
    expect((await v3(emu.current, 'GET', 'world/g1')).body[0].runKey).toBeUndefined();
    expect((await v3(emu.current, 'GET', `run/${first.body.runKey}`)).status).toBe(200);

    const fresh = await v3(emu.current, 'POST', 'run/world/w1', { body: modelBody });
    expect(fresh.status).toBe(201);
    expect(fresh.body.runKey).not.toBe(first.body.runKey);
  });

  it('shares world runs with v2 both ways', async () => {
    await emu.start();
    const v2 = await call(emu.current, 'POST', 'multiplayer/world/w1/run', { body: { model: 'model.py' } });
    expect(v2.status).toBe(201);
    const seen = await v3(emu.current, 'POST', 'run/world/w1', { body: modelBody });
    expect(seen.status).toBe(200);
    expect(seen.body.runKey).toBe(v2.body);
    const created = await v3(emu.current, 'POST', 'run/world/w2', { body: modelBody });
    expect(created.status).toBe(201);
    const again = await call(emu.current, 'POST', 'multiplayer/world/w2/run', { body: { model: 'model.py' } });
    expect(again.status).toBe(200);
    expect(again.body).toBe(created.body.runKey);
  });

  it('refuses non-members (403 NOT_IN_WORLD), unknown worlds (404) and creates without a modelFile (400)', async () => {
    await emu.start();
    expect((await v3(emu.current, 'POST', 'run/world/w2', { token: V3_U2, body: modelBody })).body).toEqual(fault(403, 'NOT_IN_WORLD'));
    expect((await v3(emu.current, 'POST', 'run/world/nope', { body: modelBody })).body).toEqual(fault(404, 'WORLD_NOT_FOUND'));
    expect((await v3(emu.current, 'POST', 'run/world/w4', { body: modelBody })).body).toEqual(fault(404, 'WORLD_NOT_FOUND'));
    expect((await v3(emu.current, 'DELETE', 'run/world/nope')).status).toBe(404);
    expect((await v3(emu.current, 'POST', 'run/world/w1', { body: { morphology: 'MANY' } })).body).toEqual(fault(400, 'BAD_REQUEST'));
    expect((await v3(emu.current, 'GET', 'run/world/w1')).status).toBe(405);
    expect(emu.current.runs()).toHaveLength(0);
  });
});

describe('world management', () => {
  it('creates (201), updates, attaches a run and deletes (204) worlds', async () => {
    await emu.start();
    const created = await v3(emu.current, 'POST', 'world/g1', { body: { displayName: 'The Blue' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'World 3', displayName: 'The Blue', assignments: [], orbitKey: G1_KEY });
    const named = await v3(emu.current, 'POST', 'world/g1', { body: { name: 'green' } });
    expect(named.body).toMatchObject({ name: 'green', displayName: 'green' });
    const key = created.body.worldKey;
    expect(emu.current.worlds().find((world) => world.id === key)).toMatchObject({ account: 'acme', project: 'sim', group: 'g1' });

    const run = await v3(emu.current, 'POST', 'run', {
      body: { scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY }, ...modelBody },
    });
    const patched = await v3(emu.current, 'PATCH', `world/${key}`, { body: { displayName: 'Blue', runKey: run.body.runKey } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'Blue', runKey: run.body.runKey });
    expect(patched.body.lastUpdated > created.body.lastUpdated).toBe(true);
    expect((await v3(emu.current, 'PATCH', `world/${key}`, { body: { runKey: null } })).body.runKey).toBeUndefined();
    expect((await v3(emu.current, 'PATCH', `world/run/${key}`, { body: { runKey: run.body.runKey } })).body.runKey).toBe(run.body.runKey);
    expect((await v3(emu.current, 'PATCH', `world/run/${key}`, { body: {} })).status).toBe(400);
    expect((await v3(emu.current, 'PATCH', `world/${key}`, { body: { runKey: 'nope' } })).body).toEqual(fault(404, 'RUN_NOT_FOUND'));
    expect((await v3(emu.current, 'PATCH', `world/${key}`, { body: { displayName: 5 } })).status).toBe(400);

    expect((await v3(emu.current, 'DELETE', `world/${key}`)).status).toBe(204);
    expect(worldKeys(await v3(emu.current, 'GET', 'world/g1'))).toEqual(['w1', 'w2', named.body.worldKey]);
    expect((await v3(emu.current, 'DELETE', `world/${key}`)).body).toEqual(fault(404, 'WORLD_NOT_FOUND'));
    expect((await v3(emu.current, 'GET', `run/${run.body.runKey}`)).status).toBe(200);
  });

  it('assigns users automatically, replaces assignments and removes users', async () => {
    await emu.start();
    const auto = await v3(emu.current, 'POST', 'world/assignment/g1', {
      body: {
        assignments: [{ userKey: 'u5', role: 'member' }, { userKey: 'u6' }, { userKey: 'u1' }],
        populace: [{ role: 'member', maximum: 1 }],
      },
    });
    expect(auto.status).toBe(200);
    // u5 (member): only w1 has room for a member; u6 (no populace entry) goes to the emptiest; u1 already has a world.
    const members = (world: any) => world.assignments.map((assignment: any) => assignment.user.userKey);
    expect(auto.body.map(members)).toEqual([
      ['u1', 'u2', 'u5'],
      ['u1', 'u6'],
    ]);

    const edited = await v3(emu.current, 'PUT', 'world/assignment/g1', {
      body: { assignments: { w2: [{ userKey: 'u2', role: 'leader' }, { userKey: 'u7' }] } },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.map(members)).toEqual([
      ['u1', 'u5'],
      ['u2', 'u7'],
    ]);
    expect(edited.body[1].assignments[0]).toEqual({ role: 'leader', user: { userKey: 'u2', displayName: 'bob' } });
    expect((await v3(emu.current, 'PUT', 'world/assignment/g1', { body: { assignments: { w3: [] } } })).status).toBe(404);
    expect((await v3(emu.current, 'PUT', 'world/assignment/g1', { body: { assignments: { w2: [{ role: 'x' }] } } })).status).toBe(400);

    const removed = await v3(emu.current, 'DELETE', 'world/assignment/g1?userKey=u5&userKey=u7');
    expect(removed.status).toBe(204);
    expect((await v3(emu.current, 'GET', 'world/g1')).body.map(members)).toEqual([['u1'], ['u2']]);
    expect((await v3(emu.current, 'DELETE', 'world/assignment/g1')).status).toBe(400);
  });
});

describe('world/selfassign/{group}', () => {
  const u = (id: string) => createDevToken({ userId: id, groupName: 'g1', groupKey: G1_KEY });

  it('answers the caller’s world when it has one, else places it in a world with room, else a new world', async () => {
    await emu.start();
    const populace = [{ role: 'member', minimum: 1, maximum: 2 }];
    const existing = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U2, body: { role: 'member', populace } });
    expect(existing.status).toBe(200);
    expect(existing.body.worldKey).toBe('w1');

    // w2 already has one member of at most two, w1 none: MINIMUM fills the emptiest (w2 has 1 user, w1 2).
    const first = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u5'), body: { role: 'member', populace } });
    expect(first.body.worldKey).toBe('w2');
    expect(first.body.assignments).toContainEqual({ role: 'member', user: { userKey: 'u5', displayName: 'u5' } });
    // w2 now has two members: the next member goes to w1.
    expect(
      (await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u6'), body: { role: 'member', populace } })).body.worldKey,
    ).toBe('w1');
    expect(
      (await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u7'), body: { role: 'member', populace } })).body.worldKey,
    ).toBe('w1');
    // Both full of members: a new world.
    const fresh = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u8'), body: { role: 'member', populace } });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ name: 'World 3', assignments: [{ role: 'member', user: { userKey: 'u8' } }] });
    expect(worldKeys(await v3(emu.current, 'GET', 'world/g1'))).toHaveLength(3);
    // Asked again, u8 gets the same world.
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u8') })).body.worldKey).toBe(fresh.body.worldKey);
  });

  it('MAXIMUM fills the fullest world with room; no populace means always room', async () => {
    await emu.start();
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u5'), body: { objective: 'MAXIMUM' } })).body.worldKey).toBe(
      'w1',
    );
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u6') })).body.worldKey).toBe('w2');
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u7'), body: { objective: 'NONE' } })).status).toBe(400);
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: u('u7'), body: { populace: [{ maximum: 1 }] } })).status).toBe(
      400,
    );
  });

  it('refuses callers of another group (403 NOT_IN_GROUP) and, when disabled, everyone (403 WORLD_SELF_ASSIGN_DISABLED)', async () => {
    await emu.start({ allowWorldSelfAssign: false });
    const disabled = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 });
    expect(disabled.status).toBe(403);
    expect(disabled.body).toEqual(fault(403, 'WORLD_SELF_ASSIGN_DISABLED'));
    expect(emu.current.settings()).toEqual({ allowWorldSelfAssign: false, invalidateTokensOnAssignment: false });

    emu.current.configure({ allowWorldSelfAssign: true });
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 })).status).toBe(200);
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U4_G2 })).body).toEqual(fault(403, 'NOT_IN_GROUP'));

    const control = await call(emu.current, 'PUT', '/_emulator/settings', { token: null, body: { allowWorldSelfAssign: false } });
    expect(control.body).toEqual({ allowWorldSelfAssign: false, invalidateTokensOnAssignment: false });
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U1 })).body).toEqual(fault(403, 'WORLD_SELF_ASSIGN_DISABLED'));
    expect((await call(emu.current, 'GET', '/_emulator/settings', { token: null })).body.allowWorldSelfAssign).toBe(false);
  });
});
