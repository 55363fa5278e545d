/**
 * What the v3 model tests expect of the v3 clients, for the v2 fixtures the scripted server
 * translates (see http-script-v3.ts): the session with its group key, world runs scoped to their
 * world, and the views the clients must make of the v3 records and worlds: the record as sent
 * plus `id` = `runKey`, `trashed` = `hidden`, `saved` = `marked`, `scope.trackingKey` = `trackingKey`, `user.id` = the user's key (`user.userKey`, else
 * `scope.userKey`), metadata keys that are not run fields at the top too;
 * a world plus `id` = `worldKey`, `run` = `runKey`, `lastModified` = `lastUpdated`, `users` from the
 * assignments.
 */
import type { RunQueryResult } from '../../../src/services/api-types.js';
import type { OutcomeVariant } from '../../../src/testing/index.js';
import type { Run, World } from '../../../src/types.js';
import { session } from './fixtures.js';
import { MODEL, queried, type ModelItem } from './http-script.js';
import { GROUP_KEY, v3Record, v3World } from './http-script-v3.js';

/** The v3 session: `userId` is the user key, and runs are scoped by the group's key. */
export const sessionV3 = { ...session, groupKey: GROUP_KEY };

/** A world's run on v3 belongs to the world (WORLD scope), tagged or not with the tracking key. */
export const worldRunTaggedV3: Run = { id: 'r-world', model: MODEL, scope: { worldId: 'w1', trackingKey: 'tk' } };
export const worldRunUntaggedV3: Run = { id: 'r-world', model: MODEL, scope: { worldId: 'w1' } };

/** Library fields, never read from metadata. */
const RESERVED = new Set(['id', 'trashed', 'saved', 'freshlyCreated', 'world', 'settings', 'variables']);

/** The `Run` a v3 client makes of a v3 record. */
export function runView(record: Record<string, unknown> & { runKey: string }): Run {
  const view: Record<string, unknown> = {};
  const metaData = record.metaData as Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(metaData ?? {})) {
    if (!RESERVED.has(key) && !(key in record)) view[key] = value;
  }
  Object.assign(view, record, { id: record.runKey });
  if (record.hidden !== undefined) view.trashed = record.hidden;
  if (record.marked !== undefined) view.saved = record.marked;
  const scope = record.scope as Record<string, unknown> | undefined;
  if (typeof record.trackingKey === 'string' && scope && scope.trackingKey === undefined) {
    view.scope = { ...scope, trackingKey: record.trackingKey };
  }
  const user = record.user as Record<string, unknown> | undefined;
  const userKey = user ? user.userKey : scope?.userKey;
  if (typeof userKey === 'string' && userKey !== '' && user?.id === undefined) view.user = { ...user, id: userKey };
  return view as Run;
}

/** The `Run` a v3 client returns for a v2 fixture the server sent as a v3 record. */
export function asV3Run(run: Run): Run {
  return runView(v3Record(run));
}

/** The `World` a v3 client returns for a v2 fixture the server sent as a v3 world. */
export function asV3World(world: World): World {
  const record = v3World(world);
  const view: Record<string, unknown> = { ...record, id: record.worldKey };
  if (typeof record.runKey === 'string' && record.runKey !== '') view.run = record.runKey;
  if (typeof record.lastUpdated === 'string') view.lastModified = record.lastUpdated;
  if (Array.isArray(record.assignments)) {
    view.users = (record.assignments as Array<{ user: { userKey: string; displayName?: string }; role?: string }>).map((assignment) => ({
      userId: assignment.user.userKey,
      ...(assignment.user.displayName !== undefined ? { userName: assignment.user.displayName } : {}),
      ...(assignment.role !== undefined ? { role: assignment.role } : {}),
    }));
  }
  return view as World;
}

/**
 * A query answer on v3: the same v2 item as `queried` (the server makes it a page), and what the v3
 * client reads from the page: the runs as views, `totalResults` (none without a `Content-Range`
 * total), and the range from `firstResult` and the number of runs.
 */
export function queriedV3(label: string, runs: Run[], total: number | null): OutcomeVariant<ModelItem> {
  const output: RunQueryResult = {
    runs: runs.map(asV3Run),
    total,
    range: total === null ? null : { start: 0, end: runs.length - 1, total },
  };
  return { ...queried(label, runs, total), output };
}
