/**
 * The Epicenter v3 World API behind the v2 `WorldApi` interface: the caller's worlds
 * (`GET world/{groupName}?mine=true`), self-assignment, and the world's run (`run/world/{worldKey}`),
 * with v3 worlds mapped to the `World` fields the multiplayer strategies read.
 */
import { RunManagerError } from '../errors.js';
import type { World } from '../types.js';
import type { CreateRunParams, RequestOptions, SelfAssignOptions, WorldApi, WorldRunId, WorldUser } from './api-types.js';
import { v3QueryString } from './filter-v3.js';
import type { HttpRequestSpec } from './http.js';
import {
  createV3Core,
  hasRunKey,
  invalidResponse,
  JSON_HEADERS,
  runBodyHeaders,
  v3RunBody,
  v3RunView,
  type V3ClientOptions,
  type V3Core,
} from './v3.js';
import { defineOwn, isObject, isSafeKey } from './values.js';

export type { V3ClientOptions, V3Session } from './v3.js';

/** Enough for every world a user is in; never unbounded. */
const MAX_REMEMBERED_WORLDS = 64;

function hasWorldKey(value: unknown): value is Record<string, unknown> & { worldKey: string } {
  return (
    isObject(value) && typeof value.worldKey === 'string' && value.worldKey !== '' && value.worldKey !== '.' && value.worldKey !== '..'
  );
}

/** `lastUpdated` as a time: an ISO date or epoch milliseconds; unknown sorts oldest. */
function updatedAt(world: World): number {
  const value = world.lastUpdated;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}

/**
 * A v3 world as a `World`: the record as sent, plus the v2 names the strategies read: `id` = `worldKey`,
 * `run` = `runKey` (the world's current run), `lastModified` = `lastUpdated` (as ISO text), and `users`
 * = the assignments as `{ userId: user.userKey, userName: user.displayName, role }`.
 */
export function v3WorldView(record: Record<string, unknown> & { worldKey: string }): World {
  const world: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (isSafeKey(key)) defineOwn(world, key, value);
  }
  world.id = record.worldKey;
  if (typeof record.runKey === 'string' && record.runKey !== '') world.run = record.runKey;
  else delete world.run;
  const updated = record.lastUpdated;
  if (typeof updated === 'string') world.lastModified = updated;
  else if (typeof updated === 'number' && Number.isFinite(updated)) world.lastModified = new Date(updated).toISOString();
  if (Array.isArray(record.assignments)) {
    const users: NonNullable<World['users']> = [];
    for (const assignment of record.assignments) {
      if (!isObject(assignment)) continue;
      const user = isObject(assignment.user) ? assignment.user : {};
      if (typeof user.userKey !== 'string' || user.userKey === '') continue;
      const entry: NonNullable<World['users']>[number] = { userId: user.userKey };
      if (typeof user.displayName === 'string') entry.userName = user.displayName;
      if (typeof assignment.role === 'string') entry.role = assignment.role;
      users.push(entry);
    }
    world.users = users;
  }
  return world as World;
}

function selfAssignBody(selfAssign: SelfAssignOptions): Record<string, unknown> {
  if (!isObject(selfAssign)) throw new RunManagerError('INVALID_OPTIONS', 'selfAssign must be an object { role?, objective?, populace? }');
  const body: Record<string, unknown> = {};
  if (selfAssign.role !== undefined) body.role = selfAssign.role;
  if (selfAssign.objective !== undefined) body.objective = selfAssign.objective;
  if (selfAssign.populace !== undefined) body.populace = selfAssign.populace;
  return body;
}

/**
 * An Epicenter v3 World API client behind the v2 `WorldApi` interface. The user's worlds are
 * `GET {account}/{project}/world/{groupName}?mine=true` (the group name comes from the user, else the
 * session; none is `UNAUTHORIZED`); the current one is the newest by `lastUpdated`, and when there is
 * none and `user.selfAssign` is given the user is self-assigned (`POST world/selfassign/{groupName}`).
 * The world's run is `POST run/world/{worldKey}`, answered with the whole run: `freshlyCreated` is
 * what the status says (201); reset is `DELETE` then `POST run/world/{worldKey}`.
 */
export function createWorldApiV3(options: V3ClientOptions, core: V3Core = createV3Core(options)): WorldApi {
  const { http } = core;
  // Worlds whose last listing named no current run: their next world-run call makes one. The server
  // may not tell a created run (201) from an existing one (200), so this is the other sign of a new run.
  const listedWithoutRun = new Set<string>();
  // Once the server has answered 201, it tells created from existing, and a 200 is believed.
  let answersCreated = false;

  function rememberListing(worlds: World[]): void {
    for (const world of worlds) {
      listedWithoutRun.delete(world.id);
      if (world.run === undefined) listedWithoutRun.add(world.id);
    }
    while (listedWithoutRun.size > MAX_REMEMBERED_WORLDS) listedWithoutRun.delete(listedWithoutRun.values().next().value!);
  }

  function groupNameOf(user: WorldUser): string {
    const name = isObject(user) && typeof user.groupName === 'string' && user.groupName !== '' ? user.groupName : core.session().groupName;
    if (name === undefined) {
      throw new RunManagerError('UNAUTHORIZED', 'Finding worlds on Epicenter v3 needs a group name (user.groupName or session.groupName)');
    }
    return name;
  }

  function worldKey(worldId: unknown) {
    return { value: worldId, what: 'world id' };
  }

  async function worldsForUser(user: WorldUser, requestOptions?: RequestOptions): Promise<World[]> {
    const spec: HttpRequestSpec = {
      method: 'GET',
      path: core.route('world', { value: groupNameOf(user), what: 'group name' }),
      query: v3QueryString({ mine: true }),
      signal: requestOptions?.signal,
      parse: 'json',
    };
    const response = await http.request<unknown>(spec);
    const worlds = response.data;
    if (!Array.isArray(worlds) || !worlds.every(hasWorldKey))
      throw invalidResponse(spec, response.status, 'an array of worlds with a worldKey');
    const views = worlds.map(v3WorldView);
    rememberListing(views);
    return views;
  }

  async function selfAssign(user: WorldUser, requestOptions?: RequestOptions): Promise<World | undefined> {
    const spec: HttpRequestSpec = {
      method: 'POST',
      path: core.route('world', 'selfassign', { value: groupNameOf(user), what: 'group name' }),
      body: selfAssignBody(user.selfAssign!),
      headers: JSON_HEADERS,
      signal: requestOptions?.signal,
      parse: 'json-or-none',
    };
    const response = await http.request<unknown>(spec);
    // No world for the user (nothing answered): the strategy reports NO_WORLD_FOR_USER.
    if (response.data === undefined || response.data === null) return undefined;
    if (!hasWorldKey(response.data)) throw invalidResponse(spec, response.status, 'the assigned world with a worldKey');
    const world = v3WorldView(response.data);
    rememberListing([world]);
    return world;
  }

  async function currentRunId(worldId: string, params: CreateRunParams, requestOptions?: RequestOptions): Promise<WorldRunId> {
    const path = core.route('run', 'world', worldKey(worldId));
    const body = v3RunBody(params, { model: core.model(), session: core.session(), target: 'world', worldKey: worldId });
    const spec: HttpRequestSpec = {
      method: 'POST',
      path,
      body,
      headers: runBodyHeaders(body),
      signal: requestOptions?.signal,
      parse: 'json',
    };
    const response = await http.request<unknown>(spec);
    if (!hasRunKey(response.data)) throw invalidResponse(spec, response.status, 'the world run with a runKey');
    if (response.status === 201) answersCreated = true;
    const madeNow = response.status === 201 || (!answersCreated && listedWithoutRun.has(worldId));
    listedWithoutRun.delete(worldId);
    return { runId: response.data.runKey, freshlyCreated: madeNow, run: v3RunView(response.data) };
  }

  async function deleteCurrentRun(worldId: string, requestOptions?: RequestOptions): Promise<void> {
    await http.request<string>({
      method: 'DELETE',
      path: core.route('run', 'world', worldKey(worldId)),
      signal: requestOptions?.signal,
      parse: 'text',
    });
  }

  return {
    worldsForUser,

    async currentWorldForUser(user, requestOptions) {
      const worlds = await worldsForUser(user, requestOptions);
      let newest: World | undefined;
      for (const world of worlds) {
        if (newest === undefined || updatedAt(world) > updatedAt(newest)) newest = world;
      }
      if (newest === undefined && isObject(user) && user.selfAssign !== undefined) return selfAssign(user, requestOptions);
      return newest;
    },

    currentRunId,

    deleteCurrentRun,

    async newRunForWorld(worldId, params, requestOptions) {
      core.route('run', 'world', worldKey(worldId));
      v3RunBody(params, { model: core.model(), session: core.session(), target: 'world', worldKey: worldId });
      await deleteCurrentRun(worldId, requestOptions);
      const answer = await currentRunId(worldId, params, requestOptions);
      return { ...answer, freshlyCreated: true };
    },
  };
}
