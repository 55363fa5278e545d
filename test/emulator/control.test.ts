import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createRun, RUNS, TOKEN_U2, useEmulator } from './helpers.js';

const emu = useEmulator({ variables: { price: 10 } });
beforeEach(() => emu.start());
afterEach(() => emu.stop());

const control = (method: string, resource: string, body?: unknown) =>
  call(emu.current, method, `/_emulator/${resource}`, { body, token: null });

describe('control API', () => {
  it('reads and clears the request log, and is not logged itself', async () => {
    await createRun(emu.current);
    await emu.current.waitForRequests(1, 2000);
    const requests = await control('GET', 'requests');
    expect(requests.status).toBe(200);
    expect(requests.body).toEqual([expect.objectContaining({ method: 'POST', status: 201 })]);
    expect((await control('DELETE', 'requests')).status).toBe(204);
    expect((await control('GET', 'requests')).body).toEqual([]);
    expect(emu.current.requests).toHaveLength(0);
  });

  it('seeds runs and worlds, lists them (filtered) and resets everything', async () => {
    const seeded = await control('POST', 'seed', {
      runs: [
        { account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u1' }, scope: { group: 'g1' } },
        { id: 'fixed-id', account: 'acme', project: 'sim', user: { id: 'u2' }, created: '2020-01-01T00:00:00.000Z', trashed: true },
      ],
      worlds: [{ id: 'w1', account: 'acme', project: 'sim', users: [{ userId: 'u1' }] }],
    });
    expect(seeded.status).toBe(201);
    expect(seeded.body.runs[0]).toMatchObject({
      saved: false,
      trashed: false,
      initialized: true,
      active: true,
      variables: { price: 10 },
      files: null,
    });
    expect(seeded.body.runs[1]).toMatchObject({
      id: 'fixed-id',
      created: '2020-01-01T00:00:00.000Z',
      lastModified: '2020-01-01T00:00:00.000Z',
      trashed: true,
    });
    expect((await control('GET', 'runs')).body).toHaveLength(2);
    const request = await call(emu.current, 'GET', '/_emulator/runs?userId=u2', { token: null });
    expect(request.body.map((run: { id: string }) => run.id)).toEqual(['fixed-id']);
    expect((await call(emu.current, 'GET', `${RUNS};user.id=u2;trashed=true/`, { token: TOKEN_U2 })).body).toHaveLength(1);
    expect((await control('GET', 'worlds')).body.map((world: { id: string }) => world.id)).toEqual(['w1']);

    const duplicate = await control('POST', 'seed', {
      runs: [
        { account: 'acme', project: 'sim' },
        { id: 'fixed-id', account: 'acme', project: 'sim' },
      ],
    });
    expect(duplicate.status).toBe(400);
    expect(emu.current.runs()).toHaveLength(2);
    expect((await control('POST', 'seed', { runs: [{ project: 'sim' }] })).status).toBe(400);
    expect((await control('POST', 'seed', { runs: {} })).status).toBe(400);

    emu.current.fail({ status: 500 });
    expect((await control('POST', 'reset')).status).toBe(204);
    expect(emu.current.runs()).toEqual([]);
    expect(emu.current.worlds()).toEqual([]);
    expect((await call(emu.current, 'GET', `${RUNS};/`)).status).toBe(200);
  });

  it('adds and clears faults over HTTP, including RegExp paths', async () => {
    expect((await control('POST', 'faults', { kind: 'fail', status: 503, pathRegExp: '^/v2/run/acme/' })).status).toBe(201);
    expect((await call(emu.current, 'GET', 'run/other/sim/;/')).status).toBe(200);
    expect((await call(emu.current, 'GET', `${RUNS};/`)).status).toBe(503);
    await control('POST', 'faults', { kind: 'drop', when: 'before' });
    await expect(call(emu.current, 'GET', `${RUNS};/`)).rejects.toThrow();
    await control('POST', 'faults', { kind: 'slow', delayMs: 1, times: 3 });
    await control('POST', 'faults', { kind: 'truncate', method: 'GET' });
    expect((await control('DELETE', 'faults')).status).toBe(204);
    expect((await call(emu.current, 'GET', `${RUNS};/`)).body).toEqual([]);
    expect((await control('POST', 'faults', { kind: 'explode' })).status).toBe(400);
    expect((await control('POST', 'faults', { kind: 'fail', status: 'x' })).status).toBe(400);
    expect((await control('POST', 'faults', { kind: 'fail', status: 500, pathRegExp: '(' })).status).toBe(400);
  });

  it('sets latency and reports stats', async () => {
    const latency = await control('PUT', 'latency', { ms: 80 });
    expect(latency.body).toEqual({ ms: 80 });
    expect(emu.current.latency).toBe(80);
    expect((await control('PUT', 'latency', { ms: -1 })).status).toBe(400);
    const started = performance.now();
    await createRun(emu.current);
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    await control('PUT', 'latency', { ms: 0 });
    const stats = await control('GET', 'stats');
    expect(stats.body).toMatchObject({ requests: 1, runs: 1, worlds: 0, latencyMs: 0 });
    expect(stats.body.cpu).toEqual({ user: expect.any(Number), system: expect.any(Number) });
    expect(stats.body.memory.rss).toBeGreaterThan(0);
  });

  it('answers 404 for unknown control routes and 405 for wrong methods', async () => {
    expect((await control('GET', 'nothing')).status).toBe(404);
    expect((await control('GET', 'stats/extra')).status).toBe(404);
    expect((await control('GET', '')).status).toBe(404);
    const wrong = await control('POST', 'stats');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect((await control('POST', 'seed', 'x')).status).toBe(400);
  });
});
