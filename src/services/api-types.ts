/** The Run API and World API client shapes; actors are typed against these only, so any conforming object can stand in. */
import type { $Fetch } from 'ofetch';
import type { ContentRange, OperationResult, Operations, QueryModifiers, RetryOptions, Run, RunFilter, RunScope, World } from '../types.js';

export interface RequestOptions {
  /** Aborts the request (and any retry wait); the call then rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/** The body of a create: only these fields are sent. */
export interface CreateRunParams {
  model?: string;
  scope?: RunScope | null;
  files?: Record<string, unknown> | null;
  cinFiles?: Record<string, unknown> | null;
  ephemeral?: boolean;
  sensitivityMode?: unknown;
  [key: string]: unknown;
}

/** The result of a run query: the runs and the `Content-Range` total (null when the header is missing or does not parse). */
export interface RunQueryResult {
  runs: Run[];
  total: number | null;
  range: ContentRange | null;
}

/** A run loaded together with its response headers (conditional strategies read them). */
export interface LoadedRun {
  run: Run;
  headers: Headers;
  status: number;
}

/** A stateless, typed Run API client: the run id is always an argument. */
export interface RunApi {
  /** `POST run/{a}/{p}/` with the whitelisted fields of `params`. */
  create(params: CreateRunParams, options?: RequestOptions): Promise<Run>;
  /** `GET run/{a}/{p}/;{matrix}/?{modifiers}`. */
  query(filter: RunFilter, modifiers?: QueryModifiers, options?: RequestOptions): Promise<RunQueryResult>;
  /** `GET run/{a}/{p}/{id}/`; 404 rejects `RUN_NOT_FOUND`. */
  load(runId: string, options?: RequestOptions & { include?: string[] }): Promise<Run>;
  /** Like `load`, with the response headers and status. */
  loadWithHeaders(runId: string, options?: RequestOptions & { include?: string[] }): Promise<LoadedRun>;
  /** `PATCH run/{a}/{p}/{id or ;matrix}/`; a top-level `scope` object is flattened to dotted keys. */
  save(target: string | RunFilter, attributes: Record<string, unknown>, options?: RequestOptions): Promise<Run>;
  /** `POST run/{a}/{p}/{id}/operations/{name}/` with `{ arguments }`. */
  operation(runId: string, name: string, args?: unknown[], options?: RequestOptions): Promise<OperationResult>;
  /** Operations one at a time, in order; stops at the first failure. */
  serial(runId: string, operations: Operations, options?: RequestOptions): Promise<OperationResult[]>;
  /** Operations all at once; results in order. */
  parallel(runId: string, operations: Operations, options?: RequestOptions): Promise<OperationResult[]>;
  variables: {
    query(runId: string, names: string[], options?: RequestOptions): Promise<Record<string, unknown>>;
    load(runId: string, name: string, options?: RequestOptions): Promise<unknown>;
    save(runId: string, values: Record<string, unknown>, options?: RequestOptions): Promise<Record<string, unknown>>;
  };
  /** `DELETE run/{a}/{p}/{id}`: evicts the run from server memory (not a delete). */
  removeFromMemory(runId: string, options?: RequestOptions): Promise<void>;
}

/** The current run of a world, and whether the server created it for this call (201) or it existed (200). */
export interface WorldRunId {
  runId: string;
  freshlyCreated: boolean;
  /** The whole run, when the world-run call answers it (Epicenter v3 does): no load is needed then. */
  run?: Run;
}

/** Epicenter v3 only: how a user in no world is put in one (`POST world/selfassign/{groupName}`). */
export interface SelfAssignOptions {
  role?: string;
  /** `MINIMUM` (the server's default), `MAXIMUM`, `MARGINAL` or `OPTIMAL`. */
  objective?: string;
  populace?: Array<{ role: string; minimum?: number; maximum?: number; marginal?: number }>;
}

/** Whose world to find: the user, their group, and (v3) whether to self-assign when there is none. */
export interface WorldUser {
  userId: string;
  groupName?: string;
  selfAssign?: SelfAssignOptions;
}

/** The World API client of the multiplayer strategies. */
export interface WorldApi {
  /** `GET multiplayer/world/?account&project&group&userId`. */
  worldsForUser(user: WorldUser, options?: RequestOptions): Promise<World[]>;
  /** The user's world with the newest `lastModified`, or `undefined` when the user has none. */
  currentWorldForUser(user: WorldUser, options?: RequestOptions): Promise<World | undefined>;
  /** `POST multiplayer/world/{id}/run`: 201 = created now, 200 = existing. */
  currentRunId(worldId: string, params: CreateRunParams, options?: RequestOptions): Promise<WorldRunId>;
  /** `DELETE multiplayer/world/{id}/run`: detaches the world's current run. */
  deleteCurrentRun(worldId: string, options?: RequestOptions): Promise<void>;
  /** Delete the current run, then get a new one (always `freshlyCreated: true`). */
  newRunForWorld(worldId: string, params: CreateRunParams, options?: RequestOptions): Promise<WorldRunId>;
}

export interface ApiClientOptions {
  /** API root including the version and trailing slash, e.g. `http://127.0.0.1:8080/v2/`. */
  baseURL: string;
  account: string;
  project: string;
  /** Read before every request; a non-empty string becomes `Authorization: Bearer …`. */
  token?: () => string | undefined;
  /** A custom ofetch instance (its hooks and defaults are kept; the library adds only method, body, headers, signal and `retry: 0`). */
  fetch?: $Fetch;
  /** Per-request timeout in ms (default 15000). */
  timeout?: number;
  /** Retry policy for GETs (default `{ retries: 2, baseDelayMs: 200, maxDelayMs: 2000 }`). */
  retry?: RetryOptions;
}
