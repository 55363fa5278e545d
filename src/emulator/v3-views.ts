/**
 * The v3 views of the store's v2-shaped records, so both generations share one store: a run's
 * `id` is its `runKey`, `trashed`/`saved` are `hidden`/`marked`, `scope.trackingKey` is
 * `trackingKey`, `model` is `modelFile`, and its scope is WORLD (`scope.worldId`), GROUP
 * (`scope.group`, keyed by the group's v3 key) or PROJECT (neither).
 */
import type { Run, RunUser, World } from '../types.js';
import { getPath, isRecord } from './record-paths.js';
import type { RunStore } from './store.js';

export type ScopeBoundary = 'GROUP' | 'WORLD' | 'PROJECT';

export interface V3Scope {
  scopeBoundary: ScopeBoundary;
  scopeKey: string;
  userKey?: string;
}

/** Which variables (`var`, values in this order) and metadata keys (`meta`) a view carries; null: none / all. */
export interface ViewIncludes {
  variables?: readonly string[] | null;
  meta?: readonly string[] | null;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function scopeOf(run: Run): Record<string, unknown> {
  return isRecord(run.scope) ? run.scope : {};
}

/** The run's user id as v3 `userKey`, when the run has one. */
export function runUserKey(run: Run): string | undefined {
  // Seeded or v2-patched records may hold anything here.
  const id: unknown = isRecord(run.user) ? run.user.id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** The group name a run belongs to: its own, or its world's. */
export function runGroupName(run: Run, store: RunStore): string | undefined {
  const own = nonEmptyString(scopeOf(run).group);
  if (own !== undefined) return own;
  const worldId = nonEmptyString(scopeOf(run).worldId);
  return worldId === undefined ? undefined : nonEmptyString(store.getWorld(worldId)?.group);
}

export function runScope(run: Run, store: RunStore): V3Scope {
  const scope = scopeOf(run);
  const userKey = runUserKey(run);
  const withUser = userKey === undefined ? {} : { userKey };
  const worldId = nonEmptyString(scope.worldId);
  // World runs carry no userKey in v3, whoever created them.
  if (worldId !== undefined) return { scopeBoundary: 'WORLD', scopeKey: worldId };
  const group = nonEmptyString(scope.group);
  if (group !== undefined) {
    const key = nonEmptyString(scope.groupKey) ?? store.groupKeyOf(run.account ?? '', run.project ?? '', group);
    return { scopeBoundary: 'GROUP', scopeKey: key, ...withUser };
  }
  return { scopeBoundary: 'PROJECT', scopeKey: nonEmptyString(scope.projectKey) ?? run.project ?? '', ...withUser };
}

export function userDisplayName(user: RunUser): string {
  if (typeof user.firstName === 'string' && typeof user.lastName === 'string') return `${user.firstName} ${user.lastName}`;
  return nonEmptyString(user.userName) ?? user.id;
}

function pseudonym(run: Run): Record<string, unknown> | null {
  const userKey = runUserKey(run);
  if (userKey === undefined || !isRecord(run.user)) return null;
  return { userKey, displayName: userDisplayName({ ...run.user, id: userKey }) };
}

/** A variable by its own name first, else as a dotted path (`a.b`). */
export function variableValue(variables: unknown, name: string): unknown {
  if (!isRecord(variables)) return undefined;
  if (Object.hasOwn(variables, name)) return variables[name];
  return name.includes('.') ? getPath(variables, name.split('.')) : undefined;
}

export function metaDataOf(run: Run): Record<string, unknown> {
  return isRecord(run.metaData) ? run.metaData : {};
}

/** The named metadata keys that are set (all of them for null). */
export function pickMeta(metaData: Record<string, unknown>, keys: readonly string[] | null | undefined): Record<string, unknown> {
  if (keys === null || keys === undefined) return { ...metaData };
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    if (Object.hasOwn(metaData, key)) picked[key] = metaData[key];
  }
  return picked;
}

/** The default permit of a new run: world runs are read by participants and written by facilitators. */
export function defaultPermit(boundary: ScopeBoundary): Record<string, string> {
  return boundary === 'WORLD' ? { readLock: 'PARTICIPANT', writeLock: 'FACILITATOR' } : { readLock: 'USER', writeLock: 'USER' };
}

/** A run as v3 answers it (`RunReadOutView`); `variables` only when `includes.variables` names some. */
export function runView(run: Run, store: RunStore, includes: ViewIncludes = {}): Record<string, unknown> {
  const scope = runScope(run, store);
  const trackingKey = scopeOf(run).trackingKey;
  const groupName = runGroupName(run, store);
  const worldKey = nonEmptyString(scopeOf(run).worldId);
  const view: Record<string, unknown> = {
    runKey: run.id,
    scope,
    permit: isRecord(run.permit) ? run.permit : defaultPermit(scope.scopeBoundary),
    ...(trackingKey === undefined || trackingKey === null ? {} : { trackingKey }),
    marked: run.saved === true,
    hidden: run.trashed === true,
    closed: run.closed === true,
    created: run.created,
    lastModified: run.lastModified,
    lastOperated: run.lastOperated ?? run.lastModified,
    modelFile: run.model,
    morphology: run.morphology ?? 'MANY',
    ephemeral: run.ephemeral === true,
    allowChannel: run.allowChannel === true,
    ...(run.modelContext === undefined ? {} : { modelContext: run.modelContext }),
    ...(run.executionContext === undefined ? {} : { executionContext: run.executionContext }),
    metaData: pickMeta(metaDataOf(run), includes.meta),
    address: {
      accountShortName: run.account,
      projectShortName: run.project,
      ...(groupName === undefined ? {} : { groupName }),
      ...(worldKey === undefined ? {} : { worldKey }),
    },
    user: pseudonym(run),
  };
  if (includes.variables) {
    view.variables = includes.variables.map((name) => variableValue(run.variables, name) ?? null);
  }
  return view;
}

/** A world as v3 answers it (`WorldReadOutView`). */
export function worldView(world: World, store: RunStore): Record<string, unknown> {
  const group = nonEmptyString(world.group);
  const runKey = nonEmptyString(world.run);
  const name = nonEmptyString(world.name) ?? world.id;
  return {
    worldKey: world.id,
    name,
    displayName: nonEmptyString(world.displayName) ?? name,
    ...(runKey === undefined ? {} : { runKey }),
    orbitType: 'GROUP',
    ...(group === undefined ? {} : { orbitKey: store.groupKeyOf(world.account ?? '', world.project ?? '', group) }),
    created: world.created,
    lastUpdated: world.lastModified,
    assignments: (world.users ?? []).map((user) => ({
      ...(user.role === undefined ? {} : { role: user.role }),
      user: { userKey: user.userId, displayName: nonEmptyString(user.userName) ?? user.userId },
    })),
    allowChannel: world.allowChannel === true,
  };
}
