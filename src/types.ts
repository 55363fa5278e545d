/** Plain data types shared by the services, the machines and the facade; no I/O, no xstate. */

/** A run's `scope`: the group name, tracking key and world a run belongs to, plus any custom keys. */
export interface RunScope {
  group?: string;
  trackingKey?: string;
  worldId?: string;
  [key: string]: unknown;
}

/** The user a run belongs to, as the Run API reports it. */
export interface RunUser {
  id: string;
  userName?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  [key: string]: unknown;
}

/** A multiplayer world. */
export interface World {
  id: string;
  lastModified?: string;
  created?: string;
  account?: string;
  project?: string;
  group?: string;
  name?: string;
  run?: string;
  users?: Array<{ userId: string; userName?: string; role?: string; index?: number }>;
  [key: string]: unknown;
}

/** A run record as the Run API returns it, plus the fields this library adds (`freshlyCreated`, `world`, `settings`). */
export interface Run {
  id: string;
  account?: string;
  project?: string;
  model?: string;
  created?: string;
  lastModified?: string;
  user?: RunUser | null;
  scope?: RunScope | null;
  trashed?: boolean;
  saved?: boolean;
  initialized?: boolean;
  active?: boolean;
  files?: Record<string, unknown> | null;
  variables?: Record<string, unknown> | null;
  /** `true` when the resolution that returned this run created it; `false` when it reused one. */
  freshlyCreated?: boolean;
  /** Multiplayer strategies: the user's current world. */
  world?: World;
  /** Tracking-key strategies: the resolved settings. */
  settings?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The logged-in end user (the original's `epicenterjs.session` cookie). Strategies read `userId`
 * and `groupName`; `auth_token` is the bearer token when `run.token` is not set.
 */
export interface UserSession {
  userId?: string;
  userName?: string;
  groupName?: string;
  groupId?: string;
  auth_token?: string;
  account?: string;
  project?: string;
  isFac?: boolean;
  isTeamMember?: boolean;
  [key: string]: unknown;
}

/** Where the Run API lives, when `baseURL` is not given. */
export interface ServerOptions {
  host?: string;
  protocol?: 'http' | 'https';
  versionPath?: string;
}

/** Retry policy for idempotent requests (GETs). */
export interface RetryOptions {
  /** Attempts after the first. Default 2. */
  retries?: number;
  /** Base of the exponential backoff in ms. Default 200. */
  baseDelayMs?: number;
  /** Cap of one delay (and of an honoured `Retry-After`) in ms. Default 2000. */
  maxDelayMs?: number;
}

/** The run options: which project and model, and where the API is. */
export interface RunOptions {
  account: string;
  project: string;
  model: string;
  scope?: RunScope;
  files?: Record<string, unknown>;
  cinFiles?: Record<string, unknown>;
  ephemeral?: boolean;
  sensitivityMode?: unknown;
  server?: ServerOptions;
  /** Full API root including the version, e.g. `http://127.0.0.1:8080/v2/`. Wins over `server`. */
  baseURL?: string;
  /** Bearer token; when absent the session's `auth_token` is read per request. */
  token?: string;
  /** `2` (default) or `3`: Epicenter v3, Forio's current platform (`https://forio.com/api/v3/`). */
  apiVersion?: 2 | 3;
}

/**
 * A matrix filter: keys are dotted paths (`user.id`, `.price` for a variable); nested objects are
 * flattened, arrays mean "any of", and a string starting with `<`, `>`, `<=`, `>=` or `!=` is an operator.
 */
export type RunFilter = { [key: string]: FilterValue };
export type FilterValue = string | number | boolean | null | undefined | FilterValue[] | { [key: string]: FilterValue };

/** Query modifiers for a run query: sorting, paging, included variables, or anything else the API takes. */
export interface QueryModifiers {
  sort?: string;
  direction?: 'asc' | 'desc';
  startRecord?: number;
  endRecord?: number;
  include?: string[] | string;
  [key: string]: unknown;
}

/** A parsed `Content-Range` header. */
export interface ContentRange {
  start: number;
  end: number;
  total: number;
}

/** Model operations in any shape `serial()` accepts: `'solve'`, `{ name, params }`, `{ step: [10] }`, or an array of those. */
export type Operations = string | OperationObject | Array<string | OperationObject>;
export type OperationObject = { name: string; params?: unknown } | { [name: string]: unknown };

/** The Run API's answer to an operation call. */
export interface OperationResult {
  name: string;
  result: unknown;
  arguments?: unknown[];
  [key: string]: unknown;
}
