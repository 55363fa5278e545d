/** The control API under `/_emulator/` for out-of-process use (playground, benchmarks); never logged, never faulted. */
import type { Run, World } from '../types.js';
import { methodNotAllowed, objectBody } from './api-context.js';
import { HttpError, type Reply, type RequestBody } from './http.js';
import { decodeComponent } from './matrix.js';
import type { Emulator, FaultSpec, RunsFilter } from './types.js';

/** A parsed control request; `segments` are the raw path segments after `_emulator`. */
export interface ControlRequest {
  method: string;
  segments: readonly string[];
  query: URLSearchParams;
  body: RequestBody;
}

function addFault(emulator: Emulator, body: Record<string, unknown>): Reply {
  const { pathRegExp, ...rest } = body;
  const spec = { ...rest } as unknown as FaultSpec;
  if (pathRegExp !== undefined) {
    if (typeof pathRegExp !== 'string') throw new HttpError(400, 'pathRegExp must be a string');
    try {
      spec.path = new RegExp(pathRegExp);
    } catch (error) {
      throw new HttpError(400, `pathRegExp is not a valid RegExp: ${(error as Error).message}`);
    }
  }
  switch (spec.kind) {
    case 'fail':
      emulator.fail(spec);
      break;
    case 'drop':
      emulator.drop(spec);
      break;
    case 'slow':
      emulator.slow(spec);
      break;
    case 'truncate':
      emulator.truncate(spec);
      break;
    default:
      throw new HttpError(400, "kind must be 'fail', 'drop', 'slow' or 'truncate'");
  }
  return { status: 201, body: { added: spec.kind } };
}

function seed(emulator: Emulator, body: Record<string, unknown>): Reply {
  const { runs, worlds } = body;
  if (runs !== undefined && !Array.isArray(runs)) throw new HttpError(400, 'runs must be an array');
  if (worlds !== undefined && !Array.isArray(worlds)) throw new HttpError(400, 'worlds must be an array');
  const seeded = emulator.seed({ runs: runs as Array<Partial<Run>> | undefined, worlds: worlds as World[] | undefined });
  return { status: 201, body: seeded };
}

function runsFilter(query: URLSearchParams): RunsFilter {
  const filter: RunsFilter = {};
  for (const key of ['account', 'project', 'userId'] as const) {
    const value = query.get(key);
    if (value !== null) filter[key] = value;
  }
  return filter;
}

const ROUTES: Record<string, readonly string[]> = {
  requests: ['GET', 'DELETE'],
  runs: ['GET'],
  worlds: ['GET'],
  seed: ['POST'],
  reset: ['POST'],
  faults: ['POST', 'DELETE'],
  latency: ['PUT'],
  stats: ['GET'],
  settings: ['GET', 'PUT'],
  invalidate: ['POST'],
};

function dispatch(emulator: Emulator, request: ControlRequest, resource: string): Reply {
  const { method } = request;
  switch (`${method} ${resource}`) {
    case 'GET requests':
      return { status: 200, body: emulator.requests };
    case 'DELETE requests':
      emulator.clearLog();
      return { status: 204 };
    case 'GET runs':
      return { status: 200, body: emulator.runs(runsFilter(request.query)) };
    case 'GET worlds':
      return { status: 200, body: emulator.worlds() };
    case 'POST seed':
      return seed(emulator, objectBody(request, '{ runs?, worlds? }'));
    case 'POST reset':
      emulator.reset();
      return { status: 204 };
    case 'POST faults':
      return addFault(emulator, objectBody(request, '{ kind, ... }'));
    case 'DELETE faults':
      emulator.clearFaults();
      return { status: 204 };
    case 'GET settings':
      return { status: 200, body: emulator.settings() };
    case 'PUT settings':
      return { status: 200, body: emulator.configure(objectBody(request, '{ allowWorldSelfAssign?, invalidateTokensOnAssignment? }')) };
    case 'POST invalidate': {
      const { userId } = objectBody(request, '{ userId }');
      return { status: 200, body: { invalidated: emulator.invalidateTokens(userId as string) } };
    }
    case 'PUT latency': {
      const { ms } = objectBody(request, '{ ms }');
      emulator.latency = ms as number;
      return { status: 200, body: { ms: emulator.latency } };
    }
    default:
      return { status: 200, body: emulator.stats() };
  }
}

/** Answers a control request: bad input (the programmatic API's TypeErrors too) is 400, unknown resources 404, wrong methods 405. */
export function handleControlRoute(request: ControlRequest, emulator: Emulator): Reply {
  const [rawResource, ...rest] = request.segments;
  const resource = decodeComponent(rawResource ?? '');
  const allowed = Object.hasOwn(ROUTES, resource) && rest.length === 0 ? ROUTES[resource] : undefined;
  if (!allowed) throw new HttpError(404, `no control route /_emulator/${request.segments.join('/')}`);
  if (!allowed.includes(request.method)) throw methodNotAllowed(request.method, allowed);
  try {
    return dispatch(emulator, request, resource);
  } catch (error) {
    if (error instanceof TypeError) throw new HttpError(400, error.message);
    throw error;
  }
}
