/**
 * What the Epicenter v3 Run and World API clients share: options, routes
 * (`{baseURL}{account}/{project}/{route}`, no trailing slash), the session read per request, the
 * renewal of an invalidated token, the translation of v2 create parameters, and the v3 run record
 * as a `Run` the strategies can read.
 */
import { describeThrown, RunManagerError } from '../errors.js';
import type { Run } from '../types.js';
import type { ApiClientOptions, CreateRunParams } from './api-types.js';
import { defineOwn, isObject, isSafeKey } from './values.js';
import { createHttpClient, pathSegment, type HttpClient, type HttpFault, type HttpRequestSpec } from './http.js';

/** An Epicenter v3 session, as `PATCH authentication` answers it. */
export interface V3Session {
  /** The bearer token. */
  token: string;
  /** The user's key. */
  userKey?: string;
  /** The key of the user's group; runs belong to it. */
  groupKey?: string;
  /** The user's group name; worlds are listed by it. */
  groupName?: string;
  [k: string]: unknown;
}

/** The session fields a v3 client reads before each request. */
export interface V3SessionView {
  userKey?: string;
  groupKey?: string;
  groupName?: string;
}

/** Options of the Epicenter v3 clients. */
export interface V3ClientOptions extends ApiClientOptions {
  /** The API root, e.g. `https://forio.com/api/v3/` or `http://127.0.0.1:8080/api/v3/`. */
  baseURL: string;
  /** The model file: a path segment of every v3 run query, and the default `modelFile` of a create. */
  model: string;
  /** Read per request: the user's key, and the group whose key scopes runs and whose name lists worlds. */
  session: () => V3SessionView;
  /**
   * A session renewed after `AUTHENTICATION_INVALIDATED`. The owner should store it so `token()`
   * returns the new token; the client also uses the new token in place of the old one meanwhile.
   */
  onSession?: (session: V3Session) => void;
}

/** The JSON body header the official v3 client sends. */
export const JSON_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json; charset=UTF-8' };

/** The server code of a token made invalid by an assignment change: renewed once, then the request is sent again. */
export const AUTHENTICATION_INVALIDATED = 'AUTHENTICATION_INVALIDATED';

/** Renewals remembered: enough for a chain of them while the owner catches up, never unbounded. */
const MAX_REPLACED_TOKENS = 8;

/** The request core shared by one v3 client's methods. */
export interface V3Core {
  http: HttpClient;
  /** `{account}/{project}/{segments…}`, each segment percent-encoded; `.`/`..`/empty refused. */
  route(...segments: Array<{ value: unknown; what: string } | string>): string;
  /** The session fields, read now; reading failures are `UNAUTHORIZED`. */
  session(): V3SessionView;
  /** The model of the options, checked. */
  model(): string;
}

export function invalidResponse(spec: HttpRequestSpec, status: number, expected: string): RunManagerError {
  return new RunManagerError('INVALID_RESPONSE', `${spec.method} ${spec.path}: expected ${expected} (HTTP ${status})`, { status });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The shared core: an http client that reads v3 JSON faults and, on a 401 `AUTHENTICATION_INVALIDATED`,
 * renews the session once (`PATCH authentication`) and sends the request again with the new token.
 * Concurrent invalidations share one renewal; a request whose token was already replaced just retries.
 */
export function createV3Core(options: V3ClientOptions): V3Core {
  if (!isObject(options)) throw new RunManagerError('INVALID_OPTIONS', 'Epicenter v3 client options must be an object');
  if (typeof options.session !== 'function') {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      'Epicenter v3 clients need options.session, a function returning { userKey, groupKey, groupName }',
    );
  }
  if (options.onSession !== undefined && typeof options.onSession !== 'function') {
    throw new RunManagerError('INVALID_OPTIONS', 'options.onSession must be a function');
  }

  // Old token → its renewal, so a request made before the owner stored the new token still carries it.
  const replaced = new Map<string, string>();
  let renewal: Promise<void> | null = null;

  function readOwnerToken(): string | undefined {
    const token = options.token?.();
    return typeof token === 'string' && token.trim() !== '' ? token.trim() : undefined;
  }

  function currentToken(): string | undefined {
    let token = readOwnerToken();
    for (let hops = 0; token !== undefined && replaced.has(token) && hops < MAX_REPLACED_TOKENS; hops += 1) token = replaced.get(token);
    return token;
  }

  function session(): V3SessionView {
    let value: unknown;
    try {
      value = options.session();
    } catch (error) {
      throw new RunManagerError('UNAUTHORIZED', `Reading the Epicenter v3 session failed: ${describeThrown(error)}`);
    }
    const read = isObject(value) ? value : {};
    const view: V3SessionView = {};
    const userKey = optionalString(read.userKey);
    const groupKey = optionalString(read.groupKey);
    const groupName = optionalString(read.groupName);
    if (userKey !== undefined) view.userKey = userKey;
    if (groupKey !== undefined) view.groupKey = groupKey;
    if (groupName !== undefined) view.groupName = groupName;
    return view;
  }

  function route(...segments: Array<{ value: unknown; what: string } | string>): string {
    const parts = [pathSegment(options.account, 'account'), pathSegment(options.project, 'project')];
    for (const segment of segments) parts.push(typeof segment === 'string' ? segment : pathSegment(segment.value, segment.what));
    return parts.join('/');
  }

  async function renew(oldToken: string): Promise<void> {
    const { groupKey } = session();
    const spec: HttpRequestSpec = {
      method: 'PATCH',
      path: route('authentication'),
      body: { objectType: 'user', groupKey },
      headers: JSON_HEADERS,
      parse: 'json',
      // A refused renewal is final: renewing it again could loop.
      reauthenticate: false,
    };
    const response = await http.request<unknown>(spec);
    const answer = response.data;
    if (!isObject(answer) || typeof answer.token !== 'string' || answer.token.trim() === '') {
      throw invalidResponse(spec, response.status, 'a session with a token');
    }
    const token = answer.token.trim();
    replaced.delete(oldToken);
    replaced.set(oldToken, token);
    while (replaced.size > MAX_REPLACED_TOKENS) replaced.delete(replaced.keys().next().value!);
    try {
      options.onSession?.(answer as V3Session);
    } catch (error) {
      throw new RunManagerError('UNAUTHORIZED', `options.onSession failed: ${describeThrown(error)}`);
    }
  }

  /** Waits for the shared renewal, or rejects `ABORTED` as soon as this caller's signal aborts. */
  async function awaitRenewal(shared: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return shared;
    let onAbort = () => {};
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new RunManagerError('ABORTED', 'The request was aborted while the session was renewed'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([shared, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async function onUnauthorized(fault: HttpFault, context: { token: string | undefined; signal?: AbortSignal }): Promise<boolean> {
    if (fault.code !== AUTHENTICATION_INVALIDATED || context.token === undefined) return false;
    // Another request renewed the session since this one was sent: its token is already stale.
    const now = currentToken();
    if (now !== undefined && now !== context.token) return true;
    // One renewal for every request it refused; it is not tied to any one caller's signal.
    renewal ??= renew(context.token).finally(() => {
      renewal = null;
    });
    await awaitRenewal(renewal, context.signal);
    return true;
  }

  const http = createHttpClient({ ...options, token: currentToken }, { jsonFaults: true, onUnauthorized });

  function model(): string {
    pathSegment(options.model, 'model');
    return options.model;
  }

  return { http, route, session, model };
}

/** Fields a library `Run` adds or reads under these names: never taken from run metadata. */
const RESERVED_RUN_KEYS: ReadonlySet<string> = new Set(['id', 'trashed', 'saved', 'freshlyCreated', 'world', 'settings', 'variables']);

/** True when a v3 record has a usable `runKey` (`.`/`..` would address another path). */
export function hasRunKey(value: unknown): value is Record<string, unknown> & { runKey: string } {
  return isObject(value) && typeof value.runKey === 'string' && value.runKey !== '' && value.runKey !== '.' && value.runKey !== '..';
}

/**
 * A v3 run record as a `Run`: the record as sent, plus `id` = `runKey`, and the v2 names the
 * strategies read: `trashed` = `hidden`, `saved` = `marked`, `user.id` = the user's key, and `scope.trackingKey` = `trackingKey`
 * (the tracking-key strategies compare it). `metaData` stays as it is; its keys that are not already
 * run fields are also copied to the top level, because an init flag such as `isInitComplete` was a
 * run field on v2 and the strategies test it there.
 */
export function v3RunView(record: Record<string, unknown> & { runKey: string }, variableNames?: readonly string[]): Run {
  const run: Record<string, unknown> = {};
  if (isObject(record.metaData)) {
    for (const [key, value] of Object.entries(record.metaData)) {
      if (isSafeKey(key) && !RESERVED_RUN_KEYS.has(key) && !Object.hasOwn(record, key)) defineOwn(run, key, value);
    }
  }
  for (const [key, value] of Object.entries(record)) {
    if (isSafeKey(key)) defineOwn(run, key, value);
  }
  run.id = record.runKey;
  if (record.hidden !== undefined) run.trashed = record.hidden;
  if (record.marked !== undefined) run.saved = record.marked;
  if (typeof record.trackingKey === 'string' && isObject(record.scope) && record.scope.trackingKey === undefined) {
    run.scope = { ...record.scope, trackingKey: record.trackingKey };
  }
  // The v2 name of the user: `user.id`, the user's key (v3's numeric `userId` is another thing).
  const userKey = isObject(record.user) ? record.user.userKey : isObject(record.scope) ? record.scope.userKey : undefined;
  if (typeof userKey === 'string' && userKey !== '' && !(isObject(record.user) && record.user.id !== undefined)) {
    run.user = { ...(isObject(record.user) ? record.user : {}), id: userKey };
  }
  if (variableNames && Array.isArray(record.variables)) run.variables = variablesByName(variableNames, record.variables);
  return run as Run;
}

/** Values answered in the order the names were asked, as an object by name (a missing value stays missing). */
export function variablesByName(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  names.forEach((name, index) => {
    if (index < values.length && isSafeKey(name)) defineOwn(variables, name, values[index]);
  });
  return variables;
}

/** Create fields of the v2 vocabulary that v3 has no place for. */
const UNSUPPORTED_CREATE_FIELDS = ['files', 'cinFiles', 'sensitivityMode'] as const;

/** The body of a v3 run create (`POST run`) or world run (`POST run/world/{worldKey}`). */
export interface V3RunBody {
  scope?: { scopeBoundary: 'GROUP' | 'WORLD'; scopeKey: string; userKey?: string };
  permit?: unknown;
  morphology: string;
  modelFile: string;
  trackingKey?: string;
  modelContext: Record<string, unknown>;
  executionContext: Record<string, unknown>;
  ephemeral?: boolean;
  allowChannel?: unknown;
}

function invalidOption(message: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', message);
}

function contextObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidOption(`Run create parameter ${name} must be an object`);
  return value;
}

/**
 * Translates v2 create parameters into a v3 run body. `model` → `modelFile` (default: the client's);
 * `scope.trackingKey` (or `trackingKey`) → `trackingKey`; `scope.group` is the group's name and must
 * be the session's; `scope.worldId` → a WORLD scope (for `create`) or must name the world (for a world
 * run); `modelContext`, `executionContext`, `permit`, `allowChannel`, `ephemeral`, `morphology` pass
 * through. `files`, `cinFiles`, `sensitivityMode` and other scope keys have no v3 equivalent:
 * `INVALID_OPTIONS`. Other keys are not run fields and are not sent (as on v2).
 */
export function v3RunBody(
  params: CreateRunParams,
  context:
    | { model: string; session: V3SessionView; target: 'create' }
    | { model: string; session: V3SessionView; target: 'world'; worldKey: string },
): V3RunBody {
  if (!isObject(params)) throw invalidOption('Run create parameters must be an object');
  for (const field of UNSUPPORTED_CREATE_FIELDS) {
    if (params[field] !== undefined && params[field] !== null)
      throw invalidOption(`Run create parameter ${field} has no Epicenter v3 equivalent`);
  }
  const modelFile = params.model ?? context.model;
  if (typeof modelFile !== 'string' || modelFile === '') throw invalidOption('No model specified to create a run');

  const scope = params.scope;
  if (scope !== undefined && scope !== null && !isObject(scope)) throw invalidOption('Run create parameter scope must be an object');
  let trackingKey: string | undefined;
  let worldKey: string | undefined;
  for (const [key, value] of Object.entries(scope ?? {})) {
    if (value === undefined) continue;
    if (key === 'group') {
      if (typeof value !== 'string') throw invalidOption('Run create parameter scope.group must be a string');
      if (context.session.groupName !== undefined && value !== context.session.groupName) {
        throw invalidOption(
          `Run create parameter scope.group ${JSON.stringify(value)} is not the session's group: v3 scopes runs by the session's groupKey`,
        );
      }
    } else if (key === 'trackingKey') {
      if (value !== null) {
        if (typeof value !== 'string') throw invalidOption('Run create parameter scope.trackingKey must be a string');
        trackingKey = value;
      }
    } else if (key === 'worldId') {
      if (typeof value !== 'string' || value === '') throw invalidOption('Run create parameter scope.worldId must be a world key');
      worldKey = value;
    } else {
      throw invalidOption(`Run create parameter scope.${key} has no Epicenter v3 equivalent: v3 runs are scoped by group or world only`);
    }
  }
  if (params.trackingKey !== undefined && params.trackingKey !== null) {
    if (typeof params.trackingKey !== 'string') throw invalidOption('Run create parameter trackingKey must be a string');
    if (trackingKey !== undefined && trackingKey !== params.trackingKey) {
      throw invalidOption('Run create parameters name two tracking keys (scope.trackingKey and trackingKey)');
    }
    trackingKey = params.trackingKey;
  }
  if (params.ephemeral !== undefined && typeof params.ephemeral !== 'boolean')
    throw invalidOption('Run create parameter ephemeral must be a boolean');
  if (params.morphology !== undefined && (typeof params.morphology !== 'string' || params.morphology === '')) {
    throw invalidOption('Run create parameter morphology must be a string');
  }

  const body: V3RunBody = {
    morphology: params.morphology ?? 'MANY',
    modelFile,
    modelContext: contextObject('modelContext', params.modelContext),
    executionContext: contextObject('executionContext', params.executionContext),
  };
  if (context.target === 'create') {
    if (worldKey !== undefined) {
      // World runs belong to the world, not to a user.
      body.scope = { scopeBoundary: 'WORLD', scopeKey: worldKey };
    } else {
      const { groupKey, userKey } = context.session;
      if (groupKey === undefined) {
        throw new RunManagerError('UNAUTHORIZED', 'Creating a run on Epicenter v3 needs session.groupKey (runs are scoped by group)');
      }
      body.scope =
        userKey === undefined ? { scopeBoundary: 'GROUP', scopeKey: groupKey } : { scopeBoundary: 'GROUP', scopeKey: groupKey, userKey };
    }
  } else if (worldKey !== undefined && worldKey !== context.worldKey) {
    throw invalidOption(
      `Run create parameter scope.worldId ${JSON.stringify(worldKey)} is not the world ${JSON.stringify(context.worldKey)}`,
    );
  }
  if (trackingKey !== undefined) body.trackingKey = trackingKey;
  if (params.ephemeral !== undefined) body.ephemeral = params.ephemeral;
  if (params.permit !== undefined) body.permit = params.permit;
  if (params.allowChannel !== undefined) body.allowChannel = params.allowChannel;
  return body;
}

/** The headers of a run body: JSON, plus the confirmation the server asks for when a permit is set. */
export function runBodyHeaders(body: V3RunBody): Record<string, string> {
  return body.permit === undefined ? { ...JSON_HEADERS } : { ...JSON_HEADERS, 'X-Forio-Confirmation': 'true' };
}
