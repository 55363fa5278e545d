import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunManagerError } from '../../src/errors.js';
import type { ApiClientOptions, RunApi } from '../../src/services/api-types.js';
import { createRunApi, pickCreateParams } from '../../src/services/run-api.js';
import { rejectionOf } from '../helpers/rejection.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const TOKEN = 'tok1-very-secret';

let server: ScriptedServer;
let api: RunApi;
beforeAll(async () => {
  server = await startScriptedServer();
  api = makeApi();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.reset();
});

function makeApi(overrides: Partial<ApiClientOptions> = {}): RunApi {
  return createRunApi({
    baseURL: server.baseURL,
    account: 'acme',
    project: 'sim',
    token: () => TOKEN,
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

const failure = rejectionOf;

/** "METHOD url body" of every request. */
function trace(): string[] {
  return server.requests.map((r) => `${r.method} ${r.url}${r.body ? ` ${r.body}` : ''}`);
}

const RUN = { id: 'run1', model: 'model.py', scope: { group: 'g1' }, trashed: false };

describe('create', () => {
  it('POSTs only the whitelisted fields (the create of reuse-across-sessions)', async () => {
    server.enqueue({ status: 201, json: RUN });
    const run = await api.create({
      model: 'model.py',
      scope: { group: 'g1' },
      account: 'acme',
      project: 'sim',
      token: 'must-not-be-sent',
      files: undefined,
    });
    expect(run).toEqual(RUN);
    expect(trace()).toEqual(['POST /v2/run/acme/sim/ {"model":"model.py","scope":{"group":"g1"}}']);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(server.requests[0]?.headers['x-autorestore']).toBeUndefined();
  });

  it('keeps every whitelisted field, null scope included', () => {
    expect(
      pickCreateParams({
        model: 'm',
        scope: null,
        files: { data: 'x.xls' },
        cinFiles: {},
        ephemeral: true,
        sensitivityMode: 'x',
        id: 'r',
        filter: {},
      }),
    ).toEqual({ model: 'm', scope: null, files: { data: 'x.xls' }, cinFiles: {}, ephemeral: true, sensitivityMode: 'x' });
  });

  it('accepts any 2xx (200 as in the public docs)', async () => {
    server.enqueue({ status: 200, json: RUN });
    expect((await api.create({ model: 'model.py' })).id).toBe('run1');
  });

  it.each([
    ['a run without id', { model: 'model.py' }],
    ['an array', [RUN]],
    ['a string', 'run1'],
  ])('%s in the body → INVALID_RESPONSE', async (_label, body) => {
    server.enqueue({ status: 201, json: body });
    expect(await failure(api.create({ model: 'model.py' }))).toMatchObject({ type: 'INVALID_RESPONSE', status: 201 });
  });

  it('is never retried (503, dropped connection)', async () => {
    server.enqueue({ status: 503, json: {} });
    expect(await failure(api.create({ model: 'model.py' }))).toMatchObject({ type: 'HTTP_ERROR', status: 503 });
    server.enqueue({ destroy: true });
    expect((await failure(api.create({ model: 'model.py' }))).type).toBe('NETWORK_ERROR');
    expect(server.requests).toHaveLength(2);
  });

  it('without a model → INVALID_OPTIONS before any request', async () => {
    expect((await failure(api.create({ scope: { group: 'g1' } }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });
});

describe('query', () => {
  it.each([
    [
      'reuse-across-sessions',
      { scope: { group: 'g1' }, 'user.id': 'u1' },
      { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' as const },
      '/v2/run/acme/sim/;scope.group=g1;user.id=u1/?startrecord=0&endrecord=0&sort=created&direction=desc',
    ],
    [
      'reuse-last-initialized',
      { trashed: false, isInitComplete: true, scope: { group: 'g1' }, 'user.id': 'u1', model: 'model.py' },
      { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' as const },
      '/v2/run/acme/sim/;trashed=false;isInitComplete=true;scope.group=g1;user.id=u1;model=model.py/?startrecord=0&endrecord=0&sort=created&direction=desc',
    ],
    [
      'reuse-by-tracking-key',
      { scope: { trackingKey: 'tk1', group: 'g1' }, trashed: false, 'user.id': 'u1' },
      { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' as const },
      '/v2/run/acme/sim/;scope.trackingKey=tk1;scope.group=g1;trashed=false;user.id=u1/?startRecord=0&endRecord=0&sort=created&direction=desc',
    ],
  ])('the %s query URL', async (_label, filter, modifiers, url) => {
    server.enqueue({ json: [RUN], headers: { 'Content-Range': 'records 0-0/1' } });
    const result = await api.query(filter, modifiers);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${url}`]);
    expect(result).toEqual({ runs: [RUN], total: 1, range: { start: 0, end: 0, total: 1 } });
    expect(server.requests[0]?.headers['x-autorestore']).toBeUndefined();
  });

  it('joins include arrays and passes other modifiers through; an empty filter is ";"', async () => {
    server.enqueue({ json: [] });
    await api.query({}, { include: ['price', 'sales'], custom: 'x y' });
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/;/?include=price,sales&custom=x%20y');
  });

  it('a filter that is not an object → INVALID_OPTIONS before any request (a string would become one condition per character)', async () => {
    for (const filter of ['abc', ['a'], 5]) {
      expect((await failure(api.query(filter as never))).type).toBe('INVALID_OPTIONS');
    }
    expect(server.requests).toHaveLength(0);
  });

  it('without modifiers there is no query string', async () => {
    server.enqueue({ json: [] });
    await api.query({ saved: true });
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/;saved=true/');
  });

  it('a hostile tracking key stays one condition', async () => {
    server.enqueue({ json: [] });
    await api.query({ scope: { trackingKey: 'x;user.id=u2' } });
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/;scope.trackingKey=x%3Buser.id%3Du2/');
  });

  it.each([
    ['records 0-0/12', 12, { start: 0, end: 0, total: 12 }],
    ['0-0/100', 100, { start: 0, end: 0, total: 100 }],
    ['records */3', 3, { start: 0, end: -1, total: 3 }],
    ['garbage', null, null],
    [undefined, null, null],
  ])('Content-Range %j → total %j', async (header, total, range) => {
    server.enqueue({ json: [], headers: header === undefined ? {} : { 'Content-Range': header } });
    expect(await api.query({})).toEqual({ runs: [], total, range });
  });

  it.each([
    ['an object', { id: 'run1' }],
    ['an array with a run without id', [RUN, { model: 'x' }]],
    ['an array with a non-object', ['run1']],
  ])('a body that is %s → INVALID_RESPONSE', async (_label, body) => {
    server.enqueue({ json: body });
    expect(await failure(api.query({}))).toMatchObject({ type: 'INVALID_RESPONSE', status: 200 });
  });

  it('is retried on 503 (GET)', async () => {
    server.enqueue({ status: 503, json: {} }, { json: [RUN], headers: { 'Content-Range': 'records 0-0/1' } });
    expect((await api.query({})).total).toBe(1);
    expect(server.requests).toHaveLength(2);
  });
});

describe('load / loadWithHeaders', () => {
  it('GETs the run with X-AutoRestore (as use-specific-run does)', async () => {
    server.enqueue({ json: RUN });
    expect(await api.load('run1')).toEqual(RUN);
    expect(trace()).toEqual(['GET /v2/run/acme/sim/run1/']);
    expect(server.requests[0]?.headers['x-autorestore']).toBe('true');
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('with include → ?include=a,b', async () => {
    server.enqueue({ json: { ...RUN, variables: { price: 1, sales: 2 } } });
    await api.load('run1', { include: ['price', 'sales'] });
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/run1/?include=price,sales');
  });

  it('percent-encodes the run id, account and project as path segments', async () => {
    server.enqueue({ json: RUN });
    await makeApi({ account: 'my team', project: 'a/b' }).load('x?y#z');
    expect(server.requests[0]?.url).toBe('/v2/run/my%20team/a%2Fb/x%3Fy%23z/');
  });

  it('loadWithHeaders gives the status and response headers', async () => {
    server.enqueue({ json: RUN, headers: { Pragma: 'persistent' } });
    const loaded = await api.loadWithHeaders('run1');
    expect(loaded.run).toEqual(RUN);
    expect(loaded.status).toBe(200);
    expect(loaded.headers.get('pragma')).toBe('persistent');
  });

  it.each([
    [404, 'RUN_NOT_FOUND'],
    [401, 'UNAUTHORIZED'],
    [403, 'UNAUTHORIZED'],
    [500, 'HTTP_ERROR'],
  ])('HTTP %i → %s with status (a legacy cookie run "nope" → 404)', async (status, type) => {
    server.setHandler(() => ({ status, json: { status, message: 'x' } }));
    const error = await failure(api.load('nope'));
    expect(error).toMatchObject({ type, status });
    expect(error.message).toContain(`GET run/acme/sim/nope/ failed: HTTP ${status}`);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(String(error.cause)).not.toContain(TOKEN);
  });

  it('a run without id → INVALID_RESPONSE', async () => {
    server.enqueue({ json: { model: 'model.py' } });
    expect((await failure(api.load('run1'))).type).toBe('INVALID_RESPONSE');
  });

  it('a 200 that is not JSON → INVALID_RESPONSE', async () => {
    server.enqueue({ body: 'OK' });
    expect((await failure(api.loadWithHeaders('run1'))).type).toBe('INVALID_RESPONSE');
  });

  it('aborts with the caller’s signal', async () => {
    server.setHandler(() => ({ delayMs: 1_000, json: RUN }));
    const controller = new AbortController();
    const pending = api.load('run1', { signal: controller.signal });
    await server.waitFor(() => server.requests.length === 1);
    controller.abort();
    expect((await failure(pending)).type).toBe('ABORTED');
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
  });
});

describe('save', () => {
  it('PATCHes the run (the init flag)', async () => {
    server.enqueue({ json: { ...RUN, id: 'run5', isInitComplete: true } });
    const run = await api.save('run5', { isInitComplete: true });
    expect(run.isInitComplete).toBe(true);
    expect(trace()).toEqual(['PATCH /v2/run/acme/sim/run5/ {"isInitComplete":true}']);
  });

  it('flattens a top-level scope', async () => {
    server.enqueue({ json: RUN });
    await api.save('run1', { completed: true, scope: { trackingKey: 'foo' } });
    expect(server.requests[0]?.body).toBe('{"completed":true,"scope.trackingKey":"foo"}');
  });

  it('targets a matrix for a filter', async () => {
    server.enqueue({ json: [RUN] });
    await api.save({ 'user.id': 'u1', saved: true }, { saved: false, trashed: true });
    expect(trace()).toEqual(['PATCH /v2/run/acme/sim/;user.id=u1;saved=true/ {"saved":false,"trashed":true}']);
  });

  it('an empty filter (which would change every run) → INVALID_OPTIONS', async () => {
    expect((await failure(api.save({}, { trashed: true }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(api.save({ a: undefined }, { trashed: true }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('404 for a run id → RUN_NOT_FOUND; a run without id → INVALID_RESPONSE; never retried', async () => {
    server.enqueue({ status: 404, json: {} }, { json: {} }, { status: 503, json: {} });
    expect(await failure(api.save('gone', { saved: true }))).toMatchObject({ type: 'RUN_NOT_FOUND', status: 404 });
    expect((await failure(api.save('run1', { saved: true }))).type).toBe('INVALID_RESPONSE');
    expect((await failure(api.save('run1', { saved: true }))).status).toBe(503);
    expect(server.requests).toHaveLength(3);
  });
});

describe('operations', () => {
  const opResult = (name: string) => ({ name, result: null });

  it('operation POSTs { arguments } (empty list when none)', async () => {
    server.enqueue({ json: opResult('init') }, { json: opResult('step') });
    await api.operation('run5', 'init');
    await api.operation('run5', 'step', [10]);
    expect(trace()).toEqual([
      'POST /v2/run/acme/sim/run5/operations/init/ {"arguments":[]}',
      'POST /v2/run/acme/sim/run5/operations/step/ {"arguments":[10]}',
    ]);
  });

  it('serial sends one at a time, in order (initOperation [init, {step:[10]}])', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    server.setHandler(async (request) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 15));
      inFlight -= 1;
      return { json: opResult(request.path.split('/').at(-2) ?? '') };
    });
    const results = await api.serial('run5', ['init', { step: [10] }]);
    expect(results).toEqual([opResult('init'), opResult('step')]);
    expect(trace()).toEqual([
      'POST /v2/run/acme/sim/run5/operations/init/ {"arguments":[]}',
      'POST /v2/run/acme/sim/run5/operations/step/ {"arguments":[10]}',
    ]);
    expect(maxInFlight).toBe(1);
  });

  it('serial stops at the first failure and rejects with it, typed, naming the operation', async () => {
    server.enqueue({ json: opResult('a') }, { status: 500, json: { message: 'model error' } });
    const error = await failure(api.serial('run5', ['a', 'b', 'c']));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 500 });
    expect(error.message).toBe("Operation 2 of 3 ('b') failed: POST run/acme/sim/run5/operations/b/ failed: HTTP 500");
    expect(error.cause).toBeInstanceOf(RunManagerError);
    expect((error.cause as RunManagerError).status).toBe(500);
    expect(server.requests.map((r) => r.path)).toEqual(['/v2/run/acme/sim/run5/operations/a/', '/v2/run/acme/sim/run5/operations/b/']);
  });

  it('serial keeps RUN_NOT_FOUND for a run that is gone', async () => {
    server.enqueue({ status: 404, json: {} });
    expect(await failure(api.serial('gone', 'init'))).toMatchObject({ type: 'RUN_NOT_FOUND', status: 404 });
  });

  it('parallel sends all at once and keeps the results in order', async () => {
    const delays: Record<string, number> = { a: 60, b: 30, c: 1 };
    server.setHandler(async (request) => {
      const name = request.path.split('/').at(-2) ?? '';
      await new Promise((resolve) => setTimeout(resolve, delays[name]));
      return { json: opResult(name) };
    });
    const pending = api.parallel('run5', { a: [1], b: [2], c: [3] });
    await server.waitFor(() => server.requests.length === 3, 50);
    expect(await pending).toEqual([opResult('a'), opResult('b'), opResult('c')]);
    expect(server.requests.map((r) => r.json)).toEqual(
      expect.arrayContaining([{ arguments: [1] }, { arguments: [2] }, { arguments: [3] }]),
    );
  });

  it('parallel rejects with the first failure, typed', async () => {
    server.setHandler((request) => (request.path.includes('/b/') ? { status: 403, json: {} } : { json: opResult('x') }));
    const error = await failure(api.parallel('run5', ['a', 'b']));
    expect(error).toMatchObject({ type: 'UNAUTHORIZED', status: 403 });
    expect(error.message).toMatch(/^Operation 2 of 2 \('b'\) failed: /);
  });

  it('an operation result that is not an object → INVALID_RESPONSE', async () => {
    server.enqueue({ json: [1] });
    expect((await failure(api.operation('run5', 'init'))).type).toBe('INVALID_RESPONSE');
  });

  it('malformed operations → INVALID_OPTIONS before any request', async () => {
    expect((await failure(api.serial('run5', []))).type).toBe('INVALID_OPTIONS');
    expect((await failure(api.parallel('run5', [''] as never))).type).toBe('INVALID_OPTIONS');
    expect((await failure(api.operation('run5', 'x', 5 as never))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });
});

describe('variables', () => {
  it('query GETs include=a,b with X-AutoRestore (as getRun([price, sales]) does)', async () => {
    server.enqueue({ json: { price: 1, sales: 2 } });
    expect(await api.variables.query('run1', ['price', 'sales'])).toEqual({ price: 1, sales: 2 });
    expect(trace()).toEqual(['GET /v2/run/acme/sim/run1/variables/?include=price,sales']);
    expect(server.requests[0]?.headers['x-autorestore']).toBe('true');
  });

  it('query with no names asks for all variables (no include)', async () => {
    server.enqueue({ json: {} });
    await api.variables.query('run1', []);
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/run1/variables/');
  });

  it('query: body not an object → INVALID_RESPONSE; 404 → RUN_NOT_FOUND', async () => {
    server.enqueue({ json: [1, 2] }, { status: 404, json: {} });
    expect((await failure(api.variables.query('run1', ['a']))).type).toBe('INVALID_RESPONSE');
    expect(await failure(api.variables.query('gone', ['a']))).toMatchObject({ type: 'RUN_NOT_FOUND', status: 404 });
  });

  it('load GETs one variable; its 404 is HTTP_ERROR (the variable may be what is missing)', async () => {
    server.enqueue({ json: 42 }, { status: 404, json: {} });
    expect(await api.variables.load('run1', 'price')).toBe(42);
    expect(await failure(api.variables.load('run1', 'nope'))).toMatchObject({ type: 'HTTP_ERROR', status: 404 });
    expect(server.requests.map((r) => r.url)).toEqual(['/v2/run/acme/sim/run1/variables/price/', '/v2/run/acme/sim/run1/variables/nope/']);
    expect(server.requests[0]?.headers['x-autorestore']).toBe('true');
  });

  it('save PATCHes the values', async () => {
    server.enqueue({ json: { a: 1, b: 2 } });
    expect(await api.variables.save('run1', { a: 1 })).toEqual({ a: 1, b: 2 });
    expect(trace()).toEqual(['PATCH /v2/run/acme/sim/run1/variables/ {"a":1}']);
    expect(server.requests[0]?.headers['x-autorestore']).toBeUndefined();
  });
});

describe('removeFromMemory', () => {
  it('DELETEs the run without a trailing slash', async () => {
    server.enqueue({ status: 200, json: {} }, { status: 404, json: {} });
    await expect(api.removeFromMemory('run1')).resolves.toBeUndefined();
    expect(trace()).toEqual(['DELETE /v2/run/acme/sim/run1']);
    expect(await failure(api.removeFromMemory('gone'))).toMatchObject({ type: 'RUN_NOT_FOUND', status: 404 });
  });
});

describe('missing ids and names reject INVALID_OPTIONS before any request (never a synchronous throw)', () => {
  const calls: Array<[string, (a: RunApi) => Promise<unknown>]> = [
    ['load("")', (a) => a.load('')],
    ['loadWithHeaders(undefined)', (a) => a.loadWithHeaders(undefined as never)],
    ['load with an empty include name', (a) => a.load('run1', { include: ['price', ''] })],
    ['save("")', (a) => a.save('', { a: 1 })],
    ['save with non-object attributes', (a) => a.save('run1', null as never)],
    ['operation("", "init")', (a) => a.operation('', 'init')],
    ['operation("run1", "")', (a) => a.operation('run1', '')],
    ['serial("")', (a) => a.serial('', 'init')],
    ['parallel("")', (a) => a.parallel('', 'init')],
    ['variables.query("")', (a) => a.variables.query('', ['a'])],
    ['variables.query with an empty name', (a) => a.variables.query('run1', [''])],
    ['variables.load("run1", "")', (a) => a.variables.load('run1', '')],
    ['variables.save("")', (a) => a.variables.save('', { a: 1 })],
    ['removeFromMemory("")', (a) => a.removeFromMemory('')],
    ['load("..")', (a) => a.load('..')],
  ];
  it.each(calls)('%s', async (_label, call) => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = call(api);
    }).not.toThrow();
    expect(promise).toBeInstanceOf(Promise);
    expect((await failure(promise as Promise<unknown>)).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('an empty account rejects too', async () => {
    expect((await failure(makeApi({ account: '' }).load('run1'))).type).toBe('INVALID_OPTIONS');
  });
});
