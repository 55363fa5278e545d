/** Validation of seeded runs and worlds: a whole batch is checked before anything is added. */
import type { Run, World } from '../types.js';
import { isRecord } from './record-paths.js';

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Runs need `account` and `project`, worlds `id`, `account`, `project`; ids must be new and unique. Throws naming the first problem. */
export function assertSeeds(
  runs: ReadonlyArray<Partial<Run>>,
  worlds: readonly World[],
  exists: { run(id: string): boolean; world(id: string): boolean },
): void {
  const runIds = new Set<string>();
  runs.forEach((run, index) => {
    if (!isRecord(run)) throw new TypeError(`runs[${index}] must be an object`);
    if (!isNonEmptyString(run.account) || !isNonEmptyString(run.project)) {
      throw new TypeError(`runs[${index}] needs non-empty string account and project`);
    }
    if (run.id === undefined) return;
    if (!isNonEmptyString(run.id)) throw new TypeError(`runs[${index}].id must be a non-empty string`);
    if (exists.run(run.id) || runIds.has(run.id)) throw new TypeError(`run ${run.id} already exists`);
    runIds.add(run.id);
  });
  const worldIds = new Set<string>();
  worlds.forEach((world, index) => {
    if (!isRecord(world)) throw new TypeError(`worlds[${index}] must be an object`);
    for (const field of ['id', 'account', 'project'] as const) {
      if (!isNonEmptyString(world[field])) throw new TypeError(`worlds[${index}] needs a non-empty string ${field}`);
    }
    const { users } = world;
    if (users !== undefined && (!Array.isArray(users) || !users.every((user) => isRecord(user) && typeof user.userId === 'string'))) {
      throw new TypeError(`worlds[${index}].users must be an array of { userId: string }`);
    }
    if (exists.world(world.id) || worldIds.has(world.id)) throw new TypeError(`world ${world.id} already exists`);
    worldIds.add(world.id);
  });
}
