/**
 * The RunService (`rm.run`): the Epicenter.js-style, run-bound face of the Run API. The current
 * run id is read once per call, so a call started for one run never lands on another.
 */
import { RunManagerError } from '../errors.js';
import type { ApiClientOptions, CreateRunParams, FetchClient, RequestOptions, RunApi, RunQueryResult, WorldApi } from './api-types.js';
import { resolveBaseURL } from './http.js';
import { normalizeOperations } from './operations.js';
import { createRunApi } from './run-api.js';
import type { V3Session, V3SessionView } from './v3.js';
import { createWorldApi } from './world-api.js';
import type { OperationResult, Operations, QueryModifiers, RetryOptions, Run, RunFilter, RunOptions } from '../types.js';

/** Options of a {@link RunService}: the run options plus transport settings. */
export interface RunServiceOptions extends Omit<RunOptions, 'token'> {
  /** A bearer token, or a function read before every request. */
  token?: string | (() => string | undefined);
  /** The run this service starts bound to. */
  id?: string;
  /** Your own ofetch instance; its hooks and defaults are kept. */
  fetch?: FetchClient;
  /** Ms per request, default 15000. */
  timeout?: number;
  /** Retry policy for GETs. */
  retry?: RetryOptions;
}

/** Operations the manager handles itself instead of sending them (`reset`). */
export type SpecialOperations = Partial<Record<string, (options?: unknown) => Promise<unknown>>>;

/** What an Epicenter v3 client asks of its owner: the session's keys, and where a renewed session goes. */
export interface V3SessionLink {
  view: () => V3SessionView;
  renewed: (session: V3Session) => void;
}

/** Builds a service's Run API client and, on first use, its World API client, for its API version. */
export type ApiClients = (
  config: Readonly<Omit<RunServiceOptions, 'token' | 'fetch'>>,
  options: ApiClientOptions,
  v3Session: V3SessionLink,
) => { api: RunApi; worlds: () => WorldApi };

/** The Epicenter v2 clients; v3's live in their own module so a v2-only bundle leaves them out. */
export const v2Clients: ApiClients = (config, options) => {
  if (config.apiVersion === 3) {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      "run.apiVersion 3 needs the Epicenter v3 clients, which run-lifecycle/core leaves out: pass run: new RunService({ ... }) from 'run-lifecycle/v3', or use the root entry",
    );
  }
  return { api: createRunApi(options), worlds: () => createWorldApi(options) };
};

/**
 * The API root: `baseURL` as given, else `{protocol}://{host}/` plus `v2/` (or `server.versionPath`),
 * or `api/v3/` for Epicenter v3. The default host is `api.forio.com` on v2 and `forio.com` on v3.
 */
export function apiRoot(options: Pick<RunOptions, 'baseURL' | 'server' | 'apiVersion'>): string {
  if (options.apiVersion !== 3 || options.baseURL) return resolveBaseURL(options);
  const protocol = options.server?.protocol ?? 'https';
  return `${protocol}://${options.server?.host ?? 'forio.com'}/api/v3/`;
}

/** What the RunManager reaches inside the RunService it drives; not part of the service's public face. */
export interface RunServiceInternals {
  /** The session token to fall back on, the operations the manager answers itself (`reset`), and the v3 session link. */
  attachManager(service: RunService, sessionToken: () => string | undefined, special: SpecialOperations, v3Session?: V3SessionLink): void;
  /** The service's own token (not the session's), kept out of inspection events. */
  ownToken(service: RunService): string | undefined;
  /** How many runs `create()` has made so far: a mark for `hasCreated`. */
  creations(service: RunService): number;
  /** Whether `create()` made the run with this id after the mark `since` (among its last 32 creates). */
  hasCreated(service: RunService, runId: string, since: number): boolean;
  /** Milliseconds until a write the service gave up on lately can be taken as done or dropped by the server; 0 when none is in doubt. */
  writesInDoubtFor(service: RunService): number;
}

/**
 * How long a write that was sent and then given up on (a create aborted by `stop()`, or timed out)
 * is taken to be possibly still in the server's hands: a run it makes should show up by then.
 */
const ABANDONED_WRITE_MS = 1500;

/** The internals of every RunService, for the RunManager only (set by the class, which alone reaches its `#` fields). */
export let runServiceInternals: RunServiceInternals;

const noToken = (): string | undefined => undefined;
/** Until a manager attaches (and on Epicenter v2, for good): no session to scope requests by or to renew. */
const NO_V3_SESSION: V3SessionLink = { view: () => ({}), renewed: () => {} };
const NO_SPECIAL_OPERATIONS: SpecialOperations = {};

/** A Run API client bound to a current run, as `rm.run`. */
export class RunService {
  static {
    runServiceInternals = {
      attachManager(service, sessionToken, special, v3Session) {
        service.#sessionToken = sessionToken;
        service.#special = special;
        if (v3Session) service.#v3Session = v3Session;
      },
      ownToken: (service) => service.#ownToken(),
      creations: (service) => service.#creations,
      hasCreated: (service, runId, since) => (service.#createdIds.get(runId) ?? 0) > since,
      writesInDoubtFor: (service) => Math.max(0, service.#writesSettleBy - Date.now()),
    };
  }

  /** How the clients are made; the root entry's (and `run-lifecycle/v3`'s) RunService also speaks Epicenter v3. */
  protected static clients: ApiClients = v2Clients;

  /** The stateless Run API client this service calls (the run id is an argument). */
  readonly api: RunApi;
  /** The World API client (made on first use: only the multiplayer strategies need it). */
  get worlds(): WorldApi {
    return (this.#worlds ??= this.#makeWorlds());
  }
  /** The run options, without the token. */
  readonly config: Readonly<Omit<RunServiceOptions, 'token' | 'fetch'>>;
  /** The id of the run the service is bound to. */
  id: string | undefined;
  #worlds: WorldApi | undefined;
  #makeWorlds: () => WorldApi;
  #sessionToken: () => string | undefined = noToken;
  #v3Session: V3SessionLink = NO_V3_SESSION;
  #ownToken: () => string | undefined;
  #special: SpecialOperations = NO_SPECIAL_OPERATIONS;
  /** Ids this service created lately (id → creation number), so a legacy strategy's run can be told new from reused. */
  #createdIds = new Map<string, number>();
  #creations = 0;
  /** When the last write given up on can be taken as settled (epoch ms). */
  #writesSettleBy = 0;

  constructor(options: RunServiceOptions) {
    const { token, fetch, id, ...config } = options;
    const ownToken = typeof token === 'function' ? token : () => token;
    this.#ownToken = ownToken;
    const clientOptions = {
      baseURL: apiRoot(config),
      account: config.account,
      project: config.project,
      // The service's own token wins; otherwise the logged-in user's, read per request.
      token: () => ownToken() ?? this.#sessionToken(),
      ...(fetch ? { fetch } : {}),
      ...(config.timeout !== undefined ? { timeout: config.timeout } : {}),
      ...(config.retry ? { retry: config.retry } : {}),
      onWriteAbandoned: () => {
        this.#writesSettleBy = Date.now() + ABANDONED_WRITE_MS;
      },
    };
    const { api, worlds } = new.target.clients(config, clientOptions, {
      view: () => this.#v3Session.view(),
      renewed: (session) => {
        this.#v3Session.renewed(session);
      },
    });
    this.api = api;
    this.#makeWorlds = worlds;
    this.config = config;
    this.id = id;
  }

  /** The current configuration with the bound run id (Epicenter.js `getCurrentConfig`). */
  getCurrentConfig(): Omit<RunServiceOptions, 'token' | 'fetch'> & { id?: string; filter?: string } {
    return this.id ? { ...this.config, id: this.id, filter: this.id } : { ...this.config };
  }

  /** Binds the service to a run (`{ id }` or `{ filter }` as in Epicenter.js). */
  updateConfig(update: { id?: string; filter?: string }): this {
    if (update === null || typeof update !== 'object') {
      throw new RunManagerError('INVALID_OPTIONS', 'updateConfig(update): update must be an object such as { id }');
    }
    const id = update.id ?? update.filter;
    if (id !== undefined && (typeof id !== 'string' || id === '')) {
      throw new RunManagerError('INVALID_OPTIONS', `updateConfig(update): the run id must be a non-empty string, got ${typeof id}`);
    }
    if (id !== undefined) this.id = id;
    return this;
  }

  #runId(): string {
    if (!this.id) throw new RunManagerError('RUN_NOT_FOUND', 'No run is selected: call getRun() (or create/load) first');
    return this.id;
  }

  #bound<T>(call: (runId: string) => Promise<T>): Promise<T> {
    try {
      return call(this.#runId());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Creates a run from the service's model and scope (plus `params`) and binds to it. */
  async create(params: CreateRunParams | string = {}, options?: RequestOptions): Promise<Run> {
    const extra = typeof params === 'string' ? { model: params } : params;
    const { model, scope, files, cinFiles, ephemeral, sensitivityMode } = this.config;
    const run = await this.api.create({ model, scope, files, cinFiles, ephemeral, sensitivityMode, ...extra }, options);
    this.id = run.id;
    this.#creations += 1;
    this.#createdIds.set(run.id, this.#creations);
    if (this.#createdIds.size > 32) this.#createdIds.delete(this.#createdIds.keys().next().value as string);
    return run;
  }

  /** Loads a run (default: the current one) and binds to it. */
  async load(runId?: string, options?: RequestOptions & { include?: string[] }): Promise<Run> {
    const id = runId ?? this.#runId();
    const run = await this.api.load(id, options);
    this.id = run.id;
    return run;
  }

  /** Resolves the runs only (see `api.query` for the total). */
  async query(filter: RunFilter = {}, modifiers?: QueryModifiers, options?: RequestOptions): Promise<Run[]> {
    const result: RunQueryResult = await this.api.query(filter, modifiers, options);
    return result.runs;
  }

  /** Saves attributes (`saved`, `trashed`, metadata) on the current run. */
  save(attributes: Record<string, unknown>, options?: RequestOptions): Promise<Run> {
    return this.#bound((runId) => this.api.save(runId, attributes, options));
  }

  /** Calls one model operation on the current run, e.g. `do('step', [10])`; `do('reset')` resets through the manager. */
  do(operation: string, args?: unknown, options?: RequestOptions): Promise<unknown> {
    // Own keys only: an operation named `toString` or `constructor` is the model's, not Object's.
    const special = typeof operation === 'string' && Object.hasOwn(this.#special, operation) ? this.#special[operation] : undefined;
    // A reset's create options: `do('reset', options)`, or the first argument in `serial([{ reset: [options] }])`.
    if (special) return special(Array.isArray(args) ? args[0] : args);
    return this.#bound(async (runId) => {
      const [normalized] = normalizeOperations(operation, args);
      return this.api.operation(runId, normalized!.name, normalized!.args, options);
    });
  }

  /** Calls operations one at a time, in order (`reset` included). */
  serial(operations: Operations, options?: RequestOptions): Promise<unknown[]> {
    return this.#bound(async () => {
      const results: unknown[] = [];
      for (const { name, args } of normalizeOperations(operations)) results.push(await this.do(name, args, options));
      return results;
    });
  }

  /** Calls operations all at once; results in order. */
  parallel(operations: Operations, options?: RequestOptions): Promise<OperationResult[]> {
    return this.#bound((runId) => this.api.parallel(runId, operations, options));
  }

  /** The current run's variables: `query(names)`, `load(name)`, `save(values)` or `save(name, value)`. */
  variables(): {
    /** The named variables. */
    query(names: string[] | { include: string[] }, options?: RequestOptions): Promise<Record<string, unknown>>;
    /** One variable's value. */
    load(name: string, options?: RequestOptions): Promise<unknown>;
    /** Sets variables and returns them. */
    save(values: Record<string, unknown> | string, value?: unknown, options?: RequestOptions): Promise<Record<string, unknown>>;
  } {
    return {
      query: (names, options) =>
        this.#bound((runId) =>
          this.api.variables.query(
            runId,
            Array.isArray(names) ? names : ((names as { include?: string[] } | null)?.include as string[]),
            options,
          ),
        ),
      load: (name, options) => this.#bound((runId) => this.api.variables.load(runId, name, options)),
      save: (values, value, options) =>
        this.#bound((runId) => this.api.variables.save(runId, typeof values === 'string' ? { [values]: value } : values, options)),
    };
  }

  /** Evicts a run (default: the current one) from server memory. */
  removeFromMemory(runId?: string, options?: RequestOptions): Promise<void> {
    return runId ? this.api.removeFromMemory(runId, options) : this.#bound((id) => this.api.removeFromMemory(id, options));
  }
}
