import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDevToken, startEmulator } from '../../src/emulator/index.js';
import { call, createRun, RUNS, TOKEN_U1, useEmulator } from './helpers.js';
import { createV3Run, fault, G1_KEY, V3, V3_U1, v3 } from './v3-helpers.js';

let directory: string;
const emu = useEmulator({ worlds: [{ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] }] });
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'run-lifecycle-v3-'));
});
afterEach(async () => {
  await emu.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('one store, two generations', () => {
  it('a v3 run is a v2 run and the other way round, with writes mapped both ways', async () => {
    await emu.start();
    const v3Run = await createV3Run(emu.current, { trackingKey: 'tk' });
    const asV2 = await call(emu.current, 'GET', `${RUNS}${v3Run.runKey}/`, { token: TOKEN_U1 });
    expect(asV2.body).toMatchObject({
      id: v3Run.runKey,
      model: 'model.py',
      user: { id: 'u1' },
      scope: { group: 'g1', trackingKey: 'tk' },
      trashed: false,
      saved: false,
    });
    expect((await call(emu.current, 'GET', `${RUNS};scope.group=g1;user.id=u1/`)).body).toHaveLength(1);

    // The token named g1's key: v2 runs of g1 get it too.
    const v2Run = await createRun(emu.current, { scope: { group: 'g1', trackingKey: 'v2' } });
    const asV3 = await v3(emu.current, 'GET', `run/${v2Run.id}`);
    expect(asV3.body).toMatchObject({
      runKey: v2Run.id,
      scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY, userKey: 'u1' },
      trackingKey: 'v2',
      modelFile: 'model.py',
      metaData: {},
      user: { userKey: 'u1', displayName: 'alice' },
    });
    const listed = await v3(emu.current, 'GET', `run/GROUP/${G1_KEY}/model.py?sort=-run.created`);
    expect(listed.body.values.map((run: any) => run.runKey)).toEqual([v2Run.id, v3Run.runKey]);

    await call(emu.current, 'PATCH', `${RUNS}${v3Run.runKey}/`, { body: { trashed: true, 'scope.trackingKey': 'moved' } });
    expect((await v3(emu.current, 'GET', `run/${v3Run.runKey}`)).body).toMatchObject({ hidden: true, trackingKey: 'moved' });
    await v3(emu.current, 'PATCH', `run/${v2Run.id}`, { body: { marked: true, hidden: true } });
    expect(emu.current.getRun(v2Run.id)).toMatchObject({ saved: true, trashed: true });
    await v3(emu.current, 'PATCH', `run/variable/${v2Run.id}`, { body: { price: 3 } });
    expect((await call(emu.current, 'GET', `${RUNS}${v2Run.id}/variables/price/`)).body).toBe(3);
    await call(emu.current, 'POST', `${RUNS}${v2Run.id}/operations/step/`, { body: { arguments: [2] } });
    expect((await v3(emu.current, 'POST', `run/variable/${v2Run.id}`, { body: { include: 'step;price' } })).body).toEqual([2, 3]);
    expect((await call(emu.current, 'GET', `${RUNS};trashed=true/`)).body).toHaveLength(2);
  });

  it('v2 runs without a group or user map to PROJECT scope without a userKey', async () => {
    await emu.start({ anonymous: true });
    const run = (await call(emu.current, 'POST', RUNS, { token: null, body: { model: 'm.py' } })).body;
    const view = (await v3(emu.current, 'GET', `run/${run.id}`)).body;
    expect(view.scope).toEqual({ scopeBoundary: 'PROJECT', scopeKey: 'sim' });
    expect(view.user).toBeNull();
    expect((await v3(emu.current, 'GET', 'run/PROJECT/sim/m.py')).body.totalResults).toBe(1);
  });
});

describe('faults, log and CORS on v3 paths', () => {
  it('a fail fault answers a v3 JSON fault with its code (INJECTED_FAULT by default); v2 keeps its shape', async () => {
    await emu.start();
    emu.current.fail({ method: 'POST', path: `${V3}run`, status: 503, code: 'SERVICE_UNAVAILABLE' });
    const failed = await v3(emu.current, 'POST', 'run', { body: {} });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(failed.body).toEqual(fault(503, 'SERVICE_UNAVAILABLE'));
    emu.current.fail({ path: /\/api\/v3\/.*\/world\//, status: 500 });
    expect((await v3(emu.current, 'GET', 'world/g1')).body).toEqual(fault(500, 'INJECTED_FAULT'));
    emu.current.fail({ path: '/v2/', status: 502 });
    expect((await call(emu.current, 'GET', `${RUNS};/`)).body).toEqual({ status: 502, message: expect.any(String) });
    emu.current.fail({ path: '/v2/', status: 502, code: 'BAD_GATEWAY' });
    expect((await call(emu.current, 'GET', `${RUNS};/`)).body).toEqual(fault(502, 'BAD_GATEWAY'));
    expect(() => emu.current.fail({ status: 500, code: '' })).toThrow(TypeError);
    const added = await call(emu.current, 'POST', '/_emulator/faults', {
      token: null,
      body: { kind: 'fail', status: 429, code: 'SLOW_DOWN' },
    });
    expect(added.status).toBe(201);
    expect((await v3(emu.current, 'GET', 'verification')).body).toEqual(fault(429, 'SLOW_DOWN'));
  });

  it('drop, slow and truncate apply to v3 requests', async () => {
    await emu.start();
    emu.current.drop({ path: '/api/v3/acme/sim/run', when: 'after' });
    await expect(createV3Run(emu.current)).rejects.toThrow();
    expect(emu.current.runs()).toHaveLength(1);
    emu.current.slow({ path: '/api/v3/', delayMs: 60 });
    const started = performance.now();
    expect((await v3(emu.current, 'GET', 'verification')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(60);
    emu.current.truncate({ path: '/api/v3/' });
    const truncated = await v3(emu.current, 'GET', 'verification');
    expect(truncated.status).toBe(200);
    expect(truncated.body).toBeUndefined();
    const log = await emu.current.waitForRequests(3, 2000);
    expect(log.map((entry) => entry.fault)).toEqual(['drop:after', 'slow:60', 'truncate']);
  });

  it('logs v3 requests like v2 ones, without tokens', async () => {
    await emu.start();
    const run = await createV3Run(emu.current);
    await v3(emu.current, 'GET', `run/${run.runKey}?ritual=NONE`);
    await v3(emu.current, 'GET', 'verification', { token: null });
    const log = await emu.current.waitForRequests(3, 2000);
    expect(log.map((entry) => [entry.method, entry.path, entry.status, entry.user, entry.auth])).toEqual([
      ['POST', `${V3}run`, 201, 'u1', 'bearer'],
      ['GET', `${V3}run/${run.runKey}`, 200, 'u1', 'bearer'],
      ['GET', `${V3}verification`, 401, null, 'none'],
    ]);
    expect(log[0]?.body).toMatchObject({ modelFile: 'model.py' });
    expect(log[1]?.query).toEqual({ ritual: 'NONE' });
    expect(JSON.stringify(log)).not.toContain(V3_U1);
  });

  it('answers CORS preflights of v3 paths with the v3 request headers', async () => {
    await emu.start();
    const response = await fetch(`${emu.current.v3BaseURL}acme/sim/run`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Forio-Confirmation');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });
});

describe('limits on v3 writes', () => {
  const nested = (levels: number): unknown => (levels === 0 ? 1 : { a: nested(levels - 1) });

  it('refuses bodies over bodyLimit (413) and records nested too deep (400), changing nothing', async () => {
    await emu.start({ bodyLimit: 2048 });
    const big = await v3(emu.current, 'POST', 'run', { raw: JSON.stringify({ pad: 'x'.repeat(4096) }) });
    expect(big.status).toBe(413);
    expect(big.body).toEqual(fault(413, 'REQUEST_TOO_LARGE'));
    const run = await createV3Run(emu.current);
    const before = emu.current.getRun(run.runKey);
    for (const [path, body] of [
      [`run/meta/${run.runKey}`, { set: { deep: nested(40) } }],
      [`run/meta/${run.runKey}`, { push: { deep: nested(30) } }],
      [`run/variable/${run.runKey}`, { deep: nested(40) }],
      [`run/${run.runKey}`, { permit: nested(40) }],
    ] as const) {
      const response = await v3(emu.current, 'PATCH', path, { body });
      expect(response.status, path).toBe(400);
      expect(response.body).toEqual(fault(400, 'BAD_REQUEST'));
    }
    expect(
      (
        await v3(emu.current, 'POST', 'run', {
          body: { scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY }, modelFile: 'm', modelContext: nested(40) },
        })
      ).status,
    ).toBe(400);
    expect(emu.current.getRun(run.runKey)).toEqual(before);
    expect(emu.current.runs()).toHaveLength(1);
    expect((await v3(emu.current, 'PATCH', `run/meta/${run.runKey}`, { body: { set: { deep: nested(28) } } })).status).toBe(200);
  });
});

describe('persistence of v3 writes', () => {
  it('keeps v3 runs, metadata, worlds, world runs and learnt group keys in the data file', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({ dataFile });
    const run = await createV3Run(emu.current, { trackingKey: 'tk' });
    await v3(emu.current, 'PATCH', `run/meta/${run.runKey}`, { body: { set: { level: 3 } } });
    await v3(emu.current, 'PATCH', `run/${run.runKey}`, { body: { closed: true } });
    const world = (await v3(emu.current, 'POST', 'world/g1', { body: { displayName: 'Blue' } })).body;
    const worldRun = (await v3(emu.current, 'POST', 'run/world/w1', { body: { modelFile: 'model.py' } })).body;
    const v2Run = await createRun(emu.current, { scope: { group: 'g1' } });
    const onDisk = JSON.parse(readFileSync(dataFile, 'utf8'));
    expect(onDisk.groups).toEqual([{ account: 'acme', project: 'sim', name: 'g1', key: G1_KEY }]);
    const before = (await v3(emu.current, 'GET', `run/${run.runKey}`)).body;
    await emu.stop();

    await emu.start({ dataFile });
    expect((await v3(emu.current, 'GET', `run/${run.runKey}`)).body).toEqual(before);
    expect((await v3(emu.current, 'GET', 'world/g1')).body.map((one: any) => [one.worldKey, one.displayName, one.runKey])).toEqual([
      ['w1', 'w1', worldRun.runKey],
      [world.worldKey, 'Blue', undefined],
    ]);
    expect((await v3(emu.current, 'POST', 'run/world/w1', { body: { modelFile: 'model.py' } })).status).toBe(200);
    // The learnt key survives without any token naming it: a v2 run of g1 still has it.
    const token = createDevToken({ userId: 'u1', groupName: 'g1' });
    expect((await v3(emu.current, 'GET', `run/${v2Run.id}`, { token })).body.scope.scopeKey).toBe(G1_KEY);
  });

  it('refuses a data file with malformed group keys', async () => {
    const dataFile = join(directory, 'bad.json');
    const content = '{"version":1,"clock":0,"nextSeq":0,"runs":[],"worlds":[],"groups":[{"name":"g1"}]}';
    writeFileSync(dataFile, content);
    await expect(startEmulator({ dataFile })).rejects.toThrow(/groups\[0\]/);
    expect(readFileSync(dataFile, 'utf8')).toBe(content);
  });
});
