/**
 * Replaying model paths against the real HTTP clients: one scripted local server for a whole test
 * file, every path under its own URL prefix (`/p<id>/v2/`), each request answered from the path's
 * script only once the replay has reached the step it belongs to. User callbacks (settings,
 * `onCreate`, conditions, legacy strategies, run-manager session/store fakes) take their answers
 * from the same script.
 */
import { RunManagerError } from '../../../src/errors.js';
import type { RunApi, WorldApi } from '../../../src/services/api-types.js';
import { parseContentRange } from '../../../src/services/filter.js';
import { createRunApi } from '../../../src/services/run-api.js';
import { createWorldApi } from '../../../src/services/world-api.js';
import type { OutcomeVariant, PathScript, FromSnapshot } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { startScriptedServer, type ScriptedResponse, type ScriptedServer } from '../../helpers/scripted-server.js';

/** One thing a path's services consume: an HTTP answer, or the result of a scripted callback. */
export type ModelItem =
  | { kind: 'http'; method: string; path: string | RegExp; response: ScriptedResponse }
  | { kind: 'call'; name: string; returns?: unknown; throws?: unknown };

/** The server and the clients bound to one path's prefix. */
export interface ModelHttp {
  readonly server: ScriptedServer;
  runApi(script: PathScript<ModelItem>): RunApi;
  worldApi(script: PathScript<ModelItem>): WorldApi;
  close(): Promise<void>;
}

export const ACCOUNT = 'acme';
export const PROJECT = 'sim';
export const MODEL = 'model.py';

function matches(expected: string | RegExp, actual: string): boolean {
  return typeof expected === 'string' ? expected === actual : expected.test(actual);
}

/**
 * Starts the scripted server. Requests under `/p<id>/v2/` are answered from the script registered
 * for path `<id>`; a request the script does not expect is answered 599 and fails the replay.
 */
export async function startModelHttp(): Promise<ModelHttp> {
  const scripts = new Map<string, PathScript<ModelItem>>();
  const server = await startScriptedServer(async (request) => {
    const match = /^\/(p\d+)\/v2\/(.*)$/.exec(request.path);
    const script = match ? scripts.get(match[1]!) : undefined;
    if (!match || !script) return { status: 599, json: { message: `no path script for ${request.url}` } };
    const what = `${request.method} ${match[2]}`;
    let item: ModelItem;
    try {
      ({ item } = await script.take({ what }));
    } catch {
      // The replay is over (or the client gave up): nobody is listening.
      return { destroy: true };
    }
    if (item.kind !== 'http' || item.method !== request.method || !matches(item.path, match[2]!)) {
      const expected = item.kind === 'http' ? `${item.method} ${String(item.path)}` : `a call to ${item.name}`;
      script.fail(`the path expects ${expected}, the client sent ${what}`);
      return { status: 599, json: { message: 'unexpected request' } };
    }
    return item.response;
  });
  const register = (script: PathScript<ModelItem>) => {
    const key = `p${script.path.id}`;
    scripts.set(key, script);
    return `${server.origin}${key}/v2/`;
  };
  const clientOptions = (script: PathScript<ModelItem>) => ({
    baseURL: register(script),
    account: ACCOUNT,
    project: PROJECT,
    retry: { retries: 0 },
    timeout: 5_000,
  });
  return {
    server,
    runApi: (script) => createRunApi(clientOptions(script)),
    worldApi: (script) => createWorldApi(clientOptions(script)),
    close: () => server.close(),
  };
}

/**
 * A scripted callback: waits for the path to get to its step, then returns or throws what the
 * script says.
 */
export async function scriptedCall(script: PathScript<ModelItem>, name: string, signal?: AbortSignal): Promise<unknown> {
  const { item } = await script.take({ what: `a call to ${name}`, ...(signal ? { signal } : {}) });
  if (item.kind !== 'call' || item.name !== name) {
    const expected = item.kind === 'call' ? `a call to ${item.name}` : `${item.method} ${String(item.path)}`;
    script.fail(`the path expects ${expected}, the code called ${name}`);
    throw new Error(`unexpected call to ${name}`);
  }
  if ('throws' in item) throw item.throws;
  return item.returns;
}

// ---- script items ----------------------------------------------------------------------------

export const http = (method: string, path: string | RegExp, response: ScriptedResponse): ModelItem => ({
  kind: 'http',
  method,
  path,
  response,
});
export const returns = (name: string, value?: unknown): ModelItem => ({ kind: 'call', name, returns: value });
export const throws = (name: string, error: unknown): ModelItem => ({ kind: 'call', name, throws: error });

/** A path (relative to `v2/`) of the run API. */
export const runPath = (suffix = ''): string => `run/${ACCOUNT}/${PROJECT}/${suffix}`;
/** Any matrix query of the run API. */
export const QUERY = /^run\/acme\/sim\/;[^/]*\/$/;

export const responses = {
  notFound: { status: 404, json: { message: 'run not found' } },
  unavailable: { status: 503, json: { message: 'service unavailable' } },
  serverError: { status: 500, json: { message: 'operation failed' } },
  network: { destroy: true },
  /** A 2xx answer whose JSON body was cut off (the request was carried out). */
  truncated: { status: 201, headers: { 'Content-Type': 'application/json' }, body: '{"id":"r-ne' },
} satisfies Record<string, ScriptedResponse>;

/** The errors the real clients raise for those responses (type and status are what count). */
export const errors = {
  notFound: () => new RunManagerError('RUN_NOT_FOUND', 'GET … failed: HTTP 404 (run not found)', { status: 404 }),
  unavailable: () => new RunManagerError('HTTP_ERROR', '… failed: HTTP 503', { status: 503 }),
  serverError: () => new RunManagerError('HTTP_ERROR', '… failed: HTTP 500', { status: 500 }),
  network: () => new RunManagerError('NETWORK_ERROR', '… failed: network error (socket hang up)'),
  truncated: () => new RunManagerError('INVALID_RESPONSE', '…: response is not JSON (HTTP 201)', { status: 201 }),
};

const FAILURE_LABELS: Record<keyof typeof responses, string> = {
  notFound: '404',
  unavailable: '503',
  serverError: '500',
  network: 'network error',
  truncated: 'truncated 201',
};

// ---- outcome variants ------------------------------------------------------------------------

export function done(label: string, output: unknown, ...items: ModelItem[]): OutcomeVariant<ModelItem> {
  return { label, output, script: items };
}

export function doneFrom(
  label: string,
  outputFrom: FromSnapshot<unknown>,
  items: readonly ModelItem[] | FromSnapshot<readonly ModelItem[]>,
  when?: OutcomeVariant['when'],
): OutcomeVariant<ModelItem> {
  return { label, outputFrom, script: items, ...(when ? { when } : {}) };
}

export function failed(label: string, error: unknown, ...items: ModelItem[]): OutcomeVariant<ModelItem> {
  return { label, error, script: items };
}

/** A query answer: the runs and a `Content-Range` total (`null`: no header). */
export function queried(label: string, runs: Run[], total: number | null): OutcomeVariant<ModelItem> {
  const header = total === null ? undefined : runs.length > 0 ? `records 0-${runs.length - 1}/${total}` : `records */${total}`;
  return done(
    label,
    { runs, total, range: parseContentRange(header) },
    http('GET', QUERY, { status: 200, json: runs, ...(header ? { headers: { 'Content-Range': header } } : {}) }),
  );
}

/** The usual failures of one request: 503 and a dropped connection. */
export function requestFailures(
  method: string,
  path: string | RegExp,
  which: Array<keyof typeof responses> = ['unavailable', 'network'],
): OutcomeVariant<ModelItem>[] {
  return which.map((name) => failed(FAILURE_LABELS[name], errors[name](), http(method, path, responses[name])));
}
