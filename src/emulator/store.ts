/**
 * The emulator's state: runs indexed per project and per `user.id` (so `user.id=` queries over
 * thousands of runs stay cheap), worlds, and a clock that keeps timestamps and ids strictly increasing.
 */
import { randomBytes } from 'node:crypto';
import type { Run, RunUser, World } from '../types.js';
import type { CompiledFilter } from './matrix.js';
import { StoreBudget } from './limits.js';
import { getPath } from './record-paths.js';
import { assertSeeds } from './seed-data.js';
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

/** Everything the data file holds. */
export interface StoreSnapshot {
  version: 1;
  clock: number;
  nextSeq: number;
  runs: Run[];
  worlds: World[];
}

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

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** In-memory runs and worlds; every change sets `dirty`, so the server writes the data file. */
export class RunStore {
  private readonly runsById = new Map<string, StoredRun>();
  private readonly byProject = new Map<string, StoredRun[]>();
  private readonly byUser = new Map<string, Map<string | null, StoredRun[]>>();
  private readonly worldsById = new Map<string, World>();
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
  seed(runs: ReadonlyArray<Partial<Run>>, worlds: readonly World[]): { runs: Run[]; worlds: World[] } {
    assertSeeds(runs, worlds, { run: (id) => this.runsById.has(id), world: (id) => this.worldsById.has(id) });
    const refuse = (message: string) => new TypeError(message);
    runs.forEach((run, index) => new StoreBudget(`runs[${index}]`, refuse).value(run, 0));
    worlds.forEach((world, index) => new StoreBudget(`worlds[${index}]`, refuse).value(world, 0));
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

  /** The clock keeps running forward. */
  clear(): void {
    this.runsById.clear();
    this.byProject.clear();
    this.byUser.clear();
    this.worldsById.clear();
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
    };
  }

  restore(snapshot: StoreSnapshot): void {
    this.clear();
    for (const run of snapshot.runs) this.insert(run);
    for (const world of snapshot.worlds) this.worldsById.set(world.id, world);
    this.clock = Math.max(this.clock, snapshot.clock);
    this.nextSeq = Math.max(this.nextSeq, snapshot.nextSeq);
    this.dirty = false;
  }
}
