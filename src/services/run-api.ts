/** The stateless Run API client: every method takes the run id (or filter) it acts on, so one client serves any number of runs. */
import { RunManagerError } from '../errors.js';
import type { OperationResult, Operations, QueryModifiers, Run, RunFilter } from '../types.js';
import type { ApiClientOptions, CreateRunParams, LoadedRun, RequestOptions, RunApi, RunQueryResult } from './api-types.js';
import { flattenScope, parseContentRange, toMatrix, toQueryString } from './filter.js';
import { createHttpClient, pathSegment, type HttpClient, type HttpRequestSpec } from './http.js';
import { callInParallel, callInSeries } from './operations.js';
import { isObject } from './values.js';

/** The run fields a create (and a world-run request) sends, in this order. */
export const CREATE_RUN_FIELDS = ['model', 'scope', 'files', 'cinFiles', 'ephemeral', 'sensitivityMode'] as const;

/** Keeps only the whitelisted create fields that are not `undefined`; account, project, token and the rest are dropped. */
export function pickCreateParams(params: CreateRunParams): Partial<CreateRunParams> {
  const body: Record<string, unknown> = {};
  for (const field of CREATE_RUN_FIELDS) {
    if (params[field] !== undefined) body[field] = params[field];
  }
  return body;
}

/** `.` and `..` would name a different path, not the run. */
function isRun(value: unknown): value is Run {
  return isObject(value) && typeof value.id === 'string' && value.id !== '' && value.id !== '.' && value.id !== '..';
}

function invalidResponse(spec: HttpRequestSpec, status: number, expected: string): RunManagerError {
  return new RunManagerError('INVALID_RESPONSE', `${spec.method} ${spec.path}: expected ${expected} (HTTP ${status})`, { status });
}

function checkNames(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new RunManagerError('INVALID_OPTIONS', `${what} must be an array of names`);
  value.forEach((name, index) => pathSegment(name, `${what}[${index}]`));
  return value as string[];
}

/**
 * A stateless Run API client (`{baseURL}run/{account}/{project}/…`, names percent-encoded). A 404
 * about one run is `RUN_NOT_FOUND` (except `variables.load`, where it may mean an unknown variable).
 * Run-specific GETs send `X-AutoRestore: true`, so a persisted run is brought back into memory.
 */
export function createRunApi(options: ApiClientOptions): RunApi {
  return new V2RunApi(options);
}

const AUTO_RESTORE = { 'X-AutoRestore': 'true' } as const;

/** A class, not closures: every manager holds one, and its methods then cost nothing per instance. */
class V2RunApi implements RunApi {
  readonly #http: HttpClient;
  readonly #options: ApiClientOptions;
  #variables: RunApi['variables'] | undefined;

  constructor(options: ApiClientOptions) {
    this.#http = createHttpClient(options);
    this.#options = options;
  }

  /** Made on first use: most managers never read variables through it. */
  get variables(): RunApi['variables'] {
    return (this.#variables ??= this.#makeVariables());
  }

  #root(): string {
    return `run/${pathSegment(this.#options.account, 'account')}/${pathSegment(this.#options.project, 'project')}/`;
  }

  #runPath(runId: unknown): string {
    return `${this.#root()}${pathSegment(runId, 'run id')}/`;
  }

  async #getRun(runId: string, include: string[] | undefined, signal: AbortSignal | undefined): Promise<LoadedRun> {
    const spec: HttpRequestSpec = {
      method: 'GET',
      path: this.#runPath(runId),
      query: include && include.length > 0 ? toQueryString({ include: checkNames(include, 'include') }) : undefined,
      headers: AUTO_RESTORE,
      signal,
      parse: 'json',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await this.#http.request<unknown>(spec);
    if (!isRun(response.data)) throw invalidResponse(spec, response.status, 'a run with an id');
    return { run: response.data, headers: response.headers, status: response.status };
  }

  async create(params: CreateRunParams, requestOptions?: RequestOptions): Promise<Run> {
    if (!isObject(params)) throw new RunManagerError('INVALID_OPTIONS', 'Run create parameters must be an object');
    if (typeof params.model !== 'string' || params.model === '') {
      throw new RunManagerError('INVALID_OPTIONS', 'No model specified to create a run');
    }
    const spec: HttpRequestSpec = {
      method: 'POST',
      path: this.#root(),
      body: pickCreateParams(params),
      signal: requestOptions?.signal,
      parse: 'json',
    };
    const response = await this.#http.request<unknown>(spec);
    if (!isRun(response.data)) throw invalidResponse(spec, response.status, 'the created run with an id');
    return response.data;
  }

  async query(filter: RunFilter, modifiers?: QueryModifiers, requestOptions?: RequestOptions): Promise<RunQueryResult> {
    const spec: HttpRequestSpec = {
      method: 'GET',
      path: `${this.#root()}${toMatrix(filter)}/`,
      query: toQueryString(modifiers) || undefined,
      signal: requestOptions?.signal,
      parse: 'json',
    };
    const response = await this.#http.request<unknown>(spec);
    const runs = response.data;
    if (!Array.isArray(runs) || !runs.every(isRun)) throw invalidResponse(spec, response.status, 'an array of runs with ids');
    const range = parseContentRange(response.headers.get('content-range'));
    return { runs, total: range ? range.total : null, range };
  }

  async load(runId: string, requestOptions?: RequestOptions & { include?: string[] }): Promise<Run> {
    return (await this.#getRun(runId, requestOptions?.include, requestOptions?.signal)).run;
  }

  loadWithHeaders(runId: string, requestOptions?: RequestOptions & { include?: string[] }): Promise<LoadedRun> {
    return this.#getRun(runId, requestOptions?.include, requestOptions?.signal);
  }

  async save(target: string | RunFilter, attributes: Record<string, unknown>, requestOptions?: RequestOptions): Promise<Run> {
    const byId = typeof target === 'string';
    let path: string;
    if (byId) {
      path = this.#runPath(target);
    } else {
      const matrix = isObject(target) ? toMatrix(target) : ';';
      if (matrix === ';')
        throw new RunManagerError(
          'INVALID_OPTIONS',
          'save() needs a run id or a non-empty filter (an empty filter would change every run)',
        );
      path = `${this.#root()}${matrix}/`;
    }
    if (!isObject(attributes)) throw new RunManagerError('INVALID_OPTIONS', 'Attributes to save must be an object');
    const spec: HttpRequestSpec = {
      method: 'PATCH',
      path,
      body: flattenScope(attributes),
      signal: requestOptions?.signal,
      parse: 'json',
      notFoundType: byId ? 'RUN_NOT_FOUND' : undefined,
    };
    const response = await this.#http.request<unknown>(spec);
    if (byId && !isRun(response.data)) throw invalidResponse(spec, response.status, 'the updated run with an id');
    return response.data as Run;
  }

  async operation(runId: string, name: string, args?: unknown[], requestOptions?: RequestOptions): Promise<OperationResult> {
    const path = `${this.#runPath(runId)}operations/${pathSegment(name, 'operation name')}/`;
    if (args !== undefined && !Array.isArray(args)) {
      throw new RunManagerError('INVALID_OPTIONS', `Arguments of operation '${name}' must be an array`);
    }
    const spec: HttpRequestSpec = {
      method: 'POST',
      path,
      body: { arguments: args ?? [] },
      signal: requestOptions?.signal,
      parse: 'json',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await this.#http.request<unknown>(spec);
    if (!isObject(response.data)) throw invalidResponse(spec, response.status, 'an operation result object');
    return response.data as OperationResult;
  }

  async serial(runId: string, operations: Operations, requestOptions?: RequestOptions): Promise<OperationResult[]> {
    this.#runPath(runId);
    return callInSeries(operations, (name, args) => this.operation(runId, name, args, requestOptions));
  }

  async parallel(runId: string, operations: Operations, requestOptions?: RequestOptions): Promise<OperationResult[]> {
    this.#runPath(runId);
    return callInParallel(operations, (name, args) => this.operation(runId, name, args, requestOptions));
  }

  async removeFromMemory(runId: string, requestOptions?: RequestOptions): Promise<void> {
    const path = `${this.#root()}${pathSegment(runId, 'run id')}`;
    await this.#http.request<string>({
      method: 'DELETE',
      path,
      signal: requestOptions?.signal,
      parse: 'text',
      notFoundType: 'RUN_NOT_FOUND',
    });
  }

  #makeVariables(): RunApi['variables'] {
    return {
      query: async (runId, names, requestOptions) => {
        const path = `${this.#runPath(runId)}variables/`;
        const include = checkNames(names, 'variable names');
        const spec: HttpRequestSpec = {
          method: 'GET',
          path,
          query: include.length > 0 ? toQueryString({ include }) : undefined,
          headers: AUTO_RESTORE,
          signal: requestOptions?.signal,
          parse: 'json',
          notFoundType: 'RUN_NOT_FOUND',
        };
        const response = await this.#http.request<unknown>(spec);
        if (!isObject(response.data)) throw invalidResponse(spec, response.status, 'an object of variables');
        return response.data;
      },

      load: async (runId, name, requestOptions) => {
        const path = `${this.#runPath(runId)}variables/${pathSegment(name, 'variable name')}/`;
        const response = await this.#http.request<unknown>({
          method: 'GET',
          path,
          headers: AUTO_RESTORE,
          signal: requestOptions?.signal,
          parse: 'json',
        });
        return response.data;
      },

      save: async (runId, values, requestOptions) => {
        const path = `${this.#runPath(runId)}variables/`;
        if (!isObject(values)) throw new RunManagerError('INVALID_OPTIONS', 'Variables to save must be an object');
        const spec: HttpRequestSpec = {
          method: 'PATCH',
          path,
          body: values,
          signal: requestOptions?.signal,
          parse: 'json',
          notFoundType: 'RUN_NOT_FOUND',
        };
        const response = await this.#http.request<unknown>(spec);
        if (!isObject(response.data)) throw invalidResponse(spec, response.status, 'an object of variables');
        return response.data;
      },
    };
  }
}
