/**
 * The emulator's state: runs indexed per project and per `user.id` (so `user.id=` queries over
 * thousands of runs stay cheap), worlds, and a clock that keeps timestamps and ids strictly increasing.
 */
import { randomBytes } from 'node:crypto';
import type { Run, RunUser, World } from '../types.js';
import type { CompiledFilter } from './matrix.js';
import { StoreBudget } from './limits.js';
import { getPath, isRecord } from './record-paths.js';
import { assertSeeds, BATCH_NAMING, seedLabel, type SeedNaming } from './seed-data.js';
import type { RunsFilter } from './types.js';

/** A stored run and its creation sequence number, the tie-breaker of every sort. */
export interface StoredRun {
  run: Run;
  seq: number;
}

/** What a create needs; `extra` holds further whitelisted body fields. */
export interface CreateRunInput {
  account: string;
  project: string;
  model: string;
  scope: Run['scope'];
  files: Run['files'];
  user: RunUser | null;
  extra?: Record<string, unknown>;
}

/** A v3 group key the emulator learnt from a token, for one group name of one project. */
export interface GroupKeyRecord {
  account: string;
  project: string;
  name: string;
  key: string;
}

/** A project's multiplayer configuration (`GET|PUT|PATCH multiplayer/project/{account}/{project}`). */
export interface ProjectSettings {
  roles?: string[];
  optionalRoles?: string[];
  minUsers?: number;
  /** `single`: one world for the whole group; anything else: as many as the roles and `minUsers` call for. */
  worlds?: string;
  created?: string;
  lastModified?: string;
}

/** The project settings of one project, as the data file holds them. */
export interface ProjectSettingsRecord {
  account: string;
  project: string;
  settings: ProjectSettings;
}

/** A user the emulator learnt is in a group (auto-assignment places them when no `userIds` are named). */
export interface GroupMemberRecord {
  account: string;
  project: string;
  group: string;
  userId: string;
}

/**
 * Everything the data file holds (`groups` is absent in files written before v3 support,
 * `projects` and `members` in files written before v2 world management).
 */
export interface StoreSnapshot {
  version: 1;
  clock: number;
  nextSeq: number;
  runs: Run[];
  worlds: World[];
  groups?: GroupKeyRecord[];
  projects?: ProjectSettingsRecord[];
  members?: GroupMemberRecord[];
}

/** The v3 key of a group no token named a key for: stable, and the name is recoverable from it. */
export const DERIVED_GROUP_KEY_PREFIX = 'gk-';

/** Absent keys do not filter. */
export interface WorldsFilter {
  account?: string;
  project?: string;
  group?: string;
  userId?: string;
}

function projectKey(account: string, project: string): string {
  return `${account}\u0000${project}`;
}

/** Null for none, the string form for scalars. */
function userKey(run: Run): string | null {
  const id = getPath(run, ['user', 'id']);
  if (id === null || id === undefined) return null;
  if (typeof id === 'string') return id;
  if (typeof id === 'number' || typeof id === 'boolean' || typeof id === 'bigint') return String(id);
  // Anything else (hostile data) keys a bucket of its own, never '[object Object]'.
  return '\u0000object';
}

function groupScopeKey(account: string, project: string, group: string): string {
  // JSON, not a separator: no name can make two scopes share a key.
  return JSON.stringify([account, project, group]);
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** In-memory runs and worlds; every change sets `dirty`, so the server writes the data file. */
export class RunStore {
  private readonly runsById = new Map<string, StoredRun>();
  private readonly byProject = new Map<string, StoredRun[]>();
  private readonly byUser = new Map<string, Map<string | null, StoredRun[]>>();
  private readonly worldsById = new Map<string, World>();
  /** Per project: group name → key and key → name. */
  private readonly groupKeys = new Map<string, { byName: Map<string, string>; byKey: Map<string, string> }>();
  /** Keyed by project; each entry names its account and project, so no key is ever split. */
  private readonly projectSettings = new Map<string, ProjectSettingsRecord>();
  /** Per project and group: the user ids learnt to be members, in the order learnt. */
  private readonly members = new Map<string, { account: string; project: string; group: string; users: Set<string> }>();
  private clock = 0;
  private nextSeq = 0;
  dirty = false;

  constructor(private readonly defaultVariables?: Record<string, unknown>) {}

  get size(): number {
    return this.runsById.size;
  }

  /** Strictly later than every earlier one, so it may run ahead of the wall clock. */
  tick(): string {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return new Date(this.clock).toISOString();
  }

  /** 36 hex chars: 12 of the clock, 8 of the sequence, 16 random; sorts in creation order. */
  private newId(): string {
    return `${hex(this.clock, 12)}${hex(this.nextSeq % 0x100000000, 8)}${randomBytes(8).toString('hex')}`;
  }

  private variablesCopy(): Record<string, unknown> | null {
    return this.defaultVariables ? structuredClone(this.defaultVariables) : null;
  }

  private insert(run: Run): void {
    const stored: StoredRun = { run, seq: this.nextSeq };
    this.nextSeq += 1;
    this.runsById.set(run.id, stored);
    const key = projectKey(run.account as string, run.project as string);
    let list = this.byProject.get(key);
    if (!list) this.byProject.set(key, (list = []));
    list.push(stored);
    let users = this.byUser.get(key);
    if (!users) this.byUser.set(key, (users = new Map<string | null, StoredRun[]>()));
    const user = userKey(run);
    let userList = users.get(user);
    if (!userList) users.set(user, (userList = []));
    userList.push(stored);
    this.dirty = true;
  }

  create(input: CreateRunInput): Run {
    const now = this.tick();
    const run: Run = {
      id: this.newId(),
      account: input.account,
      project: input.project,
      model: input.model,
      created: now,
      lastModified: now,
      user: input.user,
      scope: input.scope,
      files: input.files,
      ...input.extra,
      saved: false,
      trashed: false,
      initialized: true,
      active: true,
      variables: this.variablesCopy(),
    };
    this.insert(run);
    return run;
  }

  /** All or nothing: the batch is validated first (also against what a request may store), then filled as a create would. */
  seed(runs: ReadonlyArray<Partial<Run>>, worlds: readonly World[], naming: SeedNaming = BATCH_NAMING): { runs: Run[]; worlds: World[] } {
    assertSeeds(runs, worlds, { run: (id) => this.runsById.has(id), world: (id) => this.worldsById.has(id) }, naming);
    const refuse = (message: string) => new TypeError(`${naming.prefix}${message}`);
    runs.forEach((run, index) => new StoreBudget(seedLabel(naming.run(index), 'run'), refuse).value(run, 0));
    worlds.forEach((world, index) => new StoreBudget(seedLabel(naming.world(index), 'world'), refuse).value(world, 0));
    return { worlds: worlds.map((world) => this.seedWorld(world)), runs: runs.map((run) => this.seedRun(run)) };
  }

  private seedRun(partial: Partial<Run>): Run {
    const copy = structuredClone(partial);
    for (const key of Object.keys(copy)) {
      if (copy[key] === undefined) Reflect.deleteProperty(copy, key);
    }
    for (const field of ['created', 'lastModified'] as const) {
      const time = Date.parse(String(copy[field]));
      if (copy[field] !== undefined && Number.isFinite(time)) this.clock = Math.max(this.clock, time);
    }
    const now = this.tick();
    const run = {
      id: this.newId(),
      account: copy.account,
      project: copy.project,
      created: now,
      lastModified: copy.created ?? now,
      user: null,
      scope: null,
      files: null,
      saved: false,
      trashed: false,
      initialized: true,
      active: true,
      variables: this.variablesCopy(),
      ...copy,
    } as Run;
    this.insert(run);
    return run;
  }

  private seedWorld(input: World): World {
    const now = this.tick();
    const world: World = { created: now, lastModified: now, users: [], ...structuredClone(input) };
    this.worldsById.set(world.id, world);
    this.dirty = true;
    return world;
  }

  get(id: string): Run | undefined {
    return this.runsById.get(id)?.run;
  }

  /** In creation order; uses the user index when the filter pins `user.id`. */
  find(account: string, project: string, filter: CompiledFilter): StoredRun[] {
    const key = projectKey(account, project);
    let candidates: StoredRun[];
    if (filter.userIds) {
      const users = this.byUser.get(key);
      const lists = [...new Set(filter.userIds)].map((user) => users?.get(user) ?? []);
      candidates = lists.length === 1 ? (lists[0] as StoredRun[]) : lists.flat().sort((a, b) => a.seq - b.seq);
    } else {
      candidates = this.byProject.get(key) ?? [];
    }
    return candidates.filter((stored) => filter.matches(stored.run));
  }

  /** The runs of the users `accept` picks (by `user.id`; null for runs without one), in creation order. */
  findByUser(account: string, project: string, accept: (userId: string | null) => boolean): StoredRun[] {
    const users = this.byUser.get(projectKey(account, project));
    if (!users) return [];
    const lists = [...users].filter(([user]) => accept(user)).map(([, stored]) => stored);
    return lists.length === 1 ? [...(lists[0] as StoredRun[])] : lists.flat().sort((a, b) => a.seq - b.seq);
  }

  list(filter: RunsFilter = {}): Run[] {
    const runs: Run[] = [];
    for (const { run } of this.runsById.values()) {
      if (filter.account !== undefined && run.account !== filter.account) continue;
      if (filter.project !== undefined && run.project !== filter.project) continue;
      if (filter.userId !== undefined && userKey(run) !== filter.userId) continue;
      runs.push(run);
    }
    return runs;
  }

  touch(run: Run): void {
    run.lastModified = this.tick();
    this.dirty = true;
  }

  getWorld(id: string): World | undefined {
    return this.worldsById.get(id);
  }

  /** Worlds matching every given key (`userId`: the user is a member), in insertion order. */
  listWorlds(filter: WorldsFilter = {}): World[] {
    return [...this.worldsById.values()].filter(
      (world) =>
        (filter.account === undefined || world.account === filter.account) &&
        (filter.project === undefined || world.project === filter.project) &&
        (filter.group === undefined || world.group === filter.group) &&
        (filter.userId === undefined || (world.users ?? []).some((user) => user.userId === filter.userId)),
    );
  }

  setWorldRun(world: World, runId: string | undefined): void {
    if (runId === undefined) delete world.run;
    else world.run = runId;
    this.dirty = true;
  }

  /** Adds a world made by a request, with a new id, `created` and `lastModified`. */
  createWorld(input: Omit<World, 'id'>): World {
    const now = this.tick();
    const world: World = { users: [], ...input, id: this.newId(), created: now, lastModified: now };
    this.worldsById.set(world.id, world);
    this.dirty = true;
    return world;
  }

  removeWorld(id: string): boolean {
    const removed = this.worldsById.delete(id);
    if (removed) this.dirty = true;
    return removed;
  }

  touchWorld(world: World): void {
    world.lastModified = this.tick();
    this.dirty = true;
  }

  /** The project's multiplayer settings; undefined when none were set. */
  getProjectSettings(account: string, project: string): ProjectSettings | undefined {
    return this.projectSettings.get(JSON.stringify([account, project]))?.settings;
  }

  /** Replaces (or, with undefined, removes) the project's multiplayer settings. */
  setProjectSettings(account: string, project: string, settings: ProjectSettings | undefined): void {
    const key = JSON.stringify([account, project]);
    if (settings === undefined) this.projectSettings.delete(key);
    else this.projectSettings.set(key, { account, project, settings });
    this.dirty = true;
  }

  /** Records that `userId` is in `group` of the project (known members change nothing). */
  noteGroupMember(account: string, project: string, group: string, userId: string): void {
    const key = groupScopeKey(account, project, group);
    let entry = this.members.get(key);
    if (!entry) this.members.set(key, (entry = { account, project, group, users: new Set() }));
    if (entry.users.has(userId)) return;
    entry.users.add(userId);
    this.dirty = true;
  }

  /** The members of `group` recorded by {@link noteGroupMember}, in the order learnt. */
  groupMembers(account: string, project: string, group: string): string[] {
    return [...(this.members.get(groupScopeKey(account, project, group))?.users ?? [])];
  }

  /** The v3 key of a group: the one learnt for it, else `gk-{name}`. */
  groupKeyOf(account: string, project: string, name: string): string {
    return this.groupKeys.get(projectKey(account, project))?.byName.get(name) ?? `${DERIVED_GROUP_KEY_PREFIX}${name}`;
  }

  /** The group a v3 key names: a learnt key, else the name inside a derived key; undefined for neither. */
  groupNameOf(account: string, project: string, key: string): string | undefined {
    const learnt = this.groupKeys.get(projectKey(account, project))?.byKey.get(key);
    if (learnt !== undefined) return learnt;
    if (!key.startsWith(DERIVED_GROUP_KEY_PREFIX) || key.length === DERIVED_GROUP_KEY_PREFIX.length) return undefined;
    const name = key.slice(DERIVED_GROUP_KEY_PREFIX.length);
    // A name whose key was learnt is no longer reachable by its derived key.
    return this.groupKeys.get(projectKey(account, project))?.byName.has(name) ? undefined : name;
  }

  /** Records the key a token names for a group; the first key learnt for a name (or a key for a name) stays. */
  learnGroupKey(account: string, project: string, name: string, key: string): void {
    const scope = projectKey(account, project);
    let groups = this.groupKeys.get(scope);
    if (!groups) this.groupKeys.set(scope, (groups = { byName: new Map(), byKey: new Map() }));
    if (groups.byName.has(name) || groups.byKey.has(key)) return;
    groups.byName.set(name, key);
    groups.byKey.set(key, name);
    this.dirty = true;
  }

  private memberRecords(): GroupMemberRecord[] {
    return [...this.members.values()].flatMap(({ account, project, group, users }) =>
      [...users].map((userId) => ({ account, project, group, userId })),
    );
  }

  private groupRecords(): GroupKeyRecord[] {
    const records: GroupKeyRecord[] = [];
    for (const [scope, groups] of this.groupKeys) {
      const [account, project] = scope.split('\u0000') as [string, string];
      for (const [name, key] of groups.byName) records.push({ account, project, name, key });
    }
    return records;
  }

  /** The clock keeps running forward. */
  clear(): void {
    this.runsById.clear();
    this.byProject.clear();
    this.byUser.clear();
    this.worldsById.clear();
    this.groupKeys.clear();
    this.projectSettings.clear();
    this.members.clear();
    this.dirty = true;
  }

  /** Live objects: serialize before changing anything. */
  snapshot(): StoreSnapshot {
    return {
      version: 1,
      clock: this.clock,
      nextSeq: this.nextSeq,
      runs: [...this.runsById.values()].map((stored) => stored.run),
      worlds: [...this.worldsById.values()],
      groups: this.groupRecords(),
      projects: [...this.projectSettings.values()],
      members: this.memberRecords(),
    };
  }

  restore(snapshot: StoreSnapshot): void {
    this.clear();
    for (const run of snapshot.runs) this.insert(run);
    for (const world of snapshot.worlds) this.worldsById.set(world.id, world);
    for (const group of snapshot.groups ?? []) this.learnGroupKey(group.account, group.project, group.name, group.key);
    // Written by this class, but the file may have been edited: malformed entries are skipped, never trusted.
    for (const record of Array.isArray(snapshot.projects) ? (snapshot.projects as unknown[]) : []) {
      if (!isRecord(record) || typeof record.account !== 'string' || typeof record.project !== 'string' || !isRecord(record.settings))
        continue;
      this.setProjectSettings(record.account, record.project, record.settings);
    }
    for (const record of Array.isArray(snapshot.members) ? (snapshot.members as unknown[]) : []) {
      if (!isRecord(record)) continue;
      const { account, project, group, userId } = record;
      if (typeof account === 'string' && typeof project === 'string' && typeof group === 'string' && typeof userId === 'string') {
        this.noteGroupMember(account, project, group, userId);
      }
    }
    this.clock = Math.max(this.clock, snapshot.clock);
    this.nextSeq = Math.max(this.nextSeq, snapshot.nextSeq);
    this.dirty = false;
  }
}
