/** Plain data types shared by the services, the machines and the facade; no I/O, no xstate. */

/** A run's `scope`: the group name, tracking key and world a run belongs to, plus any custom keys. */
export interface RunScope {
  /** The group the run belongs to (the session's `groupName`). */
  group?: string;
  /** The tracking key of `reuse-by-tracking-key` runs. */
  trackingKey?: string;
  /** The world of a multiplayer run. */
  worldId?: string;
  [key: string]: unknown;
}

/** The user a run belongs to, as the Run API reports it. */
export interface RunUser {
  /** The user's id. */
  id: string;
  /** The user's login name. */
  userName?: string;
  /** First name, when the platform knows it. */
  firstName?: string;
  /** Last name, when the platform knows it. */
  lastName?: string;
  /** E-mail address, when the platform knows it. */
  email?: string;
  [key: string]: unknown;
}

/** A multiplayer world. */
export interface World {
  /** The world's id. */
  id: string;
  /** When the world last changed (ISO date); the newest is the user's current world. */
  lastModified?: string;
  /** When the world was created (ISO date). */
  created?: string;
  /** The Epicenter account (team) it belongs to. */
  account?: string;
  /** The project it belongs to. */
  project?: string;
  /** The group whose users play in it. */
  group?: string;
  /** The world's display name. */
  name?: string;
  /** The id of the world's current run, when it has one. */
  run?: string;
  /** The users assigned to the world, with their roles. */
  users?: Array<{ userId: string; userName?: string; role?: string; index?: number }>;
  [key: string]: unknown;
}

/** A run record as the Run API returns it, plus the fields this library adds (`freshlyCreated`, `world`, `settings`). */
export interface Run {
  /** The run's id; every request about the run uses it. */
  id: string;
  /** The Epicenter account (team) of the run. */
  account?: string;
  /** The project of the run. */
  project?: string;
  /** The model file the run executes, e.g. `model.py`. */
  model?: string;
  /** When the run was created (ISO date). */
  created?: string;
  /** When the run last changed (ISO date). */
  lastModified?: string;
  /** The user who owns the run. */
  user?: RunUser | null;
  /** What the run belongs to: group, tracking key, world. */
  scope?: RunScope | null;
  /** Whether the run is in the trash; strategies never reuse a trashed run. */
  trashed?: boolean;
  /** Whether the run was saved (kept for later). */
  saved?: boolean;
  /** Whether the model finished initializing the run. */
  initialized?: boolean;
  /** Whether the run is loaded in memory on the server. */
  active?: boolean;
  /** The model files the run was created with. */
  files?: Record<string, unknown> | null;
  /** The variables asked for with `getRun(names)`, by name. */
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
  /** The user's id (on v3 the user key); strategies that keep a run per user need it. */
  userId?: string;
  /** The user's login name. */
  userName?: string;
  /** The user's group; runs are scoped to it. */
  groupName?: string;
  /** The id of the user's group. */
  groupId?: string;
  /** The bearer token the requests carry, unless `run.token` is set. */
  auth_token?: string;
  /** The account the session was made for. */
  account?: string;
  /** The project the session was made for. */
  project?: string;
  /** Whether the user is a facilitator. */
  isFac?: boolean;
  /** Whether the user is a member of the account's team rather than an end user. */
  isTeamMember?: boolean;
  [key: string]: unknown;
}

/** Where the Run API lives, when `baseURL` is not given. */
export interface ServerOptions {
  /** Host name; default `api.forio.com` (on v3 `forio.com`). */
  host?: string;
  /** Default `https`. */
  protocol?: 'http' | 'https';
  /** The API version's path, default `v2`. */
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
  /** The Epicenter account (team) id. */
  account: string;
  /** The project id. */
  project: string;
  /** The model file runs are created with, e.g. `model.py`. */
  model: string;
  /** Scope given to every run created and query sent; the session's group wins over `scope.group`. */
  scope?: RunScope;
  /** Model files sent with every create. */
  files?: Record<string, unknown>;
  /** Vensim `.cin` files sent with every create. */
  cinFiles?: Record<string, unknown>;
  /** Create runs that are never written to the database. */
  ephemeral?: boolean;
  /** Vensim sensitivity mode, sent with every create. */
  sensitivityMode?: unknown;
  /** Where the API lives when `baseURL` is not given. */
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
/** One value of a {@link RunFilter}: a value, an operator string, an array meaning "any of", or nested keys. */
export type FilterValue = string | number | boolean | null | undefined | FilterValue[] | { [key: string]: FilterValue };

/** Query modifiers for a run query: sorting, paging, included variables, or anything else the API takes. */
export interface QueryModifiers {
  /** The field to sort by, e.g. `created`. */
  sort?: string;
  /** The sort direction. */
  direction?: 'asc' | 'desc';
  /** The first record of the page (0-based). */
  startRecord?: number;
  /** The last record of the page (inclusive). */
  endRecord?: number;
  /** Variable names to include with each run. */
  include?: string[] | string;
  [key: string]: unknown;
}

/** A parsed `Content-Range` header. */
export interface ContentRange {
  /** Index of the first record sent. */
  start: number;
  /** Index of the last record sent. */
  end: number;
  /** How many records match the query. */
  total: number;
}

/** Model operations in any shape `serial()` accepts: `'solve'`, `{ name, params }`, `{ step: [10] }`, or an array of those. */
export type Operations = string | OperationObject | Array<string | OperationObject>;
/** One operation: `{ name, params }`, or `{ [name]: params }`. */
export type OperationObject = { name: string; params?: unknown } | { [name: string]: unknown };

/** The Run API's answer to an operation call. */
export interface OperationResult {
  /** The operation called. */
  name: string;
  /** What the model returned. */
  result: unknown;
  /** The arguments it was called with. */
  arguments?: unknown[];
  [key: string]: unknown;
}
