import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, useEmulator } from './helpers.js';
import { createV3Run, fault, G1_KEY, V3_U1, V3_U2, V3_U3, v3 } from './v3-helpers.js';

const emu = useEmulator({
  variables: { price: 10 },
  worlds: [{ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1', userName: 'alice', role: 'leader' }] }],
});
beforeEach(() => emu.start());
afterEach(() => emu.stop());

const group = { scopeBoundary: 'GROUP', scopeKey: G1_KEY };

describe('POST run', () => {
  it('creates a GROUP run for the caller and answers 201 with its v3 view as JSON', async () => {
    const response = await v3(emu.current, 'POST', 'run', {
      body: {
        scope: group,
        morphology: 'MANY',
        modelFile: 'model.py',
        trackingKey: 'tk',
        modelContext: { a: 1 },
        executionContext: { b: 2 },
        permit: { readLock: 'USER', writeLock: 'FACILITATOR' },
        allowChannel: true,
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      runKey: expect.any(String),
      scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY, userKey: 'u1' },
      permit: { readLock: 'USER', writeLock: 'FACILITATOR' },
      trackingKey: 'tk',
      marked: false,
      hidden: false,
      closed: false,
      created: expect.any(String),
      lastModified: response.body.created,
      lastOperated: response.body.created,
      modelFile: 'model.py',
      morphology: 'MANY',
      ephemeral: false,
      allowChannel: true,
      modelContext: { a: 1 },
      executionContext: { b: 2 },
      metaData: {},
      address: { accountShortName: 'acme', projectShortName: 'sim', groupName: 'g1' },
      user: { userKey: 'u1', displayName: 'alice' },
    });
    expect('variables' in response.body).toBe(false);
    // The store holds it v2-shaped.
    expect(emu.current.getRun(response.body.runKey)).toMatchObject({
      id: response.body.runKey,
      model: 'model.py',
      user: { id: 'u1', userName: 'alice' },
      scope: { group: 'g1', groupKey: G1_KEY, trackingKey: 'tk' },
      trashed: false,
      saved: false,
      variables: { price: 10 },
    });
  });

  it('defaults permits per scope and takes another userKey as the run user', async () => {
    const other = await createV3Run(emu.current, { scope: { ...group, userKey: 'u9' } });
    expect(other.scope).toEqual({ scopeBoundary: 'GROUP', scopeKey: G1_KEY, userKey: 'u9' });
    expect(other.user).toEqual({ userKey: 'u9', displayName: 'u9' });
    expect(other.permit).toEqual({ readLock: 'USER', writeLock: 'USER' });
    const world = await v3(emu.current, 'POST', 'run', {
      body: { scope: { scopeBoundary: 'WORLD', scopeKey: 'w1' }, modelFile: 'model.py' },
    });
    expect(world.status).toBe(201);
    expect(world.body.scope).toEqual({ scopeBoundary: 'WORLD', scopeKey: 'w1' });
    expect(world.body.permit).toEqual({ readLock: 'PARTICIPANT', writeLock: 'FACILITATOR' });
    expect(world.body.address).toEqual({ accountShortName: 'acme', projectShortName: 'sim', groupName: 'g1', worldKey: 'w1' });
    // Creating a WORLD run does not make it the world's current run.
    expect(emu.current.worlds()[0]?.run).toBeUndefined();
    const project = await v3(emu.current, 'POST', 'run', {
      body: { scope: { scopeBoundary: 'PROJECT', scopeKey: 'pk' }, modelFile: 'm.py' },
    });
    expect(project.body.scope).toEqual({ scopeBoundary: 'PROJECT', scopeKey: 'pk', userKey: 'u1' });
  });

  it('refuses other groups (403), worlds the caller is not in (403) and malformed bodies (400) as JSON faults', async () => {
    const wrongGroup = await v3(emu.current, 'POST', 'run', {
      body: { scope: { scopeBoundary: 'GROUP', scopeKey: 'key-g2' }, modelFile: 'm' },
    });
    expect(wrongGroup.status).toBe(403);
    expect(wrongGroup.body).toEqual(fault(403, 'NOT_IN_GROUP'));
    const notMember = await v3(emu.current, 'POST', 'run', {
      token: V3_U2,
      body: { scope: { scopeBoundary: 'WORLD', scopeKey: 'w1' }, modelFile: 'm' },
    });
    expect(notMember.body).toEqual(fault(403, 'NOT_IN_WORLD'));
    const noWorld = await v3(emu.current, 'POST', 'run', { body: { scope: { scopeBoundary: 'WORLD', scopeKey: 'nope' }, modelFile: 'm' } });
    expect(noWorld.body).toEqual(fault(404, 'WORLD_NOT_FOUND'));
    for (const body of [
      { scope: group },
      { scope: group, modelFile: '' },
      { modelFile: 'm' },
      { scope: { scopeBoundary: 'EPISODE', scopeKey: 'e' }, modelFile: 'm' },
      { scope: { scopeBoundary: 'GROUP' }, modelFile: 'm' },
      { scope: group, modelFile: 'm', trackingKey: 5 },
      { scope: group, modelFile: 'm', ephemeral: 'yes' },
      { scope: group, modelFile: 'm', modelContext: [] },
    ]) {
      const response = await v3(emu.current, 'POST', 'run', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual(fault(400, 'BAD_REQUEST'));
    }
    expect((await v3(emu.current, 'POST', 'run', { raw: '{' })).body).toEqual(fault(400, 'BAD_REQUEST'));
    expect(emu.current.runs()).toHaveLength(0);
  });
});

describe('GET, PATCH and DELETE run/{runKey}', () => {
  it('reads a run (ritual ignored) and answers 404 RUN_NOT_FOUND for unknown keys and other projects', async () => {
    const run = await createV3Run(emu.current);
    const read = await v3(emu.current, 'GET', `run/${run.runKey}?ritual=EXORCISE`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(run);
    const missing = await v3(emu.current, 'GET', 'run/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(missing.body).toEqual(fault(404, 'RUN_NOT_FOUND'));
    const otherProject = await call(emu.current, 'GET', `/api/v3/acme/other/run/${run.runKey}`, { token: V3_U1 });
    expect(otherProject.body).toEqual(fault(404, 'RUN_NOT_FOUND'));
  });

  it('updates hidden, marked, closed, trackingKey, permit and allowChannel, mapped onto the v2 fields', async () => {
    const run = await createV3Run(emu.current, { trackingKey: 'old' });
    const patched = await v3(emu.current, 'PATCH', `run/${run.runKey}`, {
      body: { hidden: true, marked: true, closed: true, trackingKey: 'new', permit: { readLock: 'FACILITATOR', writeLock: 'FACILITATOR' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      hidden: true,
      marked: true,
      closed: true,
      trackingKey: 'new',
      permit: { readLock: 'FACILITATOR' },
    });
    expect(patched.body.lastModified > run.lastModified).toBe(true);
    expect(emu.current.getRun(run.runKey)).toMatchObject({ trashed: true, saved: true, closed: true, scope: { trackingKey: 'new' } });
    const cleared = await v3(emu.current, 'PATCH', `run/${run.runKey}`, { body: { trackingKey: null, hidden: false } });
    expect(cleared.body.hidden).toBe(false);
    expect('trackingKey' in cleared.body).toBe(false);
    for (const body of [{}, { hidden: 'yes' }, { trackingKey: 3 }, { permit: 'x' }]) {
      expect((await v3(emu.current, 'PATCH', `run/${run.runKey}`, { body })).body, JSON.stringify(body)).toEqual(fault(400, 'BAD_REQUEST'));
    }
    expect((await v3(emu.current, 'PATCH', 'run/nope', { body: { hidden: true } })).status).toBe(404);
  });

  it('updates several runs by runKey query parameters', async () => {
    const [a, b] = [await createV3Run(emu.current), await createV3Run(emu.current)];
    const response = await v3(emu.current, 'PATCH', `run?runKey=${a.runKey}&runKey=${b.runKey}`, { body: { marked: true } });
    expect(response.status).toBe(200);
    expect(response.body.map((run: any) => [run.runKey, run.marked])).toEqual([
      [a.runKey, true],
      [b.runKey, true],
    ]);
    expect((await v3(emu.current, 'PATCH', 'run', { body: { marked: true } })).status).toBe(400);
  });

  it('DELETE answers 204 without a body and leaves the run readable', async () => {
    const run = await createV3Run(emu.current);
    const removed = await v3(emu.current, 'DELETE', `run/${run.runKey}`);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect((await v3(emu.current, 'GET', `run/${run.runKey}`)).status).toBe(200);
    expect((await v3(emu.current, 'DELETE', 'run/nope')).body).toEqual(fault(404, 'RUN_NOT_FOUND'));
  });
});

describe('operations', () => {
  it('answers the bare return value and records lastOperated', async () => {
    const run = await createV3Run(emu.current);
    const op = (body: unknown) => v3(emu.current, 'POST', `run/operation/${run.runKey}`, { body });
    const echoed = await op({ name: 'echo', arguments: [{ x: 1 }], objectType: 'execute' });
    expect(echoed.status).toBe(200);
    expect(echoed.body).toEqual({ x: 1 });
    expect((await op({ name: 'add', arguments: [2, 3], objectType: 'execute' })).body).toBe(5);
    expect((await op({ name: 'step', objectType: 'execute' })).body).toBe(1);
    expect((await op({ name: 'unknown', arguments: [] })).text).toBe('null');
    const after = (await v3(emu.current, 'GET', `run/${run.runKey}`)).body;
    expect(after.lastOperated > run.lastOperated).toBe(true);
    expect(emu.current.getRun(run.runKey)?.variables).toMatchObject({ price: 10, step: 1 });
  });

  it('runs registered handlers; fail answers 500 OPERATION_FAILED; bad bodies 400', async () => {
    emu.current.registerOperation('double', ({ args }) => Number(args[0]) * 2);
    const run = await createV3Run(emu.current);
    const op = (body: unknown) => v3(emu.current, 'POST', `run/operation/${run.runKey}`, { body });
    expect((await op({ name: 'double', arguments: [21], objectType: 'execute' })).body).toBe(42);
    const failed = await op({ name: 'fail', arguments: ['boom'], objectType: 'execute' });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual(fault(500, 'OPERATION_FAILED'));
    expect(failed.body.message).toContain('boom');
    for (const body of [{}, { name: 'echo', arguments: 1 }, { name: 'echo', objectType: 'get' }]) {
      expect((await op(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await v3(emu.current, 'POST', 'run/operation/nope', { body: { name: 'echo' } })).status).toBe(404);
    expect((await v3(emu.current, 'GET', `run/operation/${run.runKey}`)).status).toBe(405);
  });
});

describe('variables', () => {
  it('sets, reads in include order (missing → null), reads one, and reads several runs', async () => {
    const run = await createV3Run(emu.current);
    const set = await v3(emu.current, 'PATCH', `run/variable/${run.runKey}`, { body: { a: 1, b: { c: 2 } } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ a: 1, b: { c: 2 } });
    const read = (include: unknown) => v3(emu.current, 'POST', `run/variable/${run.runKey}`, { body: { include } });
    expect((await read('b;price;zz;a')).body).toEqual([{ c: 2 }, 10, null, 1]);
    expect((await read(['a', 'b.c'])).body).toEqual([1, 2]);
    expect((await read(undefined)).status).toBe(400);
    expect((await read(5)).status).toBe(400);
    expect((await v3(emu.current, 'GET', `run/variable/${run.runKey}/a`)).body).toBe(1);
    expect((await v3(emu.current, 'GET', `run/variable/${run.runKey}/b.c?ritual=REVIVE`)).body).toBe(2);
    expect((await v3(emu.current, 'GET', `run/variable/${run.runKey}/zz`)).body).toEqual(fault(404, 'VARIABLE_NOT_FOUND'));
    const other = await createV3Run(emu.current);
    const bulk = await v3(emu.current, 'POST', 'run/variable', {
      body: { runKey: [run.runKey, other.runKey, 'nope'], include: 'a;price' },
    });
    expect(bulk.body).toEqual({ [run.runKey]: [1, 10], [other.runKey]: [null, 10] });
    expect((await v3(emu.current, 'PATCH', `run/variable/${run.runKey}`, { body: { __proto__: 1 }, raw: '{"__proto__":1}' })).status).toBe(
      400,
    );
  });
});

describe('metadata', () => {
  it('sets, pushes and pops (first, last, all, by value), answering the metadata', async () => {
    const run = await createV3Run(emu.current);
    const patch = (body: unknown) => v3(emu.current, 'PATCH', `run/meta/${run.runKey}`, { body });
    expect((await patch({ set: { level: 2, isInitComplete: true } })).body).toEqual({ level: 2, isInitComplete: true });
    expect((await patch({ push: { tags: 'a' } })).body.tags).toEqual(['a']);
    await patch({ push: { tags: 'b' } });
    await patch({ push: { tags: 'a' } });
    expect((await patch({ push: { level: 3 } })).body.level).toEqual([2, 3]);
    expect((await patch({ pop: { tags: { objectType: 'first' } } })).body.tags).toEqual(['b', 'a']);
    await patch({ push: { tags: 'c' } });
    expect((await patch({ pop: { tags: { objectType: 'last' } } })).body.tags).toEqual(['b', 'a']);
    expect((await patch({ pop: { tags: { objectType: 'all', value: 'a' } } })).body.tags).toEqual(['b']);
    expect((await patch({ pop: { level: { objectType: 'all' } } })).body.level).toEqual([]);
    expect((await v3(emu.current, 'GET', `run/${run.runKey}`)).body.metaData).toEqual({ level: [], isInitComplete: true, tags: ['b'] });
    for (const body of [{ set: 1 }, { pop: { tags: { objectType: 'middle' } } }, { pop: { tags: 'first' } }]) {
      expect((await patch(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await patch({ set: { x: 1 } })).body).toMatchObject({ x: 1 });
  });

  it('POST run/meta answers several runs, restricted to include', async () => {
    const [a, b] = [await createV3Run(emu.current), await createV3Run(emu.current)];
    await v3(emu.current, 'PATCH', `run/meta/${a.runKey}`, { body: { set: { k1: 1, k2: 2 } } });
    await v3(emu.current, 'PATCH', `run/meta/${b.runKey}`, { body: { set: { k2: 'x' } } });
    const response = await v3(emu.current, 'POST', 'run/meta', { body: { include: 'k1;k2', runKey: [a.runKey, b.runKey] } });
    expect(response.body).toEqual({ [a.runKey]: { k1: 1, k2: 2 }, [b.runKey]: { k2: 'x' } });
    expect((await v3(emu.current, 'POST', 'run/meta', { body: { include: 'k1', runKey: a.runKey } })).body).toEqual({
      [a.runKey]: { k1: 1 },
    });
    expect((await v3(emu.current, 'POST', 'run/meta', { body: { include: 'k1' } })).status).toBe(400);
  });
});

describe('routing', () => {
  it('answers JSON faults for unknown routes, trailing slashes and wrong methods', async () => {
    const run = await createV3Run(emu.current);
    expect((await v3(emu.current, 'GET', `run/${run.runKey}/`)).body).toEqual(fault(404, 'ROUTE_NOT_FOUND'));
    expect((await v3(emu.current, 'GET', 'nothing')).body).toEqual(fault(404, 'ROUTE_NOT_FOUND'));
    expect((await v3(emu.current, 'GET', `run/${run.runKey}/x/y/z`)).status).toBe(404);
    expect((await call(emu.current, 'GET', '/api/v3/acme', { token: V3_U1 })).body).toEqual(fault(404, 'ROUTE_NOT_FOUND'));
    const wrong = await v3(emu.current, 'PUT', `run/${run.runKey}`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH, DELETE');
    expect(wrong.body).toEqual(fault(405, 'METHOD_NOT_ALLOWED'));
    const anyone = await v3(emu.current, 'GET', `run/${run.runKey}`, { token: V3_U3 });
    expect(anyone.status).toBe(200);
  });
});
