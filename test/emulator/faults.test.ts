import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createRun, RUNS, TOKEN_U1, useEmulator } from './helpers.js';

const emu = useEmulator();
beforeEach(() => emu.start());
afterEach(() => emu.stop());

const create = () => call(emu.current, 'POST', RUNS, { body: { model: 'model.py' } });

describe('fail', () => {
  it('answers the next matching request with the status, without processing it', async () => {
    emu.current.fail({ method: 'post', path: '/run/', status: 503 });
    const failed = await create();
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ status: 503, message: expect.any(String) });
    expect(emu.current.runs()).toHaveLength(0);
    expect((await create()).status).toBe(201);
    const log = await emu.current.waitForRequests(2, 2000);
    expect(log.map((entry) => [entry.status, entry.fault])).toEqual([
      [503, 'fail:503'],
      [201, undefined],
    ]);
  });

  it('sends given headers and body, counts times, and matches method and RegExp paths', async () => {
    emu.current.fail({
      method: 'GET',
      path: /;user\.id=u1/,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { slowDown: true },
      times: 2,
    });
    expect((await create()).status).toBe(201);
    expect((await call(emu.current, 'GET', `${RUNS};user.id=u2/`)).status).toBe(200);
    const limited = await call(emu.current, 'GET', `${RUNS};user.id=u1/`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ slowDown: true });
    expect((await call(emu.current, 'GET', `${RUNS};user.id=u1/`)).status).toBe(429);
    expect((await call(emu.current, 'GET', `${RUNS};user.id=u1/`)).status).toBe(200);
  });

  it('clearFaults removes pending faults; bad specs throw TypeError', async () => {
    emu.current.fail({ status: 500, times: Number.POSITIVE_INFINITY });
    emu.current.clearFaults();
    expect((await create()).status).toBe(201);
    expect(() => emu.current.fail({ status: 42 })).toThrow(TypeError);
    expect(() => emu.current.fail({ status: 500, times: 0 })).toThrow(TypeError);
    expect(() => emu.current.drop({ when: 'later' as never })).toThrow(TypeError);
    expect(() => emu.current.slow({ delayMs: -1 })).toThrow(TypeError);
    expect(() => emu.current.truncate({ path: 5 as never })).toThrow(TypeError);
  });

  it('never applies to CORS preflights', async () => {
    emu.current.fail({ status: 503 });
    const preflight = await fetch(`${emu.current.baseURL}${RUNS}`, { method: 'OPTIONS', headers: { Origin: 'http://x' } });
    expect(preflight.status).toBe(204);
    expect((await create()).status).toBe(503);
  });
});

describe('drop', () => {
  it("'before' closes the socket without processing", async () => {
    emu.current.drop({ method: 'POST', when: 'before' });
    await expect(create()).rejects.toThrow();
    expect(emu.current.runs()).toHaveLength(0);
    const [entry] = await emu.current.waitForRequests(1, 2000);
    expect(entry).toMatchObject({ status: 0, fault: 'drop:before', aborted: true, method: 'POST' });
    expect((await create()).status).toBe(201);
  });

  it("'after' creates the run, then loses the response", async () => {
    emu.current.drop({ method: 'POST', path: '/v2/run/', when: 'after' });
    await expect(create()).rejects.toThrow();
    const runs = emu.current.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.user?.id).toBe('u1');
    const [entry] = await emu.current.waitForRequests(1, 2000);
    expect(entry).toMatchObject({ status: 201, fault: 'drop:after', aborted: true, body: { model: 'model.py' } });
  });
});

describe('slow, latency, truncate', () => {
  it('slow delays matching requests only', async () => {
    emu.current.slow({ path: ';', delayMs: 150 });
    const started = performance.now();
    await call(emu.current, 'GET', `${RUNS};/`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await call(emu.current, 'GET', `${RUNS};/`);
    const log = await emu.current.waitForRequests(2, 2000);
    expect(log[0]?.fault).toBe('slow:150');
    expect(log[0]?.durationMs).toBeGreaterThanOrEqual(140);
    expect(log[1]?.fault).toBeUndefined();
  });

  it('latency delays every API request and can be changed at run time', async () => {
    expect(emu.current.latency).toBe(0);
    emu.current.latency = 120;
    const started = performance.now();
    expect((await call(emu.current, 'GET', `${RUNS};/`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(() => {
      emu.current.latency = -5;
    }).toThrow(TypeError);
  });

  it('latency given as an option applies from the start', async () => {
    await emu.stop();
    await emu.start({ latency: 100 });
    const started = performance.now();
    await call(emu.current, 'GET', `${RUNS};/`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('truncate processes the request and sends half of the JSON with 200', async () => {
    emu.current.truncate({ method: 'POST' });
    const response = await create();
    expect(response.status).toBe(200);
    expect(response.body).toBeUndefined();
    expect(response.text.length).toBeGreaterThan(10);
    expect(() => JSON.parse(response.text)).toThrow();
    expect(emu.current.runs()).toHaveLength(1);
    expect(JSON.stringify(emu.current.runs()[0]).startsWith(response.text)).toBe(true);
  });
});

describe('request log', () => {
  it('records method, path, url, query, headers without credentials, user, body and status', async () => {
    const run = await createRun(emu.current, { scope: { group: 'g1' } });
    await call(emu.current, 'GET', `${RUNS};user.id=u1/?startrecord=0&endrecord=0&include=price`, {
      headers: { 'X-AutoRestore': 'true', Cookie: 'epicenter.token=secret' },
    });
    const log = await emu.current.waitForRequests(2, 2000);
    expect(log[0]).toMatchObject({
      seq: 1,
      method: 'POST',
      path: '/v2/run/acme/sim/',
      url: '/v2/run/acme/sim/',
      user: 'u1',
      auth: 'bearer',
      status: 201,
      body: { model: 'model.py', scope: { group: 'g1' } },
      aborted: false,
    });
    expect(log[1]).toMatchObject({
      seq: 2,
      method: 'GET',
      path: '/v2/run/acme/sim/;user.id=u1/',
      url: '/v2/run/acme/sim/;user.id=u1/?startrecord=0&endrecord=0&include=price',
      query: { startrecord: '0', endrecord: '0', include: 'price' },
      status: 200,
    });
    expect(log[1]?.headers['x-autorestore']).toBe('true');
    expect(log[1]?.headers.authorization).toBeUndefined();
    expect(log[1]?.headers.cookie).toBeUndefined();
    expect(JSON.stringify(emu.current.requests)).not.toContain(TOKEN_U1);
    expect(JSON.stringify(emu.current.requests)).not.toContain('secret');
    expect(Object.isFrozen(log[0])).toBe(true);
    expect(run.id).toBeTruthy();
  });

  it('logs raw text for non-JSON bodies and marks requests the client aborted', async () => {
    await call(emu.current, 'POST', RUNS, { raw: 'not json' });
    emu.current.latency = 300;
    const controller = new AbortController();
    const pending = fetch(`${emu.current.baseURL}${RUNS}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN_U1}` },
      body: '{"model":"m.py"}',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow();
    const log = await emu.current.waitForRequests(2, 3000);
    expect(log[0]).toMatchObject({ status: 400, body: 'not json', aborted: false });
    expect(log[1]).toMatchObject({ status: 201, aborted: true });
    expect(emu.current.runs()).toHaveLength(1);
  });

  it('caps the log at logLimit, clears it, and times out waiting', async () => {
    await emu.stop();
    await emu.start({ logLimit: 3 });
    for (let index = 0; index < 5; index += 1) await call(emu.current, 'GET', `${RUNS};/`);
    const log = await emu.current.waitForRequests(5, 2000);
    expect(log.map((entry) => entry.seq)).toEqual([3, 4, 5]);
    expect(emu.current.stats().requests).toBe(5);
    emu.current.clearLog();
    expect(emu.current.requests).toHaveLength(0);
    await expect(emu.current.waitForRequests(1, 50)).rejects.toThrow(/waited 50 ms/);
  });
});
