/**
 * Public types of the Run API emulator: options, the request log, faults, operation handlers and
 * the {@link Emulator} handle that `startEmulator` resolves with.
 */
import type { Run, RunUser, World } from '../types.js';

/**
 * What an operation handler receives. `run` is the live record (changes persist); `variables`
 * is the run's variables object, created on first access when the run has none.
 *
 * @example
 * ```ts
 * const handler: OperationHandler = ({ variables, args }) => (variables.total = Number(args[0]));
 * ```
 */
export interface OperationContext {
  name: string;
  run: Run;
  args: unknown[];
  readonly variables: Record<string, unknown>;
}

/**
 * A model operation: its return value (or resolved value) is the `result` of
 * `POST …/operations/{name}/`; a throw answers 500.
 *
 * @example
 * ```ts
 * const double: OperationHandler = ({ args }) => Number(args[0]) * 2;
 * ```
 */
export type OperationHandler = (context: OperationContext) => unknown;

/**
 * Which requests a fault applies to: `method` (any case), `path` (substring of, or RegExp tested
 * against, the path without the query) and how many matching requests it affects (default 1;
 * `Infinity` for all).
 *
 * @example
 * ```ts
 * const target: FaultTarget = { method: 'POST', path: '/v2/run/', times: 2 };
 * ```
 */
export interface FaultTarget {
  method?: string;
  path?: string | RegExp;
  times?: number;
}

/**
 * Answer matching requests with `status` (and `body`, `headers`) without processing them.
 *
 * @example
 * ```ts
 * emulator.fail({ method: 'GET', status: 429, headers: { 'Retry-After': '1' } });
 * ```
 */
export interface FailFault extends FaultTarget {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Destroy the socket without answering: `before` processing (nothing happened) or `after` it (the
 * change was made, the response is lost). Default `before`.
 *
 * @example
 * ```ts
 * emulator.drop({ method: 'POST', path: '/v2/run/', when: 'after' });
 * ```
 */
export interface DropFault extends FaultTarget {
  when?: 'before' | 'after';
}

/**
 * Delay matching requests by `delayMs` before processing them.
 *
 * @example
 * ```ts
 * emulator.slow({ path: '/operations/', delayMs: 500, times: Infinity });
 * ```
 */
export interface SlowFault extends FaultTarget {
  delayMs: number;
}

/**
 * Process matching requests, then answer 200 with only the first half of the JSON body.
 *
 * @example
 * ```ts
 * emulator.truncate({ method: 'GET', path: ';' });
 * ```
 */
export type TruncateFault = FaultTarget;

/**
 * A fault with its kind, as `POST /_emulator/faults` takes it (there `pathRegExp`, a RegExp
 * source string, stands in for a RegExp `path`).
 *
 * @example
 * ```ts
 * const spec: FaultSpec = { kind: 'fail', status: 503, path: '/multiplayer/' };
 * ```
 */
export type FaultSpec =
  ({ kind: 'fail' } & FailFault) | ({ kind: 'drop' } & DropFault) | ({ kind: 'slow' } & SlowFault) | ({ kind: 'truncate' } & TruncateFault);

/**
 * How the request authenticated: a valid bearer token, none, or a token that was refused.
 *
 * @example
 * ```ts
 * const refused = emulator.requests.filter((entry) => entry.auth === ('invalid' satisfies AuthKind));
 * ```
 */
export type AuthKind = 'bearer' | 'none' | 'invalid';

/**
 * One answered request, logged just before its response is sent (so a client in the same
 * process finds it once it has the answer) or when its connection is closed without one. Never
 * holds the `Authorization` (or `Cookie`) value: `user` is the user id the token resolved to and
 * `auth` how it went. `status` is what was (or, for `drop` after, would have been) answered, 0
 * when nothing was processed; `aborted` is true when the connection was closed before the
 * response could be sent (the client went away, or a `drop` fault). `body` is the parsed JSON
 * (or the text when it is not JSON); a body longer than `logBodyLimit` bytes is kept as the
 * first `logBodyLimit` bytes of its text, with `bodyTruncated: true` and its full size in
 * `bodyBytes` (a body refused as too large keeps no text).
 *
 * @example
 * ```ts
 * const creates = emulator.requests.filter((entry: RequestLogEntry) => entry.method === 'POST' && entry.status === 201);
 * ```
 */
export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  user: string | null;
  auth: AuthKind;
  body: unknown;
  /** Set (true) when `body` holds only the start of the body's text. */
  bodyTruncated?: boolean;
  /** Size in bytes of a truncated body, as sent (or declared, for a body refused as too large). */
  bodyBytes?: number;
  status: number;
  durationMs: number;
  fault?: string;
  aborted: boolean;
}

/**
 * Seed data: runs (missing fields filled as a create would; `account` and `project` required) and
 * worlds (`id`, `account`, `project` required).
 *
 * @example
 * ```ts
 * const seed: SeedData = { runs: [{ account: 'acme', project: 'sim', model: 'm.py', user: { id: 'u1' } }] };
 * ```
 */
export interface SeedData {
  runs?: Array<Partial<Run>>;
  worlds?: World[];
}

/**
 * Narrows `emulator.runs()`.
 *
 * @example
 * ```ts
 * emulator.runs({ account: 'acme', project: 'sim', userId: 'u1' });
 * ```
 */
export interface RunsFilter {
  account?: string;
  project?: string;
  userId?: string;
}

/**
 * Options of `startEmulator`.
 *
 * @example
 * ```ts
 * const options: EmulatorOptions = { port: 0, tokens: { 'tok-u1': { id: 'u1', userName: 'alice' } }, variables: { price: 10 } };
 * ```
 */
export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Delay in ms before every API request is processed; default 0. */
  latency?: number;
  /** Accept requests without a token (the run's `user` is then null); default false (401). */
  anonymous?: boolean;
  /** Dev token table: bearer token → user. Other tokens must be JWTs with a `user_id` claim. */
  tokens?: Record<string, RunUser>;
  /** Operation handlers added to (or replacing) the built-ins `echo`, `add`, `step`, `init`, `fail`. */
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
  /**
   * Most bytes of a request body kept in its log entry; a longer body is logged as the first
   * `logBodyLimit` bytes of its text with `bodyTruncated: true`. Default 4096 (4 KiB); 0 keeps
   * no body text.
   */
  logBodyLimit?: number;
  /**
   * Most bytes the request log holds in all, each entry counted as the UTF-8 length of its JSON
   * text; the oldest entries are dropped first (applies together with `logLimit`). Default
   * 67108864 (64 MiB); `Infinity` for no byte cap.
   */
  logByteLimit?: number;
  /**
   * Largest request body accepted, in bytes, on every route (API, whether authorized or not,
   * and control API). A larger one is answered 413 as soon as that is known (its
   * `Content-Length`, else the bytes read so far) and its connection is closed without the rest
   * being kept. Default 8388608 (8 MiB).
   */
  bodyLimit?: number;
}

/**
 * Counters of `emulator.stats()` and `GET /_emulator/stats`.
 *
 * @example
 * ```ts
 * const { requests, runs, cpu } = emulator.stats();
 * ```
 */
export interface EmulatorStats {
  /** API requests answered since start (also counts those no longer in the log). */
  requests: number;
  /** Entries currently in the request log. */
  logged: number;
  /** Bytes those entries take as JSON (what `logByteLimit` caps). */
  loggedBytes: number;
  runs: number;
  worlds: number;
  latencyMs: number;
  uptimeMs: number;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
}

/**
 * A running emulator.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator();
 * await fetch(`${emulator.baseURL}run/acme/sim/`, { method: 'POST', headers: { Authorization: `Bearer ${createDevToken({ userId: 'u1' })}` }, body: '{"model":"m.py"}' });
 * await emulator.close();
 * ```
 */
export interface Emulator {
  /** API root with trailing slash, e.g. `http://127.0.0.1:8080/v2/`. */
  readonly baseURL: string;
  /** `http://host:port`. */
  readonly origin: string;
  readonly port: number;
  /** Delay in ms before every API request is processed (settable). */
  latency: number;
  /** The request log, oldest first (a live read-only view). */
  readonly requests: readonly RequestLogEntry[];
  /** Stops listening, closes every connection, writes the data file; resolves when closed. */
  close(): Promise<void>;
  clearLog(): void;
  /** Resolves with the log once `n` requests were answered since start or the last `clearLog()`. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RequestLogEntry[]>;
  /** Deep copies of the runs (creation order), optionally narrowed. */
  runs(filter?: RunsFilter): Run[];
  getRun(id: string): Run | undefined;
  worlds(): World[];
  addWorld(world: World): World;
  seed(data: SeedData): { runs: Run[]; worlds: World[] };
  /** Clears runs, worlds, the log and faults. */
  reset(): void;
  registerOperation(name: string, handler: OperationHandler): void;
  fail(fault: FailFault): void;
  drop(fault: DropFault): void;
  slow(fault: SlowFault): void;
  truncate(fault?: TruncateFault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
}
