/**
 * Validation of `RunManager` options, strictly: an unknown key at any level is `INVALID_OPTIONS`
 * (with the key it likely meant), and what is accepted here must not fail later for a reason visible now.
 */
import { describeThrown, RunManagerError } from './errors.js';
import {
  checkSendable,
  describe,
  hasLoneSurrogate,
  invalidOption,
  isPlainObject,
  optionalFilter,
  optionPath,
  pathSafeString,
  rejectProtoKeys,
  rejectUnknownKeys,
} from './machines/strategies/options.js';
import { isDefinition, normaliseDefinition } from './machines/strategies/definition.js';
import type { RunConfig, StrategyDefinition } from './machines/strategies/types.js';
import { RunService } from './services/run-service.js';
import { defineOwn, handleRejection, isHeaderSafe } from './services/values.js';
import type { RunManagerBaseOptions } from './run-manager.js';
import type { RunOptions, UserSession } from './types.js';

export interface ValidOptions {
  strategy: StrategyDefinition;
  strategyOptions: Record<string, unknown>;
  runOptions: RunOptions;
  config: RunConfig;
  /** The fixed key, `false` (no caching), or the key function's default key (its records are named per session by `recordKeyFor`). */
  sessionKey: string | false;
  /** With a `sessionKey` function: the session record's key for a session. */
  recordKeyFor?: (session: UserSession) => string | false;
  lockKey: string;
  /** Each option as read here, once: read these, not the caller's object, whose getters may answer differently the second time. */
  snapshot: RunManagerBaseOptions & { strategy?: unknown };
}

const OPTION_KEYS = [
  'run',
  'strategy',
  'strategyOptions',
  'sessionKey',
  'session',
  'sessionStore',
  'fetch',
  'inspect',
  'timeout',
  'retry',
  'coordinator',
  'onSession',
] as const;
const RUN_KEYS = [
  'account',
  'project',
  'model',
  'scope',
  'files',
  'cinFiles',
  'ephemeral',
  'sensitivityMode',
  'server',
  'baseURL',
  'token',
  'apiVersion',
] as const;
const SERVER_KEYS = ['host', 'protocol', 'versionPath'] as const;
const RETRY_KEYS = ['retries', 'baseDelayMs', 'maxDelayMs'] as const;

/** What is being read now, so an unexpected throw (a getter, a proxy trap) can be named. */
interface Reading {
  path: string;
}

/** Each own key read once, defined as an own property whatever its name. */
function readOwn(object: Record<string, unknown>, keys: readonly string[], parent: string, reading: Reading): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    reading.path = optionPath(parent, key);
    if (Object.hasOwn(object, key)) {
      defineOwn(copy, key, object[key]);
    }
  }
  return copy;
}

function requireText(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(path, `is required and must be a non-empty string, got ${describe(value)}`);
  }
  if (hasLoneSurrogate(value)) throw invalidOption(path, 'is not valid Unicode (half of a surrogate pair)');
  return value;
}

const HOST_NAME =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/;

function checkHost(value: unknown): void {
  const host = requireText(value, 'run.server.host');
  const match = HOST_NAME.exec(host);
  let parses: boolean;
  try {
    parses = new URL(`http://${host}/`).hostname !== '';
  } catch {
    parses = false;
  }
  if (!match || !parses || (match[1] !== undefined && Number(match[1]) > 65535)) {
    throw invalidOption(
      'run.server.host',
      `must be a host name with an optional port (e.g. 'api.forio.com' or '127.0.0.1:8080'), got ${describe(value)}`,
    );
  }
}

function checkVersionPath(value: unknown): void {
  const path = 'run.server.versionPath';
  if (typeof value !== 'string') throw invalidOption(path, `must be a string such as 'v2', got ${describe(value)}`);
  const trimmed = value.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return;
  const ok = trimmed.split('/').every((segment) => /^[A-Za-z0-9._~-]+$/.test(segment) && segment !== '.' && segment !== '..');
  if (!ok) throw invalidOption(path, `must be URL path segments such as 'v2' or 'v2/' (letters, digits, . _ ~ -), got ${describe(value)}`);
}

/** What Epicenter v3 has no place for, refused before anything is sent rather than dropped. */
function checkV3Run(given: Record<string, unknown>): void {
  for (const key of ['files', 'cinFiles', 'sensitivityMode'] as const) {
    if (given[key] !== undefined) throw invalidOption(`run.${key}`, 'has no Epicenter v3 equivalent (run.apiVersion is 3)');
  }
  if (isPlainObject(given.scope)) {
    for (const key of Object.keys(given.scope)) {
      if (key !== 'group' && key !== 'trackingKey') {
        throw invalidOption(`run.scope.${key}`, 'has no Epicenter v3 equivalent: v3 runs are scoped by group, world or episode only');
      }
    }
  }
  if (isPlainObject(given.server) && given.server.versionPath !== undefined) {
    throw invalidOption('run.server.versionPath', 'is for Epicenter v2; with run.apiVersion 3 the path is api/v3/');
  }
}

function checkRunOptions(run: unknown, reading: Reading): RunOptions {
  reading.path = 'run';
  if (run instanceof RunService) return { ...(run.config as RunOptions) };
  if (!isPlainObject(run)) throw invalidOption('run', `must be an object of run options or a RunService, got ${describe(run)}`);
  rejectUnknownKeys(run, RUN_KEYS, 'run');
  const given = readOwn(run, RUN_KEYS, 'run', reading);

  reading.path = 'run';
  pathSafeString(given.account, 'run.account');
  pathSafeString(given.project, 'run.project');
  requireText(given.model, 'run.model');
  reading.path = 'run.scope';
  if (given.scope !== undefined) {
    if (!isPlainObject(given.scope)) throw invalidOption('run.scope', `must be an object, got ${describe(given.scope)}`);
    // The scope is merged into queries as well as creates: it must encode as a filter.
    optionalFilter(given.scope, 'run.scope');
  }
  for (const key of ['files', 'cinFiles'] as const) {
    reading.path = `run.${key}`;
    const value = given[key];
    if (value === undefined) continue;
    if (!isPlainObject(value)) throw invalidOption(`run.${key}`, `must be a plain object, got ${describe(value)}`);
    checkSendable(value, `run.${key}`);
  }
  reading.path = 'run.ephemeral';
  if (given.ephemeral !== undefined && typeof given.ephemeral !== 'boolean') {
    throw invalidOption('run.ephemeral', `must be a boolean, got ${describe(given.ephemeral)}`);
  }
  reading.path = 'run.sensitivityMode';
  checkSendable(given.sensitivityMode, 'run.sensitivityMode');
  reading.path = 'run.token';
  if (given.token !== undefined && typeof given.token !== 'string')
    throw invalidOption('run.token', `must be a string, got ${describe(given.token)}`);
  if (typeof given.token === 'string' && !isHeaderSafe(given.token))
    throw invalidOption('run.token', 'must be printable ASCII: it is sent in a header');
  reading.path = 'run.baseURL';
  if (given.baseURL !== undefined) {
    try {
      const url = new URL(requireText(given.baseURL, 'run.baseURL'));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(url.protocol);
    } catch (error) {
      if (error instanceof RunManagerError) throw error;
      throw invalidOption('run.baseURL', `must be an absolute http(s) URL, got ${describe(given.baseURL)}`);
    }
  }
  reading.path = 'run.apiVersion';
  if (given.apiVersion !== undefined && given.apiVersion !== 2 && given.apiVersion !== 3) {
    throw invalidOption('run.apiVersion', `must be 2 or 3 (Epicenter v3), got ${describe(given.apiVersion)}`);
  }
  if (given.apiVersion === 3) checkV3Run(given);
  reading.path = 'run.server';
  if (given.server !== undefined) {
    if (!isPlainObject(given.server)) throw invalidOption('run.server', `must be an object, got ${describe(given.server)}`);
    rejectUnknownKeys(given.server, SERVER_KEYS, 'run.server');
    const server = readOwn(given.server, SERVER_KEYS, 'run.server', reading);
    const { protocol, host, versionPath } = server;
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
      throw invalidOption('run.server.protocol', `must be 'http' or 'https', got ${describe(protocol)}`);
    }
    if (host !== undefined) checkHost(host);
    if (versionPath !== undefined) checkVersionPath(versionPath);
    given.server = server;
  }
  return given as unknown as RunOptions;
}

/** How a manager turns its `strategy` option into a definition: the core entry takes definitions only, the root entry also names. */
export interface StrategyResolver {
  resolve(strategy: unknown, strategyOptions: Record<string, unknown> | undefined): StrategyDefinition;
  otherStrategiesTaking?(key: string, except: string): string | undefined;
}

/** The core entry's resolver: a strategy definition, nothing else. */
export const definitionsOnly: StrategyResolver = {
  resolve(strategy) {
    if (isDefinition(strategy)) return normaliseDefinition(strategy.name, strategy);
    throw invalidOption(
      'strategy',
      `must be a strategy definition (such as reusePerSession from run-lifecycle/strategies), got ${describe(strategy)}; names and { getRun, reset } strategies need the root entry, run-lifecycle`,
    );
  },
};

function prepareStrategyOptions(
  strategy: StrategyDefinition,
  given: Record<string, unknown>,
  reading: Reading,
  resolver: StrategyResolver,
): Record<string, unknown> {
  reading.path = 'strategyOptions';
  rejectProtoKeys(given, 'strategyOptions');
  if (strategy.optionKeys) {
    rejectUnknownKeys(given, strategy.optionKeys, 'strategyOptions', {
      of: strategy.name,
      otherwise: (key) => resolver.otherStrategiesTaking?.(key, strategy.name),
    });
  }
  const merged = { ...(strategy.boundOptions ?? {}), ...given };
  if (!strategy.prepareOptions) return merged;
  let prepared: unknown;
  try {
    prepared = strategy.prepareOptions(merged);
  } catch (error) {
    if (error instanceof RunManagerError && error.type === 'INVALID_OPTIONS') throw error;
    throw new RunManagerError('INVALID_OPTIONS', `strategyOptions were refused by strategy '${strategy.name}': ${describeThrown(error)}`, {
      cause: error,
    });
  }
  if (prepared === null || typeof prepared !== 'object') {
    throw invalidOption('strategyOptions', `could not be prepared: strategy '${strategy.name}' returned ${describe(prepared)}`);
  }
  return prepared as Record<string, unknown>;
}

function defaultSessionKey(config: { account?: string; project?: string; model?: string }): string {
  return ['epicenter-scenario', config.account, config.project, config.model].filter(Boolean).join('-');
}

/** What a `sessionKey` function is called with. */
export interface SessionKeyContext {
  /** The run options' account. */
  account: string;
  /** The run options' project. */
  project: string;
  /** The run options' model. */
  model: string;
  /** The session's user, so a server serving many users from one process can keep a record per user. */
  userId: string | undefined;
}

type SessionKeyFunction = (context: SessionKeyContext) => unknown;

/**
 * A fixed key (or `false`) is checked here; a function is called per resolution with the session's
 * user, since the key may depend on who is asking.
 */
function resolveSessionKey(option: unknown, config: RunConfig): Pick<ValidOptions, 'sessionKey' | 'recordKeyFor'> {
  if (option === undefined) return { sessionKey: defaultSessionKey(config) };
  if (option === false) return { sessionKey: false };
  if (typeof option === 'string') return { sessionKey: requireText(option, 'sessionKey') };
  if (typeof option !== 'function') throw invalidOption('sessionKey', `must be a string, false or a function, got ${describe(option)}`);
  const keyFunction = option as SessionKeyFunction;
  const recordKeyFor = (session: UserSession): string | false => {
    let key: unknown;
    try {
      key = keyFunction({ account: config.account, project: config.project, model: config.model, userId: session.userId });
    } catch (error) {
      throw new RunManagerError('INVALID_OPTIONS', `sessionKey function threw: ${describeThrown(error)}`, { cause: error });
    }
    if (key === false) return false;
    if (typeof key !== 'string' || key === '') {
      // An async function's promise is refused below; its rejection must not go unhandled.
      handleRejection(key);
      throw invalidOption('sessionKey', `function must return a non-empty string or false, returned ${describe(key)}`);
    }
    return key;
  };
  return { sessionKey: defaultSessionKey(config), recordKeyFor };
}

function checkServices(given: Record<string, unknown>, reading: Reading): void {
  reading.path = 'onSession';
  if (given.onSession !== undefined && typeof given.onSession !== 'function') {
    throw invalidOption('onSession', `must be a function (session) => void, got ${describe(given.onSession)}`);
  }
  reading.path = 'session';
  const { session } = given;
  if (session !== undefined && session !== null && typeof session !== 'function' && !isPlainObject(session)) {
    throw invalidOption('session', `must be an object or a function, got ${describe(session)}`);
  }
  reading.path = 'sessionStore';
  const store = given.sessionStore as Record<string, unknown> | undefined;
  if (
    store !== undefined &&
    (store === null || typeof store !== 'object' || ['get', 'set', 'del'].some((m) => typeof store[m] !== 'function'))
  ) {
    throw invalidOption('sessionStore', 'must have get, set and del functions');
  }
  reading.path = 'fetch';
  if (given.fetch !== undefined && typeof given.fetch !== 'function')
    throw invalidOption('fetch', `must be an ofetch instance, got ${describe(given.fetch)}`);
  reading.path = 'inspect';
  const { inspect } = given;
  if (
    inspect !== undefined &&
    typeof inspect !== 'function' &&
    !(inspect !== null && typeof inspect === 'object' && typeof (inspect as { next?: unknown }).next === 'function')
  ) {
    throw invalidOption(
      'inspect',
      `must be an inspection observer, got ${describe(inspect)} (a function, or an object with a next function)`,
    );
  }
  reading.path = 'coordinator';
  const { coordinator } = given;
  if (
    coordinator !== undefined &&
    !(
      (typeof coordinator === 'object' || typeof coordinator === 'function') &&
      coordinator !== null &&
      typeof (coordinator as { acquire?: unknown }).acquire === 'function'
    )
  ) {
    throw invalidOption('coordinator', `must be an object with an acquire(name, signal) function, got ${describe(coordinator)}`);
  }
  const tryAcquire: unknown = coordinator === undefined ? undefined : (coordinator as { tryAcquire?: unknown }).tryAcquire;
  if (tryAcquire !== undefined && typeof tryAcquire !== 'function') {
    throw invalidOption('coordinator.tryAcquire', `must be a function when given, got ${describe(tryAcquire)}`);
  }
}

function checkTransport(given: Record<string, unknown>, reading: Reading): void {
  reading.path = 'timeout';
  const { timeout } = given;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout))) {
    throw invalidOption('timeout', `must be a positive number of milliseconds, got ${describe(timeout)}`);
  }
  reading.path = 'retry';
  if (given.retry === undefined) return;
  if (!isPlainObject(given.retry)) throw invalidOption('retry', `must be an object, got ${describe(given.retry)}`);
  rejectUnknownKeys(given.retry, RETRY_KEYS, 'retry');
  const retry = readOwn(given.retry, RETRY_KEYS, 'retry', reading);
  for (const key of RETRY_KEYS) {
    const value = retry[key];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
      throw invalidOption(`retry.${key}`, `must be a non-negative number, got ${describe(value)}`);
    }
  }
  given.retry = retry;
}

function checkOptions(options: unknown, reading: Reading, resolver: StrategyResolver): ValidOptions {
  if (!isPlainObject(options)) throw invalidOption('options', `must be an object, got ${describe(options)}`);
  rejectUnknownKeys(options, OPTION_KEYS, '');
  const given = readOwn(options, OPTION_KEYS, '', reading);

  const runOptions = checkRunOptions(given.run, reading);
  if (!(given.run instanceof RunService)) given.run = runOptions;
  reading.path = 'strategyOptions';
  const rawStrategyOptions = given.strategyOptions;
  if (rawStrategyOptions !== undefined && !isPlainObject(rawStrategyOptions)) {
    throw invalidOption('strategyOptions', `must be an object, got ${describe(rawStrategyOptions)}`);
  }
  const userStrategyOptions = rawStrategyOptions
    ? readOwn(rawStrategyOptions, Object.keys(rawStrategyOptions), 'strategyOptions', reading)
    : {};
  if (rawStrategyOptions) given.strategyOptions = userStrategyOptions;
  checkServices(given, reading);
  checkTransport(given, reading);

  reading.path = 'strategy';
  const strategy = resolver.resolve(given.strategy, rawStrategyOptions ? userStrategyOptions : undefined);
  const strategyOptions = prepareStrategyOptions(strategy, userStrategyOptions, reading, resolver);
  if (strategyOptions.selfAssign !== undefined && runOptions.apiVersion !== 3) {
    throw invalidOption('strategyOptions.selfAssign', 'needs run.apiVersion 3: self-assignment is an Epicenter v3 feature');
  }

  const { token: _token, server: _server, baseURL: _baseURL, ...config } = runOptions;
  reading.path = 'sessionKey';
  const keys = resolveSessionKey(given.sessionKey, config);
  return {
    strategy,
    strategyOptions,
    runOptions,
    config,
    ...keys,
    lockKey: defaultSessionKey(config),
    snapshot: given as unknown as RunManagerBaseOptions & { strategy?: unknown },
  };
}

/**
 * Checks every option and derives what the manager needs. Anything thrown while reading the options
 * (a getter, a proxy trap, a strategy's own `prepareOptions`) becomes `INVALID_OPTIONS` naming what
 * was being read: nothing else ever escapes the constructor.
 */
export function validateOptions(options: unknown, resolver: StrategyResolver = definitionsOnly): ValidOptions {
  const reading: Reading = { path: 'options' };
  try {
    return checkOptions(options, reading, resolver);
  } catch (error) {
    if (error instanceof RunManagerError && error.type === 'INVALID_OPTIONS') throw error;
    throw new RunManagerError('INVALID_OPTIONS', `${reading.path} could not be read: ${describeThrown(error)}`, { cause: error });
  }
}
