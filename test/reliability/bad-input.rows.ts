/**
 * The bad-input table: every row is an invalid input and what the library must answer. Kept free
 * of vitest so the table can also be printed (`npx tsx test/reliability/bad-input.rows.ts`, a
 * markdown summary for the README).
 *
 * Groups: `options` (the constructor throws INVALID_OPTIONS, synchronously), `call` (what a call
 * gets at run time: session providers, settings functions, arguments), `server` (responses that
 * are not what the endpoint returns), `record` (corrupt session records and failing stores:
 * ignored and replaced by design — never thrown, never followed).
 */
import { createDevToken, type Emulator } from '../../src/emulator/index.js';
import type { RunManagerErrorType, RunManagerOptions } from '../../src/index.js';
import type { ScriptedResponse, RecordedRequest } from '../helpers/scripted-server.js';

const lastInitialized = { strategy: 'reuse-last-initialized' };
const trackingKey = (settings: unknown, extra: Record<string, unknown> = {}) => ({
  strategy: 'reuse-by-tracking-key',
  strategyOptions: { settings, ...extra },
});

/** A constructor option that must be refused. */
export interface OptionRow {
  input: string;
  message: RegExp;
  /** The options given, from valid ones. */
  options(valid: RunManagerOptions): unknown;
}

/** The `run` options of a row: the valid ones with `patch` applied. */
function withRun(valid: RunManagerOptions, patch: Record<string, unknown>): unknown {
  return { ...valid, run: { ...(valid.run as object), ...patch } };
}

export const optionRows: OptionRow[] = [
  { input: 'options: null', message: /^options must be an object, got null/, options: () => null },
  {
    input: "strategy: 'reuse-forever' (unknown)",
    message: /^strategy 'reuse-forever' is not a known strategy \(known: .*reuse-per-session/,
    options: (v) => ({ ...v, strategy: 'reuse-forever' }),
  },
  {
    input: 'strategy: 42',
    message: /strategy .*must be a strategy name, a statechart, a strategy definition or a \{ getRun, reset \} strategy/,
    options: (v) => ({ ...v, strategy: 42 }),
  },
  {
    input: 'strategy: {} (no getRun/reset)',
    message: /must provide getRun\(\) and reset\(\) functions/,
    options: (v) => ({ ...v, strategy: {} }),
  },
  { input: 'strategy: null', message: /^strategy .*null/, options: (v) => ({ ...v, strategy: null }) },
  {
    input: "run: 'acme/sim'",
    message: /^run must be an object of run options or a RunService, got the string "acme\/sim"/,
    options: (v) => ({ ...v, run: 'acme/sim' }),
  },
  {
    input: 'run.account missing',
    message: /^run\.account is required and must be a non-empty string, got undefined/,
    options: (v) => withRun(v, { account: undefined }),
  },
  {
    input: 'run.project: 42',
    message: /^run\.project is required and must be a non-empty string, got the number 42/,
    options: (v) => withRun(v, { project: 42 }),
  },
  {
    input: "run.model: '' (empty model)",
    message: /^run\.model is required and must be a non-empty string, got an empty string/,
    options: (v) => withRun(v, { model: '' }),
  },
  {
    input: "run.model: '   '",
    message: /^run\.model is required and must be a non-empty string, got the string " {3}"/,
    options: (v) => withRun(v, { model: '   ' }),
  },
  { input: 'run.scope: []', message: /^run\.scope must be an object, got an empty array/, options: (v) => withRun(v, { scope: [] }) },
  { input: 'run.token: 42', message: /^run\.token must be a string, got the number 42/, options: (v) => withRun(v, { token: 42 }) },
  {
    input: 'run.token with a line break inside',
    message: /^run\.token must be printable ASCII: it is sent in a header/,
    options: (v) => withRun(v, { token: 'abc\r\nX-Injected: 1' }),
  },
  {
    input: "run.baseURL: 'ftp://example.com/v2/'",
    message: /^run\.baseURL must be an absolute http\(s\) URL, got the string "ftp:/,
    options: (v) => withRun(v, { baseURL: 'ftp://example.com/v2/' }),
  },
  {
    input: "run.baseURL: 'not a url'",
    message: /^run\.baseURL must be an absolute http\(s\) URL, got the string "not a url"/,
    options: (v) => withRun(v, { baseURL: 'not a url' }),
  },
  {
    input: "run.server: 'localhost'",
    message: /^run\.server must be an object, got the string "localhost"/,
    options: (v) => withRun(v, { baseURL: undefined, server: 'localhost' }),
  },
  {
    input: "run.server.protocol: 'gopher'",
    message: /^run\.server\.protocol must be 'http' or 'https', got the string "gopher"/,
    options: (v) => withRun(v, { baseURL: undefined, server: { protocol: 'gopher' } }),
  },
  {
    input: 'strategyOptions: []',
    message: /^strategyOptions must be an object, got an empty array/,
    options: (v) => ({ ...v, strategyOptions: [] }),
  },
  { input: 'session: 42', message: /^session must be an object or a function, got the number 42/, options: (v) => ({ ...v, session: 42 }) },
  {
    input: "session: 'u1'",
    message: /^session must be an object or a function, got the string "u1"/,
    options: (v) => ({ ...v, session: 'u1' }),
  },
  {
    input: 'sessionStore: { get, set } (no del)',
    message: /^sessionStore must have get, set and del functions/,
    options: (v) => ({ ...v, sessionStore: { get: async () => undefined, set: async () => undefined } }),
  },
  {
    input: 'sessionStore: { get: 1, set, del }',
    message: /^sessionStore must have get, set and del functions/,
    options: (v) => ({ ...v, sessionStore: { get: 1, set: async () => undefined, del: async () => undefined } }),
  },
  { input: 'fetch: {}', message: /^fetch must be an ofetch instance, got an object/, options: (v) => ({ ...v, fetch: {} }) },
  {
    input: 'timeout: -1',
    message: /^timeout must be a positive number of milliseconds, got the number -1/,
    options: (v) => ({ ...v, timeout: -1 }),
  },
  {
    input: "timeout: 'abc'",
    message: /^timeout must be a positive number of milliseconds, got the string "abc"/,
    options: (v) => ({ ...v, timeout: 'abc' }),
  },
  {
    input: 'timeout: Infinity',
    message: /^timeout must be a positive number of milliseconds, got the number Infinity/,
    options: (v) => ({ ...v, timeout: Infinity }),
  },
  { input: "retry: 'twice'", message: /^retry must be an object, got the string "twice"/, options: (v) => ({ ...v, retry: 'twice' }) },
  {
    input: 'retry.retries: -1',
    message: /^retry\.retries must be a non-negative number, got the number -1/,
    options: (v) => ({ ...v, retry: { retries: -1 } }),
  },
  {
    input: 'retry.retries: 1.5',
    message: /^retry\.retries must be a whole number >= 0, got 1\.5/,
    options: (v) => ({ ...v, retry: { retries: 1.5 } }),
  },
  {
    input: "retry.baseDelayMs: 'fast'",
    message: /^retry\.baseDelayMs must be a non-negative number, got the string "fast"/,
    options: (v) => ({ ...v, retry: { baseDelayMs: 'fast' } }),
  },
  {
    input: 'retry.maxDelayMs: 3e9 (past the timer limit)',
    message: /^retry\.maxDelayMs must be a number of milliseconds from 0 to 2147483647, got 3000000000/,
    options: (v) => ({ ...v, retry: { maxDelayMs: 3e9 } }),
  },
  {
    input: 'sessionKey: 42',
    message: /^sessionKey must be a string, false or a function, got the number 42/,
    options: (v) => ({ ...v, sessionKey: 42 }),
  },
  {
    input: "sessionKey: ''",
    message: /^sessionKey is required and must be a non-empty string, got an empty string/,
    options: (v) => ({ ...v, sessionKey: '' }),
  },
  { input: 'inspect: 42', message: /^inspect must be an inspection observer, got the number 42/, options: (v) => ({ ...v, inspect: 42 }) },
  {
    input: 'reuse-last-initialized without initOperation',
    message: /^strategyOptions\.initOperation is required/,
    options: (v) => ({ ...v, ...lastInitialized }),
  },
  {
    input: 'initOperation: [] (selects reuse-last-initialized)',
    message: /^strategyOptions\.initOperation must not be empty/,
    options: (v) => ({ ...v, strategyOptions: { initOperation: [] } }),
  },
  {
    input: 'initOperation: [{}]',
    message: /^strategyOptions\.initOperation is invalid: .*operation 0: the object names no operation/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: [{}] } }),
  },
  {
    input: 'initOperation: [42]',
    message: /^strategyOptions\.initOperation is invalid: .*operation 0: expected an operation name or object, got a number/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: [42] } }),
  },
  {
    input: 'initOperation: { name: 7 }',
    message: /^strategyOptions\.initOperation is invalid: .*the operation name must be a string, got a number/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: { name: 7 } } }),
  },
  {
    input: 'initOperation: 42',
    message: /^strategyOptions\.initOperation must be an operation name, an operation object, or an array of them/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: 42 } }),
  },
  {
    input: "initOperation: [{ name: 'reset' }]",
    message: /^strategyOptions\.initOperation must not contain an operation named 'reset'/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: [{ name: 'reset' }] } }),
  },
  {
    input: "flag: 'done'",
    message: /^strategyOptions\.flag must be a plain object, got the string "done"/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: 'init', flag: 'done' } }),
  },
  {
    input: "scope.scopeByUser: 'yes'",
    message: /^strategyOptions\.scope\.scopeByUser must be a boolean/,
    options: (v) => ({ ...v, ...lastInitialized, strategyOptions: { initOperation: 'init', scope: { scopeByUser: 'yes' } } }),
  },
  {
    input: 'runLimit: -1',
    message: /^strategyOptions\.settings\.runLimit must be a non-negative integer .*got the number -1/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1', runLimit: -1 }) }),
  },
  {
    input: "runLimit: 'abc'",
    message: /^strategyOptions\.settings\.runLimit must be a non-negative integer .*got the string "abc"/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1', runLimit: 'abc' }) }),
  },
  {
    input: 'runLimit: 1.5',
    message: /^strategyOptions\.settings\.runLimit must be a non-negative integer .*got the number 1\.5/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1', runLimit: 1.5 }) }),
  },
  {
    input: "settings: 'week-1'",
    message: /^strategyOptions\.settings must be a plain object or a function, got the string "week-1"/,
    options: (v) => ({ ...v, ...trackingKey('week-1') }),
  },
  {
    input: 'settings.trackingKey: 42',
    message: /^strategyOptions\.settings\.trackingKey must be a string, got the number 42/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 42 }) }),
  },
  {
    input: "strategyOptions.filter: ['x'] (tracking key)",
    message: /^strategyOptions\.filter must be a plain object, got an array/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1' }, { filter: ['x'] }) }),
  },
  {
    input: 'strategyOptions.filter: { trashed: true }',
    message: /^strategyOptions\.filter\.trashed cannot be changed/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1' }, { filter: { trashed: true } }) }),
  },
  {
    input: "strategyOptions.filter.scope.trackingKey: 'x'",
    message: /^strategyOptions\.filter\.scope\.trackingKey cannot be set/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1' }, { filter: { scope: { trackingKey: 'x' } } }) }),
  },
  {
    input: "onCreate: 'x'",
    message: /^strategyOptions\.onCreate must be a function, got the string "x"/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1' }, { onCreate: 'x' }) }),
  },
  {
    input: "strategyOptions.filter: ['x'] (across sessions)",
    message: /^strategyOptions\.filter must be a plain object, got an array/,
    options: (v) => ({ ...v, strategy: 'reuse-across-sessions', strategyOptions: { filter: ['x'] } }),
  },
  {
    input: 'strategyOptions.filter: { created: new Date(0) } (a value toMatrix cannot encode)',
    message: /^strategyOptions\.filter\.created /,
    options: (v) => ({ ...v, strategy: 'reuse-across-sessions', strategyOptions: { filter: { created: new Date(0) } } }),
  },
  {
    input: 'use-specific-run without runId',
    message: /^strategyOptions\.runId is required and must be a non-empty string, got undefined/,
    options: (v) => ({ ...v, strategy: 'use-specific-run' }),
  },
  {
    input: 'use-specific-run runId: 42',
    message: /^strategyOptions\.runId is required and must be a non-empty string, got the number 42/,
    options: (v) => ({ ...v, strategy: 'use-specific-run', strategyOptions: { runId: 42 } }),
  },
  {
    input: 'conditional-creation condition: 5',
    message: /^strategyOptions\.condition must be a function, got the number 5/,
    options: (v) => ({ ...v, strategy: 'conditional-creation', strategyOptions: { condition: 5 } }),
  },
  {
    input: "stratgy: 'reuse-never' (an unknown key)",
    message: /^stratgy is not an option \(did you mean strategy\?\)$/,
    options: (v) => ({ ...v, stratgy: 'reuse-never' }),
  },
  {
    input: 'run.acount (an unknown run key)',
    message: /^run\.acount is not an option \(did you mean account\?\)$/,
    options: (v) => withRun(v, { acount: 'acme' }),
  },
  {
    input: 'strategyOptions.setings (reuse-by-tracking-key)',
    message: /^strategyOptions\.setings is not an option of reuse-by-tracking-key \(did you mean settings\?\)$/,
    options: (v) => ({ ...v, strategy: 'reuse-by-tracking-key', strategyOptions: { setings: { trackingKey: 'week-1' } } }),
  },
  {
    input: 'settings.runlimit: 1 (a near miss of runLimit)',
    message: /^strategyOptions\.settings\.runlimit: did you mean runLimit\?/,
    options: (v) => ({ ...v, ...trackingKey({ trackingKey: 'week-1', runlimit: 1 }) }),
  },
  {
    input: 'run.server.versionPath: 5',
    message: /^run\.server\.versionPath must be a string such as 'v2', got the number 5/,
    options: (v) => withRun(v, { baseURL: undefined, server: { versionPath: 5 } }),
  },
  {
    input: "run.server.host: 'a b'",
    message: /^run\.server\.host must be a host name with an optional port/,
    options: (v) => withRun(v, { baseURL: undefined, server: { host: 'a b' } }),
  },
  {
    input: 'run.files: { size: 10n } (JSON cannot send a BigInt)',
    message: /^run\.files\.size is a BigInt/,
    options: (v) => withRun(v, { files: { size: 10n } }),
  },
  {
    input: "strategyOptions.filter: { 'a<b': 1 } (a key the encoder refuses)",
    message: /^strategyOptions\.filter\["a<b"\] cannot contain '<' or '>'/,
    options: (v) => ({ ...v, strategy: 'reuse-across-sessions', strategyOptions: { filter: { 'a<b': 1 } } }),
  },
  {
    input: "use-specific-run runId: '..'",
    message: /^strategyOptions\.runId cannot be '\.\.'/,
    options: (v) => ({ ...v, strategy: 'use-specific-run', strategyOptions: { runId: '..' } }),
  },
  {
    input: 'coordinator: 5',
    message: /^coordinator must be an object with an acquire\(name, signal\) function, got the number 5/,
    options: (v) => ({ ...v, coordinator: 5 }),
  },
  {
    input: 'coordinator.tryAcquire: true',
    message: /^coordinator\.tryAcquire must be a function when given, got boolean/,
    options: (v) => ({ ...v, coordinator: { acquire: () => Promise.resolve(() => undefined), tryAcquire: true } }),
  },
  {
    input: 'inspect: {} (no next function)',
    message: /^inspect must be an inspection observer, got an object/,
    options: (v) => ({ ...v, inspect: {} }),
  },
  {
    input: 'run.scope with an own __proto__ key',
    message: /^run\.scope\.__proto__ is not allowed/,
    options: (v) => withRun(v, { scope: JSON.parse('{"__proto__":{"polluted":1}}') }),
  },
];

/** A call that must reject at run time, on a manager whose store already holds a good record. */
export interface CallRow {
  input: string;
  type: RunManagerErrorType;
  message: RegExp;
  /** Options of the manager that makes the call (the good record was made with the same strategy and valid options). */
  strategy: string;
  options?: Partial<RunManagerOptions>;
  /** The call; `getRun()` when absent. */
  call?:
    | 'getRun'
    | 'reset'
    | ((rm: { getRun: (...args: never[]) => Promise<unknown>; reset: (...args: never[]) => Promise<unknown> }) => Promise<unknown>);
}

export const callRows: CallRow[] = [
  {
    input: 'sessionKey: a function that throws',
    type: 'INVALID_OPTIONS',
    message: /^sessionKey function threw: no key for you/,
    strategy: 'reuse-per-session',
    options: {
      sessionKey: () => {
        throw new Error('no key for you');
      },
    },
  },
  {
    input: 'sessionKey: a function returning 42',
    type: 'INVALID_OPTIONS',
    message: /^sessionKey function must return a non-empty string or false, returned the number 42/,
    strategy: 'reuse-per-session',
    options: { sessionKey: () => 42 as unknown as string },
  },
  {
    input: 'session provider that throws',
    type: 'UNAUTHORIZED',
    message: /^The session provider failed: session expired/,
    strategy: 'reuse-per-session',
    options: {
      session: () => {
        throw new Error('session expired');
      },
    },
  },
  {
    input: 'session provider that rejects',
    type: 'UNAUTHORIZED',
    message: /^The session provider failed: cookie jar unavailable/,
    strategy: 'reuse-per-session',
    options: { session: () => Promise.reject(new Error('cookie jar unavailable')) },
  },
  {
    input: 'session provider resolving to a number',
    type: 'INVALID_OPTIONS',
    message: /^session must be \(or resolve to\) an object, got number/,
    strategy: 'reuse-per-session',
    options: { session: (() => 42) as never },
  },
  {
    input: 'session provider resolving to an array',
    type: 'INVALID_OPTIONS',
    message: /^session must be \(or resolve to\) an object, got an array/,
    strategy: 'reuse-per-session',
    options: { session: (async () => ['u1']) as never },
  },
  {
    input: 'session with auth_token: 42',
    type: 'INVALID_OPTIONS',
    message: /^session\.auth_token must be a string, got number/,
    strategy: 'reuse-per-session',
    options: { session: { userId: 'u1', auth_token: 42 } as never },
  },
  {
    input: 'session provider whose auth_token holds a line break',
    type: 'INVALID_OPTIONS',
    message: /^session\.auth_token must be printable ASCII: it is sent in a header$/,
    strategy: 'reuse-per-session',
    options: { session: () => ({ userId: 'u1', auth_token: 'token\r\nX-Injected: 1' }) },
  },
  {
    input: 'settings function that throws',
    type: 'INVALID_OPTIONS',
    message: /^settings: no settings today/,
    strategy: 'reuse-by-tracking-key',
    options: {
      strategyOptions: {
        settings: () => {
          throw new Error('no settings today');
        },
      },
    },
  },
  {
    input: 'settings function resolving to trackingKey: 42',
    type: 'INVALID_OPTIONS',
    message: /^strategyOptions\.settings\.trackingKey must be a string, got the number 42/,
    strategy: 'reuse-by-tracking-key',
    options: { strategyOptions: { settings: async () => ({ trackingKey: 42 }) } },
  },
  {
    input: 'settings function resolving to runlimit: 1 (a near miss of runLimit)',
    type: 'INVALID_OPTIONS',
    message: /^strategyOptions\.settings\.runlimit: did you mean runLimit\?/,
    strategy: 'reuse-by-tracking-key',
    options: { strategyOptions: { settings: () => ({ trackingKey: 'week-1', runlimit: 1 }) } },
  },
  {
    input: "settings function resolving to runLimit: 'abc'",
    type: 'INVALID_OPTIONS',
    message: /^strategyOptions\.settings\.runLimit must be a non-negative integer .*got the string "abc"/,
    strategy: 'reuse-by-tracking-key',
    options: { strategyOptions: { settings: () => ({ trackingKey: 'week-1', runLimit: 'abc' }) } },
  },
  {
    input: 'settings function resolving to null',
    type: 'INVALID_OPTIONS',
    message: /^strategyOptions\.settings must be \(or resolve to\) an object, got null/,
    strategy: 'reuse-by-tracking-key',
    options: { strategyOptions: { settings: () => null } },
  },
  {
    input: 'settings without a tracking key',
    type: 'NO_TRACKING_KEY',
    message: /^No tracking key provided to reuse-by-tracking-key strategy/,
    strategy: 'reuse-by-tracking-key',
    options: { strategyOptions: { settings: { runLimit: 3 } } },
  },
  {
    input: 'getRun([42])',
    type: 'INVALID_OPTIONS',
    message: /^getRun\(variables\): variables must be an array of non-empty variable names/,
    strategy: 'reuse-per-session',
    call: (rm) => rm.getRun(...([[42]] as never[])),
  },
  {
    input: "getRun(['price'], 'x')",
    type: 'INVALID_OPTIONS',
    message: /^getRun\(variables, createOptions\): createOptions must be a plain object/,
    strategy: 'reuse-per-session',
    call: (rm) => rm.getRun(...([['price'], 'x'] as never[])),
  },
  {
    input: "reset('x')",
    type: 'INVALID_OPTIONS',
    message: /^reset\(createOptions\): createOptions must be a plain object/,
    strategy: 'reuse-per-session',
    call: (rm) => rm.reset(...(['x'] as never[])),
  },
  {
    input: 'multiplayer without a userId',
    type: 'UNAUTHORIZED',
    message: /^We need an authenticated user to join a multiplayer world/,
    strategy: 'multiplayer',
    options: { session: { groupName: 'g1' } },
  },
  {
    input: 'multiplayer reset, user in no world',
    type: 'NO_WORLD_FOR_USER',
    message: /^User u9 is not part of a world/,
    strategy: 'multiplayer',
    options: { session: { userId: 'u9', groupName: 'g1', auth_token: createDevToken({ userId: 'u9' }) } },
    call: 'reset',
  },
];

/** What the scripted server answers for one request, or `undefined` to answer normally. */
export type BadAnswer = (request: RecordedRequest) => ScriptedResponse | undefined;

const HTML_502 = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>';
const HTML_LOGIN = '<!DOCTYPE html><html><body><form action="/login">Please sign in</form></body></html>';
const isQuery = (request: RecordedRequest) => request.method === 'GET' && request.path.startsWith('/v2/run/acme/sim/;');
const isLoad = (request: RecordedRequest) => request.method === 'GET' && /^\/v2\/run\/acme\/sim\/r1\/?$/.test(request.path);
const isCreate = (request: RecordedRequest) => request.method === 'POST' && request.path === '/v2/run/acme/sim/';
const isWorldRun = (request: RecordedRequest) => request.method === 'POST' && request.path === '/v2/multiplayer/world/w1/run';
const isWorldList = (request: RecordedRequest) => request.method === 'GET' && request.path === '/v2/multiplayer/world/';
const html = (status: number, body: string): ScriptedResponse => ({ status, body, headers: { 'Content-Type': 'text/html' } });

/** A server answer that is not what the endpoint returns. */
export interface ServerRow {
  input: string;
  type: RunManagerErrorType;
  message: RegExp;
  status?: number;
  strategy: string;
  strategyOptions?: Record<string, unknown>;
  call: 'getRun' | 'reset';
  bad: BadAnswer;
  /** Writes (POST/PATCH/DELETE) the failing call may send: only the request that got the bad answer. */
  writes?: number;
}

const limited = { settings: { trackingKey: 'week-1', runLimit: 3 } };

export const serverRows: ServerRow[] = [
  {
    input: 'HTML 502 page on the run query',
    type: 'HTTP_ERROR',
    status: 502,
    message: /^GET run\/acme\/sim\/;.* failed: HTTP 502 \(2 attempts\)/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? html(502, HTML_502) : undefined),
  },
  {
    input: 'HTML 502 page when loading the cached run',
    type: 'HTTP_ERROR',
    status: 502,
    message: /^GET run\/acme\/sim\/r1\/ failed: HTTP 502/,
    strategy: 'reuse-per-session',
    call: 'getRun',
    bad: (r) => (isLoad(r) ? html(502, HTML_502) : undefined),
  },
  {
    input: '200 HTML page (a login page) for the run query',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: response is not JSON \(HTTP 200\)/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? html(200, HTML_LOGIN) : undefined),
  },
  {
    input: '200 HTML page when loading the cached run',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/r1\/: response is not JSON \(HTTP 200\)/,
    strategy: 'reuse-per-session',
    call: 'getRun',
    bad: (r) => (isLoad(r) ? html(200, HTML_LOGIN) : undefined),
  },
  {
    input: '201 HTML page for a create',
    type: 'INVALID_RESPONSE',
    message: /^POST run\/acme\/sim\/: response is not JSON \(HTTP 201\)/,
    strategy: 'reuse-per-session',
    call: 'reset',
    writes: 1,
    bad: (r) => (isCreate(r) ? html(201, HTML_LOGIN) : undefined),
  },
  {
    input: 'a run without id (load)',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/r1\/: expected a run with an id \(HTTP 200\)/,
    strategy: 'reuse-per-session',
    call: 'getRun',
    bad: (r) => (isLoad(r) ? { json: { model: 'model.py', trashed: false } } : undefined),
  },
  {
    input: 'a run without id (create)',
    type: 'INVALID_RESPONSE',
    message: /^POST run\/acme\/sim\/: expected the created run with an id \(HTTP 201\)/,
    strategy: 'reuse-per-session',
    call: 'reset',
    writes: 1,
    bad: (r) => (isCreate(r) ? { status: 201, json: { model: 'model.py' } } : undefined),
  },
  {
    input: 'a run whose id is a number (query)',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: expected an array of runs with ids \(HTTP 200\)/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { json: [{ id: 42 }], headers: { 'Content-Range': 'records 0-0/1' } } : undefined),
  },
  {
    input: 'an array where a run belongs (load)',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/r1\/: expected a run with an id/,
    strategy: 'reuse-per-session',
    call: 'getRun',
    bad: (r) => (isLoad(r) ? { json: [{ id: 'r1' }] } : undefined),
  },
  {
    input: 'an object where an array belongs (query)',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: expected an array of runs with ids/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { json: { runs: [{ id: 'r1' }] } } : undefined),
  },
  {
    input: 'JSON null for the query',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: expected an array of runs with ids/,
    strategy: 'reuse-last-initialized',
    strategyOptions: { initOperation: 'init' },
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { body: 'null', headers: { 'Content-Type': 'application/json' } } : undefined),
  },
  {
    input: 'empty 200 body for the query',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: empty response body, expected JSON \(HTTP 200\)/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { status: 200, body: '' } : undefined),
  },
  {
    input: 'truncated JSON for the query',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: response is not JSON \(HTTP 200\)/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { body: '[{"id":"r1","model":"mod', headers: { 'Content-Type': 'application/json' } } : undefined),
  },
  {
    input: 'world list that is not an array',
    type: 'INVALID_RESPONSE',
    message: /^GET multiplayer\/world\/: expected an array of worlds with ids/,
    strategy: 'multiplayer',
    call: 'getRun',
    bad: (r) => (isWorldList(r) ? { json: { worlds: [] } } : undefined),
  },
  {
    input: 'world-run body that is a JSON object',
    type: 'INVALID_RESPONSE',
    message: /^POST multiplayer\/world\/w1\/run: expected the run id as a JSON string or plain text/,
    strategy: 'multiplayer',
    call: 'getRun',
    writes: 1,
    bad: (r) => (isWorldRun(r) ? { json: { id: 'r1' } } : undefined),
  },
  {
    input: 'world-run body that is a JSON number',
    type: 'INVALID_RESPONSE',
    message: /^POST multiplayer\/world\/w1\/run: expected the run id as a JSON string or plain text/,
    strategy: 'multiplayer',
    call: 'getRun',
    writes: 1,
    bad: (r) => (isWorldRun(r) ? { json: 42 } : undefined),
  },
  {
    input: 'world-run body that is an HTML page',
    type: 'INVALID_RESPONSE',
    message: /^POST multiplayer\/world\/w1\/run: expected the run id as a JSON string or plain text/,
    strategy: 'multiplayer',
    call: 'getRun',
    writes: 1,
    bad: (r) => (isWorldRun(r) ? html(200, HTML_LOGIN) : undefined),
  },
  {
    input: 'Content-Range that does not parse (runLimit set, getRun)',
    type: 'INVALID_RESPONSE',
    message: /Run limit set but the query response has no Content-Range total/,
    strategy: 'reuse-by-tracking-key',
    strategyOptions: limited,
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { json: [], headers: { 'Content-Range': 'records 0-0/abc' } } : undefined),
  },
  {
    input: "Content-Range '0-0/*' (runLimit set, reset)",
    type: 'INVALID_RESPONSE',
    message: /Run limit set but the query response has no Content-Range total/,
    strategy: 'reuse-by-tracking-key',
    strategyOptions: limited,
    call: 'reset',
    bad: (r) =>
      isQuery(r) ? { json: [{ id: 'r1', scope: { trackingKey: 'week-1' } }], headers: { 'Content-Range': 'records 0-0/*' } } : undefined,
  },
  {
    input: 'no Content-Range (runLimit set, reset)',
    type: 'INVALID_RESPONSE',
    message: /Run limit set but the query response has no Content-Range total/,
    strategy: 'reuse-by-tracking-key',
    strategyOptions: limited,
    call: 'reset',
    bad: (r) => (isQuery(r) ? { json: [{ id: 'r1', scope: { trackingKey: 'week-1' } }] } : undefined),
  },
  {
    input: '401 on the run query',
    type: 'UNAUTHORIZED',
    status: 401,
    message: /^GET run\/acme\/sim\/;.* failed: HTTP 401$/,
    strategy: 'reuse-across-sessions',
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { status: 401, json: { message: 'expired' } } : undefined),
  },
  {
    input: '500 on the run query, on every retry',
    type: 'HTTP_ERROR',
    status: 500,
    message: /^GET run\/acme\/sim\/;.* failed: HTTP 500 \(2 attempts\)/,
    strategy: 'reuse-by-tracking-key',
    strategyOptions: limited,
    call: 'getRun',
    bad: (r) => (isQuery(r) ? { status: 500, json: { message: 'boom' } } : undefined),
  },
];

/** A bad answer made by the emulator's own faults. */
export interface EmulatorRow {
  input: string;
  type: RunManagerErrorType;
  message: RegExp;
  status?: number;
  strategy: string;
  arrange(emulator: Emulator): void;
}

export const emulatorRows: EmulatorRow[] = [
  {
    input: 'truncated JSON for the run query (emulator `truncate`)',
    type: 'INVALID_RESPONSE',
    message: /^GET run\/acme\/sim\/;.*: response is not JSON \(HTTP 200\)/,
    strategy: 'reuse-across-sessions',
    arrange: (e) => e.truncate({ method: 'GET', path: ';' }),
  },
  {
    input: 'JSON 503 on every attempt to load the cached run (emulator `fail`)',
    type: 'HTTP_ERROR',
    status: 503,
    message: /^GET run\/acme\/sim\/[^/]+\/ failed: HTTP 503 \(2 attempts\)/,
    strategy: 'reuse-per-session',
    arrange: (e) => e.fail({ method: 'GET', path: '/run/acme/sim/', status: 503, times: 2 }),
  },
  {
    input: 'socket dropped on every attempt to load the cached run (emulator `drop`)',
    type: 'NETWORK_ERROR',
    message: /^GET run\/acme\/sim\/[^/]+\/ failed: network error .*\(2 attempts\)/,
    strategy: 'reuse-per-session',
    arrange: (e) => e.drop({ method: 'GET', path: '/run/acme/sim/', times: 2 }),
  },
];

/** A corrupt or hostile session record: must be ignored (never thrown, never followed) and replaced. */
export interface RecordRow {
  input: string;
  /** The stored value; `runs` are the emulator runs the test seeded (u1's, u2's, another model's). */
  value(runs: { mine: string; theirs: string; otherModel: string }): unknown;
  /** Hand the value out as it is (a custom store) instead of through the structured-clone memory store. */
  raw?: boolean;
}

export const recordRows: RecordRow[] = [
  { input: "legacy JSON string '\"<id>\"' (the original's reset cookie)", value: ({ mine }) => JSON.stringify(mine) },
  { input: 'legacy JSON string of a whole run', value: ({ mine }) => JSON.stringify({ id: mine, model: 'model.py', user: { id: 'u1' } }) },
  {
    input: '{ v: 2, … } (a future version)',
    value: ({ mine }) => ({ v: 2, runId: mine, userId: 'u1', model: 'model.py', savedAt: Date.now() }),
  },
  { input: '{ v: 1 } and nothing else', value: () => ({ v: 1 }) },
  { input: 'runId: 42 (wrong type)', value: () => ({ v: 1, runId: 42, userId: 'u1', model: 'model.py', savedAt: Date.now() }) },
  { input: "runId: '' (empty)", value: () => ({ v: 1, runId: '', userId: 'u1', model: 'model.py', savedAt: Date.now() }) },
  {
    input: 'runId of 100,000 characters (no URL can carry it)',
    value: () => ({ v: 1, runId: 'r'.repeat(100_000), userId: 'u1', model: 'model.py', savedAt: Date.now() }),
  },
  {
    input: "savedAt: 'yesterday' (wrong type)",
    value: ({ mine }) => ({ v: 1, runId: mine, userId: 'u1', model: 'model.py', savedAt: 'yesterday' }),
  },
  { input: 'userId: 7 (wrong type)', value: ({ mine }) => ({ v: 1, runId: mine, userId: 7, model: 'model.py', savedAt: Date.now() }) },
  {
    input: "another user's record (u2's run)",
    value: ({ theirs }) => ({ v: 1, runId: theirs, userId: 'u2', model: 'model.py', savedAt: Date.now() }),
  },
  {
    input: "another model's record",
    value: ({ otherModel }) => ({ v: 1, runId: otherModel, userId: 'u1', model: 'other.py', savedAt: Date.now() }),
  },
  { input: 'an array of records', value: ({ mine }) => [{ v: 1, runId: mine, userId: 'u1', model: 'model.py', savedAt: Date.now() }] },
  { input: '42', value: () => 42 },
  {
    input: 'a record with a throwing getter',
    raw: true,
    value: ({ mine }) => ({
      v: 1,
      get runId(): string {
        throw new Error(`no access to ${mine}`);
      },
      userId: 'u1',
      model: 'model.py',
      savedAt: Date.now(),
    }),
  },
  {
    // Every trap throws, except `get('then')`: a store hands values out through a Promise, which reads `then`.
    input: 'a Proxy whose traps throw',
    raw: true,
    value: () => {
      const trap = () => {
        throw new Error('trap');
      };
      return new Proxy(
        {},
        {
          get: (_target, key) => (key === 'then' ? undefined : trap()),
          getPrototypeOf: trap,
          ownKeys: trap,
          has: trap,
          getOwnPropertyDescriptor: trap,
        },
      );
    },
  },
  { input: 'a Date', value: () => new Date(0) },
  {
    input: 'a record with a null prototype for u2',
    value: ({ theirs }) =>
      Object.assign(Object.create(null), { v: 1, runId: theirs, userId: 'u2', model: 'model.py', savedAt: Date.now() }),
  },
];

/** A message pattern as readable text: anchors and escapes dropped, wildcards as `…`. */
function hint(message: RegExp): string {
  return message.source
    .replace(/^\^|\$$/g, '')
    .replace(/\.\*|\[\^\/\]\+|\s\{3\}/g, '…')
    .replace(/\\(.)/g, '$1');
}

/** The rows as a markdown table (for the README). */
export function markdownTable(): string {
  const lines = ['| # | group | input | expected | message names |', '|---|---|---|---|---|'];
  let n = 0;
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const row = (group: string, input: string, expected: string, message: string) =>
    lines.push(`| ${(n += 1)} | ${group} | ${cell(input)} | ${cell(expected)} | ${cell(message)} |`);
  for (const r of optionRows) row('options', r.input, 'throws `INVALID_OPTIONS`', hint(r.message));
  for (const r of callRows)
    row('call', `${r.input} (${r.strategy}${r.call === 'reset' ? ' reset' : ''})`, `rejects \`${r.type}\``, hint(r.message));
  for (const r of serverRows)
    row(
      'server',
      `${r.input} (${r.strategy} ${r.call})`,
      `rejects \`${r.type}\`${r.status ? ` (status ${r.status})` : ''}`,
      hint(r.message),
    );
  for (const r of emulatorRows)
    row('server', `${r.input} (${r.strategy} getRun)`, `rejects \`${r.type}\`${r.status ? ` (status ${r.status})` : ''}`, hint(r.message));
  for (const r of recordRows)
    row('record', r.input, 'ignored and replaced (no error, no warning)', 'a new run; the run it names is never loaded');
  row('record', 'store.get rejects', 'getRun resolves, one warning', 'Could not read the session store: …');
  row('record', 'store.set rejects', 'getRun resolves, one warning', 'Could not write the session store: …');
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) console.log(markdownTable());
