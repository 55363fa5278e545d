/**
 * The Epicenter v3 Run API client against a scripted server (not the emulator, so the client and
 * the emulator cannot agree on a mistake): exact routes, query strings, bodies and headers.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RunManagerError } from '../../src/errors.js';
import type { RunApi } from '../../src/services/api-types.js';
import { literal } from '../../src/services/filter.js';
import { createRunApiV3, type V3ClientOptions, type V3Session } from '../../src/services/run-api-v3.js';
import { halfMadeRunFilter, initializedRunFilter, TRASH_ATTRIBUTES } from '../../src/machines/strategies/reuse-last-initialized.machine.js';
import { carriesFlag, createParams, newestRunModifiers, sessionFilter, withVariables } from '../../src/machines/strategies/shared.js';
import { trackingKeyCreateParams } from '../../src/machines/strategies/tracking-key.js';
import type { RunConfig } from '../../src/machines/strategies/types.js';
import type { UserSession } from '../../src/types.js';
import { rejectionOf } from '../helpers/rejection.js';
import { startScriptedServer, type RecordedRequest, type ScriptedServer } from '../helpers/scripted-server.js';

const TOKEN = 'tok-v3-very-secret-0001';
const NEW_TOKEN = 'tok-v3-renewed-secret-0002';

let server: ScriptedServer;
let token: string;
let session: { userKey?: string; groupKey?: string; groupName?: string };
let renewed: V3Session[];

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.reset();
  vi.restoreAllMocks();
});

function reset(): void {
  token = TOKEN;
  session = { userKey: 'u-1', groupKey: 'gk-1', groupName: 'g1' };
  renewed = [];
}
reset();
afterEach(reset);

function makeApi(overrides: Partial<V3ClientOptions> = {}): RunApi {
  return createRunApiV3({
    baseURL: `${server.origin}api/v3/`,
    account: 'acme',
    project: 'sim',
    model: 'model.py',
    token: () => token,
    session: () => session,
    onSession: (next) => {
      renewed.push(next);
      token = next.token;
    },
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

const failure = rejectionOf;

/** "METHOD url body" of every request. */
function trace(): string[] {
  return server.requests.map((r) => `${r.method} ${r.url}${r.body ? ` ${r.body}` : ''}`);
}

/** The decoded query parameters of a request, in order. */
function params(request: RecordedRequest | undefined): Array<[string, string]> {
  return [...new URLSearchParams(request?.query ?? '').entries()];
}

function expectNoSecrets(error: RunManagerError): void {
  for (const secret of [TOKEN, NEW_TOKEN]) {
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(secret);
  }
}

const RECORD = {
  runKey: 'rk-1',
  scope: { scopeBoundary: 'GROUP', scopeKey: 'gk-1', userKey: 'u-1' },
  hidden: false,
  marked: true,
  closed: false,
  trackingKey: 'week-1',
  modelFile: 'model.py',
  created: '2025-01-02T03:04:05.000Z',
  metaData: { isInitComplete: true, level: 'hard', hidden: 'meta-says-hidden', id: 'meta-id' },
};

const CONFIG: RunConfig = { account: 'acme', project: 'sim', model: 'model.py' };
const USER: UserSession = { userId: 'u-1', groupName: 'g1' };

describe('create', () => {
  it('POST {account}/{project}/run: group scope from the session, modelFile, MANY, empty contexts; Bearer + JSON headers', async () => {
    server.enqueue({ status: 201, json: RECORD });
    const run = await makeApi().create(createParams(CONFIG, USER));
    expect(trace()).toEqual([
      'POST /api/v3/acme/sim/run {"morphology":"MANY","modelFile":"model.py","modelContext":{},"executionContext":{},"scope":{"scopeBoundary":"GROUP","scopeKey":"gk-1","userKey":"u-1"}}',
    ]);
    const [request] = server.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(request?.headers['x-forio-confirmation']).toBeUndefined();
    expect(run.id).toBe('rk-1');
  });

  it('the tracking key becomes top-level trackingKey; caller contexts, permit, allowChannel, ephemeral pass through', async () => {
    server.enqueue({ status: 201, json: RECORD });
    const permit = { readLock: 'USER', writeLock: 'USER' };
    await makeApi().create(
      trackingKeyCreateParams(CONFIG, USER, 'week-1', {
        modelContext: { version: 2 },
        executionContext: { seed: 7 },
        permit,
        allowChannel: true,
        ephemeral: true,
        account: 'dropped',
      }),
    );
    const [request] = server.requests;
    expect(request?.json).toEqual({
      scope: { scopeBoundary: 'GROUP', scopeKey: 'gk-1', userKey: 'u-1' },
      morphology: 'MANY',
      modelFile: 'model.py',
      trackingKey: 'week-1',
      modelContext: { version: 2 },
      executionContext: { seed: 7 },
      ephemeral: true,
      permit,
      allowChannel: true,
    });
    // The official client confirms a permit explicitly.
    expect(request?.headers['x-forio-confirmation']).toBe('true');
  });

  it('the model defaults to the client model; a session without userKey sends none', async () => {
    session = { groupKey: 'gk-1' };
    server.enqueue({ json: RECORD });
    await makeApi().create({});
    expect(server.requests[0]?.json).toMatchObject({ modelFile: 'model.py', scope: { scopeBoundary: 'GROUP', scopeKey: 'gk-1' } });
    expect((server.requests[0]?.json as { scope: object }).scope).not.toHaveProperty('userKey');
  });

  it('scope.worldId → a WORLD scope without a user key', async () => {
    server.enqueue({ json: RECORD });
    await makeApi().create({ model: 'model.py', scope: { worldId: 'w-1' } });
    expect(server.requests[0]?.json).toMatchObject({ scope: { scopeBoundary: 'WORLD', scopeKey: 'w-1' } });
  });

  it('no groupKey in the session → UNAUTHORIZED naming session.groupKey, before any request', async () => {
    session = { userKey: 'u-1', groupName: 'g1' };
    const error = await failure(makeApi().create(createParams(CONFIG, USER)));
    expect(error.type).toBe('UNAUTHORIZED');
    expect(error.message).toContain('needs session.groupKey');
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    [{ files: { data: 'x.xls' } }, 'files'],
    [{ cinFiles: {} }, 'cinFiles'],
    [{ sensitivityMode: 'on' }, 'sensitivityMode'],
    [{ scope: { region: 'eu' } }, 'scope.region'],
  ])('%j has no v3 equivalent → INVALID_OPTIONS naming %s, before any request', async (extra, name) => {
    const error = await failure(makeApi().create({ model: 'model.py', ...extra }));
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(error.message).toContain(name);
    expect(server.requests).toHaveLength(0);
  });

  it("a scope.group that is not the session's group → INVALID_OPTIONS", async () => {
    expect((await failure(makeApi().create({ model: 'm', scope: { group: 'other' } }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['no runKey', { id: 'r1' }],
    ["runKey '..'", { runKey: '..' }],
    ["runKey '.'", { runKey: '.' }],
    ['an array', [RECORD]],
  ])('an answer with %s → INVALID_RESPONSE', async (_what, json) => {
    server.enqueue({ status: 201, json });
    const error = await failure(makeApi().create({ model: 'model.py' }));
    expect(error).toMatchObject({ type: 'INVALID_RESPONSE', status: 201 });
  });

  it('a non-JSON 2xx → INVALID_RESPONSE', async () => {
    server.enqueue({ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>ok</html>' });
    expect((await failure(makeApi().create({ model: 'model.py' }))).type).toBe('INVALID_RESPONSE');
  });

  it('a create is never retried: 503 → HTTP_ERROR after one request', async () => {
    server.setHandler(() => ({ status: 503, json: { message: 'busy' } }));
    const error = await failure(makeApi().create({ model: 'model.py' }));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 503 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('the run view', () => {
  it('the v3 record as sent, plus id, trashed/saved, user.id, scope.trackingKey and the metadata keys that are not run fields', async () => {
    server.enqueue({ json: RECORD });
    const run = await makeApi().load('rk-1');
    expect(run).toEqual({
      ...RECORD,
      id: 'rk-1',
      trashed: false,
      saved: true,
      scope: { ...RECORD.scope, trackingKey: 'week-1' },
      // The user's key under the v2 name, from the scope when the record has no user object.
      user: { id: 'u-1' },
      isInitComplete: true,
      level: 'hard',
    });
    // The record's own `hidden` wins over a metadata key of that name, and `id` is never metadata.
    expect(run.hidden).toBe(false);
    expect(run.metaData).toEqual(RECORD.metaData);
    // What the init-flag strategies test.
    expect(carriesFlag(run, { isInitComplete: true })).toBe(true);
  });

  it('a record without hidden, marked, trackingKey or metaData gets no aliases', async () => {
    server.enqueue({ json: { runKey: 'rk-2', scope: { scopeBoundary: 'WORLD', scopeKey: 'w' } } });
    expect(await makeApi().load('rk-2')).toEqual({ runKey: 'rk-2', id: 'rk-2', scope: { scopeBoundary: 'WORLD', scopeKey: 'w' } });
  });
});

describe('query', () => {
  it('reuse-last-initialized: GROUP/{groupKey}/{model}, v2 vocabulary translated, newest first, variables by name', async () => {
    server.enqueue({
      json: {
        firstResult: 0,
        maxResults: 1,
        totalResults: 3,
        values: [{ ...RECORD, variables: [10, 'x'] }],
      },
    });
    const filter = initializedRunFilter({}, CONFIG, USER);
    const result = await makeApi().query(filter, withVariables(newestRunModifiers('lower'), ['score', 'name']));
    const [request] = server.requests;
    expect(request?.path).toBe('/api/v3/acme/sim/run/GROUP/gk-1/model.py');
    expect(params(request)).toEqual([
      ['filter', 'run.hidden=false;meta.isInitComplete=true;run.userKey=u-1'],
      ['sort', '-run.created'],
      ['first', '0'],
      ['max', '1'],
      ['var', 'score;name'],
    ]);
    expect(request?.query).toBe(
      'filter=run.hidden%3Dfalse%3Bmeta.isInitComplete%3Dtrue%3Brun.userKey%3Du-1&sort=-run.created&first=0&max=1&var=score%3Bname',
    );
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(result.total).toBe(3);
    expect(result.range).toEqual({ start: 0, end: 0, total: 3 });
    expect(result.runs[0]?.id).toBe('rk-1');
    expect(result.runs[0]?.variables).toEqual({ score: 10, name: 'x' });
  });

  it('the half-made-run filter (camel paging) and a tracking-key filter', async () => {
    server.setHandler(() => ({ json: { firstResult: 0, maxResults: 1, totalResults: 0, values: [] } }));
    await makeApi().query(halfMadeRunFilter({}, CONFIG, USER), newestRunModifiers('camel'));
    const trackingKeyFilter = sessionFilter({ scope: { trackingKey: literal('week-1') }, trashed: false }, CONFIG, USER);
    const result = await makeApi().query(trackingKeyFilter, newestRunModifiers('camel'));
    expect(params(server.requests[0])).toEqual([
      ['filter', 'run.hidden=false;run.userKey=u-1'],
      ['sort', '-run.created'],
      ['first', '0'],
      ['max', '1'],
    ]);
    expect(params(server.requests[1])[0]).toEqual(['filter', 'run.trackingKey=week-1;run.hidden=false;run.userKey=u-1']);
    expect(result).toEqual({ runs: [], total: 0, range: { start: 0, end: -1, total: 0 } });
  });

  it("a world's runs: WORLD/{worldKey}, no user filter, no groupKey needed", async () => {
    session = { userKey: 'u-1' };
    server.enqueue({ json: { firstResult: 0, maxResults: 1, totalResults: 2, values: [] } });
    const filter = sessionFilter(
      { scope: { trackingKey: literal('r2'), worldId: literal('w-7') }, trashed: false },
      CONFIG,
      { userId: 'u-1' },
      { user: false },
    );
    expect((await makeApi().query(filter, { startRecord: 0, endRecord: 0 })).total).toBe(2);
    expect(server.requests[0]?.path).toBe('/api/v3/acme/sim/run/WORLD/w-7/model.py');
    expect(params(server.requests[0])).toEqual([
      ['filter', 'run.trackingKey=r2;run.hidden=false'],
      ['first', '0'],
      ['max', '1'],
    ]);
  });

  it('an empty filter and no modifiers → no query string; path segments are percent-encoded', async () => {
    session = { groupKey: 'g k/1' };
    server.enqueue({ json: { totalResults: 0, values: [] } });
    await makeApi({ model: 'my model.py' }).query({});
    expect(server.requests[0]?.url).toBe('/api/v3/acme/sim/run/GROUP/g%20k%2F1/my%20model.py');
  });

  it('a missing or non-numeric totalResults → total and range null', async () => {
    server.enqueue({ json: { values: [RECORD] } }, { json: { totalResults: '3', values: [] } });
    expect(await makeApi().query({})).toMatchObject({ total: null, range: null });
    expect(await makeApi().query({})).toMatchObject({ total: null, range: null });
  });

  it.each([
    ['an array', [RECORD]],
    ['values without runKey', { totalResults: 1, values: [{ id: 'x' }] }],
    ['no values', { totalResults: 1 }],
  ])('a page that is %s → INVALID_RESPONSE', async (_what, json) => {
    server.enqueue({ json });
    expect((await failure(makeApi().query({}))).type).toBe('INVALID_RESPONSE');
  });

  it('a strategy value holding filter grammar → INVALID_OPTIONS before any request, never a wider query', async () => {
    for (const userId of ['u;run.hidden=true', 'u|x', '(u)', '=u', '*u']) {
      const error = await failure(makeApi().query(sessionFilter({ trashed: false }, CONFIG, { userId, groupName: 'g1' })));
      expect(error.type).toBe('INVALID_OPTIONS');
    }
    const error = await failure(
      makeApi().query(sessionFilter({ scope: { trackingKey: literal('k]') } }, CONFIG, USER), newestRunModifiers('camel')),
    );
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('no groupKey for a group query → UNAUTHORIZED before any request', async () => {
    session = { userKey: 'u-1', groupName: 'g1' };
    expect((await failure(makeApi().query(initializedRunFilter({}, CONFIG, USER)))).type).toBe('UNAUTHORIZED');
    expect(server.requests).toHaveLength(0);
  });

  it('GETs are retried like v2: 503 with Retry-After, then success', async () => {
    server.enqueue({ status: 503, headers: { 'Retry-After': '0' }, json: { message: 'busy' } }, { json: { totalResults: 0, values: [] } });
    expect((await makeApi().query({})).total).toBe(0);
    expect(server.requests).toHaveLength(2);
  });
});

describe('load', () => {
  it('GET run/{runKey}, include ignored; loadWithHeaders adds headers and status', async () => {
    server.enqueue({ json: RECORD, headers: { 'X-Extra': 'e' } }, { json: RECORD, headers: { 'X-Extra': 'e' } });
    await makeApi().load('rk-1', { include: ['a'] });
    const loaded = await makeApi().loadWithHeaders('rk-1', { include: ['a'] });
    expect(trace()).toEqual(['GET /api/v3/acme/sim/run/rk-1', 'GET /api/v3/acme/sim/run/rk-1']);
    expect(loaded.status).toBe(200);
    expect(loaded.headers.get('x-extra')).toBe('e');
    expect(loaded.run.id).toBe('rk-1');
  });

  it('404 with a JSON fault → RUN_NOT_FOUND with status, code and the server message', async () => {
    server.enqueue({ status: 404, json: { status: 404, message: 'No run rk-9', information: { code: 'NOT_FOUND' } } });
    const error = await failure(makeApi().load('rk-9'));
    expect(error).toMatchObject({ type: 'RUN_NOT_FOUND', status: 404, code: 'NOT_FOUND' });
    expect(error.message).toBe('GET acme/sim/run/rk-9 failed: HTTP 404: [NOT_FOUND] No run rk-9 (run not found)');
    expect(error.toJSON()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it("'.', '..' and empty ids are refused before any request", async () => {
    for (const id of ['.', '..', '']) expect((await failure(makeApi().load(id))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });
});

describe('save', () => {
  it('trash attributes → PATCH run/{runKey} {marked, hidden} only; the answer as a run view', async () => {
    server.enqueue({ json: { ...RECORD, hidden: true, marked: false } });
    const run = await makeApi().save('rk-1', { ...TRASH_ATTRIBUTES });
    expect(trace()).toEqual(['PATCH /api/v3/acme/sim/run/rk-1 {"marked":false,"hidden":true}']);
    expect(server.requests[0]?.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(run).toMatchObject({ id: 'rk-1', trashed: true, saved: false, hidden: true });
  });

  it("applySettings' { 'scope.trackingKey': K } → PATCH run/{runKey} { trackingKey: K }", async () => {
    server.enqueue({ json: { ...RECORD, trackingKey: 'week-2' } });
    const run = await makeApi().save('rk-1', { 'scope.trackingKey': 'week-2' });
    expect(trace()).toEqual(['PATCH /api/v3/acme/sim/run/rk-1 {"trackingKey":"week-2"}']);
    expect(run.scope?.trackingKey).toBe('week-2');
  });

  it('an init flag → PATCH run/meta/{runKey} { set }; the answer is { id, metaData } with the keys on top', async () => {
    server.enqueue({ json: { isInitComplete: true, level: 'hard' } });
    const run = await makeApi().save('rk-1', { isInitComplete: true });
    expect(trace()).toEqual(['PATCH /api/v3/acme/sim/run/meta/rk-1 {"set":{"isInitComplete":true}}']);
    expect(run).toEqual({ id: 'rk-1', metaData: { isInitComplete: true, level: 'hard' }, isInitComplete: true, level: 'hard' });
    expect(carriesFlag(run, { isInitComplete: true })).toBe(true);
  });

  it('both kinds: run fields first, then metadata, merged into one view', async () => {
    server.enqueue({ json: { ...RECORD, closed: true, metaData: { level: 'easy' } } }, { json: { note: 'n' } });
    const run = await makeApi().save('rk-1', { closed: true, note: 'n', 'meta.level': undefined, trackingKey: 'week-1', scope: {} });
    expect(trace()).toEqual([
      'PATCH /api/v3/acme/sim/run/rk-1 {"closed":true,"trackingKey":"week-1"}',
      'PATCH /api/v3/acme/sim/run/meta/rk-1 {"set":{"note":"n"}}',
    ]);
    expect(run).toMatchObject({ id: 'rk-1', closed: true, metaData: { level: 'easy', note: 'n' }, level: 'easy', note: 'n' });
  });

  it('nothing to save → the run as it is (GET)', async () => {
    server.enqueue({ json: RECORD });
    expect((await makeApi().save('rk-1', {})).id).toBe('rk-1');
    expect(trace()).toEqual(['GET /api/v3/acme/sim/run/rk-1']);
  });

  it('a filter target (bulk), a scope key without a v3 meaning, or two tracking keys → INVALID_OPTIONS, no request', async () => {
    expect((await failure(makeApi().save({ saved: true }, { trashed: true }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(makeApi().save('rk-1', { 'scope.group': 'g' }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(makeApi().save('rk-1', { scope: { worldId: 'w' } }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(makeApi().save('rk-1', { trackingKey: 'a', 'scope.trackingKey': 'b' }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('a meta answer that is not an object → INVALID_RESPONSE; a 404 → RUN_NOT_FOUND', async () => {
    server.enqueue({ json: [1] }, { status: 404, json: { message: 'gone' } });
    expect((await failure(makeApi().save('rk-1', { flag: 1 }))).type).toBe('INVALID_RESPONSE');
    expect((await failure(makeApi().save('rk-1', { trashed: true }))).type).toBe('RUN_NOT_FOUND');
  });
});

describe('operations', () => {
  it('POST run/operation/{runKey} {name, arguments, objectType} → { name, result: the bare value }', async () => {
    server.enqueue({ json: 42 }, { status: 204 });
    const api = makeApi();
    expect(await api.operation('rk-1', 'add', [1, 2])).toEqual({ name: 'add', result: 42 });
    expect(await api.operation('rk-1', 'reset')).toEqual({ name: 'reset', result: undefined });
    expect(trace()).toEqual([
      'POST /api/v3/acme/sim/run/operation/rk-1 {"name":"add","arguments":[1,2],"objectType":"execute"}',
      'POST /api/v3/acme/sim/run/operation/rk-1 {"name":"reset","arguments":[],"objectType":"execute"}',
    ]);
  });

  it('serial runs in order with v2 normalisation and names the failed step; operations are not retried', async () => {
    server.enqueue({ json: 'ok' }, { status: 500, json: { message: 'model blew up', information: { code: 'MODEL_ERROR' } } });
    const error = await failure(makeApi().serial('rk-1', ['init', { step: 3 }, 'never']));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 500, code: 'MODEL_ERROR' });
    expect(error.message).toContain("Operation 2 of 3 ('step') failed");
    expect(error.message).toContain('model blew up');
    expect(server.requests.map((r) => r.json)).toEqual([
      { name: 'init', arguments: [], objectType: 'execute' },
      { name: 'step', arguments: [3], objectType: 'execute' },
    ]);
  });

  it('parallel: results in order', async () => {
    server.setHandler((request) => ({ json: (request.json as { name: string }).name.toUpperCase() }));
    expect(await makeApi().parallel('rk-1', ['a', 'b'])).toEqual([
      { name: 'a', result: 'A' },
      { name: 'b', result: 'B' },
    ]);
  });

  it('arguments that are not an array → INVALID_OPTIONS', async () => {
    expect((await failure(makeApi().operation('rk-1', 'x', 5 as never))).type).toBe('INVALID_OPTIONS');
  });
});

describe('variables and memory', () => {
  it('query: POST run/variable/{runKey} { include: "a;b" } → the array by name', async () => {
    server.enqueue({ json: [1, { deep: true }] });
    expect(await makeApi().variables.query('rk-1', ['a', 'b'])).toEqual({ a: 1, b: { deep: true } });
    expect(trace()).toEqual(['POST /api/v3/acme/sim/run/variable/rk-1 {"include":"a;b"}']);
  });

  it('query: no names, or a name with ";" → INVALID_OPTIONS; an answer that is neither list nor object → INVALID_RESPONSE', async () => {
    expect((await failure(makeApi().variables.query('rk-1', []))).type).toBe('INVALID_OPTIONS');
    expect((await failure(makeApi().variables.query('rk-1', ['a;b']))).type).toBe('INVALID_OPTIONS');
    server.enqueue({ json: 'x' });
    expect((await failure(makeApi().variables.query('rk-1', ['a']))).type).toBe('INVALID_RESPONSE');
  });

  it('load: GET run/variable/{runKey}/{name}; save: PATCH run/variable/{runKey}', async () => {
    server.enqueue({ json: 3.5 }, { json: { price: 4 } });
    const api = makeApi();
    expect(await api.variables.load('rk-1', 'price')).toBe(3.5);
    expect(await api.variables.save('rk-1', { price: 4 })).toEqual({ price: 4 });
    expect(trace()).toEqual(['GET /api/v3/acme/sim/run/variable/rk-1/price', 'PATCH /api/v3/acme/sim/run/variable/rk-1 {"price":4}']);
  });

  it('removeFromMemory: DELETE run/{runKey} (204)', async () => {
    server.enqueue({ status: 204 });
    await makeApi().removeFromMemory('rk-1');
    expect(trace()).toEqual(['DELETE /api/v3/acme/sim/run/rk-1']);
  });
});

describe('errors', () => {
  it.each([
    [401, 'UNAUTHORIZED', 'AUTHENTICATION_EXPIRED'],
    [403, 'UNAUTHORIZED', 'FORBIDDEN'],
    [400, 'HTTP_ERROR', 'BAD_REQUEST'],
    [409, 'HTTP_ERROR', 'CONFLICT'],
  ])('HTTP %i with a JSON fault → %s with code %s and the server message', async (status, type, code) => {
    server.enqueue({ status, json: { status, message: 'the server says no', information: { code, extra: 1 } } });
    const error = await failure(makeApi().create({ model: 'model.py' }));
    expect(error).toMatchObject({ type, status, code });
    expect(error.message).toBe(`POST acme/sim/run failed: HTTP ${status}: [${code}] the server says no`);
    expect(server.requests).toHaveLength(1);
  });

  it('a fault without information.code: no code; an HTML error page: the v2 message', async () => {
    server.enqueue({ status: 400, json: { message: 'bad' } }, { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html/>' });
    const first = await failure(makeApi().create({ model: 'model.py' }));
    expect(first.code).toBeUndefined();
    expect(first.message).toBe('POST acme/sim/run failed: HTTP 400: bad');
    const second = await failure(makeApi().create({ model: 'model.py' }));
    expect(second).toMatchObject({ type: 'HTTP_ERROR', status: 502, message: 'POST acme/sim/run failed: HTTP 502' });
  });

  it('a server echoing the token in its fault never puts it in the error', async () => {
    server.enqueue({ status: 400, json: { message: `bad token ${TOKEN}`, information: { code: `X${TOKEN}` } } });
    const error = await failure(makeApi().create({ model: 'model.py' }));
    expect(error.message).toContain('[redacted]');
    expectNoSecrets(error);
  });

  it('a slow answer → TIMEOUT; the caller’s abort → ABORTED', async () => {
    server.setHandler(() => ({ delayMs: 400, json: RECORD }));
    expect((await failure(makeApi({ timeout: 40, retry: { retries: 0 } }).load('rk-1'))).type).toBe('TIMEOUT');
    const controller = new AbortController();
    const pending = makeApi().load('rk-1', { signal: controller.signal });
    await server.waitFor(() => server.requests.length === 2);
    controller.abort();
    expect((await failure(pending)).type).toBe('ABORTED');
  });

  it('missing options.session → INVALID_OPTIONS at creation; a throwing session → UNAUTHORIZED', async () => {
    expect(() => makeApi({ session: undefined as never })).toThrow(RunManagerError);
    const api = makeApi({
      session: () => {
        throw new Error('no cookie');
      },
    });
    const error = await failure(api.create({ model: 'm' }));
    expect(error.type).toBe('UNAUTHORIZED');
    expect(error.message).toContain('no cookie');
  });
});

describe('AUTHENTICATION_INVALIDATED', () => {
  const INVALIDATED = {
    status: 401,
    json: { status: 401, message: 'token invalidated', information: { code: 'AUTHENTICATION_INVALIDATED' } },
  };
  const RENEWED = { token: NEW_TOKEN, userKey: 'u-1', groupKey: 'gk-1', groupName: 'g1', objectType: 'user' };

  it('renews the session once (PATCH authentication with the old token), tells onSession, retries with the new token', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED }, { json: RECORD });
    const run = await makeApi().load('rk-1');
    expect(run.id).toBe('rk-1');
    expect(trace()).toEqual([
      'GET /api/v3/acme/sim/run/rk-1',
      'PATCH /api/v3/acme/sim/authentication {"objectType":"user","groupKey":"gk-1"}',
      'GET /api/v3/acme/sim/run/rk-1',
    ]);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${NEW_TOKEN}`]);
    expect(server.requests[1]?.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(renewed).toEqual([RENEWED]);
  });

  it('a POST is sent again too (the refused attempt did nothing)', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED }, { status: 201, json: RECORD });
    expect((await makeApi().create({ model: 'model.py' })).id).toBe('rk-1');
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST']);
    expect(server.requests[2]?.json).toEqual(server.requests[0]?.json);
  });

  it('a second invalidation on the retry → UNAUTHORIZED with the code, and no second renewal', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED }, INVALIDATED);
    const error = await failure(makeApi().load('rk-1'));
    expect(error).toMatchObject({ type: 'UNAUTHORIZED', status: 401, code: 'AUTHENTICATION_INVALIDATED' });
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET']);
    expectNoSecrets(error);
  });

  it('the retry after a renewal uses none of the GET retries', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED }, { status: 503, headers: { 'Retry-After': '0' }, json: {} }, { json: RECORD });
    expect((await makeApi({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 } }).load('rk-1')).id).toBe('rk-1');
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET', 'GET']);
  });

  it('any other 401 → UNAUTHORIZED without renewal', async () => {
    server.enqueue({ status: 401, json: { message: 'expired', information: { code: 'AUTHENTICATION_EXPIRED' } } });
    expect(await failure(makeApi().load('rk-1'))).toMatchObject({ type: 'UNAUTHORIZED', code: 'AUTHENTICATION_EXPIRED' });
    expect(server.requests).toHaveLength(1);
    expect(renewed).toEqual([]);
  });

  it.each([
    ['is refused', { status: 401, json: { message: 'no', information: { code: 'AUTHENTICATION_INVALIDATED' } } }],
    ['fails', { status: 500, json: { message: 'down' } }],
    ['answers no token', { json: { userKey: 'u-1' } }],
  ])('a renewal that %s → UNAUTHORIZED with the code, no retry', async (_what, answer) => {
    server.enqueue(INVALIDATED, answer);
    const error = await failure(makeApi().load('rk-1'));
    expect(error).toMatchObject({ type: 'UNAUTHORIZED', status: 401, code: 'AUTHENTICATION_INVALIDATED' });
    expect(error.message).toContain('renewing the session failed');
    expect(error.cause).toBeInstanceOf(RunManagerError);
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
    expect(renewed).toEqual([]);
  });

  it('without onSession the new token is still used, for the retry and later requests', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED }, { json: RECORD }, { json: RECORD });
    const api = makeApi({ onSession: undefined });
    await api.load('rk-1');
    await api.load('rk-1');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      `Bearer ${NEW_TOKEN}`,
      `Bearer ${NEW_TOKEN}`,
    ]);
    expect(token).toBe(TOKEN);
  });

  it('concurrent invalidations share one renewal', async () => {
    let renewals = 0;
    server.setHandler((request) => {
      if (request.method === 'PATCH') {
        renewals += 1;
        return { delayMs: 30, json: RENEWED };
      }
      return request.headers.authorization === `Bearer ${NEW_TOKEN}` ? { json: RECORD } : INVALIDATED;
    });
    const api = makeApi();
    const runs = await Promise.all([api.load('rk-1'), api.load('rk-1'), api.load('rk-1')]);
    expect(runs.map((r) => r.id)).toEqual(['rk-1', 'rk-1', 'rk-1']);
    expect(renewals).toBe(1);
    expect(renewed).toHaveLength(1);
  });

  it('an abort while the session is renewed → ABORTED', async () => {
    server.enqueue(INVALIDATED, { delayMs: 300, json: RENEWED });
    const controller = new AbortController();
    const pending = makeApi().load('rk-1', { signal: controller.signal });
    await server.waitFor(() => server.requests.length === 2);
    controller.abort();
    expect((await failure(pending)).type).toBe('ABORTED');
  });

  it('a throwing onSession → UNAUTHORIZED naming it', async () => {
    server.enqueue(INVALIDATED, { json: RENEWED });
    const error = await failure(
      makeApi({
        onSession: () => {
          throw new Error('store full');
        },
      }).load('rk-1'),
    );
    expect(error.type).toBe('UNAUTHORIZED');
    expect(error.message).toContain('store full');
  });

  it('errors never contain the old or the new token, even when the server echoes them', async () => {
    server.enqueue(
      INVALIDATED,
      { json: RENEWED },
      { status: 401, json: { message: `still bad: ${NEW_TOKEN} ${TOKEN}`, information: { code: 'AUTHENTICATION_INVALIDATED' } } },
    );
    const error = await failure(makeApi().load('rk-1'));
    expect(error.type).toBe('UNAUTHORIZED');
    expectNoSecrets(error);
  });
});
