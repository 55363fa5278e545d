/**
 * The v3 world routes under `world`: lists, facilitator management (create, update, delete,
 * assignments) and self-assignment. Worlds are the store's v2 records (`users` are the
 * assignments), seen through `worldView`. Assignment changes may invalidate tokens (v3-sessions.ts).
 */
import type { World } from '../types.js';
import { HttpError, type Reply } from './http.js';
import { StoreBudget } from './limits.js';
import { isRecord } from './record-paths.js';
import { findWorld, isMember, optionalBoolean, optionalString, segment, V3_CODES, type V3Context, v3Body, v3Fault } from './v3-context.js';
import { assignmentsChanged } from './v3-sessions.js';
import { worldView } from './v3-views.js';

type WorldUser = NonNullable<World['users']>[number];

function methodNotAllowed(method: string, allowed: readonly string[]): HttpError {
  return v3Fault(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here (allowed: ${allowed.join(', ')})`, {
    Allow: allowed.join(', '),
  });
}

function groupWorlds(context: V3Context, group: string): World[] {
  return context.store.listWorlds({ account: context.account, project: context.project, group });
}

function views(context: V3Context, worlds: readonly World[]): Reply {
  return { status: 200, body: worlds.map((world) => worldView(world, context.store)) };
}

function usersOf(world: World): WorldUser[] {
  if (!Array.isArray(world.users)) world.users = [];
  return world.users;
}

/** Where each user of `worlds` is, as `worldId␀role`, to tell afterwards whose assignment changed. */
function assignmentMap(worlds: readonly World[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const world of worlds) {
    for (const user of usersOf(world)) map.set(user.userId, `${world.id}\u0000${user.role ?? ''}`);
  }
  return map;
}

function changedUsers(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((userId) => before.get(userId) !== after.get(userId));
}

/** Runs `change` on the group's worlds, then invalidates the tokens of users whose assignment it changed. */
function changeAssignments<T>(context: V3Context, group: string, change: (worlds: World[]) => T): T {
  const before = assignmentMap(groupWorlds(context, group));
  const result = change(groupWorlds(context, group));
  assignmentsChanged(context, changedUsers(before, assignmentMap(groupWorlds(context, group))));
  return result;
}

function newWorld(context: V3Context, group: string, fields: { name?: string; displayName?: string; allowChannel?: boolean }): World {
  const taken = new Set(groupWorlds(context, group).map((world) => world.name));
  let number = taken.size + 1;
  while (taken.has(`World ${number}`)) number += 1;
  const name = fields.name ?? `World ${number}`;
  return context.store.createWorld({
    account: context.account,
    project: context.project,
    group,
    name,
    displayName: fields.displayName ?? name,
    ...(fields.allowChannel === undefined ? {} : { allowChannel: fields.allowChannel }),
    users: [],
  });
}

interface PopulaceEntry {
  role: string;
  minimum?: number;
  maximum?: number;
}

const OBJECTIVES = new Set(['MINIMUM', 'MAXIMUM', 'MARGINAL', 'OPTIMAL']);

interface Placement {
  role: string | undefined;
  objective: string;
  populace: PopulaceEntry[];
}

function count(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw v3Fault(400, V3_CODES.badRequest, `${what} must be a non-negative integer`);
  }
  return value;
}

function placementOf(body: Record<string, unknown>): Placement {
  const objective = (optionalString(body, 'objective') ?? 'MINIMUM').toUpperCase();
  if (!OBJECTIVES.has(objective)) throw v3Fault(400, V3_CODES.badRequest, `objective must be one of ${[...OBJECTIVES].join(', ')}`);
  const raw = body.populace ?? [];
  if (!Array.isArray(raw)) throw v3Fault(400, V3_CODES.badRequest, 'populace must be an array of { role, minimum?, maximum? }');
  const populace = raw.map((entry: unknown, index): PopulaceEntry => {
    if (!isRecord(entry) || typeof entry.role !== 'string')
      throw v3Fault(400, V3_CODES.badRequest, `populace[${index}] needs a string role`);
    const minimum = count(entry.minimum, `populace[${index}].minimum`);
    const maximum = count(entry.maximum, `populace[${index}].maximum`);
    return { role: entry.role, ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) };
  });
  return { role: optionalString(body, 'role'), objective, populace };
}

/**
 * The world of the group to put a user in: among worlds with fewer users of the role than its
 * populace `maximum` (no maximum: always room), MAXIMUM picks the fullest, every other objective
 * the emptiest; ties go to the older world. None with room → a new world.
 */
function chooseWorld(context: V3Context, group: string, worlds: readonly World[], placement: Placement): World {
  const maximum = placement.populace.find((entry) => entry.role === placement.role)?.maximum;
  const withRoom = worlds.filter(
    (world) => maximum === undefined || usersOf(world).filter((user) => user.role === placement.role).length < maximum,
  );
  const fullest = placement.objective === 'MAXIMUM';
  let chosen: World | undefined;
  for (const world of withRoom) {
    const size = usersOf(world).length;
    if (chosen === undefined || (fullest ? size > usersOf(chosen).length : size < usersOf(chosen).length)) chosen = world;
  }
  return chosen ?? newWorld(context, group, {});
}

function assign(context: V3Context, world: World, user: WorldUser): void {
  usersOf(world).push(user);
  context.store.touchWorld(world);
}

/** `POST world/selfassign/{group}`: the caller's world in the group, placing the caller first when it has none. */
function selfAssign(context: V3Context, group: string): Reply {
  if (!context.v3.settings.allowWorldSelfAssign) {
    throw v3Fault(403, V3_CODES.selfAssignDisabled, `self-assignment to worlds is disabled in ${context.account}/${context.project}`);
  }
  const { caller } = context;
  if (caller.groupName !== group) throw v3Fault(403, V3_CODES.notInGroup, `the caller is not in group ${group}`);
  const placement = placementOf(v3Body(context, '{ role?, objective?, populace? }'));
  const userId = caller.user.id;
  const world = changeAssignments(context, group, (worlds) => {
    const current = worlds.find((candidate) => isMember(candidate, userId));
    if (current) return current;
    const chosen = chooseWorld(context, group, worlds, placement);
    const userName = typeof caller.user.userName === 'string' ? { userName: caller.user.userName } : {};
    assign(context, chosen, { userId, ...userName, ...(placement.role === undefined ? {} : { role: placement.role }) });
    return chosen;
  });
  return { status: 200, body: worldView(world, context.store) };
}

interface AssignmentEntry {
  userKey: string;
  role?: string;
}

function assignmentEntries(value: unknown, what: string): AssignmentEntry[] {
  if (!Array.isArray(value)) throw v3Fault(400, V3_CODES.badRequest, `${what} must be an array of { userKey, role? }`);
  return value.map((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.userKey !== 'string' || entry.userKey === '') {
      throw v3Fault(400, V3_CODES.badRequest, `${what}[${index}] needs a non-empty string userKey`);
    }
    if (entry.role !== undefined && entry.role !== null && typeof entry.role !== 'string') {
      throw v3Fault(400, V3_CODES.badRequest, `${what}[${index}].role must be a string`);
    }
    return { userKey: entry.userKey, ...(typeof entry.role === 'string' ? { role: entry.role } : {}) };
  });
}

function worldUser(entry: AssignmentEntry, known: WorldUser | undefined): WorldUser {
  return {
    userId: entry.userKey,
    ...(known?.userName === undefined ? {} : { userName: known.userName }),
    ...(entry.role === undefined ? {} : { role: entry.role }),
  };
}

/** `POST world/assignment/{group}`: places every listed user who has no world in the group yet. */
function autoAssign(context: V3Context, group: string): Reply {
  const body = v3Body(context, '{ assignments: [{ userKey, role? }], objective?, populace? }');
  const entries = assignmentEntries(body.assignments, 'assignments');
  const placement = placementOf(body);
  new StoreBudget('the assignments').value(entries, 2);
  changeAssignments(context, group, () => {
    for (const entry of entries) {
      const worlds = groupWorlds(context, group);
      if (worlds.some((world) => isMember(world, entry.userKey))) continue;
      const chosen = chooseWorld(context, group, worlds, { ...placement, role: entry.role });
      assign(context, chosen, worldUser(entry, undefined));
    }
  });
  return views(context, groupWorlds(context, group));
}

/** `PUT world/assignment/{group}`: each listed world gets exactly its list; listed users leave their other worlds of the group. */
function editAssignments(context: V3Context, group: string): Reply {
  const body = v3Body(context, '{ assignments: { [worldKey]: [{ userKey, role? }] } }');
  if (!isRecord(body.assignments))
    throw v3Fault(400, V3_CODES.badRequest, 'assignments must be an object of worldKey → [{ userKey, role? }]');
  const lists = Object.entries(body.assignments).map(([worldKey, value]) => {
    const world = findWorld(context, worldKey);
    if (world.group !== group) throw v3Fault(404, V3_CODES.worldNotFound, `world ${worldKey} is not in group ${group}`);
    return { world, entries: assignmentEntries(value, `assignments.${worldKey}`) };
  });
  new StoreBudget('the assignments').value(body.assignments, 2);
  changeAssignments(context, group, (worlds) => {
    const known = new Map(worlds.flatMap((world) => usersOf(world).map((user) => [user.userId, user] as const)));
    const moved = new Set(lists.flatMap(({ entries }) => entries.map((entry) => entry.userKey)));
    for (const world of worlds) {
      const kept = usersOf(world).filter((user) => !moved.has(user.userId));
      if (kept.length !== usersOf(world).length) {
        world.users = kept;
        context.store.touchWorld(world);
      }
    }
    for (const { world, entries } of lists) {
      world.users = entries.map((entry) => worldUser(entry, known.get(entry.userKey)));
      context.store.touchWorld(world);
    }
  });
  return views(context, groupWorlds(context, group));
}

/** `DELETE world/assignment/{group}?userKey=…`: the users leave their worlds of the group. */
function removeUsers(context: V3Context, group: string): Reply {
  const userKeys = new Set(context.query.getAll('userKey'));
  if (userKeys.size === 0) throw v3Fault(400, V3_CODES.badRequest, 'name the users to remove with userKey query parameters');
  changeAssignments(context, group, (worlds) => {
    for (const world of worlds) {
      const kept = usersOf(world).filter((user) => !userKeys.has(user.userId));
      if (kept.length === usersOf(world).length) continue;
      world.users = kept;
      context.store.touchWorld(world);
    }
  });
  return { status: 204 };
}

/** `PATCH world/{worldKey}` and `PATCH world/run/{worldKey}`: display name, channel flag and current run (`runKey: null` detaches it). */
function updateWorld(context: V3Context, world: World, runOnly: boolean): Reply {
  const body = v3Body(context, runOnly ? '{ runKey }' : '{ displayName?, runKey?, allowChannel? }');
  const displayName = runOnly ? undefined : optionalString(body, 'displayName');
  const allowChannel = runOnly ? undefined : optionalBoolean(body, 'allowChannel');
  const { runKey } = body;
  if (runKey !== undefined && runKey !== null) {
    if (typeof runKey !== 'string') throw v3Fault(400, V3_CODES.badRequest, 'runKey must be a string or null');
    const run = context.store.get(runKey);
    if (!run || run.account !== context.account || run.project !== context.project) {
      throw v3Fault(404, V3_CODES.runNotFound, `run ${runKey} not found in ${context.account}/${context.project}`);
    }
  } else if (runOnly && runKey === undefined) {
    throw v3Fault(400, V3_CODES.badRequest, 'runKey is required');
  }
  if (displayName !== undefined) world.displayName = displayName;
  if (allowChannel !== undefined) world.allowChannel = allowChannel;
  if (runKey !== undefined) context.store.setWorldRun(world, runKey === null ? undefined : runKey);
  context.store.touchWorld(world);
  return { status: 200, body: worldView(world, context.store) };
}

function deleteWorld(context: V3Context, world: World): Reply {
  const userIds = usersOf(world).map((user) => user.userId);
  context.store.removeWorld(world.id);
  assignmentsChanged(context, userIds);
  return { status: 204 };
}

function createWorld(context: V3Context, group: string): Reply {
  const body = v3Body(context, '{ name?, displayName?, allowChannel? }');
  const name = optionalString(body, 'name');
  const displayName = optionalString(body, 'displayName');
  const allowChannel = optionalBoolean(body, 'allowChannel');
  new StoreBudget('the world').value({ name, displayName }, 0);
  const world = newWorld(context, group, {
    ...(name === undefined || name === '' ? {} : { name }),
    ...(displayName === undefined ? {} : { displayName }),
    ...(allowChannel === undefined ? {} : { allowChannel }),
  });
  return { status: 201, body: worldView(world, context.store) };
}

function assignmentRoute(context: V3Context, tail: readonly string[]): Reply {
  const { method, caller } = context;
  if (tail.length === 0) {
    if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
    const mine = context.store.listWorlds({ account: context.account, project: context.project, userId: caller.user.id });
    return views(context, mine);
  }
  if (tail[0] === 'for' && tail.length === 2) {
    if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
    return listGroup(context, segment(tail[1], 'groupName'));
  }
  if (tail.length !== 1) throw v3Fault(404, V3_CODES.routeNotFound, 'expected world/assignment[/{groupName or worldKey}]');
  const name = segment(tail[0], 'groupName');
  switch (method) {
    case 'GET':
      return { status: 200, body: worldView(findWorld(context, name), context.store) };
    case 'POST':
      return autoAssign(context, name);
    case 'PUT':
      return editAssignments(context, name);
    case 'DELETE':
      return removeUsers(context, name);
    default:
      throw methodNotAllowed(method, ['GET', 'POST', 'PUT', 'DELETE']);
  }
}

/** `GET world/{group}` (`mine=true`: only the caller's worlds). */
function listGroup(context: V3Context, group: string): Reply {
  const mine = context.query.get('mine') === 'true';
  const worlds = groupWorlds(context, group).filter((world) => !mine || isMember(world, context.caller.user.id));
  return views(context, worlds);
}

/** Answers a request under `world`; `tail` holds the raw segments after it. */
export function handleV3WorldRoute(context: V3Context, tail: readonly string[]): Reply {
  const { method } = context;
  const [first, second] = tail;
  if (first === 'assignment') return assignmentRoute(context, tail.slice(1));
  if (first === 'selfassign' && tail.length === 2) {
    if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
    return selfAssign(context, segment(second, 'groupName'));
  }
  if (first === 'run' && tail.length === 2) {
    if (method !== 'PATCH') throw methodNotAllowed(method, ['PATCH']);
    return updateWorld(context, findWorld(context, segment(second, 'worldKey')), true);
  }
  if (tail.length !== 1)
    throw v3Fault(404, V3_CODES.routeNotFound, `no route for ${method} world/${tail.join('/').slice(0, 200)} (episodes are not emulated)`);
  const name = segment(first, 'groupName or worldKey');
  switch (method) {
    case 'GET':
      return listGroup(context, name);
    case 'POST':
      return createWorld(context, name);
    case 'PATCH':
      return updateWorld(context, findWorld(context, name), false);
    case 'DELETE':
      return deleteWorld(context, findWorld(context, name));
    default:
      throw methodNotAllowed(method, ['GET', 'POST', 'PATCH', 'DELETE']);
  }
}
