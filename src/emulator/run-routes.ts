/** The Run API routes: create, query, load, update (one run or a matrix), operations, variables and remove-from-memory. */
import type { Run } from '../types.js';
import { type ApiContext, methodNotAllowed, objectBody, optionalObject, requiredModel } from './api-context.js';
import { HttpError, type Reply } from './http.js';
import { StoreBudget } from './limits.js';
import { compileFilter, decodeComponent, parseMatrix } from './matrix.js';
import { applyPatch, compilePatch, ensureVariables } from './patch.js';
import { applyPage, includeNames, pickVariables, presentRun, requestedPage, sortRuns } from './query.js';
import { mergeInto } from './record-paths.js';

/** Create-body fields kept on the run besides model, scope and files. */
const EXTRA_CREATE_FIELDS = ['cinFiles', 'ephemeral', 'sensitivityMode'] as const;

function create(context: ApiContext, account: string, project: string): Reply {
  const body = objectBody(context, 'the run to create');
  const model = requiredModel(body);
  const scope = optionalObject(body, 'scope');
  const files = optionalObject(body, 'files');
  const extra: Record<string, unknown> = {};
  for (const field of EXTRA_CREATE_FIELDS) {
    if (body[field] !== undefined) extra[field] = body[field];
  }
  new StoreBudget('the run to create').value({ model, scope, files, ...extra }, 0);
  const run = context.store.create({ account, project, model, scope, files, user: context.user, extra });
  return { status: 201, body: presentRun(run, null) };
}

function query(context: ApiContext, account: string, project: string, matrix: string): Reply {
  const filter = compileFilter(parseMatrix(matrix));
  const page = requestedPage(context.query, context.headers.range);
  const matches = context.store.find(account, project, filter);
  const sorted = sortRuns(matches, context.query, page.end + 1);
  const { items, contentRange } = applyPage(sorted, matches.length, page);
  const include = includeNames(context.query);
  return { status: 200, body: items.map(({ run }) => presentRun(run, include)), headers: { 'Content-Range': contentRange } };
}

function bulkUpdate(context: ApiContext, account: string, project: string, matrix: string): Reply {
  const filter = compileFilter(parseMatrix(matrix));
  const steps = compilePatch(objectBody(context, 'fields to update'));
  const runs = context.store.find(account, project, filter).map(({ run }) => run);
  for (const run of runs) {
    applyPatch(run, steps);
    context.store.touch(run);
  }
  return { status: 200, body: runs.map((run) => presentRun(run, null)) };
}

function findRun(context: ApiContext, account: string, project: string, id: string): Run {
  const run = context.store.get(id);
  if (!run || run.account !== account || run.project !== project) throw new HttpError(404, `run ${id} not found in ${account}/${project}`);
  return run;
}

async function operation(context: ApiContext, run: Run, name: string): Promise<Reply> {
  const body = objectBody(context, '{ "arguments": [...] }', {});
  const args = body.arguments ?? [];
  if (!Array.isArray(args)) throw new HttpError(400, 'arguments must be an array');
  // Handlers may keep arguments in the run's variables: bound them as if they were stored there.
  new StoreBudget('the arguments').value(args, 1);
  try {
    const result = await context.operations.invoke(name, run, args);
    return { status: 200, body: { name, arguments: args, result } };
  } catch (error) {
    throw new HttpError(500, `operation ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    context.store.touch(run);
  }
}

function single(context: ApiContext, run: Run, tail: readonly string[]): Promise<Reply> | Reply {
  const { method } = context;
  const [resource, name] = tail;
  if (resource === undefined) {
    if (method === 'GET') return { status: 200, body: presentRun(run, includeNames(context.query)) };
    if (method === 'PATCH') {
      applyPatch(run, compilePatch(objectBody(context, 'fields to update')));
      context.store.touch(run);
      return { status: 200, body: presentRun(run, null) };
    }
    return { status: 200, body: { id: run.id } };
  }
  if (resource === 'operations' && name !== undefined) return operation(context, run, decodeComponent(name));
  if (resource === 'variables' && name === undefined && method === 'GET') {
    return { status: 200, body: pickVariables(run, includeNames(context.query)) };
  }
  if (resource === 'variables' && name === undefined) {
    const values = objectBody(context, 'variables to merge');
    new StoreBudget('the variables').value(values, 1);
    mergeInto(ensureVariables(run), structuredClone(values));
    context.store.touch(run);
    return { status: 200, body: run.variables };
  }
  const variable = decodeComponent(name ?? '');
  const variables = pickVariables(run, [variable]);
  if (!Object.hasOwn(variables, variable)) throw new HttpError(404, `variable ${variable} not found`);
  return { status: 200, body: variables[variable] };
}

/** Methods each run sub-resource answers; the shape of `tail` picks the row. */
function allowedMethods(tail: readonly string[]): readonly string[] | null {
  const [resource, name] = tail;
  if (tail.length === 0) return ['GET', 'PATCH', 'DELETE'];
  if (resource === 'operations' && tail.length === 2 && name !== '') return ['POST'];
  if (resource === 'variables' && tail.length === 1) return ['GET', 'PATCH'];
  if (resource === 'variables' && tail.length === 2 && name !== '') return ['GET'];
  return null;
}

/** Answers a request under `/v2/run/`; `segments` are the raw path segments after `run`. */
export async function handleRunRoute(context: ApiContext, segments: readonly string[]): Promise<Reply> {
  const [rawAccount, rawProject, target, ...tail] = segments;
  if (rawAccount === undefined || rawProject === undefined) throw new HttpError(400, 'expected /v2/run/{account}/{project}/');
  const account = decodeComponent(rawAccount);
  const project = decodeComponent(rawProject);
  if (account === '' || project === '') throw new HttpError(400, 'account and project must not be empty');
  const { method } = context;
  if (target === undefined) {
    if (method === 'POST') return create(context, account, project);
    if (method === 'GET') return query(context, account, project, ';');
    throw methodNotAllowed(method, ['GET', 'POST']);
  }
  if (target.startsWith(';')) {
    if (tail.length > 0) throw new HttpError(400, 'operations and variables need a run id, not a matrix filter');
    if (method === 'GET') return query(context, account, project, target);
    if (method === 'PATCH') return bulkUpdate(context, account, project, target);
    throw methodNotAllowed(method, ['GET', 'PATCH']);
  }
  const allowed = allowedMethods(tail);
  if (allowed === null) throw new HttpError(400, `unknown run resource /${tail.join('/')}`);
  if (!allowed.includes(method)) throw methodNotAllowed(method, allowed);
  const id = decodeComponent(target);
  if (id === '') throw new HttpError(400, 'empty run id');
  return single(context, findRun(context, account, project, id), tail);
}
