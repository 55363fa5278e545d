/** Validation of seeded runs and worlds: a whole batch is checked before anything is added. */
import type { Run, World } from '../types.js';
import { isRecord } from './record-paths.js';

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** What a value is, for messages; never its content. */
function kind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * How problems name what the caller passed: `worlds[0].id` for a batch (`seed`, the `runs`/`worlds`
 * options), plain `id` after the prefix `addWorld: ` for a single world given as the argument.
 */
export interface SeedNaming {
  /** Put before every message, e.g. `addWorld: `. */
  prefix: string;
  /** The path of run `index` in what the caller passed; `''` when the run is the argument itself. */
  run(index: number): string;
  /** The path of world `index` in what the caller passed; `''` when the world is the argument itself. */
  world(index: number): string;
}

/** Runs and worlds as the arrays of `seed({ runs, worlds })`. */
export const BATCH_NAMING: SeedNaming = { prefix: '', run: (index) => `runs[${index}]`, world: (index) => `worlds[${index}]` };

/** A world passed to `addWorld(world)`. */
export const ADD_WORLD_NAMING: SeedNaming = { prefix: 'addWorld: ', run: (index) => `runs[${index}]`, world: () => '' };

/** `field` inside `base` (`worlds[0].id`), or the field alone when the value is the argument itself. */
function at(base: string, field: string): string {
  return base === '' ? field : `${base}.${field}`;
}

/** The whole value, for a problem that is not about one field. */
export function seedLabel(base: string, what: 'run' | 'world'): string {
  return base === '' ? `the ${what}` : base;
}

const OPTIONAL_WORLD_STRINGS = ['group', 'name', 'run', 'created', 'lastModified'] as const;

/** Runs need `account` and `project`, worlds `id`, `account`, `project`; ids must be new and unique. Throws naming the first problem. */
export function assertSeeds(
  runs: ReadonlyArray<Partial<Run>>,
  worlds: readonly World[],
  exists: { run(id: string): boolean; world(id: string): boolean },
  naming: SeedNaming = BATCH_NAMING,
): void {
  const refuse = (message: string) => new TypeError(`${naming.prefix}${message}`);
  const runIds = new Set<string>();
  runs.forEach((run, index) => {
    const base = naming.run(index);
    if (!isRecord(run)) throw refuse(`${seedLabel(base, 'run')} must be an object, got ${kind(run)}`);
    for (const field of ['account', 'project'] as const) {
      if (!isNonEmptyString(run[field])) throw refuse(`${at(base, field)} must be a non-empty string, got ${kind(run[field])}`);
    }
    if (run.id === undefined) return;
    if (!isNonEmptyString(run.id)) throw refuse(`${at(base, 'id')} must be a non-empty string, got ${kind(run.id)}`);
    if (exists.run(run.id) || runIds.has(run.id)) throw refuse(`run ${run.id} already exists`);
    runIds.add(run.id);
  });
  const worldIds = new Set<string>();
  worlds.forEach((world, index) => {
    const base = naming.world(index);
    if (!isRecord(world)) throw refuse(`${seedLabel(base, 'world')} must be an object, got ${kind(world)}`);
    for (const field of ['id', 'account', 'project'] as const) {
      if (!isNonEmptyString(world[field])) throw refuse(`${at(base, field)} must be a non-empty string, got ${kind(world[field])}`);
    }
    // These drive lookups (a user's world, its run): a wrong type would leave the world silently unfindable.
    for (const field of OPTIONAL_WORLD_STRINGS) {
      const value = world[field];
      if (value !== undefined && typeof value !== 'string') throw refuse(`${at(base, field)} must be a string, got ${kind(value)}`);
    }
    const { users } = world;
    if (users !== undefined) {
      if (!Array.isArray(users)) throw refuse(`${at(base, 'users')} must be an array of { userId: string }, got ${kind(users)}`);
      users.forEach((user: unknown, userIndex) => {
        const path = at(base, `users[${userIndex}]`);
        if (!isRecord(user)) throw refuse(`${path} must be an object { userId: string }, got ${kind(user)}`);
        if (typeof user.userId !== 'string') throw refuse(`${path}.userId must be a string, got ${kind(user.userId)}`);
      });
    }
    if (exists.world(world.id) || worldIds.has(world.id)) throw refuse(`world ${world.id} already exists`);
    worldIds.add(world.id);
  });
}
