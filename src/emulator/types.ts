/** Public types of the Run API emulator. */
import type { Run, RunUser, World } from '../types.js';

/** What an operation handler receives: `run` is the live record; `variables` is created on first access. */
export interface OperationContext {
  /** The operation's name. */
  name: string;
  /** The live run record; changes persist. */
  run: Run;
  /** The call's arguments. */
  args: unknown[];
  /** The run's variables, created on first access. */
  readonly variables: Record<string, unknown>;
}

/** A model operation: its (resolved) return value is the `result` of `POST …/operations/{name}/`; a throw answers 500. */
export type OperationHandler = (context: OperationContext) => unknown;

/**
 * Which requests a fault applies to: `method` (any case), `path` (substring of, or RegExp tested
 * against, the path without the query), and how many (default 1; `Infinity` for all).
 */
export interface FaultTarget {
  /** Only requests with this method (any case). */
  method?: string;
  /** Only paths containing this string, or matching this RegExp. */
  path?: string | RegExp;
  /** How many requests the fault applies to; default 1, `Infinity` for all. */
  times?: number;
}

/**
 * Answer matching requests with `status` (and `body`, `headers`) without processing them. Without a
 * `body`, the answer is `{ status, message }`, plus `information: { code }` on v3 paths (`code`,
 * default `INJECTED_FAULT`) and on v2 paths when `code` is given.
 */
export interface FailFault extends FaultTarget {
  /** The HTTP status to answer. */
  status: number;
  /** The body to answer instead of `{ status, message }`. */
  body?: unknown;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  /** The error code in `information.code`. */
  code?: string;
}

/** Destroy the socket without answering, `before` processing (default) or `after` it (the change is made, the answer lost). */
export interface DropFault extends FaultTarget {
  /** Drop before processing (default) or after it. */
  when?: 'before' | 'after';
}

/** Delay matching requests by `delayMs` before processing them. */
export interface SlowFault extends FaultTarget {
  /** The extra delay in ms. */
  delayMs: number;
}

/** Process matching requests, then answer 200 with only the first half of the JSON body. */
export type TruncateFault = FaultTarget;

/** A fault with its kind, as `POST /_emulator/faults` takes it (with `pathRegExp`, a RegExp source, for a RegExp `path`). */
export type FaultSpec =
  ({ kind: 'fail' } & FailFault) | ({ kind: 'drop' } & DropFault) | ({ kind: 'slow' } & SlowFault) | ({ kind: 'truncate' } & TruncateFault);

/** How the request authenticated: a valid bearer token, none, or a refused token. */
export type AuthKind = 'bearer' | 'none' | 'invalid';

/**
 * One answered request, logged just before its response is sent, or when its connection closed
 * without one (`aborted`). Never holds the `Authorization` or `Cookie` value: `user` is the id the
 * token resolved to. `status` is 0 when nothing was processed. A body longer than `logBodyLimit`
 * bytes keeps only its first bytes, with `bodyTruncated` and `bodyBytes`.
 */
export interface RequestLogEntry {
  /** Order of arrival, from 1. */
  seq: number;
  /** Arrival time (ISO date). */
  time: string;
  /** The HTTP method, upper case. */
  method: string;
  /** The path without the query. */
  path: string;
  /** The path with the query, as sent. */
  url: string;
  /** The query parameters. */
  query: Record<string, string>;
  /** The request headers, without `Authorization`, `Proxy-Authorization` and `Cookie`. */
  headers: Record<string, string>;
  /** The id of the user the token named, or null. */
  user: string | null;
  /** How the request authenticated. */
  auth: AuthKind;
  /** The parsed JSON body (or its text), `undefined` when there was none. */
  body: unknown;
  /** Set when `body` holds only the first `logBodyLimit` bytes. */
  bodyTruncated?: boolean;
  /** Size in bytes of a truncated body, as sent (or declared, for a body refused as too large). */
  bodyBytes?: number;
  /** The status answered; 0 when nothing was processed. */
  status: number;
  /** Time from arrival to answer in ms. */
  durationMs: number;
  /** The faults applied, e.g. `slow:200,fail:503`. */
  fault?: string;
  /** Whether the connection closed without an answer. */
  aborted: boolean;
}

/** Seed data: runs (filled as a create would; `account` and `project` required) and worlds (`id`, `account`, `project` required). */
export interface SeedData {
  /** Runs to add, filled in as a create would. */
  runs?: Array<Partial<Run>>;
  /** Worlds to add. */
  worlds?: World[];
}

/** Narrows `emulator.runs()`. */
export interface RunsFilter {
  /** Only runs of this account. */
  account?: string;
  /** Only runs of this project. */
  project?: string;
  /** Only runs of this user. */
  userId?: string;
}

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Delay in ms before every API request is processed; default 0. */
  latency?: number;
  /** Accept v2 requests without a token (the run's `user` is then null); default false (401). v3 always needs a token. */
  anonymous?: boolean;
  /**
   * Dev token table: bearer token → user. Other tokens must be JWTs with a `user_id` claim. For v3, a
   * user's `groupName` and `groupKey` fields (like the JWT claims `group_name`, `group_key`) name its
   * group; without a key the group's is the one a token named before, else `gk-{groupName}`.
   */
  tokens?: Record<string, RunUser>;
  /** Added to (or replacing) the built-ins `echo`, `add`, `step`, `init`, `fail`. */
  operations?: Record<string, OperationHandler>;
  /** Default model variables; each new run starts with a copy (else `variables: null`). */
  variables?: Record<string, unknown>;
  /** JSON file holding runs and worlds across restarts; loaded at start, rewritten after every change. */
  dataFile?: string;
  /** Runs seeded at start (skipped when `dataFile` already existed). */
  runs?: Array<Partial<Run>>;
  /** Worlds seeded at start (skipped when `dataFile` already existed). */
  worlds?: World[];
  /** Most request-log entries kept (oldest dropped); default 10000. */
  logLimit?: number;
  /** Most bytes of a request body kept in its log entry; default 4096; 0 keeps no body text. */
  logBodyLimit?: number;
  /** Most bytes the request log holds in all, as JSON (oldest dropped first); default 64 MiB; `Infinity` for no cap. */
  logByteLimit?: number;
  /** Largest request body accepted on every route, in bytes; a larger one is answered 413 and its connection closed. Default 8 MiB. */
  bodyLimit?: number;
  /**
   * v3: the project flag of the same name, for every project. When false, `POST world/selfassign/{group}`
   * answers 403 `WORLD_SELF_ASSIGN_DISABLED`. Default true; `emulator.configure` changes it later.
   */
  allowWorldSelfAssign?: boolean;
  /**
   * v3: a change of a user's world assignments (self-assignment, the facilitator assignment routes,
   * deleting a world; over v2 too: adding, re-roling or removing world users, auto-assignment,
   * deleting a world) invalidates the user's tokens seen so far: v3 requests with them answer 401
   * `AUTHENTICATION_INVALIDATED` until `PATCH authentication` issues a new one. Default false; `emulator.configure` changes it later.
   */
  invalidateTokensOnAssignment?: boolean;
}

/** The switches of `emulator.settings()`, `emulator.configure()` and `GET|PUT /_emulator/settings`. */
export interface EmulatorSettings {
  /** v3: whether `POST world/selfassign/{group}` may assign a user. */
  allowWorldSelfAssign: boolean;
  /** v3: whether an assignment change invalidates the user's tokens. */
  invalidateTokensOnAssignment: boolean;
}

/** Counters of `emulator.stats()` and `GET /_emulator/stats`. */
export interface EmulatorStats {
  /** API requests answered since start (also those no longer in the log). */
  requests: number;
  /** Entries in the log now. */
  logged: number;
  /** Bytes the logged entries take as JSON (what `logByteLimit` caps). */
  loggedBytes: number;
  /** Runs in the store. */
  runs: number;
  /** Worlds in the store. */
  worlds: number;
  /** The current latency. */
  latencyMs: number;
  /** Time since start in ms. */
  uptimeMs: number;
  /** The process's CPU use. */
  cpu: NodeJS.CpuUsage;
  /** The process's memory use. */
  memory: NodeJS.MemoryUsage;
}

/** A running emulator. */
export interface Emulator {
  /** API root with trailing slash, e.g. `http://127.0.0.1:8080/v2/`. */
  readonly baseURL: string;
  /** v3 API root with trailing slash, e.g. `http://127.0.0.1:8080/api/v3/` (followed by `{account}/{project}/…`). */
  readonly v3BaseURL: string;
  /** `http://host:port`, where the control API lives under `/_emulator/`. */
  readonly origin: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** Delay in ms before every API request is processed (settable). */
  latency: number;
  /** The request log, oldest first (a live read-only view). */
  readonly requests: readonly RequestLogEntry[];
  /** Stops listening, closes every connection, writes the data file. */
  close(): Promise<void>;
  /** Empties the request log (the `requests` counter of `stats()` keeps counting). */
  clearLog(): void;
  /** Resolves with the log once `n` requests were answered since start or the last `clearLog()`. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RequestLogEntry[]>;
  /** Deep copies of the runs (creation order). */
  runs(filter?: RunsFilter): Run[];
  /** A deep copy of one run, or `undefined`. */
  getRun(id: string): Run | undefined;
  /** Deep copies of the worlds. */
  worlds(): World[];
  /** Adds one world (`id`, `account`, `project` required) and returns its copy. */
  addWorld(world: World): World;
  /** Adds runs and worlds as {@link SeedData} says and returns copies of what was added. */
  seed(data: SeedData): { runs: Run[]; worlds: World[] };
  /** Clears runs, worlds, the log and faults. */
  reset(): void;
  /** Adds or replaces a model operation. */
  registerOperation(name: string, handler: OperationHandler): void;
  /** Answers the next matching requests with an error status. */
  fail(fault: FailFault): void;
  /** Closes the connection of the next matching requests without an answer. */
  drop(fault: DropFault): void;
  /** Delays the next matching requests. */
  slow(fault: SlowFault): void;
  /** Answers the next matching requests with half a JSON body. */
  truncate(fault?: TruncateFault): void;
  /** Removes every fault not yet used up. */
  clearFaults(): void;
  /** Counters for dashboards and benchmarks. */
  stats(): EmulatorStats;
  /** The current switches. */
  settings(): EmulatorSettings;
  /** Changes the switches `changes` names (a non-boolean throws TypeError) and returns them all. */
  configure(changes: Partial<EmulatorSettings>): EmulatorSettings;
  /** v3: invalidates every token of `userId` seen so far (as an assignment change would); returns how many. */
  invalidateTokens(userId: string): number;
}
