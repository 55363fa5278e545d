/**
 * The v3 API under `/api/v3/{account}/{project}/`: authentication, then the run routes here and the
 * world and session routes in their own files. Runs are the store's v2 records, seen through
 * `v3-views.ts`, so both generations read and write the same runs.
 */
import type { Run } from '../types.js';
import type { ApiContext } from './api-context.js';
import { HttpError, type Reply } from './http.js';
import type { Identity } from './identity.js';
import { StoreBudget } from './limits.js';
import { decodeComponent } from './matrix.js';
import { ensureVariables } from './patch.js';
import { assertSafeKeys, isRecord, mergeInto } from './record-paths.js';
import type { RunStore } from './store.js';
import {
  findWorld,
  isMember,
  nameList,
  optionalBoolean,
  optionalString,
  segment,
  type V3Caller,
  V3_CODES,
  type V3Context,
  type V3State,
  v3Body,
  v3Fault,
} from './v3-context.js';
import { type FilterSubject, parseFilter, requestedPage, sortSubjects } from './v3-filter.js';
import { handleSessionRoute } from './v3-sessions.js';
import { metaDataOf, pickMeta, runGroupName, runScope, runView, variableValue, type ViewIncludes } from './v3-views.js';
import { handleV3WorldRoute } from './v3-worlds.js';

function methodNotAllowed(method: string, allowed: readonly string[]): HttpError {
  return v3Fault(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here (allowed: ${allowed.join(', ')})`, {
    Allow: allowed.join(', '),
  });
}

function findRun(context: V3Context, runKey: string): Run {
  const run = context.store.get(runKey);
  if (!run || run.account !== context.account || run.project !== context.project) {
    throw v3Fault(404, V3_CODES.runNotFound, `run ${runKey} not found in ${context.account}/${context.project}`);
  }
  return run;
}

function optionalRecord(body: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw v3Fault(400, V3_CODES.badRequest, `${field} must be an object`);
  return value;
}

function requiredModelFile(body: Record<string, unknown>): string {
  const { modelFile } = body;
  if (typeof modelFile !== 'string' || modelFile === '')
    throw v3Fault(400, V3_CODES.badRequest, 'modelFile is required (a non-empty string)');
  return modelFile;
}

/** Create-body fields kept on the stored run as they are. */
function createExtras(body: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  const morphology = optionalString(body, 'morphology');
  extra.morphology = morphology ?? 'MANY';
  for (const field of ['modelContext', 'executionContext', 'permit'] as const) {
    const value = optionalRecord(body, field);
    if (value !== undefined) extra[field] = value;
  }
  for (const field of ['ephemeral', 'allowChannel'] as const) {
    const value = optionalBoolean(body, field);
    if (value !== undefined) extra[field] = value;
  }
  extra.metaData = {};
  return extra;
}

/** Creates a v3 run: the stored record is what a v2 create with the same scope would store, plus the v3 fields. */
function createV3Run(context: V3Context, body: Record<string, unknown>, scope: Record<string, unknown>, user: Run['user']): Run {
  const modelFile = requiredModelFile(body);
  const trackingKey = optionalString(body, 'trackingKey');
  const fullScope = trackingKey === undefined ? scope : { ...scope, trackingKey };
  const extra = createExtras(body);
  new StoreBudget('the run to create').value({ modelFile, scope: fullScope, ...extra }, 0);
  const { account, project } = context;
  return context.store.create({ account, project, model: modelFile, scope: fullScope, files: null, user: user ?? null, extra });
}

/** `POST run`: GROUP (the caller's group), WORLD (a world the caller is in) or PROJECT scope. */
function create(context: V3Context): Reply {
  const body = v3Body(context, 'the run to create');
  const scope = optionalRecord(body, 'scope');
  if (scope === undefined) throw v3Fault(400, V3_CODES.badRequest, 'scope is required ({ scopeBoundary, scopeKey })');
  const boundary = scope.scopeBoundary;
  const scopeKey = scope.scopeKey;
  if (typeof scopeKey !== 'string' || scopeKey === '') throw v3Fault(400, V3_CODES.badRequest, 'scope.scopeKey must be a non-empty string');
  const { caller } = context;
  const userKey = scope.userKey ?? caller.user.id;
  if (typeof userKey !== 'string' || userKey === '') throw v3Fault(400, V3_CODES.badRequest, 'scope.userKey must be a non-empty string');
  // Someone else's run (a facilitator's create) has that user, known only by key.
  const user = userKey === caller.user.id ? caller.user : { id: userKey };
  let run: Run;
  if (boundary === 'GROUP') {
    // The token names the caller's one group; a key alone is resolved through the keys the emulator knows.
    const groupName = caller.groupName ?? context.store.groupNameOf(context.account, context.project, scopeKey);
    if (caller.groupKey !== scopeKey || groupName === undefined) {
      throw v3Fault(403, V3_CODES.notInGroup, `the caller is not in the group with key ${scopeKey}`);
    }
    run = createV3Run(context, body, { group: groupName, groupKey: scopeKey }, user);
  } else if (boundary === 'WORLD') {
    const world = findWorld(context, scopeKey);
    if (!isMember(world, caller.user.id)) throw v3Fault(403, V3_CODES.notInWorld, `the caller is not assigned to world ${scopeKey}`);
    const group = typeof world.group === 'string' && world.group !== '' ? { group: world.group } : {};
    run = createV3Run(context, body, { worldId: world.id, ...group }, caller.user);
  } else if (boundary === 'PROJECT') {
    run = createV3Run(context, body, { projectKey: scopeKey }, user);
  } else {
    throw v3Fault(400, V3_CODES.badRequest, `scope.scopeBoundary must be GROUP, WORLD or PROJECT, not ${JSON.stringify(boundary)}`);
  }
  return { status: 201, body: runView(run, context.store) };
}

function includesOf(query: URLSearchParams): ViewIncludes {
  const list = (name: string) => {
    const values = query.getAll(name);
    return values.length === 0 ? null : values.flatMap((value) => nameList(value, name) ?? []);
  };
  return { variables: list('var'), meta: list('meta') };
}

/** Which runs a query path selects, before `filter`. */
type ScopeTest = (run: Run) => boolean;

function scopeTest(context: V3Context, boundary: string, key: string): ScopeTest {
  const { store } = context;
  switch (boundary.toUpperCase()) {
    case 'GROUP':
    case 'WORLD':
    case 'PROJECT': {
      const wanted = boundary.toUpperCase();
      return (run) => {
        const scope = runScope(run, store);
        return scope.scopeBoundary === wanted && scope.scopeKey === key;
      };
    }
    default:
      throw v3Fault(400, V3_CODES.badRequest, `scope boundary must be GROUP, WORLD or PROJECT, not "${boundary.slice(0, 50)}"`);
  }
}

/** A run to filter and sort; its view is built only when a `run.` field is read. */
function subjectOf(run: Run, store: RunStore): FilterSubject {
  let view: Record<string, unknown> | undefined;
  return {
    get view() {
      view ??= runView(run, store);
      return view;
    },
    variables: run.variables,
    metaData: metaDataOf(run),
  };
}

/** `GET run/{boundary}/{key}/{model}` and `GET run/in/{groupName}/{model}`: a page of views. */
function query(context: V3Context, inScope: ScopeTest, model: string): Reply {
  const { store, query: params, account, project } = context;
  const filter = parseFilter(params.getAll('filter'));
  const sorts = params.getAll('sort');
  const page = requestedPage(params);
  const includes = includesOf(params);
  const matches: Array<{ run: Run; seq: number; subject: FilterSubject }> = [];
  // `run.userKey=` compares text case-insensitively: pick the index buckets of every user id that matches so.
  const pinned = filter.userKeys === null ? null : new Set(filter.userKeys.map((key) => key.toLowerCase()));
  const candidates = pinned
    ? store.findByUser(account, project, (userId) => userId !== null && pinned.has(userId.toLowerCase()))
    : store.find(account, project, { matches: () => true, userIds: null });
  for (const { run, seq } of candidates) {
    if (run.model !== model || !inScope(run)) continue;
    const subject = subjectOf(run, store);
    if (filter.matches(subject)) matches.push({ run, seq, subject });
  }
  const ordered = sorts.length === 0 ? matches : sortSubjects(matches, sorts);
  const values = ordered.slice(page.first, page.first + page.max).map(({ run }) => runView(run, store, includes));
  return { status: 200, body: { firstResult: page.first, maxResults: page.max, totalResults: matches.length, values } };
}

const PATCH_FIELDS = ['hidden', 'marked', 'closed', 'trackingKey', 'permit', 'allowChannel'] as const;

/** Validates a `PATCH run` body as a whole and returns the change to apply to each run. */
function compileRunPatch(body: Record<string, unknown>): (run: Run) => void {
  const changes: Array<(run: Run) => void> = [];
  const hidden = optionalBoolean(body, 'hidden');
  const marked = optionalBoolean(body, 'marked');
  const closed = optionalBoolean(body, 'closed');
  const allowChannel = optionalBoolean(body, 'allowChannel');
  if (hidden !== undefined) changes.push((run) => (run.trashed = hidden));
  if (marked !== undefined) changes.push((run) => (run.saved = marked));
  if (closed !== undefined) changes.push((run) => (run.closed = closed));
  if (allowChannel !== undefined) changes.push((run) => (run.allowChannel = allowChannel));
  if (body.trackingKey !== undefined) {
    const trackingKey = body.trackingKey;
    if (trackingKey !== null && typeof trackingKey !== 'string')
      throw v3Fault(400, V3_CODES.badRequest, 'trackingKey must be a string or null');
    changes.push((run) => {
      const scope = isRecord(run.scope) ? run.scope : (run.scope = {});
      if (trackingKey === null) delete scope.trackingKey;
      else scope.trackingKey = trackingKey;
    });
  }
  const permit = optionalRecord(body, 'permit');
  if (permit !== undefined) {
    new StoreBudget('the permit').value(permit, 1);
    changes.push((run) => (run.permit = structuredClone(permit)));
  }
  if (!PATCH_FIELDS.some((field) => body[field] !== undefined)) {
    throw v3Fault(400, V3_CODES.badRequest, `nothing to update: send any of ${PATCH_FIELDS.join(', ')}`);
  }
  return (run) => changes.forEach((change) => change(run));
}

function update(context: V3Context, runs: Run[]): Run[] {
  const change = compileRunPatch(v3Body(context, 'fields to update'));
  for (const run of runs) {
    change(run);
    context.store.touch(run);
  }
  return runs;
}

async function operation(context: V3Context, run: Run): Promise<Reply> {
  const body = v3Body(context, '{ name, arguments, objectType: "execute" }');
  const { name, objectType } = body;
  if (typeof name !== 'string' || name === '') throw v3Fault(400, V3_CODES.badRequest, 'name is required (a non-empty string)');
  if (objectType !== undefined && objectType !== 'execute') throw v3Fault(400, V3_CODES.badRequest, 'objectType must be "execute"');
  const args = body.arguments ?? [];
  if (!Array.isArray(args)) throw v3Fault(400, V3_CODES.badRequest, 'arguments must be an array');
  // Handlers may keep arguments in the run's variables: bound them as if they were stored there.
  new StoreBudget('the arguments').value(args, 1);
  try {
    return { status: 200, body: await context.operations.invoke(name, run, args) };
  } catch (error) {
    throw v3Fault(500, V3_CODES.operationFailed, `operation ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    context.store.touch(run);
    run.lastOperated = run.lastModified;
  }
}

function includeOf(body: Record<string, unknown>): string[] {
  const include = nameList(body.include, 'include');
  if (include === undefined) throw v3Fault(400, V3_CODES.badRequest, 'include is required (variable names joined by ";")');
  return include;
}

function runKeysOf(value: unknown): string[] {
  const keys = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) {
    throw v3Fault(400, V3_CODES.badRequest, 'runKey must be a run key or an array of them');
  }
  return keys;
}

/** The runs of `runKeys` in this project, skipping unknown keys (bulk reads answer what exists). */
function existingRuns(context: V3Context, runKeys: readonly string[]): Run[] {
  const runs: Run[] = [];
  for (const key of new Set(runKeys)) {
    const run = context.store.get(key);
    if (run && run.account === context.account && run.project === context.project) runs.push(run);
  }
  return runs;
}

function variableValues(run: Run, names: readonly string[]): unknown[] {
  return names.map((name) => variableValue(run.variables, name) ?? null);
}

/** `run/variable…`: read several (in order), read one, or set some. */
function variables(context: V3Context, tail: readonly string[]): Reply {
  const { method } = context;
  if (tail.length === 0) {
    if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
    const body = v3Body(context, '{ runKey: [...], include }');
    const include = includeOf(body);
    const result: Record<string, unknown[]> = {};
    for (const run of existingRuns(context, runKeysOf(body.runKey))) result[run.id] = variableValues(run, include);
    return { status: 200, body: result };
  }
  const run = findRun(context, segment(tail[0], 'runKey'));
  if (tail.length === 2) {
    if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
    const name = segment(tail[1], 'the variable name');
    const value = variableValue(run.variables, name);
    if (value === undefined) throw v3Fault(404, V3_CODES.variableNotFound, `variable ${name} not found in run ${run.id}`);
    return { status: 200, body: value };
  }
  if (tail.length !== 1) throw v3Fault(404, V3_CODES.routeNotFound, 'expected run/variable/{runKey}[/{name}]');
  if (method === 'POST') return { status: 200, body: variableValues(run, includeOf(v3Body(context, '{ include }'))) };
  if (method === 'PATCH') {
    const values = v3Body(context, '{ name: value, ... }');
    new StoreBudget('the variables').value(values, 1);
    mergeInto(ensureVariables(run), structuredClone(values));
    context.store.touch(run);
    return { status: 200, body: values };
  }
  throw methodNotAllowed(method, ['POST', 'PATCH']);
}

type PopKind = 'first' | 'last' | 'all';

/** Validates a metadata PATCH body as a whole, then returns the change to the run's metadata. */
function compileMetaPatch(body: Record<string, unknown>): (meta: Record<string, unknown>) => void {
  const set = optionalRecord(body, 'set') ?? {};
  const push = optionalRecord(body, 'push') ?? {};
  const pop = optionalRecord(body, 'pop') ?? {};
  for (const part of [set, push, pop]) assertSafeKeys(part);
  const budget = new StoreBudget('the metadata');
  budget.value(set, 1);
  // A pushed value sits in a list inside the metadata: one level deeper than a set one.
  budget.value(push, 2);
  const pops: Array<[string, PopKind, unknown]> = [];
  for (const [key, spec] of Object.entries(pop)) {
    const kind = isRecord(spec) ? spec.objectType : undefined;
    if (kind !== 'first' && kind !== 'last' && kind !== 'all') {
      throw v3Fault(400, V3_CODES.badRequest, `pop.${key} must be { objectType: "first" | "last" | "all", value? }`);
    }
    pops.push([key, kind, (spec as Record<string, unknown>).value]);
  }
  return (meta) => {
    for (const [key, value] of Object.entries(set)) meta[key] = structuredClone(value);
    for (const [key, value] of Object.entries(push)) {
      const current = meta[key];
      // Pushing onto a single value turns it into a list, so nothing already stored is lost.
      const list = Array.isArray(current) ? current : current === undefined ? [] : [current];
      list.push(structuredClone(value));
      meta[key] = list;
    }
    for (const [key, kind, value] of pops) {
      const current = meta[key];
      if (Array.isArray(current)) meta[key] = popFrom(current, kind, value);
    }
  };
}

function sameValue(left: unknown, right: unknown): boolean {
  return left === right || JSON.stringify(left) === JSON.stringify(right);
}

/** Without `value`: the first, the last or every element; with it: the first, last or every element equal to it. */
function popFrom(list: readonly unknown[], kind: PopKind, value: unknown): unknown[] {
  if (value === undefined) {
    if (kind === 'all') return [];
    return kind === 'first' ? list.slice(1) : list.slice(0, -1);
  }
  if (kind === 'all') return list.filter((element) => !sameValue(element, value));
  const index =
    kind === 'first' ? list.findIndex((element) => sameValue(element, value)) : list.findLastIndex((element) => sameValue(element, value));
  return index < 0 ? [...list] : [...list.slice(0, index), ...list.slice(index + 1)];
}

/** `PATCH run/meta/{runKey}` (answers the metadata) and `POST run/meta` (several runs' metadata). */
function meta(context: V3Context, tail: readonly string[]): Reply {
  const { method } = context;
  if (tail.length === 0) {
    if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
    const body = v3Body(context, '{ runKey: [...], include }');
    const keys = nameList(body.include, 'include') ?? null;
    const result: Record<string, unknown> = {};
    for (const run of existingRuns(context, runKeysOf(body.runKey))) result[run.id] = pickMeta(metaDataOf(run), keys);
    return { status: 200, body: result };
  }
  if (tail.length !== 1) throw v3Fault(404, V3_CODES.routeNotFound, 'expected run/meta/{runKey}');
  const run = findRun(context, segment(tail[0], 'runKey'));
  if (method === 'GET') return { status: 200, body: metaDataOf(run) };
  if (method !== 'PATCH') throw methodNotAllowed(method, ['GET', 'PATCH']);
  const change = compileMetaPatch(v3Body(context, '{ set?, push?, pop? }'));
  const metaData = structuredClone(metaDataOf(run));
  change(metaData);
  new StoreBudget('the metadata').value(metaData, 1);
  run.metaData = metaData;
  context.store.touch(run);
  return { status: 200, body: metaData };
}

/** `POST run/world/{worldKey}` (201 created now / 200 existing) and `DELETE run/world/{worldKey}`. */
function worldRun(context: V3Context, tail: readonly string[]): Reply {
  if (tail.length !== 1) throw v3Fault(404, V3_CODES.routeNotFound, 'expected run/world/{worldKey}');
  const world = findWorld(context, segment(tail[0], 'worldKey'));
  const { method, store, caller } = context;
  if (method === 'DELETE') {
    store.setWorldRun(world, undefined);
    return { status: 204 };
  }
  if (method !== 'POST') throw methodNotAllowed(method, ['POST', 'DELETE']);
  if (!isMember(world, caller.user.id)) throw v3Fault(403, V3_CODES.notInWorld, `the caller is not assigned to world ${world.id}`);
  const body = v3Body(context, 'the run to create');
  const current = typeof world.run === 'string' ? store.get(world.run) : undefined;
  if (current) return { status: 200, body: runView(current, store) };
  const group = typeof world.group === 'string' && world.group !== '' ? { group: world.group } : {};
  const run = createV3Run(context, body, { worldId: world.id, ...group }, caller.user);
  store.setWorldRun(world, run.id);
  return { status: 201, body: runView(run, store) };
}

/** Routes under `run`; `tail` holds the raw segments after it. */
function handleRun(context: V3Context, tail: readonly string[]): Promise<Reply> | Reply {
  const { method, store } = context;
  const [first, second, third] = tail;
  if (first === undefined) {
    if (method === 'POST') return create(context);
    if (method === 'PATCH') {
      const runs = update(context, existingRunsOrFail(context, context.query.getAll('runKey')));
      return { status: 200, body: runs.map((run) => runView(run, store)) };
    }
    throw methodNotAllowed(method, ['POST', 'PATCH']);
  }
  switch (first) {
    case 'operation':
      if (tail.length !== 2) throw v3Fault(404, V3_CODES.routeNotFound, 'expected run/operation/{runKey}');
      if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
      return operation(context, findRun(context, segment(second, 'runKey')));
    case 'variable':
      return variables(context, tail.slice(1));
    case 'meta':
      return meta(context, tail.slice(1));
    case 'world':
      return worldRun(context, tail.slice(1));
    case 'in':
      if (tail.length !== 3) throw v3Fault(404, V3_CODES.routeNotFound, 'expected run/in/{groupName}/{model} (episodes are not emulated)');
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      return query(context, inGroup(context, segment(second, 'groupName')), segment(third, 'model'));
    default:
      break;
  }
  if (tail.length === 3) {
    if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
    return query(context, scopeTest(context, segment(first, 'scope boundary'), segment(second, 'scopeKey')), segment(third, 'model'));
  }
  if (tail.length !== 1) {
    throw v3Fault(404, V3_CODES.routeNotFound, `no route for ${method} run/${tail.join('/').slice(0, 200)}`);
  }
  const run = findRun(context, segment(first, 'runKey'));
  if (method === 'GET') return { status: 200, body: runView(run, store) };
  if (method === 'PATCH') return { status: 200, body: runView(update(context, [run])[0] as Run, store) };
  // Like v2's DELETE: evicts the run from memory; the record stays.
  if (method === 'DELETE') return { status: 204 };
  throw methodNotAllowed(method, ['GET', 'PATCH', 'DELETE']);
}

function inGroup(context: V3Context, groupName: string): ScopeTest {
  return (run) => runGroupName(run, context.store) === groupName;
}

function existingRunsOrFail(context: V3Context, runKeys: readonly string[]): Run[] {
  if (runKeys.length === 0) throw v3Fault(400, V3_CODES.badRequest, 'a bulk update needs runKey query parameters');
  return runKeys.map((key) => findRun(context, key));
}

/** The authenticated caller; refusals are 401 faults (an invalidated token only on routes other than `PATCH authentication`). */
function authenticate(identity: Identity, state: V3State, renewing: boolean): V3Caller {
  if (identity.auth === 'none') {
    throw v3Fault(401, V3_CODES.authenticationRequired, 'Authorization: Bearer <token> is required', { 'WWW-Authenticate': 'Bearer' });
  }
  if (identity.auth === 'invalid' || identity.user === null || identity.token === undefined) {
    throw v3Fault(401, V3_CODES.authenticationInvalid, 'the bearer token is neither a known token nor a JWT with user_id');
  }
  if (!renewing && state.sessions.isInvalidated(identity.token)) {
    throw v3Fault(
      401,
      V3_CODES.authenticationInvalidated,
      'the token was invalidated by a world assignment change; renew it with PATCH authentication',
    );
  }
  return {
    user: identity.user,
    token: identity.token,
    ...(identity.groupName === undefined ? {} : { groupName: identity.groupName }),
    ...(identity.groupKey === undefined ? {} : { groupKey: identity.groupKey }),
  };
}

/** Answers a request under `/api/v3/`; `segments` are the raw path segments after `v3`. */
export function handleV3Route(base: ApiContext, segments: readonly string[], identity: Identity, state: V3State): Promise<Reply> | Reply {
  const [rawAccount, rawProject, resource, ...tail] = segments;
  const account = decodeComponent(rawAccount ?? '');
  const project = decodeComponent(rawProject ?? '');
  if (account === '' || project === '' || resource === undefined) {
    throw v3Fault(404, V3_CODES.routeNotFound, 'expected /api/v3/{account}/{project}/{resource}');
  }
  const caller = authenticate(identity, state, resource === 'authentication' && base.method === 'PATCH');
  const { store } = base;
  if (caller.groupName !== undefined) {
    if (caller.groupKey === undefined) caller.groupKey = store.groupKeyOf(account, project, caller.groupName);
    else store.learnGroupKey(account, project, caller.groupName, caller.groupKey);
  }
  state.sessions.observe(caller.token, caller.user.id);
  const context: V3Context = { ...base, account, project, caller, v3: state };
  switch (resource) {
    case 'run':
      return handleRun(context, tail);
    case 'world':
      return handleV3WorldRoute(context, tail);
    case 'authentication':
    case 'verification':
      return handleSessionRoute(context, resource, tail);
    default:
      throw v3Fault(404, V3_CODES.routeNotFound, `no route for ${base.method} ${resource.slice(0, 100)}`);
  }
}
