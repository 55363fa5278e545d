/**
 * The Epicenter v3 Run API behind the v2 `RunApi` interface: the strategies speak the v2 vocabulary
 * (matrix-style filters, `trashed`, `scope.trackingKey`, top-level init flags) and this client
 * translates it to v3 routes and fields, and v3 answers back to the `Run` shape they read.
 */
import { RunManagerError } from '../errors.js';
import type { OperationResult, Operations, QueryModifiers, Run, RunFilter } from '../types.js';
import type { CreateRunParams, LoadedRun, RequestOptions, RunApi, RunQueryResult } from './api-types.js';
import { toV3Filter, toV3QueryParams, v3QueryString } from './filter-v3.js';
import { pathSegment, type HttpRequestSpec } from './http.js';
import { callInParallel, callInSeries } from './operations.js';
import {
  createV3Core,
  hasRunKey,
  invalidResponse,
  JSON_HEADERS,
  runBodyHeaders,
  v3RunBody,
  v3RunView,
  variablesByName,
  type V3ClientOptions,
  type V3Core,
} from './v3.js';
import { defineOwn, isObject, isSafeKey } from './values.js';

export type { V3ClientOptions, V3Session } from './v3.js';

/** v2 attribute → v3 run field (`PATCH run/{runKey}`); every other attribute is run metadata. */
const RUN_ATTRIBUTES: Readonly<Record<string, string>> = {
  trashed: 'hidden',
  saved: 'marked',
  hidden: 'hidden',
  marked: 'marked',
  closed: 'closed',
  trackingKey: 'trackingKey',
  'scope.trackingKey': 'trackingKey',
  permit: 'permit',
  allowChannel: 'allowChannel',
};

function checkNames(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new RunManagerError('INVALID_OPTIONS', `${what} must be an array of names`);
  value.forEach((name, index) => {
    pathSegment(name, `${what}[${index}]`);
    // The names travel `;`-joined.
    if ((name as string).includes(';')) throw new RunManagerError('INVALID_OPTIONS', `${what}[${index}] cannot contain ';'`);
  });
  return value as string[];
}

/** Splits v2 save attributes into the v3 run fields and the run metadata to set. */
function splitAttributes(attributes: Record<string, unknown>): { run: Record<string, unknown>; meta: Record<string, unknown> } {
  const run: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  const put = (target: Record<string, unknown>, key: string, value: unknown, source: string) => {
    if (Object.hasOwn(target, key) && JSON.stringify(target[key]) !== JSON.stringify(value)) {
      throw new RunManagerError('INVALID_OPTIONS', `Attributes to save give ${key} twice (${source})`);
    }
    defineOwn(target, key, value);
  };
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || !isSafeKey(key)) continue;
    if (key === 'scope') {
      if (!isObject(value)) throw new RunManagerError('INVALID_OPTIONS', 'Attribute scope must be an object');
      for (const [scopeKey, scopeValue] of Object.entries(value)) {
        if (scopeValue === undefined) continue;
        if (scopeKey !== 'trackingKey') {
          throw new RunManagerError('INVALID_OPTIONS', `Attribute scope.${scopeKey} has no Epicenter v3 equivalent`);
        }
        put(run, 'trackingKey', scopeValue, 'scope.trackingKey');
      }
    } else if (key.startsWith('scope.') && key !== 'scope.trackingKey') {
      throw new RunManagerError('INVALID_OPTIONS', `Attribute ${key} has no Epicenter v3 equivalent`);
    } else if (Object.hasOwn(RUN_ATTRIBUTES, key)) {
      put(run, RUN_ATTRIBUTES[key]!, value, key);
    } else {
      // A v2 custom run field (an init flag) is run metadata on v3; a `meta.` prefix is taken off.
      const name = key.startsWith('meta.') && key.length > 5 ? key.slice(5) : key;
      put(meta, name, value, key);
    }
  }
  return { run, meta };
}

/**
 * An Epicenter v3 Run API client behind the v2 `RunApi` interface, on
 * `{baseURL}{account}/{project}/run…` (no trailing slashes). Creates are scoped to the session's group
 * (`GROUP/{groupKey}`, with its `userKey`); queries go to `run/{GROUP|WORLD}/{scopeKey}/{model}` with
 * the v2 filter translated (`user.id` → `run.userKey`, `trashed` → `run.hidden`, custom fields →
 * `meta.*`); saves split into run fields and run metadata; runs come back as the v3 record plus
 * `id` = `runKey` and the v2 names the strategies read. Requests share the v2 client's timeouts,
 * GET retries, abort and token redaction; a token invalidated by the server is renewed once.
 */
export function createRunApiV3(options: V3ClientOptions, core: V3Core = createV3Core(options)): RunApi {
  const { http } = core;

  function runKey(runId: unknown) {
    return { value: runId, what: 'run id' };
  }

  function toRun(spec: HttpRequestSpec, status: number, value: unknown, expected: string, variableNames?: string[]): Run {
    if (!hasRunKey(value)) throw invalidResponse(spec, status, expected);
    return v3RunView(value, variableNames);
  }

  async function getRun(runId: string, signal: AbortSignal | undefined): Promise<LoadedRun> {
    const spec: HttpRequestSpec = {
      method: 'GET',
      path: core.route('run', runKey(runId)),
      signal,
      parse: 'json',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await http.request<unknown>(spec);
    return { run: toRun(spec, response.status, response.data, 'a run with a runKey'), headers: response.headers, status: response.status };
  }

  async function operation(runId: string, name: string, args?: unknown[], requestOptions?: RequestOptions): Promise<OperationResult> {
    const path = core.route('run', 'operation', runKey(runId));
    if (typeof name !== 'string' || name.trim() === '') throw new RunManagerError('INVALID_OPTIONS', 'The operation name is missing');
    if (args !== undefined && !Array.isArray(args)) {
      throw new RunManagerError('INVALID_OPTIONS', `Arguments of operation '${name}' must be an array`);
    }
    const spec: HttpRequestSpec = {
      method: 'POST',
      path,
      body: { name, arguments: args ?? [], objectType: 'execute' },
      headers: JSON_HEADERS,
      signal: requestOptions?.signal,
      parse: 'json-or-none',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await http.request<unknown>(spec);
    // v3 answers the operation's bare return value; the v2 shape wraps it.
    return { name, result: response.data };
  }

  /** The server's record as sent: the view is made once the metadata is known too. */
  async function patchRun(
    key: string,
    fields: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown> & { runKey: string }> {
    const spec: HttpRequestSpec = {
      method: 'PATCH',
      path: core.route('run', runKey(key)),
      body: fields,
      headers: JSON_HEADERS,
      signal,
      parse: 'json',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await http.request<unknown>(spec);
    if (!hasRunKey(response.data)) throw invalidResponse(spec, response.status, 'the updated run with a runKey');
    return response.data;
  }

  async function patchMeta(key: string, set: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    const spec: HttpRequestSpec = {
      method: 'PATCH',
      path: core.route('run', 'meta', runKey(key)),
      body: { set },
      headers: JSON_HEADERS,
      signal,
      parse: 'json',
      notFoundType: 'RUN_NOT_FOUND',
    };
    const response = await http.request<unknown>(spec);
    if (!isObject(response.data)) throw invalidResponse(spec, response.status, 'the updated run metadata object');
    return response.data;
  }

  return {
    async create(params: CreateRunParams, requestOptions?: RequestOptions): Promise<Run> {
      const body = v3RunBody(params, { model: core.model(), session: core.session(), target: 'create' });
      const spec: HttpRequestSpec = {
        method: 'POST',
        path: core.route('run'),
        body,
        headers: runBodyHeaders(body),
        signal: requestOptions?.signal,
        parse: 'json',
      };
      const response = await http.request<unknown>(spec);
      return toRun(spec, response.status, response.data, 'the created run with a runKey');
    },

    async query(filter: RunFilter, modifiers?: QueryModifiers, requestOptions?: RequestOptions): Promise<RunQueryResult> {
      const session = core.session();
      const translated = toV3Filter(filter, { model: core.model(), ...session });
      const params = toV3QueryParams(modifiers);
      const spec: HttpRequestSpec = {
        method: 'GET',
        path: core.route(
          'run',
          translated.scopeBoundary,
          { value: translated.scopeKey, what: translated.scopeBoundary === 'WORLD' ? 'world key' : 'group key' },
          { value: translated.model, what: 'model' },
        ),
        query:
          v3QueryString({
            filter: translated.filter === '' ? undefined : translated.filter,
            sort: params.sort,
            first: params.first,
            max: params.max,
            var: params.var?.join(';'),
            meta: params.meta?.join(';'),
          }) || undefined,
        signal: requestOptions?.signal,
        parse: 'json',
      };
      const response = await http.request<unknown>(spec);
      const page = response.data;
      if (!isObject(page) || !Array.isArray(page.values) || !page.values.every(hasRunKey)) {
        throw invalidResponse(spec, response.status, 'a page { values: [runs with a runKey] }');
      }
      const runs = page.values.map((record) => v3RunView(record, params.var));
      const total =
        typeof page.totalResults === 'number' && Number.isSafeInteger(page.totalResults) && page.totalResults >= 0
          ? page.totalResults
          : null;
      const first =
        typeof page.firstResult === 'number' && Number.isSafeInteger(page.firstResult) && page.firstResult >= 0
          ? page.firstResult
          : (params.first ?? 0);
      const range = total === null ? null : { start: first, end: first + runs.length - 1, total };
      return { runs, total, range };
    },

    async load(runId: string, requestOptions?: RequestOptions & { include?: string[] }): Promise<Run> {
      // `include` is not sent: a v3 run read carries no variables (the manager reads them itself).
      return (await getRun(runId, requestOptions?.signal)).run;
    },

    async loadWithHeaders(runId: string, requestOptions?: RequestOptions & { include?: string[] }): Promise<LoadedRun> {
      return getRun(runId, requestOptions?.signal);
    },

    async save(target: string | RunFilter, attributes: Record<string, unknown>, requestOptions?: RequestOptions): Promise<Run> {
      if (typeof target !== 'string') {
        throw new RunManagerError('INVALID_OPTIONS', 'save() on Epicenter v3 needs a run id: v3 has no update by filter');
      }
      core.route('run', runKey(target));
      if (!isObject(attributes)) throw new RunManagerError('INVALID_OPTIONS', 'Attributes to save must be an object');
      const { run: fields, meta } = splitAttributes(attributes);
      const signal = requestOptions?.signal;
      const hasFields = Object.keys(fields).length > 0;
      const hasMeta = Object.keys(meta).length > 0;
      if (!hasFields && !hasMeta) return (await getRun(target, signal)).run;
      // Run fields first: a trash marker must land even if the metadata write then fails.
      const saved = hasFields ? await patchRun(target, fields, signal) : undefined;
      if (!hasMeta) return v3RunView(saved!);
      const metaData = await patchMeta(target, meta, signal);
      // Merged, not replaced: whether the answer holds all the metadata or only the keys set is not known.
      if (saved) return v3RunView({ ...saved, metaData: { ...(isObject(saved.metaData) ? saved.metaData : {}), ...metaData } });
      // Without a run PATCH the answer is a partial view: the id and the metadata (its keys at the top too).
      const view = v3RunView({ runKey: target, metaData }) as Record<string, unknown>;
      delete view.runKey;
      return view as Run;
    },

    operation,

    async serial(runId: string, operations: Operations, requestOptions?: RequestOptions): Promise<OperationResult[]> {
      core.route('run', runKey(runId));
      return callInSeries(operations, (name, args) => operation(runId, name, args, requestOptions));
    },

    async parallel(runId: string, operations: Operations, requestOptions?: RequestOptions): Promise<OperationResult[]> {
      core.route('run', runKey(runId));
      return callInParallel(operations, (name, args) => operation(runId, name, args, requestOptions));
    },

    variables: {
      async query(runId: string, names: string[], requestOptions?: RequestOptions): Promise<Record<string, unknown>> {
        const path = core.route('run', 'variable', runKey(runId));
        const include = checkNames(names, 'variable names');
        if (include.length === 0) {
          throw new RunManagerError(
            'INVALID_OPTIONS',
            'variables.query on Epicenter v3 needs variable names (v3 reads named variables only)',
          );
        }
        const spec: HttpRequestSpec = {
          method: 'POST',
          path,
          body: { include: include.join(';') },
          headers: JSON_HEADERS,
          signal: requestOptions?.signal,
          parse: 'json',
          notFoundType: 'RUN_NOT_FOUND',
        };
        const response = await http.request<unknown>(spec);
        // v3 answers the values in the order asked; an object by name is taken as it is.
        if (Array.isArray(response.data)) return variablesByName(include, response.data);
        if (isObject(response.data)) return response.data;
        throw invalidResponse(spec, response.status, 'an array of variable values');
      },

      async load(runId: string, name: string, requestOptions?: RequestOptions): Promise<unknown> {
        const path = core.route('run', 'variable', runKey(runId), { value: name, what: 'variable name' });
        const response = await http.request<unknown>({ method: 'GET', path, signal: requestOptions?.signal, parse: 'json' });
        return response.data;
      },

      async save(runId: string, values: Record<string, unknown>, requestOptions?: RequestOptions): Promise<Record<string, unknown>> {
        const path = core.route('run', 'variable', runKey(runId));
        if (!isObject(values)) throw new RunManagerError('INVALID_OPTIONS', 'Variables to save must be an object');
        const spec: HttpRequestSpec = {
          method: 'PATCH',
          path,
          body: values,
          headers: JSON_HEADERS,
          signal: requestOptions?.signal,
          parse: 'json',
          notFoundType: 'RUN_NOT_FOUND',
        };
        const response = await http.request<unknown>(spec);
        if (!isObject(response.data)) throw invalidResponse(spec, response.status, 'an object of variables');
        return response.data;
      },
    },

    async removeFromMemory(runId: string, requestOptions?: RequestOptions): Promise<void> {
      const path = core.route('run', runKey(runId));
      await http.request<string>({ method: 'DELETE', path, signal: requestOptions?.signal, parse: 'text', notFoundType: 'RUN_NOT_FOUND' });
    },
  };
}
