import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, createRun, RUNS, TOKEN_U1, useEmulator } from './helpers.js';

let directory: string;
const emu = useEmulator();
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'run-lifecycle-limits-'));
});
afterEach(async () => {
  await emu.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** `levels` objects nested in one another around 1: `nested(2)` is `{ a: { a: 1 } }`. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let index = 0; index < levels; index += 1) value = { a: value };
  return value;
}

const dottedKey = (segments: number) => Array.from({ length: segments }, () => 'a').join('.');

function readData(file: string): { runs: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Sends raw bytes without ending the request and resolves with whatever comes back before the server closes. */
function rawExchange(emulator: Emulator, head: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(body);
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(answer) : reject(error),
    );
  });
}

/** Runs `tasks` with at most `width` in flight. */
async function inBatches<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += width) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, offset) => task(start + offset)))));
  }
  return results;
}

describe('bounds on what a request stores', () => {
  it('a 6000-segment dotted PATCH answers 400, changes nothing, and later requests still succeed with a data file', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({ dataFile });
    const run = await createRun(emu.current);
    const hostile = { [dottedKey(6000)]: 1 };

    const single = await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: hostile });
    expect(single.status).toBe(400);
    expect(single.body.message).toMatch(/6000 segments.*32 levels/);
    const bulk = await call(emu.current, 'PATCH', `${RUNS};/`, { body: hostile });
    expect(bulk.status).toBe(400);
    const variable = await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { [`.${dottedKey(6000)}`]: 1 } });
    expect(variable.status).toBe(400);

    expect(emu.current.getRun(run.id)).toEqual(run);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/`)).body).toEqual(run);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { saved: true } })).status).toBe(200);
    const later = await call(emu.current, 'POST', RUNS, { body: { model: 'model.py' } });
    expect(later.status).toBe(201);
    expect(readData(dataFile).runs.map((stored) => stored.id)).toEqual([run.id, later.body.id]);
  });

  it('dotted keys and nested values are stored up to 32 levels, one more is refused', async () => {
    await emu.start();
    const run = await createRun(emu.current);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { [dottedKey(32)]: 1 } })).status).toBe(200);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { [dottedKey(33)]: 1 } })).status).toBe(400);
    // The run is level 1, so a scope may hold 31 levels of objects.
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { scope: nested(31) } })).status).toBe(200);
    const deep = await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { scope: nested(32) } });
    expect(deep.status).toBe(400);
    expect(deep.body.message).toMatch(/deeper than 32 levels/);
    expect((await call(emu.current, 'POST', RUNS, { body: { model: 'm', scope: nested(31) } })).status).toBe(201);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { scope: [[[nested(30)]]] } })).status).toBe(400);
  });

  it('nesting deeper than 32 levels is refused on every route that stores client data, before anything changes', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({
      dataFile,
      variables: { price: 1 },
      worlds: [{ id: 'w1', account: 'acme', project: 'sim', users: [{ userId: 'u1' }] }],
    });
    const run = await createRun(emu.current);
    const before = { runs: emu.current.runs(), worlds: emu.current.worlds(), file: readFileSync(dataFile, 'utf8') };
    const deep = nested(40);
    const refused: Array<[string, string, unknown, string | null]> = [
      ['POST', RUNS, { model: 'm', scope: deep }, TOKEN_U1],
      ['POST', RUNS, { model: 'm', files: deep }, TOKEN_U1],
      ['POST', RUNS, { model: 'm', cinFiles: deep }, TOKEN_U1],
      ['PATCH', `${RUNS}${run.id}/`, { scope: deep }, TOKEN_U1],
      ['PATCH', `${RUNS}${run.id}/`, { variables: { x: deep } }, TOKEN_U1],
      ['PATCH', `${RUNS};/`, { 'scope.x': deep }, TOKEN_U1],
      ['PATCH', `${RUNS}${run.id}/variables/`, { x: deep }, TOKEN_U1],
      ['POST', `${RUNS}${run.id}/operations/echo/`, { arguments: [deep] }, TOKEN_U1],
      ['POST', 'multiplayer/world/w1/run', { model: 'm', scope: deep }, TOKEN_U1],
      ['POST', '/_emulator/seed', { runs: [{ account: 'acme', project: 'sim', scope: deep }] }, null],
      ['POST', '/_emulator/seed', { worlds: [{ id: 'w2', account: 'acme', project: 'sim', deep }] }, null],
      ['POST', '/_emulator/faults', { kind: 'fail', status: 503, body: deep }, null],
    ];
    for (const [method, path, body, token] of refused) {
      const response = await call(emu.current, method, path, { body, token });
      expect(response.status, `${method} ${path} ${JSON.stringify(body).slice(0, 40)}`).toBe(400);
      expect(response.body.message, path).toMatch(/deeper than 32 levels/);
    }
    expect(emu.current.runs()).toEqual(before.runs);
    expect(emu.current.worlds()).toEqual(before.worlds);
    expect(readFileSync(dataFile, 'utf8')).toBe(before.file);
    expect(() => emu.current.seed({ runs: [{ account: 'acme', project: 'sim', scope: deep as never }] })).toThrow(TypeError);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/`)).status).toBe(200);
  });

  it('a request storing more than 100,000 keys in a run is refused and changes nothing', async () => {
    await emu.start({ variables: { price: 1 } });
    const run = await createRun(emu.current);
    const many = Object.fromEntries(Array.from({ length: 100_001 }, (_, index) => [`k${index}`, 0]));
    const merge = await call(emu.current, 'PATCH', `${RUNS}${run.id}/variables/`, { body: many });
    expect(merge.status).toBe(400);
    expect(merge.body.message).toMatch(/more than 100000 keys/);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { variables: many } })).status).toBe(400);
    expect((await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { 'scope.list': new Array(100_001).fill(0) } })).status).toBe(
      400,
    );
    expect(emu.current.getRun(run.id)).toEqual({ ...run, variables: { price: 1 } });
  });

  it('a create answered 500 because the data file cannot be written leaves no run, and later requests succeed', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({ dataFile });
    const first = await createRun(emu.current);
    // A directory where the temporary file goes makes the write fail (even for root).
    const blocker = `${dataFile}.${process.pid}.tmp`;
    mkdirSync(blocker);

    const lost = await call(emu.current, 'POST', RUNS, { body: { model: 'model.py' } });
    expect(lost.status).toBe(500);
    expect(lost.body.message).toMatch(/data file.*undone/);
    expect(emu.current.runs().map((run) => run.id)).toEqual([first.id]);
    const patch = await call(emu.current, 'PATCH', `${RUNS}${first.id}/`, { body: { saved: true } });
    expect(patch.status).toBe(500);
    expect(emu.current.getRun(first.id)).toEqual(first);
    const listed = await call(emu.current, 'GET', `${RUNS};/`);
    expect(listed.status).toBe(200);
    expect(listed.body.map((run: { id: string }) => run.id)).toEqual([first.id]);

    rmSync(blocker, { recursive: true });
    const second = await call(emu.current, 'POST', RUNS, { body: { model: 'model.py' } });
    expect(second.status).toBe(201);
    expect(second.body.id > first.id).toBe(true);
    expect(emu.current.runs().map((run) => run.id)).toEqual([first.id, second.body.id]);
    expect(readData(dataFile).runs.map((run) => run.id)).toEqual([first.id, second.body.id]);
  });

  it('a change the data file cannot take (an operation leaving a cycle) is undone instead of failing every later request', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({ dataFile, variables: { price: 1 } });
    emu.current.registerOperation('tangle', ({ variables }) => {
      variables.self = variables;
      return true;
    });
    const run = await createRun(emu.current);
    const tangled = await call(emu.current, 'POST', `${RUNS}${run.id}/operations/tangle/`, { body: { arguments: [] } });
    expect(tangled.status).toBe(500);
    const loaded = await call(emu.current, 'GET', `${RUNS}${run.id}/?include=price,self`);
    expect(loaded.status).toBe(200);
    expect(loaded.body.variables).toEqual({ price: 1 });
    expect((await call(emu.current, 'POST', RUNS, { body: { model: 'model.py' } })).status).toBe(201);
    expect(readData(dataFile).runs).toHaveLength(2);
  });
});

describe('bounds on the request log and on bodies', () => {
  it('200 requests with 1 MB bodies, some unauthenticated, leave at most 4 KB of each body in the log', async () => {
    await emu.start();
    const run = await createRun(emu.current);
    emu.current.clearLog();
    const megabyte = 'x'.repeat(1024 * 1024);
    const create = JSON.stringify({ model: 'm', scope: { blob: megabyte } });
    const add = JSON.stringify({ arguments: [1, 2, megabyte] });
    const statuses = await inBatches(200, 20, async (index) => {
      switch (index % 4) {
        case 0:
          return (await call(emu.current, 'POST', RUNS, { raw: create, token: null })).status;
        case 1:
          return (await call(emu.current, 'POST', RUNS, { raw: megabyte, token: 'not-a-token' })).status;
        case 2:
          return (await call(emu.current, 'PATCH', `${RUNS}${run.id}/variables/`, { raw: megabyte })).status;
        default:
          return (await call(emu.current, 'POST', `${RUNS}${run.id}/operations/add/`, { raw: add })).status;
      }
    });
    expect(new Set(statuses)).toEqual(new Set([401, 400, 200]));
    const log = await emu.current.waitForRequests(200, 5000);
    expect(log).toHaveLength(200);
    for (const entry of log) {
      expect(entry.bodyTruncated).toBe(true);
      expect(entry.bodyBytes).toBeGreaterThan(1000 * 1000);
      expect(typeof entry.body).toBe('string');
      expect(Buffer.byteLength(entry.body as string)).toBeLessThanOrEqual(4096);
    }
    const retained = Buffer.byteLength(JSON.stringify(emu.current.requests));
    expect(retained).toBeLessThan(200 * 8 * 1024);
    expect(emu.current.stats().loggedBytes).toBeLessThan(200 * 8 * 1024);
    expect(emu.current.runs()).toHaveLength(1);
  });

  it('small bodies are logged as private copies, unaffected by later changes to the run', async () => {
    await emu.start();
    const run = await createRun(emu.current, { scope: { group: 'g1' } });
    await call(emu.current, 'PATCH', `${RUNS}${run.id}/`, { body: { 'scope.group': 'g2' } });
    const log = await emu.current.waitForRequests(2, 2000);
    expect(log[0]).toMatchObject({ body: { model: 'model.py', scope: { group: 'g1' } } });
    expect(log[0]?.bodyTruncated).toBeUndefined();
  });

  it('the log holds at most logByteLimit bytes and logBodyLimit bytes of a body, dropping the oldest entries first', async () => {
    await emu.start({ logByteLimit: 50_000, logBodyLimit: 1000 });
    const run = await createRun(emu.current);
    for (let index = 0; index < 100; index += 1) {
      await call(emu.current, 'POST', `${RUNS}${run.id}/operations/echo/`, { body: { arguments: ['y'.repeat(3000)] } });
    }
    const log = await emu.current.waitForRequests(101, 2000);
    expect(Buffer.byteLength(JSON.stringify(emu.current.requests))).toBeLessThanOrEqual(50_000);
    expect(emu.current.stats().loggedBytes).toBeLessThanOrEqual(50_000);
    expect(log.at(-1)?.seq).toBe(101);
    expect(log.length).toBeLessThan(101);
    expect(log.map((entry) => entry.seq)).toEqual(Array.from({ length: log.length }, (_, index) => 102 - log.length + index));
    expect(Buffer.byteLength(log.at(-1)?.body as string)).toBeLessThanOrEqual(1000);
    expect(emu.current.stats().requests).toBe(101);
  });

  it('size options are validated', async () => {
    await expect(startEmulator({ logByteLimit: 0 })).rejects.toThrow(TypeError);
    await expect(startEmulator({ logBodyLimit: -1 })).rejects.toThrow(TypeError);
    await expect(startEmulator({ bodyLimit: 1.5 })).rejects.toThrow(TypeError);
  });

  it('a body over bodyLimit is answered 413 on every route, authorized or not, without waiting for the rest of it', async () => {
    await emu.start({ bodyLimit: 64 * 1024 });
    const run = await createRun(emu.current);
    const head = (path: string, headers: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n`;
    const declared = `Content-Length: ${100 * 1024 * 1024}\r\n`;
    // 100 MB are announced but only a little is sent: the refusal must not wait for the rest.
    for (const [path, auth] of [
      [`/v2/${RUNS}`, `Authorization: Bearer ${TOKEN_U1}\r\n`],
      [`/v2/${RUNS}`, ''],
      ['/_emulator/seed', ''],
    ] as const) {
      const answer = await rawExchange(emu.current, head(path, declared + auth), Buffer.from('{"model":"m", "pad":"'));
      expect(answer, path).toMatch(/^HTTP\/1\.1 413[\s\S]*"status":413/);
    }
    // Without a declared length the refusal comes once the limit is passed, still before the body ends.
    const chunk = Buffer.alloc(16 * 1024, 'z');
    const chunked = Buffer.concat(
      Array.from({ length: 8 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
    );
    const answer = await rawExchange(
      emu.current,
      head(`/v2/${RUNS}`, `Transfer-Encoding: chunked\r\nAuthorization: Bearer ${TOKEN_U1}\r\n`),
      chunked,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);

    const log = await emu.current.waitForRequests(4, 2000);
    expect(log.slice(1).map((entry) => [entry.status, entry.body, entry.bodyTruncated])).toEqual([
      [413, undefined, true],
      [413, undefined, true],
      [413, undefined, true],
    ]);
    expect(log[1]?.bodyBytes).toBe(100 * 1024 * 1024);
    expect((await call(emu.current, 'GET', `${RUNS}${run.id}/`)).status).toBe(200);
    expect(emu.current.runs()).toHaveLength(1);
  }, 10_000);
});
