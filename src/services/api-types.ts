/** The Run API and World API client shapes; actors are typed against these only, so any conforming object can stand in. */
import type { ContentRange, OperationResult, Operations, QueryModifiers, RetryOptions, Run, RunFilter, RunScope, World } from '../types.js';

/** Per-call options of every client method. */
export interface RequestOptions {
  /** Aborts the request (and any retry wait); the call then rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/** The body of a create: only these fields are sent. */
export interface CreateRunParams {
  /** The model file, e.g. `model.py`. */
  model?: string;
  /** What the run belongs to. */
  scope?: RunScope | null;
  /** Model files. */
  files?: Record<string, unknown> | null;
  /** Vensim `.cin` files. */
  cinFiles?: Record<string, unknown> | null;
  /** A run never written to the database. */
  ephemeral?: boolean;
  /** Vensim sensitivity mode. */
  sensitivityMode?: unknown;
  [key: string]: unknown;
}

/** The result of a run query: the runs and the `Content-Range` total (null when the header is missing or does not parse). */
export interface RunQueryResult {
  /** The runs of this page. */
  runs: Run[];
  /** How many runs match in all. */
  total: number | null;
  /** The parsed `Content-Range`. */
  range: ContentRange | null;
}

/** A run loaded together with its response headers (conditional strategies read them). */
export interface LoadedRun {
  /** The run. */
  run: Run;
  /** The response headers. */
  headers: Headers;
  /** The response status. */
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
  /** Variables of a run: several by name, one by name, or save values. */
  variables: {
    /** `GET …/{id}/variables/?include=…`: the named variables. */
    query(runId: string, names: string[], options?: RequestOptions): Promise<Record<string, unknown>>;
    /** `GET …/{id}/variables/{name}/`: one variable's value. */
    load(runId: string, name: string, options?: RequestOptions): Promise<unknown>;
    /** `PATCH …/{id}/variables/`: sets variables and returns them. */
    save(runId: string, values: Record<string, unknown>, options?: RequestOptions): Promise<Record<string, unknown>>;
  };
  /** `DELETE run/{a}/{p}/{id}`: evicts the run from server memory (not a delete). */
  removeFromMemory(runId: string, options?: RequestOptions): Promise<void>;
}

/** The current run of a world, and whether the server created it for this call (201) or it existed (200). */
export interface WorldRunId {
  /** The world's current run. */
  runId: string;
  /** Whether this call created it. */
  freshlyCreated: boolean;
  /** The whole run, when the world-run call answers it (Epicenter v3 does): no load is needed then. */
  run?: Run;
}

/** Epicenter v3 only: how a user in no world is put in one (`POST world/selfassign/{groupName}`). */
export interface SelfAssignOptions {
  /** The role the user asks for. */
  role?: string;
  /** `MINIMUM` (the server's default), `MAXIMUM`, `MARGINAL` or `OPTIMAL`. */
  objective?: string;
  /** How many users each role wants: `{ role, minimum?, maximum?, marginal? }`. */
  populace?: Array<{ role: string; minimum?: number; maximum?: number; marginal?: number }>;
}

/** Whose world to find: the user, their group, and (v3) whether to self-assign when there is none. */
export interface WorldUser {
  /** The user. */
  userId: string;
  /** The user's group. */
  groupName?: string;
  /** v3: put a user in no world into one. */
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

/** How a Run or World API client reaches the server. */
export interface ApiClientOptions {
  /** API root including the version and trailing slash, e.g. `http://127.0.0.1:8080/v2/`. */
  baseURL: string;
  /** The Epicenter account (team) id. */
  account: string;
  /** The project id. */
  project: string;
  /** Read before every request; a non-empty string becomes `Authorization: Bearer …`. */
  token?: () => string | undefined;
  /** A custom ofetch instance (its hooks and defaults are kept; the library adds only method, body, headers, signal and `retry: 0`). */
  fetch?: FetchClient;
  /** Per-request timeout in ms (default 15000). */
  timeout?: number;
  /** Retry policy for GETs (default `{ retries: 2, baseDelayMs: 200, maxDelayMs: 2000 }`). */
  retry?: RetryOptions;
  /**
   * Called when a request that may change data (anything but a GET) was sent and then given up on
   * (timed out, or aborted by its caller): the server may still carry it out.
   */
  onWriteAbandoned?: () => void;
}

/**
 * What the `fetch` option must be: an ofetch instance (`ofetch.create({ ... })`), of which the
 * library calls only `raw`. Described by shape, so ofetch's own types stay out of yours.
 */
export interface FetchClient {
  /** Sends one request and resolves with the raw response, as ofetch's `raw` does. */
  raw(url: string, options: FetchClientRequest): Promise<FetchClientResponse>;
}

/** The options the library passes to {@link FetchClient.raw}. */
export interface FetchClientRequest {
  /** The HTTP method. */
  method: string;
  /** The JSON body, if any. */
  body: Record<string, unknown> | undefined;
  /** Request headers, `Authorization` included. */
  headers: Record<string, string>;
  /** Aborts the request (timeout, `stop()`). */
  signal: AbortSignal;
  /** The library owns retries. */
  retry: 0;
  /** The body is read as text and parsed by the library. */
  responseType: 'text';
}

/** What the library reads of {@link FetchClient.raw}'s response. */
export interface FetchClientResponse {
  /** The HTTP status. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body, as text. */
  _data?: unknown;
}
