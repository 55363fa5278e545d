/** The World API client of the multiplayer strategies; stateless, the world id is always an argument. */
import { RunManagerError } from '../errors.js';
import type { World } from '../types.js';
import type { ApiClientOptions, CreateRunParams, RequestOptions, WorldApi, WorldRunId } from './api-types.js';
import { toQueryString } from './filter.js';
import { createHttpClient, pathSegment, type HttpRequestSpec } from './http.js';
import { pickCreateParams } from './run-api.js';

/** No whitespace, quotes, brackets or markup: an HTML page is not an id. */
const PLAIN_RUN_ID = /^[^\s"'<>{}[\]]+$/;

function invalidResponse(spec: HttpRequestSpec, status: number, expected: string): RunManagerError {
  return new RunManagerError('INVALID_RESPONSE', `${spec.method} ${spec.path}: expected ${expected} (HTTP ${status})`, { status });
}

/** `.` and `..` would address a different path, never the run. */
function isDotSegment(id: string): boolean {
  return id === '.' || id === '..';
}

/** The run id in a world-run body: a JSON string or plain text, trimmed; anything else is `undefined`. */
function runIdFromBody(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const text = body.trim();
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return PLAIN_RUN_ID.test(text) && !isDotSegment(text) ? text : undefined;
  }
  if (typeof parsed !== 'string') return undefined;
  const id = parsed.trim();
  return id !== '' && PLAIN_RUN_ID.test(id) && !isDotSegment(id) ? id : undefined;
}

function lastModifiedOf(world: World): number {
  const time = typeof world.lastModified === 'string' ? Date.parse(world.lastModified) : Number.NaN;
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}

/**
 * A World API client on `{baseURL}multiplayer/world/`. Missing ids or model reject `INVALID_OPTIONS`
 * before any request; world-run bodies carry the same whitelisted fields as a run create.
 */
export function createWorldApi(options: ApiClientOptions): WorldApi {
  const http = createHttpClient(options);

  function worldRunPath(worldId: unknown): string {
    return `multiplayer/world/${pathSegment(worldId, 'world id')}/run`;
  }

  async function worldsForUser(user: { userId: string; groupName?: string }, requestOptions?: RequestOptions): Promise<World[]> {
    pathSegment(options.account, 'account');
    pathSegment(options.project, 'project');
    pathSegment(user?.userId, 'user id');
    const spec: HttpRequestSpec = {
      method: 'GET',
      path: 'multiplayer/world/',
      query: toQueryString({
        account: options.account,
        project: options.project,
        group: user.groupName || undefined,
        userId: user.userId,
      }),
      signal: requestOptions?.signal,
      parse: 'json',
    };
    const response = await http.request<unknown>(spec);
    const worlds = response.data;
    const valid = Array.isArray(worlds) && worlds.every((w) => w !== null && typeof w === 'object' && typeof (w as World).id === 'string');
    if (!valid) throw invalidResponse(spec, response.status, 'an array of worlds with ids');
    return worlds as World[];
  }

  async function currentRunId(worldId: string, params: CreateRunParams, requestOptions?: RequestOptions): Promise<WorldRunId> {
    const path = worldRunPath(worldId);
    if (typeof params?.model !== 'string' || params.model === '') {
      throw new RunManagerError('INVALID_OPTIONS', 'No model specified to get the current run');
    }
    const spec: HttpRequestSpec = { method: 'POST', path, body: pickCreateParams(params), signal: requestOptions?.signal, parse: 'text' };
    const response = await http.request<unknown>(spec);
    const runId = runIdFromBody(response.data);
    if (runId === undefined) throw invalidResponse(spec, response.status, 'the run id as a JSON string or plain text');
    return { runId, freshlyCreated: response.status === 201 };
  }

  async function deleteCurrentRun(worldId: string, requestOptions?: RequestOptions): Promise<void> {
    await http.request<string>({ method: 'DELETE', path: worldRunPath(worldId), signal: requestOptions?.signal, parse: 'text' });
  }

  return {
    worldsForUser,

    async currentWorldForUser(user, requestOptions) {
      const worlds = await worldsForUser(user, requestOptions);
      let newest: World | undefined;
      for (const world of worlds) {
        if (newest === undefined || lastModifiedOf(world) > lastModifiedOf(newest)) newest = world;
      }
      return newest;
    },

    currentRunId,

    deleteCurrentRun,

    async newRunForWorld(worldId, params, requestOptions) {
      worldRunPath(worldId);
      if (typeof params?.model !== 'string' || params.model === '') {
        throw new RunManagerError('INVALID_OPTIONS', 'No model specified to get a new run for the world');
      }
      await deleteCurrentRun(worldId, requestOptions);
      const { runId } = await currentRunId(worldId, params, requestOptions);
      return { runId, freshlyCreated: true };
    },
  };
}
