/** The Epicenter v3 World API client against a scripted server: routes, bodies, world mapping, 201 vs 200, self-assignment. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorldApi } from '../../src/services/api-types.js';
import { createWorldApiV3, type V3ClientOptions, type V3Session } from '../../src/services/world-api-v3.js';
import { createParams } from '../../src/machines/strategies/shared.js';
import { trackingKeyCreateParams } from '../../src/machines/strategies/tracking-key.js';
import type { RunConfig } from '../../src/machines/strategies/types.js';
import type { UserSession } from '../../src/types.js';
import { rejectionOf } from '../helpers/rejection.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const TOKEN = 'world-token-secret-0001';
const NEW_TOKEN = 'world-token-renewed-0002';

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

function reset(): void {
  token = TOKEN;
  session = { userKey: 'u-1', groupKey: 'gk-1', groupName: 'g1' };
  renewed = [];
}
reset();
afterEach(() => {
  server.reset();
  reset();
});

function makeApi(overrides: Partial<V3ClientOptions> = {}): WorldApi {
  return createWorldApiV3({
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
    retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

const failure = rejectionOf;

function trace(): string[] {
  return server.requests.map((r) => `${r.method} ${r.url}${r.body ? ` ${r.body}` : ''}`);
}

const CONFIG: RunConfig = { account: 'acme', project: 'sim', model: 'model.py' };
const USER: UserSession = { userId: 'u-1', groupName: 'g1' };

function world(worldKey: string, lastUpdated: string | number, runKey?: string) {
  return {
    worldKey,
    name: `world ${worldKey}`,
    orbitType: 'GROUP',
    ...(runKey ? { runKey } : {}),
    created: '2025-01-01T00:00:00.000Z',
    lastUpdated,
    assignments: [
      { role: 'leader', user: { userKey: 'u-1', displayName: 'Ada', userId: 11 } },
      { role: 'member', user: { userKey: 'u-2' } },
      { role: 'ghost' },
    ],
  };
}

const RUN = { runKey: 'rk-w', scope: { scopeBoundary: 'WORLD', scopeKey: 'w-1' }, hidden: false, trackingKey: 'r2', modelFile: 'model.py' };

describe('worldsForUser', () => {
  it('GET world/{groupName}?mine=true; each world keeps its v3 fields and gains id, run, lastModified, users', async () => {
    server.enqueue({ json: [world('w-1', '2025-03-01T00:00:00.000Z', 'rk-1')] });
    const worlds = await makeApi().worldsForUser({ userId: 'u-1', groupName: 'g1' });
    expect(trace()).toEqual(['GET /api/v3/acme/sim/world/g1?mine=true']);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(worlds).toEqual([
      {
        ...world('w-1', '2025-03-01T00:00:00.000Z', 'rk-1'),
        id: 'w-1',
        run: 'rk-1',
        lastModified: '2025-03-01T00:00:00.000Z',
        users: [
          { userId: 'u-1', userName: 'Ada', role: 'leader' },
          { userId: 'u-2', role: 'member' },
        ],
      },
    ]);
  });

  it('a world without runKey has no run; a numeric lastUpdated becomes ISO text', async () => {
    server.enqueue({ json: [world('w-2', Date.UTC(2025, 0, 2))] });
    const [only] = await makeApi().worldsForUser({ userId: 'u-1', groupName: 'g1' });
    expect(only).not.toHaveProperty('run');
    expect(only?.lastModified).toBe('2025-01-02T00:00:00.000Z');
  });

  it('the group name comes from the session when the user has none; percent-encoded', async () => {
    session = { ...session, groupName: 'team a/1' };
    server.enqueue({ json: [] });
    await makeApi().worldsForUser({ userId: 'u-1' });
    expect(server.requests[0]?.url).toBe('/api/v3/acme/sim/world/team%20a%2F1?mine=true');
  });

  it('no group name at all → UNAUTHORIZED before any request', async () => {
    session = { userKey: 'u-1', groupKey: 'gk-1' };
    expect((await failure(makeApi().worldsForUser({ userId: 'u-1' }))).type).toBe('UNAUTHORIZED');
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['an object', { worlds: [] }],
    ['worlds without worldKey', [{ id: 'w' }]],
    ["a worldKey '..'", [{ worldKey: '..' }]],
  ])('an answer that is %s → INVALID_RESPONSE', async (_what, json) => {
    server.enqueue({ json });
    expect((await failure(makeApi().worldsForUser({ userId: 'u-1', groupName: 'g1' }))).type).toBe('INVALID_RESPONSE');
  });
});

describe('currentWorldForUser', () => {
  it('the newest by lastUpdated (ISO text or epoch ms)', async () => {
    server.enqueue({
      json: [world('old', '2025-01-01T00:00:00.000Z'), world('new', Date.UTC(2025, 5, 1)), world('mid', '2025-03-01T00:00:00.000Z')],
    });
    expect((await makeApi().currentWorldForUser({ userId: 'u-1', groupName: 'g1' }))?.id).toBe('new');
  });

  it('none and no selfAssign → undefined after one request', async () => {
    server.enqueue({ json: [] });
    expect(await makeApi().currentWorldForUser({ userId: 'u-1', groupName: 'g1' })).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it('none with selfAssign → POST world/selfassign/{groupName} {role, objective, populace} → that world', async () => {
    const populace = [{ role: 'leader', minimum: 1, maximum: 1 }];
    server.enqueue({ json: [] }, { json: world('w-9', '2025-04-01T00:00:00.000Z') });
    const found = await makeApi().currentWorldForUser({
      userId: 'u-1',
      groupName: 'g1',
      selfAssign: { role: 'leader', objective: 'MINIMUM', populace },
    });
    expect(found).toMatchObject({ id: 'w-9', worldKey: 'w-9' });
    expect(trace()).toEqual([
      'GET /api/v3/acme/sim/world/g1?mine=true',
      `POST /api/v3/acme/sim/world/selfassign/g1 ${JSON.stringify({ role: 'leader', objective: 'MINIMUM', populace })}`,
    ]);
    expect(server.requests[1]?.headers['content-type']).toBe('application/json; charset=UTF-8');
  });

  it('selfAssign {} sends an empty body; a 204 answer → undefined; a non-world → INVALID_RESPONSE', async () => {
    server.enqueue({ json: [] }, { status: 204 }, { json: [] }, { json: { name: 'no key' } });
    expect(await makeApi().currentWorldForUser({ userId: 'u-1', groupName: 'g1', selfAssign: {} })).toBeUndefined();
    expect(server.requests[1]?.json).toEqual({});
    expect((await failure(makeApi().currentWorldForUser({ userId: 'u-1', groupName: 'g1', selfAssign: {} }))).type).toBe(
      'INVALID_RESPONSE',
    );
  });

  it('a user with a world is not self-assigned', async () => {
    server.enqueue({ json: [world('w-1', '2025-01-01T00:00:00.000Z')] });
    expect((await makeApi().currentWorldForUser({ userId: 'u-1', groupName: 'g1', selfAssign: {} }))?.id).toBe('w-1');
    expect(server.requests).toHaveLength(1);
  });

  it('after a self-assignment the token is invalidated: the next call renews it and goes through', async () => {
    server.enqueue(
      { json: [] },
      { json: world('w-1', '2025-01-01T00:00:00.000Z') },
      { status: 401, json: { message: 'assignment changed', information: { code: 'AUTHENTICATION_INVALIDATED' } } },
      { json: { token: NEW_TOKEN, userKey: 'u-1', groupKey: 'gk-1' } },
      { status: 201, json: RUN },
    );
    const api = makeApi();
    const found = await api.currentWorldForUser({ userId: 'u-1', groupName: 'g1', selfAssign: {} });
    const answer = await api.currentRunId(found!.id, createParams(CONFIG, USER));
    expect(answer).toMatchObject({ runId: 'rk-w', freshlyCreated: true });
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? ''}`)).toEqual([
      `GET /api/v3/acme/sim/world/g1 Bearer ${TOKEN}`,
      `POST /api/v3/acme/sim/world/selfassign/g1 Bearer ${TOKEN}`,
      `POST /api/v3/acme/sim/run/world/w-1 Bearer ${TOKEN}`,
      `PATCH /api/v3/acme/sim/authentication Bearer ${TOKEN}`,
      `POST /api/v3/acme/sim/run/world/w-1 Bearer ${NEW_TOKEN}`,
    ]);
    expect(renewed).toHaveLength(1);
  });
});

describe("the world's run", () => {
  it('currentRunId: POST run/world/{worldKey} {morphology, modelFile, contexts}; 201 → freshlyCreated, the run mapped', async () => {
    server.enqueue({ status: 201, json: RUN });
    const answer = await makeApi().currentRunId('w-1', createParams(CONFIG, USER));
    expect(trace()).toEqual([
      'POST /api/v3/acme/sim/run/world/w-1 {"morphology":"MANY","modelFile":"model.py","modelContext":{},"executionContext":{}}',
    ]);
    expect(server.requests[0]?.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(answer).toEqual({
      runId: 'rk-w',
      freshlyCreated: true,
      run: { ...RUN, id: 'rk-w', trashed: false, scope: { ...RUN.scope, trackingKey: 'r2' } },
    });
  });

  it('200 → not freshlyCreated; the tracking key is sent top-level', async () => {
    server.enqueue({ status: 200, json: RUN });
    const answer = await makeApi().currentRunId('w-1', trackingKeyCreateParams(CONFIG, USER, 'r2', undefined));
    expect(answer.freshlyCreated).toBe(false);
    expect(server.requests[0]?.json).toEqual({
      morphology: 'MANY',
      modelFile: 'model.py',
      trackingKey: 'r2',
      modelContext: {},
      executionContext: {},
    });
  });

  it('a world listed without a run: its run is fresh even on a 200, until the server has shown it answers 201', async () => {
    const api = makeApi();
    // A server that never answers 201: the listing is the only sign that the call made the run.
    server.enqueue({ json: [world('w-1', 1)] }, { status: 200, json: RUN });
    await api.currentWorldForUser({ userId: 'u-1' });
    expect((await api.currentRunId('w-1', createParams(CONFIG, USER))).freshlyCreated).toBe(true);
    // Listed with a run, a 200 is the existing run.
    server.enqueue({ json: [world('w-1', 2, 'rk-w')] }, { status: 200, json: RUN });
    await api.currentWorldForUser({ userId: 'u-1' });
    expect((await api.currentRunId('w-1', createParams(CONFIG, USER))).freshlyCreated).toBe(false);
    // Once a 201 came, a 200 is believed: another member made the run between the listing and the call.
    server.enqueue({ status: 201, json: RUN }, { json: [world('w-1', 3)] }, { status: 200, json: RUN });
    expect((await api.currentRunId('w-1', createParams(CONFIG, USER))).freshlyCreated).toBe(true);
    await api.currentWorldForUser({ userId: 'u-1' });
    expect((await api.currentRunId('w-1', createParams(CONFIG, USER))).freshlyCreated).toBe(false);
  });

  it('no groupKey is needed for a world run', async () => {
    session = { userKey: 'u-1', groupName: 'g1' };
    server.enqueue({ status: 200, json: RUN });
    expect((await makeApi().currentRunId('w-1', { model: 'model.py' })).runId).toBe('rk-w');
  });

  it('refuses what v3 cannot send, before any request', async () => {
    for (const params of [
      { model: 'model.py', files: { a: 1 } },
      { model: 'model.py', scope: { worldId: 'w-other' } },
      { model: 'model.py', scope: { region: 'eu' } },
      { model: 'model.py', scope: { group: 'other' } },
    ]) {
      expect((await failure(makeApi().currentRunId('w-1', params))).type).toBe('INVALID_OPTIONS');
    }
    expect((await failure(makeApi().currentRunId('..', { model: 'model.py' }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('an answer without runKey → INVALID_RESPONSE; a fault → its type and code; never retried', async () => {
    server.enqueue({ json: 'rk-w' }, { status: 503, json: { message: 'busy', information: { code: 'UNAVAILABLE' } } });
    expect((await failure(makeApi().currentRunId('w-1', { model: 'model.py' }))).type).toBe('INVALID_RESPONSE');
    expect(await failure(makeApi().currentRunId('w-1', { model: 'model.py' }))).toMatchObject({
      type: 'HTTP_ERROR',
      status: 503,
      code: 'UNAVAILABLE',
    });
    expect(server.requests).toHaveLength(2);
  });

  it('deleteCurrentRun: DELETE run/world/{worldKey}', async () => {
    server.enqueue({ status: 204 });
    await makeApi().deleteCurrentRun('w-1');
    expect(trace()).toEqual(['DELETE /api/v3/acme/sim/run/world/w-1']);
  });

  it('newRunForWorld: DELETE then POST; always freshlyCreated, whatever the status', async () => {
    server.enqueue({ status: 204 }, { status: 200, json: RUN });
    const answer = await makeApi().newRunForWorld('w-1', createParams(CONFIG, USER));
    expect(answer).toMatchObject({ runId: 'rk-w', freshlyCreated: true, run: { id: 'rk-w' } });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /api/v3/acme/sim/run/world/w-1',
      'POST /api/v3/acme/sim/run/world/w-1',
    ]);
  });

  it('newRunForWorld checks its parameters before deleting anything', async () => {
    expect((await failure(makeApi().newRunForWorld('w-1', { model: 'model.py', cinFiles: {} }))).type).toBe('INVALID_OPTIONS');
    expect(server.requests).toHaveLength(0);
  });

  it('a failing DELETE stops the reset before the POST', async () => {
    server.enqueue({ status: 404, json: { message: 'no world', information: { code: 'NOT_FOUND' } } });
    expect(await failure(makeApi().newRunForWorld('w-1', { model: 'model.py' }))).toMatchObject({ type: 'HTTP_ERROR', code: 'NOT_FOUND' });
    expect(server.requests).toHaveLength(1);
  });
});
