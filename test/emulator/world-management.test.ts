import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevToken } from '../../src/emulator/index.js';
import { call, createRun, RUNS, TOKEN_U1, TOKEN_U2, useEmulator } from './helpers.js';
import { fault, V3_U1, V3_U2, V3_U3, v3 } from './v3-helpers.js';

/** What Epicenter.js's World service sends, relative to the v2 base: `W`, `A`, `P` of the spec. */
const W = 'multiplayer/world/';
const A = 'multiplayer/assign/';
const P = 'multiplayer/project/acme/sim/';
const G1 = { account: 'acme', project: 'sim', group: 'g1' };
const TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

const emu = useEmulator();
afterEach(() => emu.stop());

async function createWorld(extra: Record<string, unknown> = {}): Promise<any> {
  const response = await call(emu.current, 'POST', W, { body: { ...G1, ...extra } });
  if (response.status !== 201) throw new Error(`world create failed: ${response.status} ${response.text}`);
  return response.body;
}

const ids = (worlds: Array<{ id: string }>) => worlds.map((world) => world.id);
const users = (world: { users: Array<Record<string, unknown>> }) => world.users.map(({ userId, role }) => [userId, role ?? null]);

/** Sends one request byte for byte (no URL normalisation) with u1's token and resolves with the status. */
function rawStatus(port: number, method: string, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const head = [
      `${method} ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      `Authorization: Bearer ${TOKEN_U1}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head.join('\r\n')}\r\n\r\n${body}`));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

/** `levels` objects nested in one another around 1. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let index = 0; index < levels; index += 1) value = { a: value };
  return value;
}

describe('create (POST W)', () => {
  it('answers 201 with the world record; account and project come from the body', async () => {
    await emu.start();
    const created = await call(emu.current, 'POST', W, { body: G1 });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      account: 'acme',
      project: 'sim',
      group: 'g1',
      users: [],
      roles: [],
      created: TIME,
      lastModified: created.body.created,
    });
    expect(emu.current.worlds()).toEqual([created.body]);
  });

  it('stores the whitelisted optional fields and nothing else', async () => {
    await emu.start();
    const params = { name: 'world-1', roles: ['role1', 'role2'], optionalRoles: ['observer'], minUsers: 2 };
    const withScope = { ...params, scope: { trackingKey: 'tk' }, files: { data: 'data.xls' } };
    const raw = JSON.stringify({ ...G1, ...withScope, other: 'x' }).replace('{', '{"__proto__":{"polluted":true},');
    const created = await call(emu.current, 'POST', 'multiplayer/world', { raw });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...G1, ...withScope, users: [] });
    expect(created.body).not.toHaveProperty('other');
    expect(Object.keys(created.body)).not.toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('creates several worlds from an array body (201 + array), all or nothing', async () => {
    await emu.start();
    const created = await call(emu.current, 'POST', W, { body: [G1, { ...G1, name: 'second' }] });
    expect(created.status).toBe(201);
    expect(created.body).toHaveLength(2);
    expect(created.body[1]).toMatchObject({ ...G1, name: 'second' });
    expect((await call(emu.current, 'POST', W, { body: [G1, { account: 'acme' }] })).status).toBe(400);
    expect(emu.current.worlds()).toHaveLength(2);
  });

  it('answers 400 for bodies it cannot take, creating nothing', async () => {
    await emu.start();
    const bodies: unknown[] = [
      { project: 'sim', group: 'g1' },
      { account: 'acme', group: 'g1' },
      { ...G1, account: '' },
      { ...G1, group: 7 },
      { ...G1, roles: 'leader' },
      { ...G1, roles: [1] },
      { ...G1, minUsers: -1 },
      { ...G1, minUsers: 1.5 },
      { ...G1, name: {} },
      { ...G1, scope: 'g' },
      { ...G1, files: 'f' },
      { ...G1, scope: nested(40) },
      [],
      ['x'],
      'acme',
    ];
    for (const body of bodies) expect((await call(emu.current, 'POST', W, { body })).status, JSON.stringify(body)).toBe(400);
    for (const raw of ['{', '', 'null']) expect((await call(emu.current, 'POST', W, { raw })).status, raw).toBe(400);
    expect(emu.current.worlds()).toEqual([]);
  });
});

describe('list, load, update, delete', () => {
  it('GET W?account&project&group lists the group; GET W{id}/ loads one (404 unknown)', async () => {
    await emu.start({ worlds: [{ id: 'w-other', account: 'acme', project: 'sim', group: 'g2' }] });
    const first = await createWorld();
    const second = await createWorld({ name: 'b' });
    const list = await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g1`);
    expect(list.status).toBe(200);
    expect(ids(list.body)).toEqual([first.id, second.id]);
    const loaded = await call(emu.current, 'GET', `${W}${first.id}/`);
    expect(loaded.status).toBe(200);
    expect(loaded.body).toEqual(first);
    expect((await call(emu.current, 'GET', `${W}${first.id}`)).body).toEqual(first);
    expect((await call(emu.current, 'GET', `${W}nope/`)).status).toBe(404);
  });

  it('PATCH W{id} (no trailing slash) updates roles, optionalRoles, minUsers and name; 200 + the record', async () => {
    await emu.start();
    const world = await createWorld();
    const patched = await call(emu.current, 'PATCH', `${W}${world.id}`, {
      body: { roles: ['role1'], optionalRoles: ['role2'], minUsers: 4, name: 'Our Team' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: world.id, roles: ['role1'], optionalRoles: ['role2'], minUsers: 4, name: 'Our Team' });
    expect(patched.body.lastModified > world.lastModified).toBe(true);
    expect((await call(emu.current, 'PATCH', `${W}${world.id}/`, { body: {} })).body).toMatchObject({ minUsers: 4 });
    expect((await call(emu.current, 'PATCH', `${W}${world.id}`, { body: { name: null } })).body).not.toHaveProperty('name');
    for (const body of [{ minUsers: -2 }, { roles: 'r' }, { name: 3 }, [1]]) {
      expect((await call(emu.current, 'PATCH', `${W}${world.id}`, { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await call(emu.current, 'PATCH', `${W}nope`, { body: { minUsers: 1 } })).status).toBe(404);
    expect(emu.current.worlds()[0]).toMatchObject({ roles: ['role1'], minUsers: 4 });
  });

  it('DELETE W{id} answers 204; the world is gone from v2 and v3, its run keeps scope.worldId', async () => {
    await emu.start();
    const world = await createWorld();
    const runId = (await call(emu.current, 'POST', `${W}${world.id}/run`, { body: { model: 'model.py' } })).body;
    const deleted = await call(emu.current, 'DELETE', `${W}${world.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await call(emu.current, 'GET', `${W}${world.id}/`)).status).toBe(404);
    expect((await call(emu.current, 'DELETE', `${W}${world.id}`)).status).toBe(404);
    expect((await v3(emu.current, 'GET', 'world/g1')).body).toEqual([]);
    expect(emu.current.getRun(runId)?.scope).toMatchObject({ worldId: world.id, group: 'g1' });
  });
});

describe('users', () => {
  it('POST W{id}/users adds [{ userId, role? }] (200 + the world); names known from tokens and runs are filled in', async () => {
    await emu.start();
    await createRun(emu.current, {}, TOKEN_U2);
    const world = await createWorld();
    const added = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u1', role: 'a' }] });
    expect(added.status).toBe(200);
    expect(added.body.users).toEqual([{ userId: 'u1', userName: 'alice', role: 'a', index: 0 }]);
    const more = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u2' }, { userId: 'u3' }, 'u4'] });
    expect(more.body.users).toEqual([
      { userId: 'u1', userName: 'alice', role: 'a', index: 0 },
      { userId: 'u2', userName: 'bob', index: 1 },
      { userId: 'u3', index: 2 },
      { userId: 'u4', index: 3 },
    ]);
    // A member listed again keeps its place; a role given replaces its role.
    const again = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u1' }, { userId: 'u3', role: 'c' }] });
    expect(users(again.body)).toEqual([
      ['u1', 'a'],
      ['u2', null],
      ['u3', 'c'],
      ['u4', null],
    ]);
    expect(again.body.lastModified > world.lastModified).toBe(true);
  });

  it('POST W{id}/users answers 400 for bodies that are not a list of users, 404 for unknown worlds', async () => {
    await emu.start();
    const world = await createWorld();
    for (const body of [{ userId: 'u1' }, [123], [{ role: 'a' }], [{ userId: '' }], [{ userId: 'u1', role: 5 }], 'u1']) {
      expect((await call(emu.current, 'POST', `${W}${world.id}/users`, { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await call(emu.current, 'POST', `${W}${world.id}/users`)).status).toBe(400);
    expect((await call(emu.current, 'POST', `${W}${world.id}/users`, { raw: '[{' })).status).toBe(400);
    expect((await call(emu.current, 'POST', `${W}nope/users`, { body: [{ userId: 'u1' }] })).status).toBe(404);
    expect(emu.current.worlds()[0]?.users).toEqual([]);
  });

  it('PATCH W{id}/users/{userId} sets the role ({ role: null } removes it); 404 for a non-member', async () => {
    await emu.start();
    const world = await createWorld();
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: '123' }, { userId: 'u2', role: 'x' }] });
    const updated = await call(emu.current, 'PATCH', `${W}${world.id}/users/123`, { body: { role: 'abc' } });
    expect(updated.status).toBe(200);
    expect(users(updated.body)).toEqual([
      ['123', 'abc'],
      ['u2', 'x'],
    ]);
    expect(users((await call(emu.current, 'PATCH', `${W}${world.id}/users/u2`, { body: { role: null } })).body)).toEqual([
      ['123', 'abc'],
      ['u2', null],
    ]);
    expect((await call(emu.current, 'PATCH', `${W}${world.id}/users/123`, { body: {} })).status).toBe(200);
    expect((await call(emu.current, 'PATCH', `${W}${world.id}/users/123`, { body: { role: 1 } })).status).toBe(400);
    expect((await call(emu.current, 'PATCH', `${W}${world.id}/users/nobody`, { body: { role: 'a' } })).status).toBe(404);
    expect((await call(emu.current, 'PATCH', `${W}nope/users/123`, { body: { role: 'a' } })).status).toBe(404);
  });

  it('DELETE W{id}/users/{userId} answers 204; ?deleteWorld=true deletes the world when it empties', async () => {
    await emu.start();
    const world = await createWorld();
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: '123' }, { userId: 'u2' }] });
    const removed = await call(emu.current, 'DELETE', `${W}${world.id}/users/123`);
    expect(removed.status).toBe(204);
    expect((await call(emu.current, 'DELETE', `${W}${world.id}/users/123`)).status).toBe(404);
    expect(users((await call(emu.current, 'GET', `${W}${world.id}/`)).body)).toEqual([['u2', null]]);

    const kept = await createWorld();
    await call(emu.current, 'POST', `${W}${kept.id}/users`, { body: ['a', 'b'] });
    expect((await call(emu.current, 'DELETE', `${W}${kept.id}/users/a?deleteWorld=true`)).status).toBe(204);
    expect((await call(emu.current, 'GET', `${W}${kept.id}/`)).status).toBe(200);

    expect((await call(emu.current, 'DELETE', `${W}${world.id}/users/u2?deleteWorld=true`)).status).toBe(204);
    expect((await call(emu.current, 'GET', `${W}${world.id}/`)).status).toBe(404);
    expect(ids(emu.current.worlds())).toEqual([kept.id]);
  });
});

describe('auto-assign (POST A) and project settings (P)', () => {
  it('GET P answers the defaults until PUT sets them (201); PATCH merges (200); DELETE (204) restores the defaults', async () => {
    await emu.start();
    const defaults = { account: 'acme', project: 'sim', roles: [], optionalRoles: [], minUsers: 1 };
    const initial = await call(emu.current, 'GET', P);
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual(defaults);
    const put = await call(emu.current, 'PUT', P, {
      body: { worlds: 'multiple', roles: ['VP Marketing', 'VP Sales'], optionalRoles: ['VP HR'] },
    });
    expect(put.status).toBe(201);
    expect(put.body).toEqual({
      ...defaults,
      worlds: 'multiple',
      roles: ['VP Marketing', 'VP Sales'],
      optionalRoles: ['VP HR'],
      created: TIME,
      lastModified: TIME,
    });
    const patched = await call(emu.current, 'PATCH', 'multiplayer/project/acme/sim', { body: { minUsers: 3 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ roles: ['VP Marketing', 'VP Sales'], minUsers: 3, created: put.body.created });
    expect((await call(emu.current, 'GET', 'multiplayer/project/?account=acme&project=sim')).body).toEqual(patched.body);
    expect((await call(emu.current, 'GET', 'multiplayer/project/acme/other/')).body.roles).toEqual([]);
    expect((await call(emu.current, 'PUT', P, { body: { roles: 'x' } })).status).toBe(400);
    expect((await call(emu.current, 'PUT', P)).status).toBe(400);
    expect((await call(emu.current, 'GET', 'multiplayer/project/acme/')).status).toBe(400);
    expect((await call(emu.current, 'POST', P, { body: {} })).status).toBe(405);
    expect((await call(emu.current, 'DELETE', P)).status).toBe(204);
    expect((await call(emu.current, 'GET', P)).body).toEqual(defaults);
  });

  it('places the listed users into worlds of maxUsers, creating worlds with the project roles; 200 + those worlds', async () => {
    await emu.start();
    await call(emu.current, 'PUT', P, { body: { roles: ['leader', 'follower'], optionalRoles: ['observer'] } });
    const assigned = await call(emu.current, 'POST', A, { body: { ...G1, maxUsers: 3, userIds: ['a', 'b', 'c', 'd', 'e'] } });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toHaveLength(2);
    expect(assigned.body[0]).toMatchObject({ ...G1, roles: ['leader', 'follower'], optionalRoles: ['observer'], created: TIME });
    expect(users(assigned.body[0])).toEqual([
      ['a', 'leader'],
      ['b', 'follower'],
      ['c', 'observer'],
    ]);
    expect(users(assigned.body[1])).toEqual([
      ['d', 'leader'],
      ['e', 'follower'],
    ]);
    expect(assigned.body[1].users[1]).toEqual({ userId: 'e', role: 'follower', index: 1 });
    // Users with a world in the group stay where they are; a world with room is filled first.
    const next = await call(emu.current, 'POST', 'multiplayer/assign', { body: { ...G1, maxUsers: 3, userIds: ['a', 'f', 'g'] } });
    expect(ids(next.body)).toEqual([assigned.body[1].id, expect.any(String)]);
    expect(users(next.body[0])).toEqual([
      ['d', 'leader'],
      ['e', 'follower'],
      ['f', 'observer'],
    ]);
    expect(users(next.body[1])).toEqual([['g', 'leader']]);
    expect((await call(emu.current, 'POST', A, { body: { ...G1, userIds: ['a', 'g'] } })).body).toEqual([]);
  });

  it('without maxUsers a world takes its roles or minUsers (at least 1); worlds: single puts everyone in one', async () => {
    await emu.start();
    const single = await call(emu.current, 'POST', A, { body: { ...G1, userIds: ['a', 'b'] } });
    expect(single.body.map(users)).toEqual([[['a', null]], [['b', null]]]);
    await call(emu.current, 'PUT', P, { body: { roles: ['x', 'y'] } });
    const pairs = await call(emu.current, 'POST', A, { body: { ...G1, group: 'g2', userIds: ['a', 'b', 'c'] } });
    expect(pairs.body.map(users)).toEqual([
      [
        ['a', 'x'],
        ['b', 'y'],
      ],
      [['c', 'x']],
    ]);
    await call(emu.current, 'PUT', P, { body: { worlds: 'single', minUsers: 2 } });
    const all = await call(emu.current, 'POST', A, { body: { ...G1, group: 'g3', userIds: ['a', 'b', 'c', 'd'] } });
    expect(all.body).toHaveLength(1);
    expect(all.body[0].users).toHaveLength(4);
  });

  it('without userIds assigns the group users the emulator knows: world members, run owners, world lookups', async () => {
    await emu.start();
    await createRun(emu.current, { scope: { group: 'g1' } }, TOKEN_U2);
    await createRun(emu.current, { scope: { group: 'other' } });
    await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g1&userId=u9`);
    const assigned = await call(emu.current, 'POST', A, { body: { ...G1, maxUsers: 5 } });
    expect(assigned.status).toBe(200);
    expect(assigned.body.map(users)).toEqual([
      [
        ['u2', null],
        ['u9', null],
      ],
    ]);
    expect(assigned.body[0].users[0]).toEqual({ userId: 'u2', userName: 'bob', index: 0 });
  });

  it('answers 400 for bodies it cannot take and 405 for other methods, changing nothing', async () => {
    await emu.start();
    const bodies: unknown[] = [
      { account: 'acme', project: 'sim' },
      { ...G1, group: '' },
      { ...G1, project: 3 },
      { ...G1, maxUsers: 0 },
      { ...G1, maxUsers: 'many' },
      { ...G1, userIds: 'a' },
      { ...G1, userIds: ['a', 2] },
      { ...G1, userIds: [''] },
      [G1],
    ];
    for (const body of bodies) expect((await call(emu.current, 'POST', A, { body })).status, JSON.stringify(body)).toBe(400);
    expect((await call(emu.current, 'POST', A)).status).toBe(400);
    const wrong = await call(emu.current, 'GET', A);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await call(emu.current, 'POST', `${A}x`, { body: G1 })).status).toBe(400);
    expect(emu.current.worlds()).toEqual([]);
  });
});

describe('a facilitator page and a player, as Epicenter.js sends them', () => {
  it('create → addUsers → updateUser → load; the player’s multiplayer strategy finds the world and its run', async () => {
    await emu.start();
    const world = (await call(emu.current, 'POST', W, { body: { ...G1, roles: ['leader'] } })).body;
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u2', role: 'leader' }, { userId: 'u3' }] });
    await call(emu.current, 'PATCH', `${W}${world.id}/users/u3`, { body: { role: 'member' } });
    expect(users((await call(emu.current, 'GET', `${W}${world.id}/`)).body)).toEqual([
      ['u2', 'leader'],
      ['u3', 'member'],
    ]);
    // The player: list its worlds, get or create the world run, load the run.
    const found = await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g1&userId=u2`, { token: TOKEN_U2 });
    expect(ids(found.body)).toEqual([world.id]);
    const runPost = await call(emu.current, 'POST', `${W}${world.id}/run`, { body: { model: 'model.py' }, token: TOKEN_U2 });
    expect(runPost.status).toBe(201);
    const run = await call(emu.current, 'GET', `${RUNS}${runPost.body}/`, { token: TOKEN_U2, headers: { 'X-AutoRestore': 'true' } });
    expect(run.body.scope).toEqual({ worldId: world.id, group: 'g1' });
    expect((await call(emu.current, 'GET', `${W}${world.id}/`)).body.run).toBe(runPost.body);
    expect(emu.current.requests.map((entry) => `${entry.method} ${entry.status}`)).toEqual([
      'POST 201',
      'POST 200',
      'PATCH 200',
      'GET 200',
      'GET 200',
      'POST 201',
      'GET 200',
      'GET 200',
    ]);
    expect(emu.current.requests[1]).toMatchObject({
      path: `/v2/${W}${world.id}/users`,
      user: 'u1',
      body: [{ userId: 'u2', role: 'leader' }, { userId: 'u3' }],
    });
  });

  it('auto-assign → the v2 multiplayer strategy flow (GET W?…&userId, POST W{id}/run) finds the world', async () => {
    await emu.start();
    const assigned = await call(emu.current, 'POST', A, { body: { ...G1, maxUsers: 2, userIds: ['u1', 'u2'] } });
    const [world] = assigned.body;
    const mine = await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g1&userId=u2`, { token: TOKEN_U2 });
    expect(ids(mine.body)).toEqual([world.id]);
    const first = await call(emu.current, 'POST', `${W}${world.id}/run`, { body: { model: 'model.py' }, token: TOKEN_U2 });
    expect(first.status).toBe(201);
    const second = await call(emu.current, 'POST', `${W}${world.id}/run`, { body: { model: 'model.py' } });
    expect(second.status).toBe(200);
    expect(second.body).toBe(first.body);
  });
});

describe('one store for v2 management and v3', () => {
  it('a world created over v2 is listed by v3 GET world/{group}, with its assignments', async () => {
    await emu.start();
    const world = await createWorld({ name: 'red' });
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u1', role: 'leader' }, { userId: 'u2' }] });
    const listed = await v3(emu.current, 'GET', 'world/g1');
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({
      worldKey: world.id,
      name: 'red',
      assignments: [{ role: 'leader', user: { userKey: 'u1', displayName: 'alice' } }, { user: { userKey: 'u2' } }],
    });
    expect((await v3(emu.current, 'GET', 'world/assignment', { token: V3_U2 })).body.map((view: any) => view.worldKey)).toEqual([world.id]);
  });

  it('a world created over v3 is loaded, changed and deleted by v2 management', async () => {
    await emu.start();
    const created = await v3(emu.current, 'POST', 'world/g1', { body: { name: 'blue' } });
    expect(created.status).toBe(201);
    const worldId = created.body.worldKey;
    const loaded = await call(emu.current, 'GET', `${W}${worldId}/`);
    expect(loaded.body).toMatchObject({ id: worldId, ...G1, name: 'blue', users: [] });
    await call(emu.current, 'POST', `${W}${worldId}/users`, { body: [{ userId: 'u3', role: 'r' }] });
    expect((await v3(emu.current, 'GET', 'world/g1?mine=true', { token: V3_U3 })).body[0].assignments).toEqual([
      { role: 'r', user: { userKey: 'u3', displayName: 'u3' } },
    ]);
    expect((await call(emu.current, 'DELETE', `${W}${worldId}`)).status).toBe(204);
    expect((await v3(emu.current, 'GET', 'world/g1')).body).toEqual([]);
  });

  it('v3 self-assignment fills a world v2 auto-assignment created, and v2 sees the result', async () => {
    await emu.start();
    await call(emu.current, 'POST', A, { body: { ...G1, maxUsers: 3, userIds: ['u1'] } });
    const mine = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 });
    expect(mine.status).toBe(200);
    const v2 = await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g1&userId=u3`);
    expect(ids(v2.body)).toEqual([mine.body.worldKey]);
    expect(users(v2.body[0])).toEqual([
      ['u1', null],
      ['u3', null],
    ]);
  });
});

describe('assignment changes invalidate v3 tokens when invalidateTokensOnAssignment is on', () => {
  const verify = (token: string) => v3(emu.current, 'GET', 'verification', { token });

  it('adding, re-roling and removing users, deleting worlds and auto-assigning invalidate exactly the affected users', async () => {
    await emu.start({ invalidateTokensOnAssignment: true });
    for (const token of [V3_U1, V3_U2, V3_U3]) expect((await verify(token)).status).toBe(200);
    const world = await createWorld();
    expect((await verify(V3_U2)).status).toBe(200);

    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u2' }] });
    expect((await verify(V3_U2)).body).toEqual(fault(401, 'AUTHENTICATION_INVALIDATED'));
    expect((await verify(V3_U3)).status).toBe(200);

    const renew = async (userId: string) => {
      const renewed = await v3(emu.current, 'PATCH', 'authentication', {
        token: userId === 'u2' ? V3_U2 : V3_U3,
        body: { objectType: 'user' },
      });
      expect(renewed.status).toBe(200);
      return renewed.body.token as string;
    };
    let u2 = await renew('u2');
    // Listing a member again without a role changes nothing.
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u2' }] });
    expect((await verify(u2)).status).toBe(200);
    await call(emu.current, 'PATCH', `${W}${world.id}/users/u2`, { body: { role: 'boss' } });
    expect((await verify(u2)).status).toBe(401);
    u2 = await renew('u2');
    await call(emu.current, 'DELETE', `${W}${world.id}/users/u2`);
    expect((await verify(u2)).status).toBe(401);
    u2 = await renew('u2');

    await call(emu.current, 'POST', A, { body: { ...G1, userIds: ['u3'] } });
    expect((await verify(V3_U3)).status).toBe(401);
    expect((await verify(u2)).status).toBe(200);
    const u3 = await renew('u3');
    const [assignedWorld] = emu.current.worlds().filter((candidate) => candidate.users?.some((user) => user.userId === 'u3'));
    await call(emu.current, 'DELETE', `${W}${assignedWorld?.id}`);
    expect((await verify(u3)).status).toBe(401);
    expect((await verify(u2)).status).toBe(200);
  });

  it('changes nothing while the switch is off', async () => {
    await emu.start();
    await verify(V3_U2);
    const world = await createWorld();
    await call(emu.current, 'POST', `${W}${world.id}/users`, { body: ['u2'] });
    await call(emu.current, 'DELETE', `${W}${world.id}`);
    expect((await verify(V3_U2)).status).toBe(200);
  });
});

describe('emulator conventions', () => {
  it('needs a token like every v2 route (401), unless anonymous requests are allowed', async () => {
    await emu.start();
    const world = await createWorld();
    const requests: Array<[string, string, unknown]> = [
      ['POST', W, G1],
      ['GET', `${W}${world.id}/`, undefined],
      ['PATCH', `${W}${world.id}`, { name: 'x' }],
      ['DELETE', `${W}${world.id}`, undefined],
      ['POST', `${W}${world.id}/users`, ['u1']],
      ['POST', A, G1],
      ['GET', P, undefined],
    ];
    for (const [method, path, body] of requests) {
      expect((await call(emu.current, method, path, { body, token: null })).status, `${method} ${path}`).toBe(401);
      expect((await call(emu.current, method, path, { body, token: 'not-a-jwt' })).status, `${method} ${path}`).toBe(401);
    }
    expect(emu.current.worlds()).toEqual([world]);
    await emu.stop();
    await emu.start({ anonymous: true });
    expect((await call(emu.current, 'POST', W, { body: G1, token: null })).status).toBe(201);
  });

  it('answers wrong methods 405 (with Allow) and unknown shapes 400', async () => {
    await emu.start();
    const world = await createWorld();
    const methods: Array<[string, string, string]> = [
      ['PUT', W, 'GET, POST'],
      ['POST', `${W}${world.id}`, 'GET, PATCH, DELETE'],
      ['GET', `${W}${world.id}/users`, 'POST'],
      ['POST', `${W}${world.id}/users/u1`, 'PATCH, DELETE'],
      ['GET', `${W}${world.id}/run`, 'POST, DELETE'],
    ];
    for (const [method, path, allow] of methods) {
      const response = await call(emu.current, method, path, method === 'GET' ? {} : { body: {} });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
    }
    for (const path of [`${W}${world.id}/other`, `${W}${world.id}/users/u1/x`, `${W}/users`, `${W}${world.id}/users//`]) {
      const response = await call(emu.current, 'GET', path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
    }
    expect((await call(emu.current, 'GET', 'multiplayer/other/')).status).toBe(404);
  });

  it('answers hostile ids and keys 4xx, never 500, and stores prototype names as plain data', async () => {
    await emu.start();
    const world = await createWorld();
    // fetch would resolve '.' and '..' (and %2E) itself: send them as they are.
    for (const id of ['.', '..', '__proto__', 'constructor', 'hasOwnProperty']) {
      for (const [method, path] of [
        ['GET', `/v2/${W}${id}/`],
        ['PATCH', `/v2/${W}${id}`],
        ['DELETE', `/v2/${W}${id}`],
        ['POST', `/v2/${W}${id}/users`],
        ['DELETE', `/v2/${W}${world.id}/users/${id}`],
        ['PATCH', `/v2/${W}${id}/users/${id}`],
      ] as const) {
        expect(await rawStatus(emu.current.port, method, path, '[]'), `${method} ${path}`).toBe(404);
      }
    }
    for (const path of [`${W}%zz/`, `${W}${world.id}/users/%zz`, 'multiplayer/project/%zz/sim/']) {
      expect((await call(emu.current, 'GET', path)).status, path).toBe(400);
    }
    const odd = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: ['__proto__', 'constructor', '..'] });
    expect(odd.status).toBe(200);
    expect(odd.body.users.map((user: { userId: string }) => user.userId)).toEqual(['__proto__', 'constructor', '..']);
    expect((await call(emu.current, 'PATCH', `${W}${world.id}/users/__proto__`, { body: { role: 'r' } })).status).toBe(200);
    expect(await rawStatus(emu.current.port, 'DELETE', `/v2/${W}${world.id}/users/..`, '')).toBe(204);
    expect(emu.current.worlds()[0]?.users?.map((user) => user.userId)).toEqual(['__proto__', 'constructor']);
    expect(emu.current.worlds()[0]?.users?.[0]).toEqual({ userId: '__proto__', role: 'r', index: 0 });
    const settings = await call(emu.current, 'PATCH', P, { raw: '{"__proto__":{"roles":["x"]},"constructor":1}' });
    expect(settings.status).toBe(200);
    expect(settings.body.roles).toEqual([]);
  });

  it('refuses bodies over bodyLimit (413) and what a request may store past the StoreBudget (400), changing nothing', async () => {
    await emu.start({ bodyLimit: 2048 });
    const world = await createWorld();
    const big = Array.from({ length: 200 }, (_, index) => ({ userId: `user-${index}`, role: 'r' }));
    expect((await call(emu.current, 'POST', `${W}${world.id}/users`, { body: big })).status).toBe(413);
    expect((await call(emu.current, 'POST', W, { body: { ...G1, name: 'x'.repeat(4096) } })).status).toBe(413);
    await emu.stop();

    await emu.start();
    const again = await createWorld();
    const many = Array.from({ length: 40_000 }, (_, index) => `user-${index}`);
    const refused = await call(emu.current, 'POST', `${W}${again.id}/users`, { body: many });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/more than 100000 keys/);
    // One request cannot create worlds without end: the budget covers everything it changes.
    const assign = await call(emu.current, 'POST', A, { body: { ...G1, userIds: many } });
    expect(assign.status).toBe(400);
    expect(assign.body.message).toMatch(/more than 100000 keys/);
    const deep = await call(emu.current, 'POST', W, { body: [G1, { ...G1, scope: nested(40) }] });
    expect(deep.status).toBe(400);
    expect(deep.body.message).toMatch(/deeper than 32 levels/);
    expect(emu.current.worlds()).toEqual([again]);
    await call(emu.current, 'PUT', P, { body: { worlds: 'single' } });
    const oneWorld = await call(emu.current, 'POST', A, { body: { ...G1, group: 'g8', userIds: many.slice(0, 20_000) } });
    expect(oneWorld.status).toBe(200);
    expect(oneWorld.body).toHaveLength(1);
    expect(oneWorld.body[0].users).toHaveLength(20_000);
  }, 30_000);

  it('injected faults, latency and the request log apply to the management routes', async () => {
    await emu.start();
    const world = await createWorld();
    emu.current.fail({ method: 'POST', path: '/multiplayer/assign', status: 503 });
    const failed = await call(emu.current, 'POST', A, { body: { ...G1, userIds: ['a'] } });
    expect(failed.status).toBe(503);
    expect(emu.current.worlds()).toHaveLength(1);
    emu.current.drop({ method: 'POST', path: `/users`, when: 'after' });
    await expect(call(emu.current, 'POST', `${W}${world.id}/users`, { body: ['u2'] })).rejects.toThrow();
    expect(emu.current.worlds()[0]?.users?.map((user) => user.userId)).toEqual(['u2']);
    emu.current.latency = 40;
    const started = Date.now();
    expect((await call(emu.current, 'GET', `${W}${world.id}/`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(39);
    const log = emu.current.requests;
    expect(log.map((entry) => [entry.method, entry.path, entry.status, entry.fault])).toEqual([
      ['POST', `/v2/${W}`, 201, undefined],
      ['POST', `/v2/${A}`, 503, 'fail:503'],
      ['POST', `/v2/${W}${world.id}/users`, 200, 'drop:after'],
      ['GET', `/v2/${W}${world.id}/`, 200, undefined],
    ]);
    expect(log.at(-1)?.aborted).toBe(false);
  });

  it('keeps worlds, project settings and learnt group members in the data file across a restart', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'run-lifecycle-world-management-'));
    try {
      const dataFile = join(directory, 'data.json');
      await emu.start({ dataFile });
      const world = await createWorld({ roles: ['a'] });
      await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u1', role: 'a' }] });
      await call(emu.current, 'PUT', P, { body: { roles: ['leader'] } });
      await call(emu.current, 'GET', `${W}?account=acme&project=sim&group=g2&userId=u7`);
      const onDisk = JSON.parse(readFileSync(dataFile, 'utf8'));
      expect(onDisk.projects).toEqual([{ account: 'acme', project: 'sim', settings: expect.objectContaining({ roles: ['leader'] }) }]);
      expect(onDisk.members).toEqual([{ account: 'acme', project: 'sim', group: 'g2', userId: 'u7' }]);
      const before = emu.current.worlds();
      await emu.stop();

      await emu.start({ dataFile });
      expect(emu.current.worlds()).toEqual(before);
      expect((await call(emu.current, 'GET', P)).body.roles).toEqual(['leader']);
      const assigned = await call(emu.current, 'POST', A, { body: { account: 'acme', project: 'sim', group: 'g2' } });
      expect(assigned.body.map(users)).toEqual([[['u7', 'leader']]]);
      emu.current.reset();
      expect((await call(emu.current, 'GET', P)).body.roles).toEqual([]);
      expect(JSON.parse(readFileSync(dataFile, 'utf8'))).toMatchObject({ worlds: [], projects: [], members: [] });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a token naming another user adds them by id; the caller’s own name comes from its token', async () => {
    await emu.start();
    const world = await createWorld();
    const carol = createDevToken({ userId: 'u5', userName: 'carol' });
    const added = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: [{ userId: 'u5' }], token: carol });
    expect(added.body.users).toEqual([{ userId: 'u5', userName: 'carol', index: 0 }]);
    const byOther = await call(emu.current, 'POST', `${W}${world.id}/users`, { body: ['u6'], token: TOKEN_U1 });
    expect(byOther.body.users[1]).toEqual({ userId: 'u6', index: 1 });
    expect((await v3(emu.current, 'GET', 'world/g1', { token: V3_U1 })).body[0].assignments[0].user.displayName).toBe('carol');
  });
});
