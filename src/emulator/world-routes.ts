/** The World API routes: list a user's worlds, get or create a world's current run (201 created / 200 existing), detach it. */
import { type ApiContext, methodNotAllowed, objectBody, optionalObject, requiredModel } from './api-context.js';
import { HttpError, type Reply } from './http.js';
import { StoreBudget } from './limits.js';
import { decodeComponent } from './matrix.js';
import type { WorldsFilter } from './store.js';

function listWorlds(context: ApiContext): Reply {
  const filter: WorldsFilter = {};
  for (const key of ['account', 'project', 'group', 'userId'] as const) {
    const value = context.query.get(key);
    if (value !== null) filter[key] = value;
  }
  return { status: 200, body: context.store.listWorlds(filter) };
}

function currentRun(context: ApiContext, worldId: string): Reply {
  const { store } = context;
  const world = store.getWorld(worldId);
  if (!world) throw new HttpError(404, `world ${worldId} not found`);
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

function detachRun(context: ApiContext, worldId: string): Reply {
  const world = context.store.getWorld(worldId);
  if (!world) throw new HttpError(404, `world ${worldId} not found`);
  context.store.setWorldRun(world, undefined);
  return { status: 204 };
}

/** Answers a request under `/v2/multiplayer/world/`; `segments` are the raw path segments after `world`. */
export function handleWorldRoute(context: ApiContext, segments: readonly string[]): Reply {
  const { method } = context;
  if (segments.length === 0) {
    if (method === 'GET') return listWorlds(context);
    throw methodNotAllowed(method, ['GET']);
  }
  const [rawWorld, resource] = segments;
  if (segments.length !== 2 || resource !== 'run' || rawWorld === '') {
    throw new HttpError(400, 'expected /v2/multiplayer/world/ or /v2/multiplayer/world/{worldId}/run');
  }
  const worldId = decodeComponent(rawWorld as string);
  if (method === 'POST') return currentRun(context, worldId);
  if (method === 'DELETE') return detachRun(context, worldId);
  throw methodNotAllowed(method, ['POST', 'DELETE']);
}
