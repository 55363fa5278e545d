import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { call, createRun, RUNS, TOKEN_U1, useEmulator } from './helpers.js';

const emu = useEmulator();
let emulator: Emulator;
let runId: string;

beforeAll(async () => {
  emulator = await emu.start();
  emulator.registerOperation('circular', () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  });
  runId = (await createRun(emulator)).id;
});
afterAll(() => emu.stop());

/** Sends raw bytes and resolves with the raw answer (or '' when the server just closes). */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

async function stillServing(): Promise<void> {
  const response = await call(emulator, 'GET', `${RUNS}${runId}/`);
  expect(response.status).toBe(200);
}

describe('never crashes', () => {
  it('answers malformed paths with JSON errors', async () => {
    const paths = [
      '/%',
      '/%zz',
      '/v2/run/%/%/',
      '/v2/run/%zz/sim/',
      `/v2/${RUNS}%zz/`,
      `/v2/${RUNS};%zz=1/`,
      `/v2/${RUNS};a=%/`,
      `/v2/${RUNS};novalue/`,
      `/v2/${RUNS};=x/`,
      `/v2/${RUNS}${runId}/variables/%zz/`,
      `/v2/${RUNS}${runId}/operations/%zz/`,
      '/v2/run//sim/',
      '/v2/run/acme/sim//',
      '/v2/multiplayer/world/%zz/run',
      '/v2/multiplayer/world//run',
      '/_emulator/%zz',
      `/v2/${RUNS};${'a=1;'.repeat(2000)}/`,
      `/v2/${RUNS}${'x'.repeat(12_000)}/`,
      `/v2/${RUNS};/?sort=${'.'.repeat(50)}`,
      `/v2/${RUNS};/?sort=__proto__`,
      `/v2/${RUNS};/?include=${'a,'.repeat(3000)}`,
      `/v2/${RUNS};/?%zz=%zz&startrecord=%zz`,
      '//v2//run//acme//sim//',
    ];
    for (const path of paths) {
      const response = await call(emulator, 'GET', path);
      expect(response.status, path).toBeGreaterThanOrEqual(200);
      expect(response.status, path).toBeLessThan(500);
      if (response.status >= 400) expect(response.body, path).toEqual({ status: response.status, message: expect.any(String) });
    }
    await stillServing();
  });

  it('answers bodies that are not JSON, not objects, too deep or with huge numbers', async () => {
    const bodies = [
      'not json',
      '{"model":',
      '[]',
      '[{"model":"m"}]',
      '"model.py"',
      'null',
      '12',
      `{"model":"m","scope":${'{"a":'.repeat(500)}1${'}'.repeat(500)}}`,
      '\u0000\u0001\u0002',
    ];
    for (const raw of bodies) {
      for (const [method, path] of [
        ['POST', RUNS],
        ['PATCH', `${RUNS}${runId}/`],
        ['PATCH', `${RUNS};/`],
        ['PATCH', `${RUNS}${runId}/variables/`],
        ['POST', `${RUNS}${runId}/operations/echo/`],
        ['POST', '/_emulator/seed'],
        ['POST', '/_emulator/faults'],
        ['PUT', '/_emulator/latency'],
      ] as const) {
        const response = await call(emulator, method, path, { raw });
        expect(response.status, `${method} ${path} ${raw.slice(0, 30)}`).toBe(400);
      }
    }
    for (const raw of ['{"model":["m"]}', '{"model":"m","scope":[1,2]}', '{"model":"m","files":"x"}', '{"model":"m","scope":"g"}']) {
      expect((await call(emulator, 'POST', RUNS, { raw })).status, raw).toBe(400);
    }
    const huge = await call(emulator, 'POST', RUNS, { raw: '{"model":"m","scope":{"n":1e999,"m":123456789012345678901234567890}}' });
    expect(huge.status).toBe(201);
    expect(huge.body.scope).toEqual({ n: null, m: 1.2345678901234568e29 });
    const bigArgs = await call(emulator, 'POST', `${RUNS}${runId}/operations/add/`, { body: { arguments: [1e308, 1e308] } });
    expect(bigArgs.status).toBe(200);
    expect(bigArgs.body.result).toBeNull();
    await stillServing();
  });

  it('turns unserializable operation results into a 500', async () => {
    const response = await call(emulator, 'POST', `${RUNS}${runId}/operations/circular/`, { body: { arguments: [] } });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ status: 500, message: expect.stringContaining('serialized') });
    await stillServing();
  });

  it('answers garbage on the wire, unknown methods and oversized headers', async () => {
    expect(await rawRequest('GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400[\s\S]*"status":400/);
    expect(await rawRequest('BREW /v2/run/acme/sim/ HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 (400|405)/);
    expect(await rawRequest(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await rawRequest('POST /v2/run/acme/sim/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"mo')).toMatch(
      /^(|HTTP\/1\.1 400[\s\S]*"status":400[\s\S]*)$/,
    );
    const weird = await call(emulator, 'TRACE', `${RUNS};/`).catch(() => null);
    expect(weird === null || weird.status >= 400).toBe(true);
    await stillServing();
  });

  it('survives nasty headers and a burst of concurrent requests', async () => {
    for (const headers of [
      { Range: 'records 5-1' } as Record<string, string>,
      { Range: 'records -' },
      { Range: `records 0-${'9'.repeat(400)}` },
      { Origin: 'null' },
    ]) {
      const response = await call(emulator, 'GET', `${RUNS};/`, { headers });
      expect(response.status).toBeLessThan(500);
    }
    for (const token of ['a.b.c', '..', `x.${Buffer.from('{"user_id":{"$gt":""}}').toString('base64url')}.y`, 'Bearer', 'é']) {
      const response = await call(emulator, 'GET', `${RUNS};/`, { token: encodeURIComponent(token) });
      expect(response.status).toBe(401);
    }
    const burst = await Promise.all(
      Array.from({ length: 150 }, (_, index) =>
        index % 3 === 0
          ? call(emulator, 'POST', RUNS, { body: { model: 'm', scope: { n: index } } })
          : call(emulator, 'GET', `${RUNS};scope.n>${index}/?sort=scope.n&direction=desc&startRecord=0&endRecord=4`, { token: TOKEN_U1 }),
      ),
    );
    expect(burst.every((response) => response.status === 200 || response.status === 201)).toBe(true);
    await stillServing();
  });
});
