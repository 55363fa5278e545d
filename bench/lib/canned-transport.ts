/**
 * An in-process transport for CPU measurements: a `fetch` that answers the Run API requests of
 * the single-player strategies with canned `Response`s — no sockets, no server — plugged into
 * ofetch as its global fetch (`ofetch.create({}, { fetch })`; ofetch reads `fetch` from its
 * global options, not from the request defaults).
 */
import { ofetch, type $Fetch } from 'ofetch';
import type { Run } from '../../src/index.js';
import { ACCOUNT, MODEL, PROJECT } from './scenarios.js';

/** The base URL managers and clients are given (never resolved: the canned fetch answers). */
export const CANNED_BASE_URL = 'http://canned.invalid/v2/';

/** The run every answer is about. */
export const CANNED_RUN: Run = {
  id: '0190a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
  account: ACCOUNT,
  project: PROJECT,
  model: MODEL,
  created: '2025-01-01T00:00:00.000Z',
  lastModified: '2025-01-01T00:00:00.000Z',
  user: { id: 'u1', userName: 'alice' },
  scope: { group: 'g1', trackingKey: 'tk1' },
  files: null,
  saved: false,
  trashed: false,
  initialized: true,
  active: true,
  variables: null,
};

/** What the canned server holds: whether queries find the run (`steady`) or nothing (`first`). */
export interface CannedState {
  queriesFindRun: boolean;
}

const RUN_JSON = JSON.stringify(CANNED_RUN);
const FOUND_JSON = `[${RUN_JSON}]`;
const JSON_HEADERS = { 'content-type': 'application/json' };
const RUNS_ROOT = `${CANNED_BASE_URL}run/${ACCOUNT}/${PROJECT}/`;

function answer(body: string, status: number, headers: Record<string, string> = JSON_HEADERS): Promise<Response> {
  return Promise.resolve(new Response(body, { status, headers }));
}

/**
 * A fetch answering create (201 + run), query (the run or nothing, with `Content-Range`), load
 * (the run) and variables (`{ price: 10 }`); anything else 404.
 *
 * @example
 * ```ts
 * const state = { queriesFindRun: true };
 * const $fetch = ofetch.create({}, { fetch: createCannedFetch(state) });
 * ```
 */
export function createCannedFetch(state: CannedState): typeof fetch {
  return (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    if (!url.startsWith(RUNS_ROOT)) return answer('{"status":404}', 404);
    const rest = url.slice(RUNS_ROOT.length);
    if (rest === '' && method === 'POST') return answer(RUN_JSON, 201);
    if (rest.startsWith(';') && method === 'GET') {
      return state.queriesFindRun
        ? answer(FOUND_JSON, 200, { ...JSON_HEADERS, 'content-range': 'records 0-0/1' })
        : answer('[]', 200, { ...JSON_HEADERS, 'content-range': 'records 0-0/0' });
    }
    if (rest.includes('/variables/')) return answer('{"price":10}', 200);
    if (method === 'GET') return answer(RUN_JSON, 200);
    return answer('{"status":404}', 404);
  };
}

/**
 * An ofetch instance over {@link createCannedFetch}.
 *
 * @example
 * ```ts
 * const api = createRunApi({ baseURL: CANNED_BASE_URL, account, project, fetch: cannedOfetch(state) });
 * ```
 */
export function cannedOfetch(state: CannedState): $Fetch {
  return ofetch.create({}, { fetch: createCannedFetch(state) });
}
