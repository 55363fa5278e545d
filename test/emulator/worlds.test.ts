import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, RUNS, TOKEN_U2, useEmulator } from './helpers.js';

const emu = useEmulator({
  worlds: [
    {
      id: 'w1',
      account: 'acme',
      project: 'sim',
      group: 'g1',
      lastModified: '2020-01-01T00:00:00.000Z',
      users: [{ userId: 'u1' }, { userId: 'u2' }],
    },
    {
      id: 'w2',
      account: 'acme',
      project: 'sim',
      group: 'g1',
      lastModified: '2021-01-01T00:00:00.000Z',
      users: [{ userId: 'u1', role: 'leader' }],
    },
    { id: 'w3', account: 'acme', project: 'sim', group: 'g2', users: [{ userId: 'u3' }] },
    { id: 'w4', account: 'acme', project: 'other', group: 'g1', users: [{ userId: 'u1' }] },
  ],
});
beforeEach(() => emu.start());
afterEach(() => emu.stop());

describe('world list', () => {
  it('lists the worlds a user belongs to, filtered by account, project and group', async () => {
    const worldIds = async (query: string) =>
      (await call(emu.current, 'GET', `multiplayer/world/?${query}`)).body.map((world: { id: string }) => world.id);
    expect(await worldIds('account=acme&project=sim&group=g1&userId=u1')).toEqual(['w1', 'w2']);
    expect(await worldIds('account=acme&project=sim&userId=u2')).toEqual(['w1']);
    expect(await worldIds('account=acme&userId=u1')).toEqual(['w1', 'w2', 'w4']);
    expect(await worldIds('account=acme&project=sim&group=g1&userId=nobody')).toEqual([]);
    const [w1] = (await call(emu.current, 'GET', 'multiplayer/world?account=acme&project=sim&userId=u2')).body;
    expect(w1).toMatchObject({
      id: 'w1',
      group: 'g1',
      lastModified: '2020-01-01T00:00:00.000Z',
      users: [{ userId: 'u1' }, { userId: 'u2' }],
    });
    // A world create needs its account and project (world management is covered in world-management.test.ts).
    expect((await call(emu.current, 'POST', 'multiplayer/world/')).status).toBe(400);
  });
});

describe('world run', () => {
  it('creates (201), returns the same (200), detaches (204) and creates again (201)', async () => {
    const path = 'multiplayer/world/w2/run';
    const first = await call(emu.current, 'POST', path, { body: { model: 'model.py', scope: { group: 'stale', trackingKey: 'tk' } } });
    expect(first.status).toBe(201);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof first.body).toBe('string');
    expect(first.text).toBe(JSON.stringify(first.body));
    const run = (await call(emu.current, 'GET', `${RUNS}${first.body}/`)).body;
    expect(run).toMatchObject({
      account: 'acme',
      project: 'sim',
      model: 'model.py',
      user: { id: 'u1' },
      scope: { group: 'g1', trackingKey: 'tk', worldId: 'w2' },
    });
    expect((await call(emu.current, 'GET', `${RUNS};scope.worldId=w2/`)).body).toHaveLength(1);

    const again = await call(emu.current, 'POST', path, { body: { model: 'model.py' }, token: TOKEN_U2 });
    expect(again.status).toBe(200);
    expect(again.body).toBe(first.body);

    const detached = await call(emu.current, 'DELETE', path);
    expect(detached.status).toBe(204);
    expect(detached.text).toBe('');
    expect(emu.current.worlds().find((world) => world.id === 'w2')?.run).toBeUndefined();
    expect(emu.current.getRun(first.body)?.scope?.worldId).toBe('w2');

    const fresh = await call(emu.current, 'POST', `${path}/`, { body: { model: 'model.py' } });
    expect(fresh.status).toBe(201);
    expect(fresh.body).not.toBe(first.body);
    expect(emu.current.worlds().find((world) => world.id === 'w2')?.run).toBe(fresh.body);
  });

  it('answers 404 for unknown worlds, 400 without a model, 405 for other methods', async () => {
    expect((await call(emu.current, 'POST', 'multiplayer/world/nope/run', { body: { model: 'm' } })).status).toBe(404);
    expect((await call(emu.current, 'DELETE', 'multiplayer/world/nope/run')).status).toBe(404);
    expect((await call(emu.current, 'POST', 'multiplayer/world/w1/run', { body: {} })).status).toBe(400);
    expect((await call(emu.current, 'POST', 'multiplayer/world/w1/run')).status).toBe(400);
    expect((await call(emu.current, 'POST', 'multiplayer/world/w1/run', { raw: '{' })).status).toBe(400);
    expect((await call(emu.current, 'GET', 'multiplayer/world/w1/run')).status).toBe(405);
    expect((await call(emu.current, 'PUT', 'multiplayer/world/w1/run', { body: {} })).status).toBe(405);
    expect(emu.current.runs()).toHaveLength(0);
  });

  it('addWorld and seed validate worlds', () => {
    expect(() => emu.current.addWorld({ id: 'w1', account: 'acme', project: 'sim' })).toThrow(TypeError);
    expect(() => emu.current.addWorld({ id: 'w9' })).toThrow(TypeError);
    expect(() => emu.current.addWorld({ id: 'w9', account: 'a', project: 'p', users: [{ nope: 1 }] } as never)).toThrow(TypeError);
    expect(() =>
      emu.current.seed({
        worlds: [
          { id: 'w8', account: 'a', project: 'p' },
          { id: 'w8', account: 'a', project: 'p' },
        ],
      }),
    ).toThrow(/already exists/);
    expect(emu.current.worlds().map((world) => world.id)).not.toContain('w8');
    const added = emu.current.addWorld({ id: 'w9', account: 'a', project: 'p' });
    expect(added).toMatchObject({ id: 'w9', users: [], created: expect.any(String) });
    expect(emu.current.worlds().map((world) => world.id)).toContain('w9');
  });

  it("addWorld's errors name the fields of the world passed; seed's name the world's place in the batch", () => {
    const valid = { id: 'w9', account: 'a', project: 'p' };
    const cases: Array<[unknown, string]> = [
      [{ ...valid, users: [{ userId: 'u1' }, { userId: 5 }] }, 'addWorld: users[1].userId must be a string, got a number'],
      [{ ...valid, users: [{ userId: 'u1' }, 'u2'] }, 'addWorld: users[1] must be an object { userId: string }, got a string'],
      [{ ...valid, users: { userId: 'u1' } }, 'addWorld: users must be an array of { userId: string }, got an object'],
      [{ account: 'a', project: 'p' }, 'addWorld: id must be a non-empty string, got undefined'],
      [{ ...valid, project: '' }, 'addWorld: project must be a non-empty string, got an empty string'],
      [{ ...valid, group: 7 }, 'addWorld: group must be a string, got a number'],
      ['w9', 'addWorld: the world must be an object, got a string'],
      [{ ...valid, id: 'w1', account: 'acme', project: 'sim' }, 'addWorld: world w1 already exists'],
    ];
    for (const [world, message] of cases) {
      expect(() => emu.current.addWorld(world as never), message).toThrow(new TypeError(message));
    }
    expect(() => emu.current.seed({ worlds: [valid, { ...valid, id: 'w8', users: [{ userId: null }] } as never] })).toThrow(
      new TypeError('worlds[1].users[0].userId must be a string, got null'),
    );
    expect(() => emu.current.seed({ runs: [{ account: 'acme' }] })).toThrow(
      new TypeError('runs[0].project must be a non-empty string, got undefined'),
    );
    expect(emu.current.worlds().map((world) => world.id)).not.toContain('w9');
  });
});
