/**
 * The v2 multiplayer routes: the World API under `multiplayer/world/` (what the run strategies use —
 * a user's worlds, a world's current run — and the facilitator's management: create, list, load,
 * update, delete worlds, add, update and remove users), auto-assignment under `multiplayer/assign/`
 * and the project's world settings under `multiplayer/project/{account}/{project}/`. Worlds are the
 * store's records, which the v3 world routes see too; assignment changes may invalidate v3 tokens.
 */
import type { RunUser, World } from '../types.js';
import { type ApiContext, methodNotAllowed, objectBody, optionalObject, requiredModel } from './api-context.js';
import { HttpError, type Reply } from './http.js';
import { StoreBudget } from './limits.js';
import { decodeComponent } from './matrix.js';
import { isRecord } from './record-paths.js';
import type { ProjectSettings, WorldsFilter } from './store.js';
import type { V3State } from './v3-context.js';
import { assignmentsChanged } from './v3-sessions.js';

/** A v2 multiplayer request, with the v3 state an assignment change reports to. */
export interface MultiplayerContext extends ApiContext {
  v3: V3State;
}

type WorldUser = NonNullable<World['users']>[number];

/** What auto-assignment uses when the project has no settings. */
const DEFAULT_SETTINGS: Readonly<Required<Pick<ProjectSettings, 'roles' | 'optionalRoles' | 'minUsers'>>> = {
  roles: [],
  optionalRoles: [],
  minUsers: 1,
};

// ---------------------------------------------------------------------------------------------
// Body fields

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `${field} is required (a non-empty string)`);
  return value;
}

/** Absent → undefined, null → null (the field is removed), a string → it; else 400. */
function optionalString(body: Record<string, unknown>, field: string): string | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw new HttpError(400, `${field} must be a string`);
  return value;
}

function optionalStringList(body: Record<string, unknown>, field: string): string[] | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new HttpError(400, `${field} must be an array of strings`);
  }
  return [...value];
}

function optionalCount(body: Record<string, unknown>, field: string): number | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new HttpError(400, `${field} must be a non-negative integer`);
  return value;
}

/** Copies the fields `changes` names onto `target`; a null removes the field. */
function applyFields(target: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (value === null) Reflect.deleteProperty(target, field);
    else target[field] = value;
  }
}

function worldSettingFields(body: Record<string, unknown>): Record<string, unknown> {
  return {
    roles: optionalStringList(body, 'roles'),
    optionalRoles: optionalStringList(body, 'optionalRoles'),
    minUsers: optionalCount(body, 'minUsers'),
  };
}

// ---------------------------------------------------------------------------------------------
// Worlds and users

function findWorld(context: ApiContext, worldId: string): World {
  const world = context.store.getWorld(worldId);
  if (!world) throw new HttpError(404, `world ${worldId} not found`);
  return world;
}

function usersOf(world: World): WorldUser[] {
  if (!Array.isArray(world.users)) world.users = [];
  return world.users;
}

function worldSegment(raw: string | undefined, what: string): string {
  const value = decodeComponent(raw ?? '');
  if (value === '') throw new HttpError(400, `${what} must not be empty`);
  return value;
}

/** Tells the v3 session registry whose assignments changed (it invalidates their tokens when configured to). */
function reportAssignments(context: MultiplayerContext, world: World, userIds: Iterable<string>): void {
  const ids = [...userIds];
  if (ids.length === 0) return;
  // A v2 request has no v3 caller; the registry reads only the v3 state and the user ids.
  const caller = { user: context.user ?? { id: '' }, token: '' };
  assignmentsChanged({ ...context, account: world.account ?? '', project: world.project ?? '', caller, v3: context.v3 }, ids);
}

/** Refuses, before anything changes, a world record bigger or deeper than a request may store. */
function checkBudget(world: World, budget = new StoreBudget('the world')): void {
  budget.value(world, 0);
}

/**
 * Users' names as the emulator knows them in one project, gathered once per request: the caller's
 * from its token, the others from worlds of the project and from their runs.
 */
class NameBook {
  private names: Map<string, string> | undefined;

  constructor(
    private readonly context: ApiContext,
    private readonly account: string | undefined,
    private readonly project: string | undefined,
  ) {}

  get(userId: string): string | undefined {
    const caller: RunUser | null = this.context.user;
    if (caller?.id === userId && typeof caller.userName === 'string') return caller.userName;
    this.names ??= this.gather();
    return this.names.get(userId);
  }

  private gather(): Map<string, string> {
    const names = new Map<string, string>();
    const { store } = this.context;
    const { account, project } = this;
    for (const world of store.listWorlds({ account, project })) {
      for (const user of world.users ?? []) {
        if (typeof user.userName === 'string' && !names.has(user.userId)) names.set(user.userId, user.userName);
      }
    }
    if (account === undefined || project === undefined) return names;
    for (const { run } of store.findByUser(account, project, (user) => user !== null)) {
      const user: unknown = run.user;
      if (isRecord(user) && typeof user.id === 'string' && typeof user.userName === 'string' && !names.has(user.id)) {
        names.set(user.id, user.userName);
      }
    }
    return names;
  }
}

function newUser(names: NameBook, userId: string, role: string | undefined, index: number): WorldUser {
  const userName = names.get(userId);
  return { userId, ...(userName === undefined ? {} : { userName }), ...(role === undefined ? {} : { role }), index };
}

// ---------------------------------------------------------------------------------------------
// multiplayer/world/

/** `GET W?account&project&group&userId`: the worlds matching every given key (with `userId`: the user's). */
function listWorlds(context: ApiContext): Reply {
  const filter: WorldsFilter = {};
  for (const key of ['account', 'project', 'group', 'userId'] as const) {
    const value = context.query.get(key);
    if (value !== null) filter[key] = value;
  }
  const { account, project, group, userId } = filter;
  // The strategies ask for the worlds of a user of a group: the emulator's only source of group rosters.
  if (account && project && group && userId) context.store.noteGroupMember(account, project, group, userId);
  return { status: 200, body: context.store.listWorlds(filter) };
}

/** The record a create body describes (whitelisted fields only), validated; nothing is stored yet. */
function worldInput(raw: unknown, what: string, budget: StoreBudget): Omit<World, 'id'> {
  if (!isRecord(raw)) throw new HttpError(400, `${what} must be a JSON object { account, project, group, … }`);
  const account = requiredString(raw, 'account');
  const project = requiredString(raw, 'project');
  const group = optionalString(raw, 'group');
  const name = optionalString(raw, 'name');
  const scope = optionalObject(raw, 'scope');
  const { files } = raw;
  if (files !== undefined && files !== null && typeof files !== 'object') throw new HttpError(400, 'files must be an object or an array');
  const input: Omit<World, 'id'> = { account, project, users: [], roles: [] };
  applyFields(input, { group: group === '' ? undefined : group, name, ...worldSettingFields(raw), scope, files });
  checkBudget({ id: '', ...input }, budget);
  return input;
}

/** `POST W`: one world (201 + its record) or, for an array body, several (201 + their records). */
function createWorlds(context: ApiContext): Reply {
  const { body } = context;
  if (body.present && body.error === undefined && Array.isArray(body.value)) {
    if (body.value.length === 0) throw new HttpError(400, 'the body is an empty array: name at least one world to create');
    const budget = new StoreBudget('the worlds to create');
    const inputs = body.value.map((item: unknown, index) => worldInput(item, `worlds[${index}]`, budget));
    return { status: 201, body: inputs.map((input) => context.store.createWorld(input)) };
  }
  const input = worldInput(
    objectBody(context, 'the world to create: { account, project, group, … }'),
    'the world',
    new StoreBudget('the world'),
  );
  return { status: 201, body: context.store.createWorld(input) };
}

/** `PATCH W{id}`: `roles`, `optionalRoles`, `minUsers`, `name` (null removes one); 200 + the record. */
function updateWorld(context: ApiContext, world: World): Reply {
  const body = objectBody(context, '{ roles?, optionalRoles?, minUsers?, name? }', {});
  const changes = { ...worldSettingFields(body), name: optionalString(body, 'name') };
  const updated: World = { ...world };
  applyFields(updated, changes);
  checkBudget(updated);
  applyFields(world, changes);
  context.store.touchWorld(world);
  return { status: 200, body: world };
}

/** `DELETE W{id}`: 204; the world's run keeps its `scope.worldId`. */
function deleteWorld(context: MultiplayerContext, world: World): Reply {
  context.store.removeWorld(world.id);
  reportAssignments(
    context,
    world,
    usersOf(world).map((user) => user.userId),
  );
  return { status: 204 };
}

interface UserEntry {
  userId: string;
  /** undefined: keep a member's role; null: remove it. */
  role: string | null | undefined;
}

/** `[{ userId, role? }, …]`; a bare id string stands for `{ userId }` as the client normalises it. */
function userEntries(value: unknown): UserEntry[] {
  if (!Array.isArray(value)) throw new HttpError(400, 'the body must be a JSON array of users: [{ userId, role? }, …]');
  return value.map((entry: unknown, index): UserEntry => {
    if (typeof entry === 'string' && entry !== '') return { userId: entry, role: undefined };
    if (!isRecord(entry) || typeof entry.userId !== 'string' || entry.userId === '') {
      throw new HttpError(400, `users[${index}] must be a user id or { userId, role? } with a non-empty string userId`);
    }
    return { userId: entry.userId, role: optionalString(entry, 'role') };
  });
}

/** The member with `role` applied: undefined keeps its role, null removes it. */
function withRole(user: WorldUser, role: string | null | undefined): WorldUser {
  if (role === undefined) return user;
  const changed: WorldUser = { ...user };
  if (role === null) delete changed.role;
  else changed.role = role;
  return changed;
}

function assignment(user: WorldUser | undefined): string | undefined {
  return user === undefined ? undefined : `in:${user.role ?? ''}`;
}

/** Replaces the world's users by `users` (already checked), reporting whose assignment changed. */
function commitUsers(context: MultiplayerContext, world: World, users: WorldUser[]): void {
  const before = new Map(usersOf(world).map((user) => [user.userId, user]));
  const after = new Map(users.map((user) => [user.userId, user]));
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (userId) => assignment(before.get(userId)) !== assignment(after.get(userId)),
  );
  world.users = users;
  context.store.touchWorld(world);
  reportAssignments(context, world, changed);
}

/** `POST W{id}/users`: adds the users (a member listed again gets the role given); 200 + the world. */
function addUsers(context: MultiplayerContext, world: World): Reply {
  const { body } = context;
  if (!body.present) throw new HttpError(400, 'the body must be a JSON array of users: [{ userId, role? }, …]');
  if (body.error !== undefined) throw new HttpError(400, `the body is not valid JSON: ${body.error}`);
  const entries = userEntries(body.value);
  // One change per listed user, by id: a long list stays linear.
  const latest = new Map<string, UserEntry>();
  for (const entry of entries) {
    const earlier = latest.get(entry.userId);
    latest.set(entry.userId, { userId: entry.userId, role: entry.role === undefined ? earlier?.role : entry.role });
  }
  const users = usersOf(world).map((user) => {
    const entry = latest.get(user.userId);
    if (!entry) return user;
    latest.delete(user.userId);
    return withRole(user, entry.role);
  });
  const names = new NameBook(context, world.account, world.project);
  for (const entry of latest.values()) users.push(newUser(names, entry.userId, entry.role ?? undefined, users.length));
  checkBudget({ ...world, users });
  commitUsers(context, world, users);
  return { status: 200, body: world };
}

function findMember(world: World, userId: string): WorldUser {
  const member = usersOf(world).find((user) => user.userId === userId);
  if (!member) throw new HttpError(404, `user ${userId} is not in world ${world.id}`);
  return member;
}

/** `PATCH W{id}/users/{userId}` with `{ role }` (null removes it); 200 + the world. */
function updateUser(context: MultiplayerContext, world: World, userId: string): Reply {
  findMember(world, userId);
  const body = objectBody(context, '{ role }', {});
  const role = optionalString(body, 'role');
  const users = usersOf(world).map((user) => (user.userId === userId ? withRole(user, role) : user));
  checkBudget({ ...world, users });
  commitUsers(context, world, users);
  return { status: 200, body: world };
}

/** `DELETE W{id}/users/{userId}[?deleteWorld=true]`: 204; with the flag, a world left empty is deleted. */
function removeUser(context: MultiplayerContext, world: World, userId: string): Reply {
  findMember(world, userId);
  commitUsers(
    context,
    world,
    usersOf(world).filter((user) => user.userId !== userId),
  );
  if (context.query.get('deleteWorld') === 'true' && usersOf(world).length === 0) context.store.removeWorld(world.id);
  return { status: 204 };
}

/** `POST W{id}/run`: the world's current run id, 200; without one, a new run, 201. */
function currentRun(context: ApiContext, world: World): Reply {
  const { store } = context;
  const body = objectBody(context, 'the run to create', {});
  if (typeof world.run === 'string' && world.run !== '') return { status: 200, body: world.run };
  const model = requiredModel(body);
  const scope = {
    ...optionalObject(body, 'scope'),
    worldId: world.id,
    ...(world.group === undefined ? {} : { group: world.group }),
  };
  const files = optionalObject(body, 'files');
  new StoreBudget('the run to create').value({ model, scope, files }, 0);
  const run = store.create({ account: world.account as string, project: world.project as string, model, scope, files, user: context.user });
  store.setWorldRun(world, run.id);
  return { status: 201, body: run.id };
}

/** `DELETE W{id}/run`: detaches the current run, 204. */
function detachRun(context: ApiContext, world: World): Reply {
  context.store.setWorldRun(world, undefined);
  return { status: 204 };
}

const WORLD_SHAPES = 'expected multiplayer/world/, multiplayer/world/{worldId}[/run | /users[/{userId}]]';

/** Answers a request under `multiplayer/world/`; `segments` are the raw path segments after `world`. */
function handleWorld(context: MultiplayerContext, segments: readonly string[]): Reply {
  const { method } = context;
  const [rawWorld, resource, rawUser] = segments;
  if (rawWorld === undefined) {
    if (method === 'GET') return listWorlds(context);
    if (method === 'POST') return createWorlds(context);
    throw methodNotAllowed(method, ['GET', 'POST']);
  }
  let allowed: readonly string[];
  if (segments.length === 1) allowed = ['GET', 'PATCH', 'DELETE'];
  else if (segments.length === 2 && resource === 'run') allowed = ['POST', 'DELETE'];
  else if (segments.length === 2 && resource === 'users') allowed = ['POST'];
  else if (segments.length === 3 && resource === 'users') allowed = ['PATCH', 'DELETE'];
  else throw new HttpError(400, WORLD_SHAPES);
  const worldId = worldSegment(rawWorld, 'the world id');
  const userId = rawUser === undefined ? undefined : worldSegment(rawUser, 'the user id');
  if (!allowed.includes(method)) throw methodNotAllowed(method, allowed);
  const world = findWorld(context, worldId);
  switch (`${method} ${resource ?? ''}`) {
    case 'GET ':
      return { status: 200, body: world };
    case 'PATCH ':
      return updateWorld(context, world);
    case 'DELETE ':
      return deleteWorld(context, world);
    case 'POST run':
      return currentRun(context, world);
    case 'DELETE run':
      return detachRun(context, world);
    case 'POST users':
      return addUsers(context, world);
    case 'PATCH users':
      return updateUser(context, world, userId as string);
    case 'DELETE users':
      return removeUser(context, world, userId as string);
    default:
      throw new HttpError(400, WORLD_SHAPES);
  }
}

// ---------------------------------------------------------------------------------------------
// multiplayer/assign/

interface AssignRequest {
  account: string;
  project: string;
  group: string;
  maxUsers: number | undefined;
  userIds: string[] | undefined;
}

function assignRequest(context: ApiContext): AssignRequest {
  const body = objectBody(context, '{ account, project, group, maxUsers?, userIds? }');
  const maxUsers = optionalCount(body, 'maxUsers');
  if (maxUsers === 0) throw new HttpError(400, 'maxUsers must be a positive integer');
  const userIds = body.userIds;
  if (userIds !== undefined && userIds !== null) {
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string' && id !== '')) {
      throw new HttpError(400, 'userIds must be an array of non-empty strings');
    }
  }
  return {
    account: requiredString(body, 'account'),
    project: requiredString(body, 'project'),
    group: requiredString(body, 'group'),
    maxUsers: maxUsers ?? undefined,
    userIds: Array.isArray(userIds) ? [...new Set(userIds as string[])] : undefined,
  };
}

/** The group's end users as the emulator knows them: in its worlds, owning runs of the group, or listed by the strategies' world lookup. */
function groupRoster(context: ApiContext, { account, project, group }: AssignRequest): string[] {
  const roster = new Set<string>();
  for (const world of context.store.listWorlds({ account, project, group })) {
    for (const user of world.users ?? []) roster.add(user.userId);
  }
  for (const { run } of context.store.findByUser(account, project, (user) => user !== null)) {
    if (isRecord(run.scope) && run.scope.group === group && isRecord(run.user) && typeof run.user.id === 'string') roster.add(run.user.id);
  }
  for (const userId of context.store.groupMembers(account, project, group)) roster.add(userId);
  return [...roster];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** How many users a world takes: `maxUsers`, else everyone (`worlds: single`), else its roles or `minUsers`, at least 1. */
function capacityOf(world: World, request: AssignRequest, settings: ProjectSettings): number {
  if (request.maxUsers !== undefined) return request.maxUsers;
  if (settings.worlds === 'single') return Number.POSITIVE_INFINITY;
  const minUsers = typeof world.minUsers === 'number' ? world.minUsers : (settings.minUsers ?? DEFAULT_SETTINGS.minUsers);
  return Math.max(1, minUsers, stringList(world.roles).length);
}

/** A world of the group with the users it will have; `world` is undefined for one still to create from `fields` (id ''). */
interface Placement {
  world: World | undefined;
  fields: World;
  users: WorldUser[];
  capacity: number;
  /** Its roles, then its optional roles: the first one nobody holds goes to the next user. */
  roles: string[];
  taken: Set<string | undefined>;
}

function placement(world: World | undefined, fields: World, request: AssignRequest, settings: ProjectSettings): Placement {
  const users = [...usersOf(fields)];
  return {
    world,
    fields,
    users,
    capacity: capacityOf(fields, request, settings),
    roles: [...stringList(fields.roles), ...stringList(fields.optionalRoles)],
    taken: new Set(users.map((user) => user.role)),
  };
}

/** What a world auto-assignment creates looks like: the group's, configured from the project settings. */
function newWorldFields({ account, project, group }: AssignRequest, settings: ProjectSettings): World {
  return {
    id: '',
    account,
    project,
    group,
    users: [],
    roles: [...(settings.roles ?? [])],
    ...(settings.optionalRoles === undefined ? {} : { optionalRoles: [...settings.optionalRoles] }),
    ...(settings.minUsers === undefined ? {} : { minUsers: settings.minUsers }),
  };
}

/**
 * `POST A`: places every listed user (all the group's known users without `userIds`) who has no
 * world in the group yet: into the oldest world with room, else a new world configured from the
 * project settings; each gets the first open role. 200 + the worlds that received users. What one
 * request changes is bounded as a whole, so a long list cannot create worlds without end.
 */
function autoAssign(context: MultiplayerContext): Reply {
  const request = assignRequest(context);
  const { account, project, group } = request;
  const { store } = context;
  const settings: ProjectSettings = store.getProjectSettings(account, project) ?? DEFAULT_SETTINGS;
  const placements = store.listWorlds({ account, project, group }).map((world) => placement(world, world, request, settings));
  const placed = new Set(placements.flatMap(({ users }) => users.map((user) => user.userId)));
  const touched = new Set<Placement>();
  const names = new NameBook(context, account, project);
  // Worlds only fill up here, so the first one with room never moves back.
  let next = 0;
  for (const userId of request.userIds ?? groupRoster(context, request)) {
    if (placed.has(userId)) continue;
    while (next < placements.length && (placements[next] as Placement).users.length >= (placements[next] as Placement).capacity) next += 1;
    let target = placements[next];
    if (!target) {
      target = placement(undefined, newWorldFields(request, settings), request, settings);
      placements.push(target);
    }
    const role = target.roles.find((candidate) => !target.taken.has(candidate));
    target.taken.add(role);
    target.users.push(newUser(names, userId, role, target.users.length));
    placed.add(userId);
    touched.add(target);
  }
  const changed = placements.filter((candidate) => touched.has(candidate));
  const budget = new StoreBudget('the worlds this assignment changes');
  for (const { fields, users } of changed) checkBudget({ ...fields, users }, budget);
  const worlds = changed.map(({ world, fields, users }) => {
    if (world) {
      commitUsers(context, world, users);
      return world;
    }
    const created = store.createWorld({ ...fields, users });
    reportAssignments(
      context,
      created,
      users.map((entry) => entry.userId),
    );
    return created;
  });
  return { status: 200, body: worlds };
}

function handleAssign(context: MultiplayerContext, segments: readonly string[]): Reply {
  if (segments.length > 0) throw new HttpError(400, 'expected multiplayer/assign/');
  if (context.method !== 'POST') throw methodNotAllowed(context.method, ['POST']);
  return autoAssign(context);
}

// ---------------------------------------------------------------------------------------------
// multiplayer/project/{account}/{project}/

function settingsView(account: string, project: string, settings: ProjectSettings | undefined): Record<string, unknown> {
  return { account, project, ...DEFAULT_SETTINGS, ...settings };
}

function settingsFields(body: Record<string, unknown>): Record<string, unknown> {
  return { ...worldSettingFields(body), worlds: optionalString(body, 'worlds') };
}

/** `PUT` replaces the settings (201), `PATCH` merges into them (200); both answer them. */
function saveSettings(context: ApiContext, account: string, project: string, replace: boolean): Reply {
  const body = objectBody(context, '{ roles?, optionalRoles?, minUsers?, worlds? }', replace ? undefined : {});
  const previous = context.store.getProjectSettings(account, project);
  const now = context.store.tick();
  const settings: ProjectSettings = replace || !previous ? {} : { ...previous };
  applyFields(settings as Record<string, unknown>, settingsFields(body));
  settings.created = previous?.created ?? now;
  settings.lastModified = now;
  new StoreBudget('the project settings').value(settings, 0);
  context.store.setProjectSettings(account, project, settings);
  return { status: replace ? 201 : 200, body: settingsView(account, project, settings) };
}

/**
 * `GET` answers the project's world settings (the defaults `roles: []`, `optionalRoles: []`,
 * `minUsers: 1` where none are set); `PUT`, `PATCH` and `DELETE` configure them. Account and project
 * come from the path, or from the query when the path has neither.
 */
function handleProject(context: ApiContext, segments: readonly string[]): Reply {
  if (segments.length !== 0 && segments.length !== 2) throw new HttpError(400, 'expected multiplayer/project/{account}/{project}/');
  const account = segments.length === 2 ? decodeComponent(segments[0] as string) : (context.query.get('account') ?? '');
  const project = segments.length === 2 ? decodeComponent(segments[1] as string) : (context.query.get('project') ?? '');
  if (account === '' || project === '') throw new HttpError(400, 'account and project must not be empty');
  switch (context.method) {
    case 'GET':
      return { status: 200, body: settingsView(account, project, context.store.getProjectSettings(account, project)) };
    case 'PUT':
      return saveSettings(context, account, project, true);
    case 'PATCH':
      return saveSettings(context, account, project, false);
    case 'DELETE':
      if (context.store.getProjectSettings(account, project) !== undefined) context.store.setProjectSettings(account, project, undefined);
      return { status: 204 };
    default:
      throw methodNotAllowed(context.method, ['GET', 'PUT', 'PATCH', 'DELETE']);
  }
}

/** The `multiplayer` resources the emulator answers. */
export const MULTIPLAYER_RESOURCES: ReadonlySet<string> = new Set(['world', 'assign', 'project']);

/** Answers a request under `/v2/multiplayer/`; `segments` are the raw path segments after `multiplayer`, starting with one of {@link MULTIPLAYER_RESOURCES}. */
export function handleMultiplayerRoute(context: MultiplayerContext, segments: readonly string[]): Reply {
  const [resource, ...rest] = segments;
  if (resource === 'assign') return handleAssign(context, rest);
  if (resource === 'project') return handleProject(context, rest);
  return handleWorld(context, rest);
}
