import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClientOptions, WorldApi } from '../../src/services/api-types.js';
import { createWorldApi } from '../../src/services/world-api.js';
import { rejectionOf } from '../helpers/rejection.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const TOKEN = 'tok1-world-secret';

let server: ScriptedServer;
let worlds: WorldApi;
beforeAll(async () => {
  server = await startScriptedServer();
  worlds = makeApi();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.reset();
});

function makeApi(overrides: Partial<ApiClientOptions> = {}): WorldApi {
  return createWorldApi({
    baseURL: server.baseURL,
    account: 'acme',
    project: 'sim',
    token: () => TOKEN,
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

const failure = rejectionOf;

function trace(): string[] {
  return server.requests.map((r) => `${r.method} ${r.url}${r.body ? ` ${r.body}` : ''}`);
}

const W1 = { id: 'w1', lastModified: '2020-01-01T00:00:00.000Z', users: [{ userId: 'u1' }] };
const W2 = { id: 'w2', lastModified: '2021-01-01T00:00:00.000Z', users: [{ userId: 'u1' }] };

describe('worldsForUser', () => {
  it('GETs multiplayer/world/ with account, project, group, userId', async () => {
    server.enqueue({ json: [W1, W2] });
    expect(await worlds.worldsForUser({ userId: 'u1', groupName: 'g1' })).toEqual([W1, W2]);
    expect(trace()).toEqual(['GET /v2/multiplayer/world/?account=acme&project=sim&group=g1&userId=u1']);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]?.headers['x-autorestore']).toBeUndefined();
  });

  it('omits group when unknown and encodes values', async () => {
    server.enqueue({ json: [] }, { json: [] });
    await worlds.worldsForUser({ userId: 'u 1&x=y' });
    await worlds.worldsForUser({ userId: 'u1', groupName: '' });
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v2/multiplayer/world/?account=acme&project=sim&userId=u%201%26x%3Dy',
      '/v2/multiplayer/world/?account=acme&project=sim&userId=u1',
    ]);
  });

  it.each([
    ['an object', { id: 'w1' }],
    ['an array with a world without id', [{ name: 'x' }]],
  ])('a body that is %s → INVALID_RESPONSE', async (_label, body) => {
    server.enqueue({ json: body });
    expect((await failure(worlds.worldsForUser({ userId: 'u1' }))).type).toBe('INVALID_RESPONSE');
  });

  it('is retried on 503 (GET)', async () => {
    server.enqueue({ status: 503, json: {} }, { json: [W1] });
    expect(await worlds.worldsForUser({ userId: 'u1' })).toEqual([W1]);
    expect(server.requests).toHaveLength(2);
  });

  it('401 → UNAUTHORIZED; a missing userId → INVALID_OPTIONS before any request', async () => {
    server.enqueue({ status: 401, json: {} });
    expect(await failure(worlds.worldsForUser({ userId: 'u1' }))).toMatchObject({ type: 'UNAUTHORIZED', status: 401 });
    server.reset();
    expect((await failure(worlds.worldsForUser({ userId: '' }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(worlds.worldsForUser(undefined as never))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });
});

describe('currentWorldForUser', () => {
  it('picks the newest lastModified (w1 2020, w2 2021 → w2)', async () => {
    server.enqueue({ json: [W1, W2] }, { json: [W2, W1] });
    expect((await worlds.currentWorldForUser({ userId: 'u1', groupName: 'g1' }))?.id).toBe('w2');
    expect((await worlds.currentWorldForUser({ userId: 'u1', groupName: 'g1' }))?.id).toBe('w2');
  });

  it('a world without a parsable lastModified counts as oldest', async () => {
    server.enqueue({ json: [{ id: 'w0' }, W1, { id: 'w9', lastModified: 'soon' }] });
    expect((await worlds.currentWorldForUser({ userId: 'u1' }))?.id).toBe('w1');
  });

  it('resolves undefined when the user has no world', async () => {
    server.enqueue({ json: [] });
    expect(await worlds.currentWorldForUser({ userId: 'u1' })).toBeUndefined();
  });
});

describe('currentRunId', () => {
  it('POSTs the whitelisted body to world/{id}/run (no trailing slash); 201 → freshlyCreated', async () => {
    server.enqueue({ status: 201, json: 'run9' });
    const result = await worlds.currentRunId('w2', {
      model: 'model.py',
      scope: { group: 'g1', trackingKey: 'tkm' },
      account: 'acme',
      id: 'stale',
    });
    expect(result).toEqual({ runId: 'run9', freshlyCreated: true });
    expect(trace()).toEqual(['POST /v2/multiplayer/world/w2/run {"model":"model.py","scope":{"group":"g1","trackingKey":"tkm"}}']);
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('200 → the existing run (freshlyCreated false)', async () => {
    server.enqueue({ status: 200, json: 'run9' });
    expect(await worlds.currentRunId('w2', { model: 'model.py' })).toEqual({ runId: 'run9', freshlyCreated: false });
  });

  it.each([
    ['a JSON string', { json: 'run2' }],
    ['plain text', { body: 'run2' }],
    ['plain text with whitespace around', { body: '  run2\n' }],
    ['a JSON string with whitespace around', { body: ' "run2" \n', headers: { 'Content-Type': 'application/json' } }],
  ])('accepts %s', async (_label, response) => {
    server.enqueue(response);
    expect((await worlds.currentRunId('w2', { model: 'model.py' })).runId).toBe('run2');
  });

  it.each([
    ['a JSON object', { json: { id: 'run2' } }],
    ['a JSON array', { json: ['run2'] }],
    ['a JSON number', { json: 42 }],
    ['JSON null', { json: null }],
    ['an empty body', { status: 200 }],
    ['an empty JSON string', { json: '' }],
    ['an HTML page', { body: '<html><body>hello</body></html>', headers: { 'Content-Type': 'text/html' } }],
  ])('%s → INVALID_RESPONSE', async (_label, response) => {
    server.enqueue(response);
    expect(await failure(worlds.currentRunId('w2', { model: 'model.py' }))).toMatchObject({ type: 'INVALID_RESPONSE', status: 200 });
  });

  it('is never retried; 404 (unknown world) → HTTP_ERROR 404', async () => {
    server.enqueue({ status: 503, json: {} }, { status: 404, json: {} });
    expect(await failure(worlds.currentRunId('w2', { model: 'model.py' }))).toMatchObject({ type: 'HTTP_ERROR', status: 503 });
    expect(await failure(worlds.currentRunId('nope', { model: 'model.py' }))).toMatchObject({ type: 'HTTP_ERROR', status: 404 });
    expect(server.requests).toHaveLength(2);
  });

  it('a missing world id or model → INVALID_OPTIONS before any request', async () => {
    expect((await failure(worlds.currentRunId('', { model: 'model.py' }))).type).toBe('INVALID_OPTIONS');
    expect(await failure(worlds.currentRunId('w2', {}))).toMatchObject({
      type: 'INVALID_OPTIONS',
      message: 'No model specified to get the current run',
    });
    expect((await failure(worlds.newRunForWorld('', { model: 'model.py' }))).type).toBe('INVALID_OPTIONS');
    expect((await failure(worlds.newRunForWorld('w2', {}))).type).toBe('INVALID_OPTIONS');
    expect((await failure(worlds.deleteCurrentRun(undefined as never))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });
});

describe('deleteCurrentRun / newRunForWorld', () => {
  it('DELETE world/{id}/run → 204 or any 2xx', async () => {
    server.enqueue({ status: 204 }, { status: 200, json: { ok: true } });
    await expect(worlds.deleteCurrentRun('w2')).resolves.toBeUndefined();
    await expect(worlds.deleteCurrentRun('w2')).resolves.toBeUndefined();
    expect(trace()).toEqual(['DELETE /v2/multiplayer/world/w2/run', 'DELETE /v2/multiplayer/world/w2/run']);
  });

  it('newRunForWorld: DELETE then POST (a multiplayer reset); always freshlyCreated', async () => {
    server.enqueue({ status: 204 }, { status: 200, json: 'run10' });
    expect(await worlds.newRunForWorld('w2', { model: 'model.py' })).toEqual({ runId: 'run10', freshlyCreated: true });
    expect(trace()).toEqual(['DELETE /v2/multiplayer/world/w2/run', 'POST /v2/multiplayer/world/w2/run {"model":"model.py"}']);
  });

  it('newRunForWorld stops when the DELETE fails', async () => {
    server.enqueue({ status: 500, json: {} });
    expect(await failure(worlds.newRunForWorld('w2', { model: 'model.py' }))).toMatchObject({ type: 'HTTP_ERROR', status: 500 });
    expect(server.requests).toHaveLength(1);
  });

  it('errors never contain the token', async () => {
    server.enqueue({ status: 403, json: { message: 'forbidden' } });
    const error = await failure(worlds.deleteCurrentRun('w2'));
    expect(error).toMatchObject({ type: 'UNAUTHORIZED', status: 403 });
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(String(error.cause)).not.toContain(TOKEN);
  });
});
