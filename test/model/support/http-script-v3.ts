/**
 * Replaying model paths against the real Epicenter v3 clients (`createRunApiV3`, `createWorldApiV3`)
 * with the scripts the v2 replays use. Every path gets its own URL prefix (`/p<id>/api/v3/`); each v3
 * request is mapped to the v2 request the path's next item expects (method and v2 path), and the
 * item's v2 answer is translated into the answer a v3 server gives:
 *
 * | v3 request                                  | v2 item                                   | v3 answer                                    |
 * |---------------------------------------------|-------------------------------------------|----------------------------------------------|
 * | `POST run`                                  | `POST run/acme/sim/`                      | the run as a v3 record                       |
 * | `GET run/{runKey}`, `PATCH run/{runKey}`    | `GET` / `PATCH run/acme/sim/{id}/`        | the run as a v3 record                       |
 * | `PATCH run/meta/{runKey}`                   | `PATCH run/acme/sim/{id}/`                | the run's metadata (its custom fields)       |
 * | `POST run/operation/{runKey}` `{name}`      | `POST run/acme/sim/{id}/operations/{name}/` | the bare `result`                          |
 * | `GET run/{GROUP|WORLD}/{key}/{model}?filter` | `GET run/acme/sim/;{matrix}/` (`QUERY`)  | `{ values, totalResults, firstResult, maxResults }` from the array and its `Content-Range` |
 * | `GET world/{groupName}?mine=true`           | `GET multiplayer/world/`                  | v3 worlds (`worldKey`, `runKey`, `lastUpdated`, `assignments`) |
 * | `POST run/world/{worldKey}`                 | `POST multiplayer/world/{id}/run`, then the `GET run/acme/sim/{id}/` item that follows it | the status of the POST, with the loaded run as a v3 record: v3 answers the whole run, so the load v2 needed is part of this one answer |
 * | `DELETE run/world/{worldKey}`               | `DELETE multiplayer/world/{id}/run`       | as scripted                                  |
 *
 * An error answer (status ≥ 400 with a JSON body) becomes a v3 fault `{ status, message, information: { code } }`;
 * dropped connections and non-JSON bodies (a truncated 2xx) are sent as scripted. A request with no
 * v2 counterpart, or one that breaks a v3 rule the clients must keep (no trailing slash, group
 * queries by the session's group key, worlds listed with `mine=true`), fails the replay.
 */
import type { RunApi, WorldApi } from '../../../src/services/api-types.js';
import { parseContentRange } from '../../../src/services/filter.js';
import { createRunApiV3 } from '../../../src/services/run-api-v3.js';
import { createV3Core, type V3ClientOptions, type V3Core, type V3SessionView } from '../../../src/services/v3.js';
import { createWorldApiV3 } from '../../../src/services/world-api-v3.js';
import type { ModelStep, PathScript } from '../../../src/testing/index.js';
import type { Run, UserSession, World } from '../../../src/types.js';
import { startScriptedServer, type RecordedRequest, type ScriptedResponse } from '../../helpers/scripted-server.js';
import { ACCOUNT, MODEL, PROJECT, runPath, type ModelHttp, type ModelItem } from './http-script.js';

/** The key of the fixtures' group `g1`: v3 scopes runs by it. */
export const GROUP_KEY = 'gk1';

/** The session a v3 client reads when the path's input has none (find-created-run). */
const DEFAULT_SESSION: UserSession = { userId: 'u1', groupName: 'g1', groupKey: GROUP_KEY };

// ---- v2 records as a v3 server sends them ----------------------------------------------------

/** A v3 run record (`RunReadOutView`), as far as the fixtures fill it. */
export type V3Record = Record<string, unknown> & { runKey: string };

/**
 * A v2 run as the v3 server sends it: `id` → `runKey`, `model` → `modelFile`, `trashed` → `hidden`,
 * `saved` → `marked`, `scope.trackingKey` → `trackingKey`, `scope.worldId` → a WORLD scope, a group
 * scope or a user → `GROUP/{GROUP_KEY}` (with `userKey`), `created`/`lastModified` as they are, and
 * every other field (an init flag) → `metaData`.
 */
export function v3Record(run: Run): V3Record {
  const record: V3Record = { runKey: run.id };
  const metaData: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(run)) {
    if (value === undefined) continue;
    if (key === 'id' || key === 'scope' || key === 'user') continue;
    if (key === 'model') record.modelFile = value;
    else if (key === 'trashed') record.hidden = value;
    else if (key === 'saved') record.marked = value;
    else if (key === 'created' || key === 'lastModified') record[key] = value;
    else metaData[key] = value;
  }
  const scope = run.scope ?? {};
  if (typeof scope.worldId === 'string') record.scope = { scopeBoundary: 'WORLD', scopeKey: scope.worldId };
  else if (run.scope || run.user) {
    record.scope = { scopeBoundary: 'GROUP', scopeKey: GROUP_KEY, ...(run.user ? { userKey: run.user.id } : {}) };
  }
  if (typeof scope.trackingKey === 'string') record.trackingKey = scope.trackingKey;
  if (Object.keys(metaData).length > 0) record.metaData = metaData;
  return record;
}

/** A v2 world as the v3 server sends it: `worldKey`, `runKey`, `lastUpdated`, `assignments`; other fields as they are. */
export function v3World(world: World): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(world)) {
    if (value === undefined) continue;
    if (key === 'id') record.worldKey = value;
    else if (key === 'run') record.runKey = value;
    else if (key === 'lastModified') record.lastUpdated = value;
    else if (key === 'users') {
      record.assignments = (value as NonNullable<World['users']>).map((user) => ({
        user: { userKey: user.userId, ...(user.userName !== undefined ? { displayName: user.userName } : {}) },
        ...(user.role !== undefined ? { role: user.role } : {}),
      }));
    } else record[key] = value;
  }
  return record;
}

const FAULT_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'AUTHENTICATION_REQUIRED',
  403: 'FORBIDDEN',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** A v2 error answer as a v3 JSON fault; 404 names what was not found. */
function v3Fault(response: ScriptedResponse, notFound: string): ScriptedResponse {
  const status = response.status ?? 200;
  const said = (response.json as { message?: unknown } | undefined)?.message;
  const code = status === 404 ? notFound : (FAULT_CODES[status] ?? `HTTP_${status}`);
  return {
    status,
    ...(response.headers ? { headers: response.headers } : {}),
    json: { status, message: typeof said === 'string' ? said : `HTTP ${status}`, information: { code } },
  };
}

// ---- v3 requests and their v2 counterparts ---------------------------------------------------

type AnswerKind = 'run' | 'meta' | 'operation' | 'page' | 'worlds' | 'worldRun' | 'asScripted';

/** What a v3 request is on v2, and how the v2 answer becomes the v3 one. */
interface Counterpart {
  method: string;
  /** Relative to `v2/`, as the v2 items name it. */
  path: string;
  kind: AnswerKind;
  /** The code of a 404 fault. */
  notFound: string;
  /** `max` of a query (`maxResults`). */
  max?: number;
}

/** v3 filter fields back in v2 matrix names, so the counterpart reads like the v2 query. */
function v2FilterKey(field: string): string {
  const renames: Record<string, string> = {
    'run.userKey': 'user.id',
    'run.hidden': 'trashed',
    'run.marked': 'saved',
    'run.trackingKey': 'scope.trackingKey',
  };
  if (renames[field]) return renames[field];
  if (field.startsWith('meta.')) return field.slice(5);
  if (field.startsWith('var.')) return `.${field.slice(4)}`;
  return field.startsWith('run.') ? field.slice(4) : field;
}

/** `run.userKey=u1;run.hidden=false` under `GROUP/gk1` → `;scope.group=…;user.id=u1;trashed=false/` (values encoded, no `/`). */
function v2QueryPath(boundary: string, scopeKey: string, model: string, filter: string | null, session: V3SessionView): string {
  const conditions = (filter ?? '')
    .split(';')
    .filter((condition) => condition !== '')
    .map((condition) => {
      const match = /^([^=!<>|*~^]+)(.*)$/.exec(condition);
      if (!match) return encodeURIComponent(condition);
      const operator = /^(\|=|!=|<=|>=|=|<|>|\*=|~=|\^=)?(.*)$/.exec(match[2]!)!;
      return `${v2FilterKey(match[1]!)}${operator[1] ?? ''}${encodeURIComponent(operator[2] ?? '')}`;
    });
  const scope =
    boundary === 'WORLD' ? `scope.worldId=${encodeURIComponent(scopeKey)}` : `scope.group=${encodeURIComponent(session.groupName ?? '')}`;
  return runPath(`;${[scope, `model=${encodeURIComponent(model)}`, ...conditions].join(';')}/`);
}

/** The v2 counterpart of a v3 request (path relative to `api/v3/acme/sim/`), or why it has none. */
function counterpart(request: RecordedRequest, route: string, session: V3SessionView): Counterpart | string {
  if (route === '' || route.endsWith('/')) return 'v3 paths have no trailing slash';
  const segments = route.split('/').map((segment) => decodeURIComponent(segment));
  const query = new URLSearchParams(request.query);
  const { method } = request;
  const [first, second, third, fourth] = segments;
  const run = (kind: AnswerKind, v2Method: string, path: string): Counterpart => ({
    method: v2Method,
    path,
    kind,
    notFound: 'RUN_NOT_FOUND',
  });

  if (first === 'run') {
    if (segments.length === 1 && method === 'POST') return run('run', 'POST', runPath());
    if (segments.length === 2 && (method === 'GET' || method === 'PATCH')) return run('run', method, runPath(`${second!}/`));
    if (segments.length === 3 && second === 'meta' && method === 'PATCH') return run('meta', 'PATCH', runPath(`${third!}/`));
    if (segments.length === 3 && second === 'operation' && method === 'POST') {
      const name = (request.json as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string') return 'an operation without a name';
      return run('operation', 'POST', runPath(`${third!}/operations/${name}/`));
    }
    if (segments.length === 3 && second === 'world') {
      const worldRun = `multiplayer/world/${third!}/run`;
      if (method === 'POST') return { method, path: worldRun, kind: 'worldRun', notFound: 'WORLD_NOT_FOUND' };
      if (method === 'DELETE') return { method, path: worldRun, kind: 'asScripted', notFound: 'WORLD_NOT_FOUND' };
    }
    if (segments.length === 4 && (second === 'GROUP' || second === 'WORLD') && method === 'GET') {
      if (second === 'GROUP' && third !== session.groupKey)
        return `a group query must name the session's group key ${session.groupKey ?? '(none)'}`;
      const max = query.get('max');
      return {
        ...run('page', 'GET', v2QueryPath(second, third!, fourth!, query.get('filter'), session)),
        ...(max !== null ? { max: Number(max) } : {}),
      };
    }
  }
  if (first === 'world' && segments.length === 2 && method === 'GET') {
    if (query.get('mine') !== 'true') return 'the worlds of the user are listed with mine=true';
    return { method: 'GET', path: 'multiplayer/world/', kind: 'worlds', notFound: 'GROUP_NOT_FOUND' };
  }
  return 'no v2 counterpart';
}

function isRun(value: unknown): value is Run {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string';
}

/** The v3 answer to a 2xx v2 answer with a JSON body. */
function translateSuccess(response: ScriptedResponse, target: Counterpart): ScriptedResponse {
  const { json } = response;
  switch (target.kind) {
    case 'run':
      return isRun(json) ? { ...response, json: v3Record(json) } : response;
    case 'meta':
      return isRun(json) ? { ...response, json: v3Record(json).metaData ?? {} } : response;
    case 'operation':
      // v2 wraps the operation's return value; v3 answers it bare.
      return json !== null && typeof json === 'object' && 'result' in json ? { ...response, json: json.result } : response;
    case 'page': {
      if (!Array.isArray(json)) return response;
      const { 'Content-Range': header, ...headers } = response.headers ?? {};
      const range = parseContentRange(header);
      const values = (json as Run[]).map(v3Record);
      return {
        status: response.status ?? 200,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        json: {
          values,
          firstResult: range?.start ?? 0,
          maxResults: target.max ?? values.length,
          ...(range ? { totalResults: range.total } : {}),
        },
      };
    }
    case 'worlds':
      return Array.isArray(json) ? { ...response, json: (json as World[]).map(v3World) } : response;
    default:
      return response;
  }
}

function matches(expected: string | RegExp, actual: string): boolean {
  return typeof expected === 'string' ? expected === actual : expected.test(actual);
}

function describeItem(item: ModelItem): string {
  return item.kind === 'http' ? `${item.method} ${String(item.path)}` : `a call to ${item.name}`;
}

/** The path input's session as a v3 client reads it: `userId` is the user key. */
function sessionView(script: PathScript<ModelItem>): V3SessionView {
  const given = (script.path.input as { session?: UserSession } | undefined)?.session ?? DEFAULT_SESSION;
  const view: V3SessionView = {};
  if (typeof given.userId === 'string') view.userKey = given.userId;
  if (typeof given.groupKey === 'string') view.groupKey = given.groupKey;
  if (typeof given.groupName === 'string') view.groupName = given.groupName;
  return view;
}

/**
 * Starts the v3 scripted server. Requests under `/p<id>/api/v3/acme/sim/` are answered from the
 * script registered for path `<id>` as the module comment describes; a request the script does not
 * expect is answered 599 and fails the replay, exactly as on v2.
 */
export async function startModelHttpV3(): Promise<ModelHttp> {
  const scripts = new Map<string, PathScript<ModelItem>>();
  // Items this server took per replay and step, so the world-run answer can see the item after its
  // own (a path stopped part-way shares its steps with the whole path: counts are per replay).
  const takenBy = new WeakMap<PathScript<ModelItem>, Map<ModelStep, number>>();
  const prefix = `/api/v3/${ACCOUNT}/${PROJECT}/`;

  const server = await startScriptedServer(async (request) => {
    const match = /^\/(p\d+)(\/.*)$/.exec(request.path);
    const script = match ? scripts.get(match[1]!) : undefined;
    if (!match || !script) return { status: 599, json: { message: `no path script for ${request.url}` } };
    const what = `${request.method} ${request.url.slice(match[1]!.length + 1)}`;
    if (!match[2]!.startsWith(prefix)) {
      script.fail(`the v3 client sent ${what}, outside ${prefix}`);
      return { status: 599, json: { message: 'unexpected request' } };
    }
    const target = counterpart(request, match[2]!.slice(prefix.length), sessionView(script));
    if (typeof target === 'string') {
      script.fail(`the v3 client sent ${what}: ${target}`);
      return { status: 599, json: { message: 'unexpected request' } };
    }
    const v2What = `${target.method} ${target.path}`;

    let taken = takenBy.get(script);
    if (!taken) takenBy.set(script, (taken = new Map()));
    const take = async (label: string) => {
      const result = await script.take({ what: label });
      taken.set(result.step, (taken.get(result.step) ?? 0) + 1);
      return result;
    };
    let item: ModelItem;
    let step: ModelStep;
    try {
      ({ item, step } = await take(`${what} (v2: ${v2What})`));
    } catch {
      // The replay is over (or the client gave up): nobody is listening.
      return { destroy: true };
    }
    if (item.kind !== 'http' || item.method !== target.method || !matches(item.path, target.path)) {
      script.fail(`the path expects ${describeItem(item)}, the v3 client sent ${what} (v2: ${v2What})`);
      return { status: 599, json: { message: 'unexpected request' } };
    }
    const response = item.response;
    const status = response.status ?? 200;
    if (response.json === undefined) return response;
    if (status >= 400) return v3Fault(response, target.notFound);
    if (target.kind !== 'worldRun') return translateSuccess(response, target);

    // The world's run id (v2) — v3 answers the whole run, which v2 needed the next item's GET for.
    const runId = response.json;
    const load = typeof runId === 'string' ? runPath(`${runId}/`) : undefined;
    const next = step.script[taken.get(step) ?? 0] as ModelItem | undefined;
    if (load === undefined || next?.kind !== 'http' || next.method !== 'GET' || !matches(next.path, load)) {
      script.fail(
        `the v3 world-run answer carries the run: after ${describeItem(item)} the step must script the run's load (GET ${load ?? '?'}), it has ${next ? describeItem(next) : 'nothing'}`,
      );
      return { status: 599, json: { message: 'unexpected request' } };
    }
    let loaded: ModelItem;
    try {
      ({ item: loaded } = await take(`the run the v3 answer to ${what} carries (v2: GET ${load})`));
    } catch {
      return { destroy: true };
    }
    const body = loaded.kind === 'http' ? loaded.response.json : undefined;
    if (loaded.kind !== 'http' || (loaded.response.status ?? 200) !== 200 || !isRun(body) || body.id !== runId) {
      script.fail(`the v3 world-run answer needs the run ${String(runId)} loaded (200), the step scripts ${describeItem(loaded)}`);
      return { status: 599, json: { message: 'unexpected request' } };
    }
    return { status, json: v3Record(body) };
  });

  const clients = new WeakMap<PathScript<ModelItem>, { options: V3ClientOptions; core: V3Core }>();
  /** One core per path, shared by its Run and World API clients (as a RunService shares it). */
  const clientsOf = (script: PathScript<ModelItem>) => {
    let known = clients.get(script);
    if (!known) {
      const key = `p${script.path.id}`;
      scripts.set(key, script);
      const options: V3ClientOptions = {
        baseURL: `${server.origin}${key}/api/v3/`,
        account: ACCOUNT,
        project: PROJECT,
        model: MODEL,
        session: () => sessionView(script),
        retry: { retries: 0 },
        timeout: 5_000,
      };
      known = { options, core: createV3Core(options) };
      clients.set(script, known);
    }
    return known;
  };
  return {
    server,
    runApi: (script): RunApi => {
      const { options, core } = clientsOf(script);
      return createRunApiV3(options, core);
    },
    worldApi: (script): WorldApi => {
      const { options, core } = clientsOf(script);
      return createWorldApiV3(options, core);
    },
    close: () => server.close(),
  };
}
