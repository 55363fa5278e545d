import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createRun, RUNS, TOKEN_U2, useEmulator } from './helpers.js';

const emu = useEmulator({ variables: { price: 10 } });
beforeEach(() => emu.start());
afterEach(() => emu.stop());

describe('create', () => {
  it('answers 201 with a complete run record', async () => {
    const response = await call(emu.current, 'POST', RUNS, {
      body: { model: 'model.py', scope: { group: 'g1' }, files: { data: 'x.xls' }, ephemeral: true },
    });
    expect(response.status).toBe(201);
    const run = response.body;
    expect(run).toMatchObject({
      account: 'acme',
      project: 'sim',
      model: 'model.py',
      scope: { group: 'g1' },
      files: { data: 'x.xls' },
      ephemeral: true,
      user: { id: 'u1', userName: 'alice' },
      saved: false,
      trashed: false,
      initialized: true,
      active: true,
      variables: null,
    });
    expect(emu.current.getRun(run.id)?.variables).toEqual({ price: 10 });
    expect(run.id).toMatch(/^[0-9a-f]{36}$/);
    expect(run.created).toBe(run.lastModified);
    expect(new Date(run.created).toISOString()).toBe(run.created);
  });

  it('makes unique, time-ordered ids and strictly increasing timestamps', async () => {
    const runs = [];
    for (let index = 0; index < 20; index += 1) runs.push(await createRun(emu.current));
    const ids = runs.map((run) => run.id);
    expect(new Set(ids).size).toBe(20);
    expect([...ids].sort()).toEqual(ids);
    for (let index = 1; index < runs.length; index += 1) expect(runs[index].created > runs[index - 1].created).toBe(true);
  });

  it('defaults scope and files to null and keeps each default-variables copy separate', async () => {
    const first = await createRun(emu.current);
    expect(first.scope).toBeNull();
    expect(first.files).toBeNull();
    await call(emu.current, 'PATCH', `${RUNS}${first.id}/variables/`, { body: { price: 99 } });
    const second = await createRun(emu.current);
    expect(emu.current.getRun(second.id)?.variables).toEqual({ price: 10 });
  });

  it('refuses a missing model, non-object bodies and bad JSON with 400', async () => {
    for (const init of [
      { body: {} },
      { body: { model: '' } },
      { body: ['model.py'] },
      { body: 'model.py' },
      { raw: '{"model":' },
      { raw: '' },
      { body: { model: 'm', scope: 'g1' } },
    ]) {
      const response = await call(emu.current, 'POST', RUNS, init);
      expect(response.status, JSON.stringify(init)).toBe(400);
      expect(response.body).toEqual({ status: 400, message: expect.any(String) });
    }
    expect(emu.current.runs()).toHaveLength(0);
  });
});

describe('load, update, remove', () => {
  it('loads a run (trailing slash optional) and answers 404 for unknown ids or another project', async () => {
    const run = await createRun(emu.current);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/`)).body).toEqual(run);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}`)).status).toBe(200);
    const include = await call(emu.current, 'GET', `${RUNS}${run.id}/?include=price,nope`);
    expect(include.body.variables).toEqual({ price: 10 });
    for (const path of [`${RUNS}nope/`, `run/acme/other/${run.id}/`]) {
      const response = await call(emu.current, 'GET', path);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ status: 404, message: expect.any(String) });
    }
  });

  it('PATCH sets dotted keys, merges variables, ignores server fields and bumps lastModified', async () => {
    const run = await createRun(emu.current, { scope: { group: 'g1' } });
    const response = await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, {
      body: {
        'scope.trackingKey': 'tk',
        isInitComplete: true,
        variables: { sales: 3 },
        '.cost': 2,
        id: 'hijack',
        'user.id': 'u9',
        saved: true,
      },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: run.id,
      scope: { group: 'g1', trackingKey: 'tk' },
      isInitComplete: true,
      saved: true,
      user: { id: 'u1' },
      variables: null,
    });
    expect(response.body.lastModified > run.lastModified).toBe(true);
    expect(emu.current.getRun(run.id)).toEqual({ ...response.body, variables: { price: 10, sales: 3, cost: 2 } });
  });

  it('PATCH refuses non-object bodies and prototype keys without changing anything', async () => {
    const run = await createRun(emu.current);
    for (const init of [
      { body: [1] },
      { raw: 'nope' },
      { raw: '{"saved":true,"__proto__":{"x":1}}' },
      { body: { saved: true, 'a..b': 1 } },
      { body: { variables: 5 } },
    ]) {
      expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, init)).status, JSON.stringify(init)).toBe(400);
    }
    expect(emu.current.getRun(run.id)?.saved).toBe(false);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect((await call(emu.current, 'PATCH', `${RUNS}nope/`, { body: { saved: true } })).status).toBe(404);
  });

  it('bulk PATCH on a matrix updates every match and answers the array', async () => {
    const mine = [await createRun(emu.current), await createRun(emu.current)];
    const theirs = await createRun(emu.current, {}, TOKEN_U2);
    const response = await call(emu.current, 'PATCH', `${RUNS};user.id=u1/`, { body: { saved: false, trashed: true } });
    expect(response.status).toBe(200);
    expect(response.body.map((run: { id: string }) => run.id)).toEqual(mine.map((run) => run.id));
    expect(response.body.every((run: { trashed: boolean }) => run.trashed)).toBe(true);
    expect(emu.current.getRun(theirs.id)?.trashed).toBe(false);
    expect((await call(emu.current, 'PATCH', `${RUNS};user.id=nobody`, { body: { saved: true } })).body).toEqual([]);
  });

  it('DELETE evicts from memory only: 200, and the run stays', async () => {
    const run = await createRun(emu.current);
    const response = await call(emu.current, 'DELETE', `${RUNS}${run.id}`);
    expect(response.status).toBe(200);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/`)).status).toBe(200);
    expect((await call(emu.current, 'DELETE', `${RUNS}nope`)).status).toBe(404);
  });
});

describe('operations', () => {
  it('runs the built-ins and echoes name and arguments', async () => {
    const run = await createRun(emu.current);
    const op = (name: string, args?: unknown[]) =>
      call(emu.current, 'POST', `${RUNS}${run.id}/operations/${name}/`, { body: args === undefined ? undefined : { arguments: args } });
    expect((await op('echo', ['hello'])).body).toEqual({ name: 'echo', arguments: ['hello'], result: 'hello' });
    expect((await op('add', [2, 4])).body.result).toBe(6);
    expect((await op('step')).body.result).toBe(1);
    expect((await op('step', [10])).body.result).toBe(11);
    expect((await op('init', [])).status).toBe(200);
    expect(emu.current.getRun(run.id)?.variables).toEqual({ price: 10, step: 11, initialized: true });
    expect((await op('unknownOp', [1, { a: 2 }])).body).toEqual({ name: 'unknownOp', arguments: [1, { a: 2 }], result: null });
  });

  it('answers 500 for fail() and for throwing or rejecting handlers, 404 for unknown runs, 400 for bad arguments', async () => {
    emu.current.registerOperation('boom', () => {
      throw new Error('kaput');
    });
    emu.current.registerOperation('later', async () => Promise.reject(new Error('async kaput')));
    const run = await createRun(emu.current);
    const failed = await call(emu.current, 'POST', `${RUNS}${run.id}/operations/fail/`, { body: { arguments: ['model exploded'] } });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ status: 500, message: expect.stringContaining('model exploded') });
    expect((await call(emu.current, 'POST', `${RUNS}${run.id}/operations/boom/`, { body: { arguments: [] } })).body.message).toContain(
      'kaput',
    );
    expect((await call(emu.current, 'POST', `${RUNS}${run.id}/operations/later/`, { body: { arguments: [] } })).status).toBe(500);
    expect((await call(emu.current, 'POST', `${RUNS}${run.id}/operations/add/`, { body: { arguments: ['x', 1] } })).status).toBe(500);
    expect((await call(emu.current, 'POST', `${RUNS}nope/operations/echo/`, { body: { arguments: [] } })).status).toBe(404);
    expect((await call(emu.current, 'POST', `${RUNS}${run.id}/operations/echo/`, { body: { arguments: 'x' } })).status).toBe(400);
    expect((await call(emu.current, 'POST', `${RUNS}${run.id}/operations/echo/`, { body: [1] })).status).toBe(400);
  });

  it('uses handlers given as options, with the run and its variables', async () => {
    await emu.stop();
    await emu.start({
      operations: { solve: ({ run, variables, args }) => ((variables.solvedBy = run.user?.id), `solved ${String(args[0])}`) },
    });
    const run = await createRun(emu.current);
    const response = await call(emu.current, 'POST', `${RUNS}${run.id}/operations/solve/`, { body: { arguments: [3] } });
    expect(response.body.result).toBe('solved 3');
    expect(emu.current.getRun(run.id)?.variables).toEqual({ price: 10, solvedBy: 'u1' });
  });
});

describe('variables', () => {
  it('queries, loads and merges variables', async () => {
    const run = await createRun(emu.current);
    const base = `${RUNS}${run.id}/variables/`;
    expect((await call(emu.current, 'PATCH', base, { body: { sales: 5 } })).body).toEqual({ price: 10, sales: 5 });
    expect((await call(emu.current, 'GET', `${base}?include=price,nope`)).body).toEqual({ price: 10 });
    expect((await call(emu.current, 'GET', base)).body).toEqual({ price: 10, sales: 5 });
    expect((await call(emu.current, 'GET', `${base}sales/`)).body).toBe(5);
    expect((await call(emu.current, 'GET', `${base}sales`)).body).toBe(5);
    expect((await call(emu.current, 'GET', `${base}nope/`)).status).toBe(404);
    expect((await call(emu.current, 'PATCH', base, { body: [1] })).status).toBe(400);
  });

  it('answers {} for runs whose variables are null', async () => {
    await emu.stop();
    await emu.start({ variables: undefined });
    const run = await createRun(emu.current);
    expect(run.variables).toBeNull();
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/variables/?include=price`)).body).toEqual({});
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/variables/`)).body).toEqual({});
  });
});

describe('route shapes', () => {
  it('answers 405 with Allow for wrong methods, 400 for unknown shapes, 404 outside the API', async () => {
    const run = await createRun(emu.current);
    const cases: Array<[string, string, number]> = [
      ['PUT', `${RUNS}${run.id}/`, 405],
      ['DELETE', RUNS, 405],
      ['DELETE', `${RUNS};saved=true/`, 405],
      ['GET', `${RUNS}${run.id}/operations/echo/`, 405],
      ['POST', `${RUNS}${run.id}/variables/`, 405],
      ['GET', `${RUNS}${run.id}/what/`, 400],
      ['GET', `${RUNS};saved=true/variables/`, 400],
      ['GET', 'run/acme/', 400],
      ['GET', 'nothing/here/', 404],
      ['GET', '/favicon.ico', 404],
    ];
    for (const [method, path, status] of cases) {
      const response = await call(emu.current, method, path);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(response.body).toEqual({ status, message: expect.any(String) });
      if (status === 405) expect(response.headers.get('allow')).toBeTruthy();
    }
  });
});
